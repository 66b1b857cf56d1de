//! The plan of a suggestion: from the model and the graph, what the repository intends (the ways
//! in and their real sources, the Services each workload names, DNS) and, per namespace, the
//! policies that keep it once a default deny isolates every pod; the connections they are
//! derived from (for the proof) and what could not be inferred (for review).

use std::collections::{BTreeMap, BTreeSet};

use super::{refs, AllowRule, Intent, PeerSpec, PolicySpec, Review};
use crate::graph::routes::Guard;
use crate::graph::{ClassId, Conns, Graph, Source};
use crate::model::net::{IpRange, PortRef, Protocol};
use crate::model::{Direction, Model};
use crate::span::Location;

/// The cluster DNS, as every common install labels it.
const DNS_NAMESPACE: &str = "kube-system";
const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");
const POLICY_PREFIX: &str = "kubereach";

/// The policies per namespace, the intents they keep, and the review items.
pub(super) struct Plan {
    pub(super) policies: BTreeMap<String, Vec<PolicySpec>>,
    pub(super) intents: Vec<Intent>,
    pub(super) review: Vec<Review>,
}

/// Which namespaces get suggestions: those that hold workloads, but the cluster's own.
fn eligible(namespace: &str) -> bool {
    !crate::model::is_system_namespace(namespace) && !crate::model::is_placeholder_name(namespace)
}

fn labels_of(labels: &crate::model::selector::Labels) -> Vec<(String, String)> {
    labels.0.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Builds the plan: policies, intents and review items.
pub(super) fn derive(model: &Model, graph: &Graph, only: Option<&str>) -> Plan {
    let mut class_of: Vec<Option<ClassId>> = vec![None; model.workloads.len()];
    for (i, c) in graph.classes.iter().enumerate() {
        for &w in &c.workloads {
            if let Some(slot) = class_of.get_mut(w) {
                *slot = Some(ClassId::new(i));
            }
        }
    }
    // Workloads that policies cannot select (host network) are left out.
    let candidate = |w: usize| model.workloads.get(w).is_some_and(|w| w.host_network.is_none());
    let isolated = |w: usize, d: Direction| {
        class_of.get(w).copied().flatten().is_some_and(|c| graph.classes[c.index()].isolated(d))
    };
    let mut review = Vec::new();
    let mut intents = Vec::new();
    // Per namespace, per workload: the ingress and egress policies being built.
    let mut per_ns: BTreeMap<String, BTreeMap<(usize, Direction), PolicySpec>> = BTreeMap::new();
    let workload_policy = |w: usize, d: Direction| -> PolicySpec {
        let wl = &model.workloads[w];
        let name = policy_name(&wl.meta.name, d);
        PolicySpec {
            name,
            why: format!(
                "{} of {} `{}`: {}",
                d.as_str(),
                wl.meta.kind,
                wl.meta.name,
                match d {
                    Direction::Ingress => "what its entries and the workloads that name its Services need",
                    Direction::Egress => "the Services it names in its containers and ConfigMaps",
                }
            ),
            pod_selector: labels_of(&wl.pod_labels),
            pod_exclude: Vec::new(),
            types: vec![d],
            ingress: Vec::new(),
            egress: Vec::new(),
        }
    };
    let add = |per_ns: &mut BTreeMap<String, BTreeMap<(usize, Direction), PolicySpec>>,
               w: usize,
               d: Direction,
               rule: AllowRule| {
        let ns = model.workloads[w].meta.namespace.to_string();
        per_ns.entry(ns).or_default().entry((w, d)).or_insert_with(|| workload_policy(w, d)).add(d, rule);
    };
    // The backend workloads of each Service.
    let backends: Vec<Vec<usize>> = model
        .services
        .iter()
        .map(|s| match &s.selector {
            Some((labels, _)) if !labels.is_empty() => model
                .workloads
                .iter()
                .enumerate()
                .filter(|(_, w)| {
                    w.meta.namespace == s.meta.namespace
                        && labels.0.iter().all(|(k, v)| w.pod_labels.get(k) == Some(&**v))
                })
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let unlabelled = |w: usize| model.workloads[w].pod_labels.is_empty();
    // Backends of ways in whose source cannot be named: left out of their namespace's isolation.
    let mut excluded: BTreeSet<usize> = BTreeSet::new();
    // Backends that get an ingress rule from a way in whose source is named.
    let mut named_entry: BTreeSet<usize> = BTreeSet::new();
    // Ways in whose source is not known: (backend, the way in, where).
    let mut unnamed: Vec<(usize, String, Location)> = Vec::new();

    // 1. The ways in: each backend not yet isolated for ingress admits the entry's real source.
    let mut entry_groups: BTreeMap<(usize, usize), Conns> = BTreeMap::new();
    for x in &graph.exposures {
        if x.admitted.is_empty() {
            continue;
        }
        for &w in &graph.classes[x.class.index()].workloads {
            entry_groups.entry((x.entry, w)).or_insert_with(Conns::none).union_with(&x.admitted);
        }
    }
    for ((ei, w), conns) in entry_groups {
        let entry = &graph.entries[ei];
        let wl = &model.workloads[w];
        let service = &model.services[entry.service];
        let opener = entry.opener.meta(model);
        let what = format!("{} `{}/{}`", entry.kind.as_str(), opener.namespace, opener.name);
        let why_entry = format!("{what} (Service `{}`) forwards to it", service.meta.name);
        intents.push(Intent::Entry { entry: ei, to: w, conns: conns.clone(), why: why_entry.clone() });
        if isolated(w, Direction::Ingress) || !candidate(w) {
            continue;
        }
        let (ports, ranges) = conns_ports(&conns);
        let peers: Vec<PeerSpec> = match &entry.source {
            Source::Class(c) => {
                let class = &graph.classes[c.index()];
                if *c == graph.ingress_controller {
                    excluded.insert(w);
                    unnamed.push((w, what, entry.at));
                    continue;
                }
                // The controller's egress, when the repository runs it and it is not yet isolated for egress.
                for &cw in &class.workloads {
                    intents.push(Intent::Pods {
                        from: cw,
                        to: w,
                        ports: ports.clone(),
                        why: format!("{what}: the controller forwards to the backend"),
                    });
                    if !isolated(cw, Direction::Egress) && candidate(cw) && !unlabelled(cw) {
                        let rule = AllowRule {
                            why: vec![format!("to the backend `{}` of {what}", wl.peer_name())],
                            peers: vec![pods_peer(
                                &wl.meta.namespace,
                                &model.workloads[cw].meta.namespace,
                                &wl.pod_labels,
                            )],
                            ports: ports.clone(),
                            ranges: ranges.clone(),
                        };
                        add(&mut per_ns, cw, Direction::Egress, rule);
                    }
                }
                vec![PeerSpec::Pods { namespace: Some(class.namespace.to_string()), labels: labels_of(&class.labels) }]
            }
            Source::Addresses(ranges) => {
                let internet = crate::graph::internet::internet_ranges();
                if ranges.is_empty() || *ranges == internet {
                    if ranges.is_empty() {
                        review.push(Review {
                            namespace: wl.meta.namespace.to_string(),
                            subject: wl.peer_name(),
                            message: format!(
                                "{what} arrives from the nodes' addresses, which the profile does not know: admitted from every address; \
                                 restrict it to the node ranges (profile `nodeRanges`) or set `externalTrafficPolicy: Local`"
                            ),
                            evidence: Some(entry.at),
                        });
                    }
                    let mut blocks = vec![PeerSpec::Block("0.0.0.0/0".to_string())];
                    if ranges.is_empty() || ranges.iter().any(|r| r.family == crate::model::net::Family::V6) {
                        blocks.push(PeerSpec::Block("::/0".to_string()));
                    }
                    blocks
                } else {
                    ranges.iter().flat_map(cidrs_of).map(PeerSpec::Block).collect()
                }
            }
        };
        let guard = match &entry.guard {
            Some(Guard::Tls) => ", TLS-terminated",
            Some(Guard::SourceRanges(_)) => ", restricted to its source ranges",
            _ => "",
        };
        let through = if entry.kind.through_controller() { " through its controller" } else { "" };
        let rule = AllowRule { why: vec![format!("{why_entry}{through}{guard}")], peers, ports, ranges };
        if unlabelled(w) {
            continue;
        }
        named_entry.insert(w);
        add(&mut per_ns, w, Direction::Ingress, rule);
    }

    // A backend that some named source reaches is isolated like the others: the graph takes an
    // unknown controller to be any plausible one, which a rule for a named controller admits.
    excluded.retain(|w| !named_entry.contains(w));
    for (w, what, at) in unnamed {
        let wl = &model.workloads[w];
        let how = if excluded.contains(&w) {
            "its pods are left out of the default deny"
        } else {
            "it is admitted by the rules for its other, named sources, which the analysis takes to cover it"
        };
        review.push(Review {
            namespace: wl.meta.namespace.to_string(),
            subject: wl.peer_name(),
            message: format!(
                "{what} reaches it through an ingress controller or Gateway whose pods the repository and the profile do \
                 not show: {how}; name the controller in the profile (`controllers:`) so that its ingress can be allowed \
                 from it alone"
            ),
            evidence: Some(at),
        });
    }

    // 2. The Services each workload names: its egress, and their backends' ingress.
    let index = refs::Index::new(model);
    for (w, wl) in model.workloads.iter().enumerate() {
        if !candidate(w) {
            continue;
        }
        let found = index.of_workload(model, w);
        let ns = wl.meta.namespace.to_string();
        for other in &found.others {
            if isolated(w, Direction::Egress) || !eligible(&ns) {
                continue;
            }
            review.push(Review {
                namespace: ns.clone(),
                subject: wl.peer_name(),
                message: if other.host.starts_with("kubernetes.default") {
                    format!(
                        "names the Kubernetes API server as `{}` ({}): its egress there is cut; allow the API server's \
                         addresses (an ipBlock of the control plane) if it talks to it",
                        other.host, other.field
                    )
                } else if other.in_cluster {
                    format!(
                        "names `{}` ({}), a Service the repository does not declare: its egress there is cut; allow it if it runs elsewhere",
                        other.host, other.field
                    )
                } else {
                    format!(
                        "names `{}` ({}), outside the cluster: its egress there is cut; allow its addresses with an ipBlock if it needs them",
                        other.host, other.field
                    )
                },
                evidence: Some(other.at),
            });
        }
        if found.services.is_empty() && !isolated(w, Direction::Egress) && eligible(&ns) {
            let has_entry = graph.exposures.iter().any(|x| graph.classes[x.class.index()].workloads.contains(&w));
            if !has_entry {
                review.push(Review {
                    namespace: ns.clone(),
                    subject: wl.peer_name(),
                    message: "names no Service in its containers or ConfigMaps: its egress is cut to DNS; \
                              allow what it reaches if it reaches something"
                        .to_string(),
                    evidence: Some(wl.meta.location()),
                });
            }
        }
        let mut seen: BTreeSet<(usize, Option<u16>)> = BTreeSet::new();
        for r in &found.services {
            if !seen.insert((r.service, r.port)) {
                continue;
            }
            let service = &model.services[r.service];
            let why = format!("names Service `{}` as `{}` in {}", service.meta.name, r.written, r.field);
            let Some((selector, _)) = &service.selector else {
                review.push(Review {
                    namespace: ns.clone(),
                    subject: wl.peer_name(),
                    message: format!(
                        "{why}; the Service has no selector, its endpoints are not known: its egress there is cut"
                    ),
                    evidence: Some(r.at),
                });
                continue;
            };
            let ports = service_ports(service, r.port);
            if ports.is_empty() {
                continue;
            }
            let targets = &backends[r.service];
            for &b in targets {
                if b != w {
                    intents.push(Intent::Pods { from: w, to: b, ports: ports.clone(), why: why.clone() });
                }
            }
            if !isolated(w, Direction::Egress) && !unlabelled(w) {
                let rule = AllowRule {
                    why: vec![why.clone()],
                    peers: vec![pods_peer(&service.meta.namespace, &wl.meta.namespace, selector)],
                    ports: ports.clone(),
                    ranges: Vec::new(),
                };
                add(&mut per_ns, w, Direction::Egress, rule);
            }
            for &b in targets {
                if b == w
                    || isolated(b, Direction::Ingress)
                    || excluded.contains(&b)
                    || !candidate(b)
                    || unlabelled(b)
                    || unlabelled(w)
                {
                    continue;
                }
                let rule = AllowRule {
                    why: vec![format!("`{}` {why}", wl.peer_name())],
                    peers: vec![pods_peer(&wl.meta.namespace, &model.workloads[b].meta.namespace, &wl.pod_labels)],
                    ports: ports.clone(),
                    ranges: Vec::new(),
                };
                add(&mut per_ns, b, Direction::Ingress, rule);
            }
        }
    }

    // 3. Per namespace: the default deny where none exists, DNS, then the workloads' policies.
    let mut namespaces: BTreeSet<String> =
        model.workloads.iter().filter(|w| w.host_network.is_none()).map(|w| w.meta.namespace.to_string()).collect();
    namespaces.retain(|ns| only.is_none_or(|o| o == ns) || per_ns.contains_key(ns));
    let mut policies: BTreeMap<String, Vec<PolicySpec>> = BTreeMap::new();
    for ns in namespaces {
        if !eligible(&ns) {
            review.push(Review {
                namespace: ns.clone(),
                subject: format!("namespace `{ns}`"),
                message: "a namespace of the cluster itself (or a placeholder): no policy is suggested for it"
                    .to_string(),
                evidence: None,
            });
            continue;
        }
        let mut specs = Vec::new();
        // A default deny: every pod selected for the direction, and no rule for it.
        let has_default = |d: Direction| {
            model
                .policies
                .iter()
                .any(|p| *p.meta.namespace == *ns && p.pod_selector.is_empty() && p.affects(d) && p.rules(d).is_empty())
        };
        let missing: Vec<Direction> =
            [Direction::Ingress, Direction::Egress].into_iter().filter(|d| !has_default(*d)).collect();
        // The labels that leave out the backends whose way in cannot be allowed by name: for each,
        // one of its labels that only left-out workloads of the namespace carry.
        let left_out: Vec<usize> =
            excluded.iter().copied().filter(|&w| *model.workloads[w].meta.namespace == *ns).collect();
        let mut pod_exclude: Vec<(String, String)> = Vec::new();
        let mut exclusion_holds = true;
        for &w in &left_out {
            let own = &model.workloads[w].pod_labels;
            let distinct = own.0.iter().find(|(k, v)| {
                model.workloads.iter().enumerate().all(|(o, other)| {
                    *other.meta.namespace != *ns || other.pod_labels.get(k) != Some(&**v) || excluded.contains(&o)
                })
            });
            match distinct {
                Some((k, v)) => pod_exclude.push((k.to_string(), v.to_string())),
                None => exclusion_holds = false,
            }
        }
        if !exclusion_holds {
            pod_exclude.clear();
        }
        pod_exclude.sort();
        pod_exclude.dedup();
        // One default deny; two when some backends are left out of ingress isolation (they are
        // isolated for egress like every other pod).
        let groups: Vec<DenyGroup> = if pod_exclude.is_empty() {
            vec![(missing.clone(), Vec::new(), "")]
        } else {
            missing
                .iter()
                .map(|d| match d {
                    Direction::Ingress => (vec![*d], pod_exclude.clone(), "-ingress"),
                    Direction::Egress => (vec![*d], Vec::new(), "-egress"),
                })
                .collect()
        };
        for (types, exclude, suffix) in groups.into_iter().filter(|(types, _, _)| !types.is_empty()) {
            let words: Vec<&str> = types.iter().map(|d| d.as_str()).collect();
            let but = if exclude.is_empty() {
                ""
            } else {
                "\n(but the backends of ways in whose ingress controller or Gateway is not known: see the review items)"
            };
            specs.push(PolicySpec {
                name: format!("{POLICY_PREFIX}-default-deny{suffix}"),
                why: format!(
                    "default deny for {}: every pod of `{ns}` is isolated, and admits or opens only what the policies below allow{but}",
                    words.join(" and "),
                ),
                pod_selector: Vec::new(),
                pod_exclude: exclude,
                types,
                ingress: Vec::new(),
                egress: Vec::new(),
            });
        }
        if missing.contains(&Direction::Egress) {
            let dns_ports = vec![(Protocol::Udp, PortRef::Number(53)), (Protocol::Tcp, PortRef::Number(53))];
            specs.push(PolicySpec {
                name: format!("{POLICY_PREFIX}-allow-dns"),
                why: "every pod resolves names through the cluster DNS".to_string(),
                pod_selector: Vec::new(),
                pod_exclude: Vec::new(),
                types: vec![Direction::Egress],
                ingress: Vec::new(),
                egress: vec![AllowRule {
                    why: vec![format!("the cluster DNS: pods `{}={}` of `{DNS_NAMESPACE}`", DNS_LABEL.0, DNS_LABEL.1)],
                    peers: vec![PeerSpec::Pods {
                        namespace: Some(DNS_NAMESPACE.to_string()),
                        labels: vec![(DNS_LABEL.0.to_string(), DNS_LABEL.1.to_string())],
                    }],
                    ports: dns_ports,
                    ranges: Vec::new(),
                }],
            });
        }
        // A left-out backend gets no ingress policy: it would cut the way in that cannot be named.
        let keep = |(w, d): &(usize, Direction)| !(exclusion_holds && *d == Direction::Ingress && excluded.contains(w));
        specs.extend(per_ns.remove(&ns).unwrap_or_default().into_iter().filter(|(k, _)| keep(k)).map(|(_, s)| s));
        // Workloads newly isolated for ingress with nothing to admit: for review.
        for (w, wl) in model.workloads.iter().enumerate() {
            if *wl.meta.namespace != *ns {
                continue;
            }
            if wl.host_network.is_some() {
                review.push(Review {
                    namespace: ns.clone(),
                    subject: wl.peer_name(),
                    message:
                        "runs on the node's network: the suggested policies select it, but most dataplanes do not \
                              enforce them there; nothing is suggested for it"
                            .to_string(),
                    evidence: wl.host_network.map(|span| wl.meta.at(span)),
                });
                continue;
            }
            if wl.host_network.is_some() {
                continue;
            }
            if unlabelled(w) && (!isolated(w, Direction::Ingress) || !isolated(w, Direction::Egress)) {
                review.push(Review {
                    namespace: ns.clone(),
                    subject: wl.peer_name(),
                    message:
                        "its pods carry no labels: no policy can select them alone, and the default deny cuts them off"
                            .to_string(),
                    evidence: Some(wl.meta.location()),
                });
            }
        }
        dedup_names(&mut specs);
        if specs.is_empty() {
            continue;
        }
        policies.insert(ns, specs);
    }
    Plan { policies, intents, review }
}

/// `kubereach-<workload>-ingress`, within the 253 characters of an object name.
fn policy_name(workload: &str, d: Direction) -> String {
    let mut base = format!("{POLICY_PREFIX}-{workload}");
    base.truncate(253 - 8);
    format!("{base}-{}", d.as_str())
}

/// Two workloads of one name (a Deployment and a StatefulSet) get distinct policy names.
fn dedup_names(specs: &mut [PolicySpec]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for spec in specs.iter_mut() {
        let n = seen.entry(spec.name.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            spec.name = format!("{}-{}", spec.name, n);
        }
    }
}

/// Pods with `labels` in `namespace`, as seen from a policy of `from_namespace`.
fn pods_peer(namespace: &str, from_namespace: &str, labels: &crate::model::selector::Labels) -> PeerSpec {
    PeerSpec::Pods {
        namespace: (namespace != from_namespace).then(|| namespace.to_string()),
        labels: labels_of(labels),
    }
}

/// The target ports a reference to a Service reaches: of the Service port written, else all.
fn service_ports(service: &crate::model::Service, port: Option<u16>) -> Vec<(Protocol, PortRef)> {
    let by_port: Vec<_> = service.ports.iter().filter(|p| Some(p.port) == port).collect();
    let by_target: Vec<_> =
        service.ports.iter().filter(|p| port.is_some() && p.target == PortRef::Number(port.unwrap_or(0))).collect();
    let chosen = if !by_port.is_empty() {
        by_port
    } else if !by_target.is_empty() {
        by_target
    } else {
        service.ports.iter().collect()
    };
    let mut out: Vec<(Protocol, PortRef)> = chosen.iter().map(|p| (p.protocol, p.target.clone())).collect();
    out.sort();
    out.dedup();
    out
}

/// A range of ports of one protocol, first and last.
type PortRange = (Protocol, u16, u16);

/// A default deny's directions, the labels it leaves out, and its name's suffix.
type DenyGroup = (Vec<Direction>, Vec<(String, String)>, &'static str);

/// Ports of a connection set: narrow ranges as their ports, wide ones as ranges.
fn conns_ports(conns: &Conns) -> (Vec<(Protocol, PortRef)>, Vec<PortRange>) {
    let (mut ports, mut ranges) = (Vec::new(), Vec::new());
    for protocol in Protocol::ALL {
        for &(first, last) in conns.ports(protocol).intervals() {
            if last.saturating_sub(first) >= 16 {
                ranges.push((protocol, first, last));
                continue;
            }
            for p in first..=last {
                ports.push((protocol, PortRef::Number(p)));
            }
        }
    }
    (ports, ranges)
}

/// The fewest CIDR blocks that cover exactly a range.
fn cidrs_of(range: &IpRange) -> Vec<String> {
    let bits = range.family.bits();
    let mut out = Vec::new();
    let mut first = range.first;
    loop {
        // The largest block aligned at `first` that stays within the range.
        let mut k = if first == 0 { bits } else { first.trailing_zeros().min(bits) };
        loop {
            let block_last = if k >= 128 { u128::MAX } else { first + ((1u128 << k) - 1) };
            if block_last <= range.last || k == 0 {
                break;
            }
            k -= 1;
        }
        out.push(format!("{}/{}", crate::model::net::format_addr(range.family, first), bits - k));
        if k >= 128 {
            return out;
        }
        match first.checked_add(1u128 << k) {
            Some(next) if next <= range.last => first = next,
            _ => return out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::net::{parse_cidr, Family};

    #[test]
    fn ranges_become_the_fewest_cidrs() {
        assert_eq!(cidrs_of(&parse_cidr("10.0.0.0/8").unwrap()), ["10.0.0.0/8"]);
        assert_eq!(cidrs_of(&IpRange::whole(Family::V4)), ["0.0.0.0/0"]);
        let r = IpRange { family: Family::V4, first: 1, last: 4 };
        assert_eq!(cidrs_of(&r), ["0.0.0.1/32", "0.0.0.2/31", "0.0.0.4/32"]);
        assert_eq!(cidrs_of(&IpRange::whole(Family::V6)), ["::/0"]);
    }
}

//! Ways in: how traffic from outside the pod network reaches pods, and what their policies admit.
//!
//! An *entry* is an object that opens a way to a Service's pods: a public `LoadBalancer`, the
//! NodePorts every node opens (when the profile says nodes are reachable), `externalIPs`, an
//! Ingress backend (through its controller) or a Route. Each entry has a source as the backend's
//! ingress policy sees it: the client's address, a node's address (`externalTrafficPolicy:
//! Cluster`, the default, where the node forwards and rewrites the source), or the ingress
//! controller's pods. An *exposure* is an entry joined with one class of backend pods: the target
//! ports the entry forwards to and what the pods' ingress admits of them.
//!
//! Entries behind controllers the profile calls private are kept (`from_internet: false`), so
//! that a route that policies block is found whatever the controller faces.

use rustc_hash::FxHashMap;

use super::{admitted, target_conns, ClassId, Graph, PortChoice, ServiceSelection, Source};
use crate::graph::Conns;
use crate::model::net::{parse_cidr, Family, IpRange, PortRef};
use crate::model::{Model, Service, ServiceType};
use crate::profile::controllers::{self, Controller};
use crate::span::Location;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    LoadBalancer,
    NodePort,
    ExternalIp,
    Ingress,
    Route,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::LoadBalancer => "LoadBalancer",
            EntryKind::NodePort => "NodePort",
            EntryKind::ExternalIp => "externalIPs",
            EntryKind::Ingress => "Ingress",
            EntryKind::Route => "Route",
        }
    }
}

/// One way in.
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: EntryKind,
    /// The object that opens the way, as `Kind/namespace/name`.
    pub object_key: String,
    /// The same in words: ``Service `promo` ``.
    pub object: String,
    /// The field that opens it (`spec.type`, the backend, the external IP).
    pub at: Location,
    pub field: &'static str,
    /// The Service behind it (index into [`Model::services`]) and the ports used.
    pub service: usize,
    pub ports: Vec<usize>,
    pub source: Source,
    /// What the source is, in words, for messages.
    pub source_text: String,
    pub from_internet: bool,
    /// Why the exposure looks intended and guarded: TLS, or restricted client ranges.
    pub guard: Option<String>,
    /// What a request matches (`host `shop.example.com` path `/``), for Ingresses and Routes.
    pub route: Option<String>,
}

/// An entry joined with one class of its backend pods. Behind an unknown ingress controller,
/// `admitted` is what any plausible controller (any namespace, any labels, the host network) would
/// be admitted: the connectivity list's `{ingress-controller}` is narrower, one unlabelled pod.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// Index into [`Graph::entries`].
    pub entry: usize,
    pub class: ClassId,
    /// Target ports the entry forwards to on these pods.
    pub wanted: Conns,
    /// What the pods' ingress admits of them from the entry's source.
    pub admitted: Conns,
}

/// Private and special-purpose ranges: addresses no internet client has.
const PRIVATE: [&str; 8] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
];

fn private_ranges() -> Vec<IpRange> {
    PRIVATE.iter().filter_map(|c| parse_cidr(c).ok()).collect()
}

/// Whether an address is outside the private and special-purpose ranges: reachable from the
/// internet when a node answers for it.
fn is_public_address(range: &IpRange) -> bool {
    !private_ranges().iter().any(|p| p.contains(range))
}

/// The addresses of internet clients: every address outside the private ranges, per family.
pub fn internet_ranges() -> Vec<IpRange> {
    let mut private = private_ranges();
    private.sort();
    let mut out = Vec::new();
    for family in [Family::V4, Family::V6] {
        let mut next: u128 = 0;
        let mut done = false;
        for p in private.iter().filter(|p| p.family == family) {
            if p.first > next {
                out.push(IpRange { family, first: next, last: p.first - 1 });
            }
            match p.last.checked_add(1) {
                Some(n) => next = next.max(n),
                None => done = true,
            }
        }
        if !done && next <= family.max() {
            out.push(IpRange { family, first: next, last: family.max() });
        }
    }
    out
}

/// The entries of a model and what each exposes.
pub(super) fn compute(model: &Model, graph: &Graph) -> (Vec<Entry>, Vec<Exposure>) {
    let profile = &graph.profile;
    let mut entries: Vec<Entry> = Vec::new();
    let node_source = || Source::Addresses(profile.node_ranges.clone());
    // The addresses of internet clients, computed once for every Service.
    let internet = internet_ranges();
    for (si, service) in model.services.iter().enumerate() {
        if service.selector.is_none() || service.service_type == ServiceType::ExternalName {
            continue;
        }
        let all_ports: Vec<usize> = (0..service.ports.len()).collect();
        let object = format!("Service `{}`", service.meta.name);
        let type_at = service.meta.at(service.type_span.unwrap_or(service.meta.name_span));
        // With `Local` the pod sees the client; with `Cluster` the node that forwarded.
        let (client_source, client_text) = if service.external_traffic_policy_local {
            (Source::Addresses(internet.clone()), "the client's address (externalTrafficPolicy: Local)")
        } else {
            (node_source(), "a node's address (externalTrafficPolicy: Cluster)")
        };
        let base = |kind, at, field, source, source_text: &str, guard| Entry {
            kind,
            object_key: service.meta.key(),
            object: object.clone(),
            at,
            field,
            service: si,
            ports: all_ports.clone(),
            source,
            source_text: source_text.to_string(),
            from_internet: true,
            guard,
            route: None,
        };
        let ranges = service.client_ranges();
        // Source ranges that hold no internet address leave only the private network.
        let private_clients = !ranges.is_empty()
            && !ranges
                .iter()
                .any(|r| internet.iter().any(|i| i.family == r.family && i.first <= r.last && r.first <= i.last));
        if service.service_type == ServiceType::LoadBalancer && !service.is_internal_load_balancer() && !private_clients
        {
            let guard = (!ranges.is_empty())
                .then(|| format!("source ranges {}", ranges.iter().map(cidr_text).collect::<Vec<_>>().join(", ")));
            // Source ranges are client addresses: the pod sees them only with `Local`.
            let source = match (service.external_traffic_policy_local, ranges.is_empty()) {
                (true, true) => Source::Addresses(internet.clone()),
                (true, false) => Source::Addresses(ranges.clone()),
                (false, _) => node_source(),
            };
            entries.push(base(EntryKind::LoadBalancer, type_at, "spec.type", source, client_text, guard));
        }
        let opens_node_ports = match service.service_type {
            ServiceType::NodePort => true,
            ServiceType::LoadBalancer => service.allocate_load_balancer_node_ports,
            _ => false,
        };
        if opens_node_ports && profile.nodes_public {
            let source =
                if service.external_traffic_policy_local { Source::Addresses(internet.clone()) } else { node_source() };
            entries.push(base(EntryKind::NodePort, type_at, "spec.type", source, client_text, None));
        }
        let public_ip = service.external_ips.iter().find(|(ip, _)| {
            let bits = if ip.contains(':') { 128 } else { 32 };
            parse_cidr(&format!("{ip}/{bits}")).is_ok_and(|r| is_public_address(&r))
        });
        if let Some((_, span)) = public_ip {
            let source = client_source.clone();
            entries.push(base(
                EntryKind::ExternalIp,
                service.meta.at(*span),
                "spec.externalIPs",
                source,
                client_text,
                None,
            ));
        }
    }
    ingress_entries(model, graph, &mut entries);

    let selection = ServiceSelection::new(&graph.classes, !entries.is_empty());
    let mut exposures = Vec::new();
    for (ei, entry) in entries.iter().enumerate() {
        let service = &model.services[entry.service];
        for c in selection.selected(service) {
            let wanted = target_conns(entry.ports.iter().map(|&pi| &service.ports[pi]), &graph.classes[c as usize]);
            if wanted.is_empty() {
                continue;
            }
            let admitted = if entry.source == Source::Class(graph.ingress_controller) {
                // An unknown controller: whatever a plausible one would be admitted.
                graph.admits_unknown_controller(model, c, &wanted)
            } else {
                let inbound = graph.inbound.get(c as usize).and_then(Option::as_ref);
                wanted.intersect(&admitted(inbound, &entry.source, &graph.conns, &graph.ip_space.atoms))
            };
            exposures.push(Exposure { entry: ei, class: c, wanted, admitted });
        }
    }
    (entries, exposures)
}

fn cidr_text(range: &IpRange) -> String {
    // The host bits of an aligned block; the whole IPv6 space does not fit a u128 count.
    let host_bits = 128 - (range.last - range.first).leading_zeros();
    let prefix = range.family.bits().saturating_sub(host_bits);
    format!("{}/{prefix}", crate::model::net::format_addr(range.family, range.first))
}

/// Ingress backends and Routes, through their controllers.
fn ingress_entries(model: &Model, graph: &Graph, entries: &mut Vec<Entry>) {
    let services: FxHashMap<(&str, &str), usize> =
        model.services.iter().enumerate().map(|(i, s)| ((&*s.meta.namespace, &*s.meta.name), i)).collect();
    // The pseudo classes of known controllers, by namespace and labels.
    let pseudo: FxHashMap<(&str, &crate::model::selector::Labels), ClassId> = graph
        .classes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.pseudo)
        .map(|(i, c)| ((&*c.namespace, &c.labels), i as ClassId))
        .collect();
    let controller_class = |namespace: &str, labels: &crate::model::selector::Labels| {
        pseudo.get(&(namespace, labels)).copied().unwrap_or(graph.ingress_controller)
    };
    for ingress in &model.ingresses {
        let serving = controllers::controller_of(ingress, &model.ingress_classes, &graph.profile);
        let (source, source_text) = match &serving.identity {
            Controller::Unknown => (Source::Class(graph.ingress_controller), "the ingress controller".to_string()),
            Controller::Pods { namespace, labels } => (
                Source::Class(controller_class(namespace, labels)),
                format!("the ingress controller's pods in namespace `{namespace}`"),
            ),
            Controller::External(ranges) => (
                Source::Addresses(ranges.clone()),
                if ranges.is_empty() {
                    "the gateway outside the cluster".to_string()
                } else {
                    format!("the gateway subnet {}", ranges.iter().map(cidr_text).collect::<Vec<_>>().join(", "))
                },
            ),
        };
        let routes = ingress
            .default_backend
            .iter()
            .map(|b| (b, None, None))
            .chain(ingress.paths.iter().map(|p| (&p.backend, p.host.as_deref(), p.path.as_deref())));
        for (backend, host, path) in routes {
            let Some(&si) = services.get(&(&*ingress.meta.namespace, &*backend.service)) else { continue };
            let choice = match &backend.port {
                None => PortChoice::All,
                Some(crate::model::ServicePortRef::Number(n)) => PortChoice::ServicePort(*n),
                Some(crate::model::ServicePortRef::Name(name)) => PortChoice::ServicePortName(name.clone()),
            };
            let ports = port_indexes(&model.services[si], &choice);
            if ports.is_empty() {
                continue;
            }
            let route = match (host, path) {
                (None, None) => "every request".to_string(),
                (Some(h), None) => format!("host `{h}`"),
                (None, Some(p)) => format!("path `{p}`"),
                (Some(h), Some(p)) => format!("host `{h}` path `{p}`"),
            };
            // TLS, or a client allowlist the controller enforces: the ingress-nginx annotations,
            // which nginx-based controllers (ingress-nginx, AKS application routing, and perhaps an
            // unknown one) read and Application Gateway ignores.
            let reads_nginx_annotations = !matches!(serving.identity, Controller::External(_));
            let allowlist = [
                "nginx.ingress.kubernetes.io/whitelist-source-range",
                "nginx.ingress.kubernetes.io/allowlist-source-range",
            ]
            .iter()
            .find_map(|a| ingress.meta.annotations.get(*a))
            .filter(|_| reads_nginx_annotations)
            .filter(|v| {
                !v.trim().is_empty() && !v.split(',').any(|r| parse_cidr(r.trim()).is_ok_and(|r| r.is_whole()))
            });
            let guard = match (ingress.tls_covers(host), allowlist) {
                (true, _) => Some("TLS".to_string()),
                (false, Some(ranges)) => Some(format!("the controller's source allowlist ({ranges})")),
                (false, None) => None,
            };
            // Application Gateway on its private frontend address only.
            let private_gateway = matches!(serving.identity, Controller::External(_))
                && ingress
                    .meta
                    .annotations
                    .get("appgw.ingress.kubernetes.io/use-private-ip")
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            entries.push(Entry {
                kind: EntryKind::Ingress,
                object_key: ingress.meta.key(),
                object: format!("Ingress `{}`", ingress.meta.name),
                at: ingress.meta.at(backend.span),
                field: "backend",
                service: si,
                ports,
                source: source.clone(),
                source_text: source_text.clone(),
                from_internet: serving.public && !private_gateway,
                guard,
                route: Some(route),
            });
        }
    }
    for route in &model.routes {
        for (service, span) in &route.services {
            let Some(&si) = services.get(&(&*route.meta.namespace, &**service)) else { continue };
            let choice = match &route.target_port {
                None => PortChoice::All,
                Some(PortRef::Number(n)) => PortChoice::RouteNumber(*n),
                Some(PortRef::Name(name)) => PortChoice::Name(name.clone()),
            };
            let ports = port_indexes(&model.services[si], &choice);
            if ports.is_empty() {
                continue;
            }
            entries.push(Entry {
                kind: EntryKind::Route,
                object_key: route.meta.key(),
                object: format!("Route `{}`", route.meta.name),
                at: route.meta.at(*span),
                field: "spec.to",
                service: si,
                ports,
                source: Source::Class(graph.ingress_controller),
                source_text: "the router".to_string(),
                from_internet: true,
                guard: route.tls.then(|| "TLS".to_string()),
                route: None,
            });
        }
    }
}

fn port_indexes(service: &Service, choice: &PortChoice) -> Vec<usize> {
    service.ports.iter().enumerate().filter(|(_, p)| choice.picks(p)).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_print_as_cidrs_whole_spaces_included() {
        for cidr in ["0.0.0.0/0", "::/0", "10.225.0.0/24", "198.51.100.7/32", "fd00::/8"] {
            assert_eq!(cidr_text(&parse_cidr(cidr).unwrap()), cidr);
        }
    }

    #[test]
    fn internet_ranges_leave_out_exactly_the_private_ones() {
        let internet = internet_ranges();
        let at = |s: &str| parse_cidr(s).unwrap();
        for public in ["8.8.8.8/32", "0.0.0.0/32", "255.255.255.255/32", "172.32.0.0/16", "2001:db8::/32"] {
            assert!(internet.iter().any(|r| r.contains(&at(public))), "{public}");
        }
        for private in ["10.1.2.3/32", "172.16.5.0/24", "192.168.1.1/32", "169.254.169.254/32", "fd00::1/128"] {
            assert!(
                !internet.iter().any(|r| at(private).first <= r.last
                    && r.first <= at(private).last
                    && r.family == at(private).family),
                "{private}"
            );
        }
    }
}

//! Reading AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and ClusterNetworkPolicy
//! (v1alpha2) into [`super::tier`]'s types, with the checks the API server makes through the
//! kinds' CRD schemas: required fields, enumerations, "exactly one field" objects, list limits,
//! CIDRs, port ranges, and the rule that a named port cannot go with address peers. What it
//! rejects is an `invalid-manifest` problem at the field; the rest of the object is still read.

use super::net::{parse_cidr, Protocol};
use super::problem::FieldProblem;
use super::read::Reader;
use super::tier::{Action, Subject, Tier, TierKind, TierPeer, TierPolicy, TierPort, TierRule};
use super::{Direction, Meta};
use crate::load::yaml::Node;

/// The API's limits, per version: rules per direction, peers per rule, ports per rule.
struct Limits {
    rules: usize,
    peers: usize,
    ports: usize,
}

const V1ALPHA1: Limits = Limits { rules: 100, peers: 100, ports: 100 };
const V1ALPHA2: Limits = Limits { rules: 25, peers: 25, ports: 25 };
/// Networks per peer and domain names per peer, in both versions.
const MAX_NETWORKS: usize = 25;
const MAX_RULE_NAME: usize = 100;
const MAX_PRIORITY: i64 = 1000;

fn reject(r: &mut Reader, node_span: crate::span::Span, path: &str, reason: impl Into<String>) {
    r.invalid(node_span, FieldProblem::Rejected { path: path.to_string(), reason: reason.into() });
}

/// Reads a tier policy of `kind`.
pub(super) fn read(r: &mut Reader, kind: TierKind, meta: Meta, spec: Option<&Node>) -> TierPolicy {
    let get = |k: &str| spec.and_then(|s| s.get_present(k));
    let limits = if kind == TierKind::ClusterNetworkPolicy { &V1ALPHA2 } else { &V1ALPHA1 };
    // Each kind exists in one version only: AdminNetworkPolicy and BaselineAdminNetworkPolicy in
    // v1alpha1, ClusterNetworkPolicy in v1alpha2.
    let version = meta.api_version.split_once('/').map_or("", |(_, v)| v);
    let served = match kind {
        TierKind::ClusterNetworkPolicy => "v1alpha2",
        _ => "v1alpha1",
    };
    let mut rejected = false;
    if version != served {
        rejected = true;
        reject(
            r,
            meta.api_version_span,
            "apiVersion",
            format!("`{}` serves no {} (it is `{}/{served}`)", meta.api_version, meta.kind, super::tier::GROUP),
        );
    }
    let tier = match kind {
        TierKind::AdminNetworkPolicy => Tier::Admin,
        TierKind::BaselineAdminNetworkPolicy => {
            if &*meta.name != "default" {
                reject(
                    r,
                    meta.name_span,
                    "metadata.name",
                    "of a BaselineAdminNetworkPolicy must be `default` (the kind is a singleton)",
                );
            }
            Tier::Baseline
        }
        TierKind::ClusterNetworkPolicy => match get("tier") {
            None => {
                r.invalid(
                    spec.map_or(meta.kind_span, |s| s.span),
                    FieldProblem::MissingKey { path: "spec".into(), key: "tier" },
                );
                Tier::Admin
            }
            Some(n) => match r.string(Some(n), "spec.tier") {
                Some("Baseline") => Tier::Baseline,
                Some("Admin") | None => Tier::Admin,
                Some(other) => {
                    r.invalid(
                        n.span,
                        FieldProblem::NotOneOf {
                            path: "spec.tier".into(),
                            value: other.into(),
                            expected: "Admin or Baseline",
                        },
                    );
                    Tier::Admin
                }
            },
        },
    };
    let priority_node = get("priority");
    let priority = match (kind, priority_node) {
        (TierKind::BaselineAdminNetworkPolicy, _) => None,
        (_, None) => {
            r.invalid(
                spec.map_or(meta.kind_span, |s| s.span),
                FieldProblem::MissingKey { path: "spec".into(), key: "priority" },
            );
            None
        }
        (_, Some(n)) => match r.int(Some(n), "spec.priority") {
            Some(p) if (0..=MAX_PRIORITY).contains(&p) => u32::try_from(p).ok(),
            Some(p) => {
                reject(r, n.span, "spec.priority", format!("is {p}, outside 0-{MAX_PRIORITY}"));
                None
            }
            None => None,
        },
    };
    let subject_node = get("subject");
    let subject_span = subject_node.map_or(spec.map_or(meta.kind_span, |s| s.span), |n| n.span);
    let subject = match subject_node {
        None => {
            r.invalid(subject_span, FieldProblem::MissingKey { path: "spec".into(), key: "subject" });
            None
        }
        Some(n) => read_subject(r, n),
    };
    let ingress = read_rules(r, kind, limits, get("ingress"), Direction::Ingress);
    let egress = read_rules(r, kind, limits, get("egress"), Direction::Egress);
    TierPolicy {
        meta,
        kind,
        tier,
        priority,
        priority_span: priority_node.map(|n| n.span),
        subject,
        subject_span,
        ingress,
        egress,
        rejected,
    }
}

fn read_subject(r: &mut Reader, node: &Node) -> Option<Subject> {
    let node = r.map(Some(node), "spec.subject")?;
    let namespaces = node.get_present("namespaces");
    let pods = node.get_present("pods");
    match (namespaces, pods) {
        (Some(ns), None) => Some(Subject::Namespaces(r.selector(ns, "spec.subject.namespaces"))),
        (None, Some(p)) => {
            let (namespaces, pods) = read_namespaced_pod(r, p, "spec.subject.pods")?;
            Some(Subject::Pods { namespaces, pods })
        }
        _ => {
            reject(r, node.span, "spec.subject", "must set exactly one of `namespaces` and `pods`");
            None
        }
    }
}

/// A `pods` peer or subject: `namespaceSelector` (empty: every namespace) and the required
/// `podSelector`.
fn read_namespaced_pod(
    r: &mut Reader,
    node: &Node,
    path: &str,
) -> Option<(super::selector::Selector, super::selector::Selector)> {
    let node = r.map(Some(node), path)?;
    let namespaces = match node.get_present("namespaceSelector") {
        Some(n) => r.selector(n, &format!("{path}.namespaceSelector")),
        None => super::selector::Selector { span: node.span, ..Default::default() },
    };
    let pods = match node.get_present("podSelector") {
        Some(n) => r.selector(n, &format!("{path}.podSelector")),
        None => {
            // The CRD requires it; read as every pod (what an empty one says, and what the
            // reference analyser's cases expect) so that the rest is still analysed.
            r.invalid(node.span, FieldProblem::MissingKey { path: path.to_string(), key: "podSelector" });
            super::selector::Selector { span: node.span, ..Default::default() }
        }
    };
    Some((namespaces, pods))
}

fn read_rules(
    r: &mut Reader,
    kind: TierKind,
    limits: &Limits,
    node: Option<&Node>,
    direction: Direction,
) -> Vec<TierRule> {
    let (path, peers_key) = match direction {
        Direction::Ingress => ("spec.ingress", "from"),
        Direction::Egress => ("spec.egress", "to"),
    };
    let nodes = r.seq(node, path);
    if nodes.len() > limits.rules {
        if let Some(n) = node {
            reject(r, n.span, path, format!("has {} rules; at most {} are allowed", nodes.len(), limits.rules));
        }
    }
    let mut rules = Vec::new();
    for rule in nodes {
        let Some(rule) = r.map(Some(rule), path) else { continue };
        let name = rule.get_present("name").and_then(|n| {
            let text = r.string(Some(n), &format!("{path}.name"))?;
            if text.chars().count() > MAX_RULE_NAME {
                reject(r, n.span, &format!("{path}.name"), format!("is longer than {MAX_RULE_NAME} characters"));
            }
            Some(Box::<str>::from(text))
        });
        let Some((action, action_span)) = read_action(r, kind, rule, path) else { continue };
        let peers_path = format!("{path}.{peers_key}");
        let peer_nodes = r.seq(rule.get_present(peers_key), &peers_path);
        if peer_nodes.is_empty() {
            reject(r, rule.span, &peers_path, "must list at least one peer");
            continue;
        }
        if peer_nodes.len() > limits.peers {
            reject(
                r,
                rule.span,
                &peers_path,
                format!("has {} peers; at most {} are allowed", peer_nodes.len(), limits.peers),
            );
        }
        let peers: Vec<TierPeer> =
            peer_nodes.iter().filter_map(|p| read_peer(r, kind, p, &peers_path, direction)).collect();
        let ports = if kind == TierKind::ClusterNetworkPolicy {
            read_protocols(r, limits, rule.get_present("protocols"), &format!("{path}.protocols"))
        } else {
            read_ports(r, limits, rule.get_present("ports"), &format!("{path}.ports"))
        };
        let named = ports.iter().flatten().any(|p| matches!(p, TierPort::Named { .. }));
        let addresses =
            peers.iter().any(|p| matches!(p, TierPeer::Networks(..) | TierPeer::Nodes(..) | TierPeer::DomainNames(..)));
        if named && addresses {
            reject(
                r,
                rule.span,
                path,
                "names a port with `networks`, `nodes` or `domainNames` peers, which have no named ports",
            );
        }
        if peers.is_empty() {
            // Every peer was rejected: the rule is not read (the API server takes none of it).
            continue;
        }
        rules.push(TierRule { name, action, action_span, peers, ports, span: rule.span });
    }
    rules
}

fn read_action(r: &mut Reader, kind: TierKind, rule: &Node, path: &str) -> Option<(Action, crate::span::Span)> {
    let action_path = format!("{path}.action");
    let Some(node) = rule.get_present("action") else {
        r.invalid(rule.span, FieldProblem::MissingKey { path: path.to_string(), key: "action" });
        return None;
    };
    let text = r.string(Some(node), &action_path)?;
    let action = match (kind, text) {
        (TierKind::ClusterNetworkPolicy, "Accept") => Action::Allow,
        (TierKind::AdminNetworkPolicy | TierKind::BaselineAdminNetworkPolicy, "Allow") => Action::Allow,
        (_, "Deny") => Action::Deny,
        (TierKind::AdminNetworkPolicy | TierKind::ClusterNetworkPolicy, "Pass") => Action::Pass,
        (_, other) => {
            let expected = match kind {
                TierKind::AdminNetworkPolicy => "Allow, Deny or Pass",
                TierKind::BaselineAdminNetworkPolicy => "Allow or Deny",
                TierKind::ClusterNetworkPolicy => "Accept, Deny or Pass",
            };
            r.invalid(node.span, FieldProblem::NotOneOf { path: action_path, value: other.to_string(), expected });
            return None;
        }
    };
    Some((action, node.span))
}

fn read_peer(r: &mut Reader, kind: TierKind, node: &Node, path: &str, direction: Direction) -> Option<TierPeer> {
    let node = r.map(Some(node), path)?;
    let keys: Vec<&str> = node
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, _)| k.as_str())
        .collect();
    let allowed: &[&str] = match (direction, kind) {
        (Direction::Ingress, _) => &["namespaces", "pods"],
        (Direction::Egress, TierKind::BaselineAdminNetworkPolicy) => &["namespaces", "pods", "nodes", "networks"],
        (Direction::Egress, _) => &["namespaces", "pods", "nodes", "networks", "domainNames"],
    };
    let known: Vec<&str> = keys.iter().copied().filter(|k| allowed.contains(k)).collect();
    if known.len() != 1 || keys.len() != 1 {
        reject(r, node.span, path, format!("element must set exactly one of {}", list_words(allowed)));
        return None;
    }
    let field = known[0];
    let value = node.get_present(field)?;
    let field_path = format!("{path}.{field}");
    Some(match field {
        "namespaces" => TierPeer::Namespaces(r.selector(value, &field_path), node.span),
        "pods" => {
            let (namespaces, pods) = read_namespaced_pod(r, value, &field_path)?;
            TierPeer::Pods { namespaces, pods, span: node.span }
        }
        "nodes" => TierPeer::Nodes(r.selector(value, &field_path), node.span),
        "networks" => {
            let entries = r.seq(Some(value), &field_path);
            if entries.is_empty() || entries.len() > MAX_NETWORKS {
                reject(r, value.span, &field_path, format!("must list 1 to {MAX_NETWORKS} CIDRs"));
            }
            let mut ranges = Vec::new();
            for e in entries {
                let Some(text) = r.string(Some(e), &field_path) else { continue };
                match parse_cidr(text.trim()) {
                    Ok(range) => ranges.push(range),
                    Err(err) => r.invalid_value(e, FieldProblem::BadCidr(err)),
                }
            }
            if ranges.is_empty() {
                return None;
            }
            TierPeer::Networks(ranges, node.span)
        }
        _ => {
            let entries = r.seq(Some(value), &field_path);
            if entries.is_empty() || entries.len() > MAX_NETWORKS {
                reject(r, value.span, &field_path, format!("must list 1 to {MAX_NETWORKS} domain names"));
            }
            let names = entries.iter().filter_map(|e| r.string(Some(e), &field_path).map(Box::from)).collect();
            TierPeer::DomainNames(names, node.span)
        }
    })
}

fn list_words(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// v1alpha1 `ports`: `portNumber`, `namedPort` or `portRange`, exactly one per entry.
fn read_ports(r: &mut Reader, limits: &Limits, node: Option<&Node>, path: &str) -> Option<Vec<TierPort>> {
    let list = node?;
    let entries = r.seq(Some(list), path);
    if entries.is_empty() || entries.len() > limits.ports {
        reject(r, list.span, path, format!("must list 1 to {} ports", limits.ports));
    }
    let mut ports = Vec::new();
    for e in entries {
        let Some(e) = r.map(Some(e), path) else { continue };
        let keys: Vec<&str> = e.as_map().unwrap_or_default().iter().filter_map(|(k, _)| k.as_str()).collect();
        if keys.len() != 1 {
            reject(r, e.span, path, "entry must set exactly one of `portNumber`, `namedPort` and `portRange`");
            continue;
        }
        match keys[0] {
            "portNumber" => {
                let p_path = format!("{path}.portNumber");
                let Some(p) = r.map(e.get_present("portNumber"), &p_path) else { continue };
                let protocol = r.protocol(p.get_present("protocol"), &format!("{p_path}.protocol"));
                let Some(port_node) = p.get_present("port") else {
                    r.invalid(p.span, FieldProblem::MissingKey { path: p_path, key: "port" });
                    continue;
                };
                if let Some(port) = r.port_number(Some(port_node), &format!("{p_path}.port")) {
                    ports.push(TierPort::Range { protocol, first: port, last: port, span: e.span });
                }
            }
            "namedPort" => {
                if let Some(name) = r.string(e.get_present("namedPort"), &format!("{path}.namedPort")) {
                    ports.push(TierPort::Named { name: name.into(), span: e.span });
                }
            }
            "portRange" => {
                let p_path = format!("{path}.portRange");
                let Some(p) = r.map(e.get_present("portRange"), &p_path) else { continue };
                let protocol = r.protocol(p.get_present("protocol"), &format!("{p_path}.protocol"));
                if let Some((first, last)) = read_range(r, p, &p_path, false) {
                    ports.push(TierPort::Range { protocol, first, last, span: e.span });
                }
            }
            other => reject(
                r,
                e.span,
                path,
                format!("entry has `{other}`; expected `portNumber`, `namedPort` or `portRange`"),
            ),
        }
    }
    Some(ports)
}

/// `start` and `end` of a port range. v1alpha2 rejects `start >= end`; v1alpha1 states the same
/// without a check, so there a reversed range is read as written and matches no port.
fn read_range(r: &mut Reader, node: &Node, path: &str, strict: bool) -> Option<(u16, u16)> {
    let start_node = node.get_present("start");
    let end_node = node.get_present("end");
    let (Some(start_node), Some(end_node)) = (start_node, end_node) else {
        let key = if start_node.is_none() { "start" } else { "end" };
        r.invalid(node.span, FieldProblem::MissingKey { path: path.to_string(), key });
        return None;
    };
    let start = r.port_number(Some(start_node), &format!("{path}.start"))?;
    let end = r.port_number(Some(end_node), &format!("{path}.end"))?;
    if strict && start >= end {
        reject(r, node.span, path, format!("starts at {start} and ends at {end}; `start` must be less than `end`"));
        return None;
    }
    Some((start, end))
}

/// v1alpha2 `protocols`: `tcp`, `udp` or `sctp` with a `destinationPort` (a `number` or a
/// `range`), or `destinationNamedPort`, exactly one per entry.
fn read_protocols(r: &mut Reader, limits: &Limits, node: Option<&Node>, path: &str) -> Option<Vec<TierPort>> {
    let list = node?;
    let entries = r.seq(Some(list), path);
    if entries.is_empty() || entries.len() > limits.ports {
        reject(r, list.span, path, format!("must list 1 to {} protocols", limits.ports));
    }
    let mut ports = Vec::new();
    for e in entries {
        let Some(e) = r.map(Some(e), path) else { continue };
        let keys: Vec<&str> = e.as_map().unwrap_or_default().iter().filter_map(|(k, _)| k.as_str()).collect();
        if keys.len() != 1 {
            reject(r, e.span, path, "entry must set exactly one of `tcp`, `udp`, `sctp` and `destinationNamedPort`");
            continue;
        }
        let protocol = match keys[0] {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "sctp" => Protocol::Sctp,
            "destinationNamedPort" => {
                if let Some(name) =
                    r.string(e.get_present("destinationNamedPort"), &format!("{path}.destinationNamedPort"))
                {
                    ports.push(TierPort::Named { name: name.into(), span: e.span });
                }
                continue;
            }
            other => {
                reject(
                    r,
                    e.span,
                    path,
                    format!("entry has `{other}`; expected `tcp`, `udp`, `sctp` or `destinationNamedPort`"),
                );
                continue;
            }
        };
        let p_path = format!("{path}.{}", keys[0]);
        let Some(p) = r.map(e.get_present(keys[0]), &p_path) else {
            reject(r, e.span, &p_path, "must set `destinationPort`");
            continue;
        };
        let d_path = format!("{p_path}.destinationPort");
        let Some(d) = r.map(p.get_present("destinationPort"), &d_path) else {
            reject(r, p.span, &p_path, "must set `destinationPort`");
            continue;
        };
        match (d.get_present("number"), d.get_present("range")) {
            (Some(n), None) => {
                if let Some(port) = r.port_number(Some(n), &format!("{d_path}.number")) {
                    ports.push(TierPort::Range { protocol, first: port, last: port, span: e.span });
                }
            }
            (None, Some(range)) => {
                let range_path = format!("{d_path}.range");
                if let Some(range) = r.map(Some(range), &range_path) {
                    if let Some((first, last)) = read_range(r, range, &range_path, true) {
                        ports.push(TierPort::Range { protocol, first, last, span: e.span });
                    }
                }
            }
            _ => reject(r, d.span, &d_path, "must set exactly one of `number` and `range`"),
        }
    }
    Some(ports)
}

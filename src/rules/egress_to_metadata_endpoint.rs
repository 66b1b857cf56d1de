//! `egress-to-metadata-endpoint`: an egress rule that admits the cloud instance metadata
//! endpoint (169.254.169.254, any port) or the Azure WireServer (168.63.129.16, TCP 80 and
//! 32526; its port 53 is Azure DNS and stays allowed).

use super::Context;
use super::ids::EgressToMetadataEndpoint;
use super::Rule;
use crate::finding::Finding;
use crate::model::net::{parse_cidr, IpRange, PortRef, Protocol};
use crate::model::{Direction, PeerSelector, PolicyPort};
use crate::span::Span;

struct Endpoint {
    address: &'static str,
    what: &'static str,
    /// `None`: every port; else these TCP ports.
    tcp_ports: Option<&'static [u16]>,
}

const ENDPOINTS: [Endpoint; 2] = [
    Endpoint { address: "169.254.169.254/32", what: "the cloud instance metadata endpoint", tcp_ports: None },
    Endpoint { address: "168.63.129.16/32", what: "the Azure WireServer", tcp_ports: Some(&[80, 32526]) },
];

/// Whether `ports` (None: every port) lets a connection to `endpoint` through. Named ports never
/// match an address outside the cluster.
fn ports_admit(ports: Option<&[PolicyPort]>, endpoint: &Endpoint) -> bool {
    let Some(ports) = ports else { return true };
    ports.iter().any(|p| match (&p.port, endpoint.tcp_ports) {
        (Some(PortRef::Name(_)), _) => false,
        (None, None) => true,
        (Some(PortRef::Number(_)), None) => true,
        (None, Some(_)) => p.protocol == Protocol::Tcp,
        (Some(PortRef::Number(n)), Some(list)) => {
            let end = p.end_port.unwrap_or(*n);
            p.protocol == Protocol::Tcp && list.iter().any(|x| *n <= *x && *x <= end)
        }
    })
}

fn block_admits(cidr: &IpRange, except: &[IpRange], address: &IpRange) -> bool {
    cidr.contains(address) && !except.iter().any(|e| e.contains(address))
}

/// Whether the entries allow only DNS (port 53), which neither endpoint serves credentials on.
fn dns_only(ports: Option<&[PolicyPort]>) -> bool {
    ports.is_some_and(|ports| {
        !ports.is_empty()
            && ports.iter().all(|p| matches!(p.port, Some(PortRef::Number(53))) && p.end_port.is_none_or(|e| e == 53))
    })
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let endpoints: Vec<(IpRange, &Endpoint)> =
        ENDPOINTS.iter().filter_map(|e| parse_cidr(e.address).ok().map(|r| (r, e))).collect();
    for (pi, policy) in cx.model.policies.iter().enumerate() {
        if !policy.affects(Direction::Egress) || cx.graph.policy_selects.get(pi).is_none_or(|s| s.is_empty()) {
            continue;
        }
        for (ri, rule) in policy.egress.iter().enumerate() {
            // A rule that allows everything (`egress: [{}]`) is `unrestricted-egress`'s finding;
            // so is DNS only, which neither endpoint serves credentials on.
            if dns_only(rule.ports.as_deref()) || (rule.peers.is_none() && rule.ports.is_none()) {
                continue;
            }
            let reachable: Vec<&(IpRange, &Endpoint)> =
                endpoints.iter().filter(|(_, e)| ports_admit(rule.ports.as_deref(), e)).collect();
            // One finding per element (or per rule without `to`), naming every endpoint it opens.
            let mut elements: Vec<(Span, Vec<&Endpoint>)> = Vec::new();
            match &rule.peers {
                None => {
                    let all: Vec<&Endpoint> = reachable.iter().map(|(_, e)| *e).collect();
                    if !all.is_empty() {
                        elements.push((rule.span, all));
                    }
                }
                Some(peers) => {
                    for p in peers {
                        if let PeerSelector::IpBlock { cidr, except, span } = p {
                            let hit: Vec<&Endpoint> = reachable
                                .iter()
                                .filter(|(address, _)| block_admits(cidr, except, address))
                                .map(|(_, e)| *e)
                                .collect();
                            if !hit.is_empty() {
                                elements.push((*span, hit));
                            }
                        }
                    }
                }
            }
            for (span, hit) in elements {
                let what = hit
                    .iter()
                    .map(|e| format!("{} `{}`", e.what, e.address.trim_end_matches("/32")))
                    .collect::<Vec<_>>()
                    .join(" and ");
                let cidrs = hit.iter().map(|e| format!("`{}`", e.address)).collect::<Vec<_>>().join(", ");
                let fix = if rule.peers.is_none() {
                    format!("give the rule a `to` with an ipBlock that lists {cidrs} under `except`")
                } else {
                    format!("add {cidrs} to this ipBlock's `except`")
                };
                let peer = hit.iter().map(|e| e.address).collect::<Vec<_>>().join(",");
                out.push(
                    EgressToMetadataEndpoint::finding(policy.meta.at(span),
                        format!("NetworkPolicy `{}` lets the pods it selects reach {what}; {fix}", policy.meta.name),
                    )
                    .with_key(policy.meta.key(), format!("spec.egress[{ri}]"), peer),
                );
            }
        }
    }
}

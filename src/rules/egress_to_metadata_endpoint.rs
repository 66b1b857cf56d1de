//! `egress-to-metadata-endpoint`: an egress rule that admits the cloud instance metadata
//! endpoint (169.254.169.254, any port) or the Azure WireServer (168.63.129.16, TCP 80 and
//! 32526; its port 53 is Azure DNS and stays allowed). Where the block admits them only because
//! its CIDR is written with host bits (`52.207.37.75/0`), the fix is the CIDR, not an `except`.

use super::Context;
use super::ids::EgressToMetadataEndpoint;
use super::Rule;
use crate::finding::Finding;
use super::words::host_bits_words;
use crate::model::net::{parse_cidr, HostBits, IpRange, PortRef, Protocol};
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

/// The block the author of a CIDR with host bits meant, at the least: the written address with
/// the shortest prefix at which it starts a block (`52.207.37.75/0` → `52.207.37.75/32`).
fn meant_block(h: &HostBits) -> IpRange {
    let host = h.block.family.bits() - h.aligned_prefix;
    let mask = if host == 0 { 0 } else { (1u128 << host) - 1 };
    IpRange { family: h.block.family, first: h.address, last: h.address | mask }
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
            // An endpoint that a cluster tier denies to every pod the policy selects is not
            // reachable, whatever the NetworkPolicy admits.
            let selected = &cx.graph.policy_selects[pi];
            let tiers_allow = |address: &IpRange| {
                selected.iter().any(|&c| !cx.graph.egress_to_external(c, address).is_empty())
            };
            let reachable: Vec<&(IpRange, &Endpoint)> = endpoints
                .iter()
                .filter(|(address, e)| ports_admit(rule.ports.as_deref(), e) && tiers_allow(address))
                .collect();
            // One finding per element (or per rule without `to`), naming every endpoint it opens.
            // With the ipBlock's CIDR when it is written with host bits and the block its author
            // meant does not hold the endpoints: then the typo is the cause, not a missing `except`.
            let mut elements: Vec<(Span, Vec<&Endpoint>, Option<&HostBits>)> = Vec::new();
            match &rule.peers {
                None => {
                    let all: Vec<&Endpoint> = reachable.iter().map(|(_, e)| *e).collect();
                    if !all.is_empty() {
                        elements.push((rule.span, all, None));
                    }
                }
                Some(peers) => {
                    for p in peers {
                        if let PeerSelector::IpBlock { cidr, except, span, .. } = p {
                            let hit: Vec<(&IpRange, &Endpoint)> = reachable
                                .iter()
                                .filter(|(address, _)| block_admits(cidr, except, address))
                                .map(|(address, e)| (address, *e))
                                .collect();
                            let typo = p
                                .cidr_host_bits()
                                .filter(|h| !hit.iter().any(|(address, _)| meant_block(h).contains(address)));
                            if !hit.is_empty() {
                                elements.push((*span, hit.into_iter().map(|(_, e)| e).collect(), typo));
                            }
                        }
                    }
                }
            }
            for (span, hit, typo) in elements {
                let what = hit
                    .iter()
                    .map(|e| format!("{} `{}`", e.what, e.address.trim_end_matches("/32")))
                    .collect::<Vec<_>>()
                    .join(" and ");
                let cidrs = hit.iter().map(|e| format!("`{}`", e.address)).collect::<Vec<_>>().join(", ");
                let fix = if let Some(h) = typo {
                    format!("{}: correct the CIDR", host_bits_words(h))
                } else if rule.peers.is_none() {
                    format!("give the rule a `to` with an ipBlock that lists {cidrs} under `except`")
                } else {
                    format!("add {cidrs} to this ipBlock's `except`")
                };
                let peer = hit.iter().map(|e| e.address).collect::<Vec<_>>().join(",");
                out.push(
                    EgressToMetadataEndpoint::finding(policy.meta.at(span),
                        format!(
                            "NetworkPolicy `{}` lets the pods it selects reach {what}{}{fix}",
                            policy.meta.name,
                            if typo.is_some() { " " } else { "; " }
                        ),
                    )
                    .with_key(policy.meta.key(), format!("spec.egress[{ri}]"), peer),
                );
            }
        }
    }
}

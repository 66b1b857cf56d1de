//! `cidr-with-host-bits`: a CIDR written with bits set after its prefix (`52.207.37.75/0`, meant
//! as `/32`), in an ipBlock's `cidr` or `except`, in `loadBalancerSourceRanges` or in the
//! source-ranges annotation. The API server has long accepted such a value and dataplanes ignore
//! the bits, so it silently means a different block from the one written; the message says which.
//! The findings that arise from the block (`policy-allows-all`, `unrestricted-egress`,
//! `public-load-balancer`, `egress-to-metadata-endpoint`) name the CIDR and point here, with
//! `words::host_bits_words`.

use super::ids::CidrWithHostBits;
use super::words::cidr_text;
use super::Context;
use super::Rule;
use crate::finding::Finding;
use crate::model::net::{format_addr, Family, HostBits};
use crate::model::annotations::LB_SOURCE_RANGES;
use crate::model::{Direction, PeerSelector};
use crate::span::Location;

/// What the CIDR covers, and what was probably meant: `covers every IPv4 address (`0.0.0.0/0`):
/// the bits after the prefix are ignored; did you mean `52.207.37.75/32`?`
fn meaning(h: &HostBits) -> String {
    let covered = if h.block.is_whole() {
        let family = match h.block.family {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        };
        format!("every {family} address (`{}`)", cidr_text(&h.block))
    } else {
        format!("`{}` ({})", cidr_text(&h.block), h.block)
    };
    let address = format_addr(h.block.family, h.address);
    let meant = if h.aligned_prefix == h.block.family.bits() {
        format!("did you mean `{address}/{}`?", h.aligned_prefix)
    } else {
        format!("write `{}` if that is meant, or a prefix of /{} or more for a block that starts at `{address}`", cidr_text(&h.block), h.aligned_prefix)
    };
    format!("`{}` covers {covered}: the bits after the prefix are ignored; {meant}", h.written)
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for policy in &cx.model.policies {
        for direction in [Direction::Ingress, Direction::Egress] {
            let (field, peers_field) = match direction {
                Direction::Ingress => ("spec.ingress", "from"),
                Direction::Egress => ("spec.egress", "to"),
            };
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                for (pj, peer) in rule.peers.iter().flatten().enumerate() {
                    let PeerSelector::IpBlock { host_bits, .. } = peer else { continue };
                    for h in host_bits {
                        let what = if h.in_except { "an `except` entry of an ipBlock" } else { "an ipBlock" };
                        out.push(
                            CidrWithHostBits::finding(
                                policy.meta.at(h.span),
                                format!(
                                    "NetworkPolicy `{}`: {what} of {} rule {}: {}",
                                    policy.meta.name,
                                    direction.as_str(),
                                    ri + 1,
                                    meaning(&h.cidr)
                                ),
                            )
                            .with_key(
                                policy.meta.key(),
                                format!("{field}[{ri}].{peers_field}[{pj}].ipBlock"),
                                h.cidr.written.to_string(),
                            ),
                        );
                    }
                }
            }
        }
    }
    for service in &cx.model.services {
        let spec = service.source_range_host_bits.iter().map(|(h, span)| (h.clone(), service.meta.at(*span), "an entry of `loadBalancerSourceRanges`".to_string()));
        // The annotation's value has no location of its own: the finding points at the name.
        let annotated = service.annotated_source_range_host_bits().into_iter().map(|h| {
            (h, service.meta.location(), format!("an entry of its `{LB_SOURCE_RANGES}` annotation"))
        });
        for (h, at, what) in spec.chain(annotated) {
            push_service(out, service, at, &what, &h);
        }
    }
}

fn push_service(out: &mut Vec<Finding>, service: &crate::model::Service, at: Location, what: &str, h: &HostBits) {
    out.push(
        CidrWithHostBits::finding(at, format!("Service `{}`: {what}: {}", service.meta.name, meaning(h)))
            .with_key(service.meta.key(), "spec.loadBalancerSourceRanges", h.written.to_string()),
    );
}

//! The words for the ways in, shared by the rules that report them and by `explain`, so that an
//! entry reads the same in a finding and in an answer; and the words with which a finding names
//! the CIDR typo it arises from.

use super::ids::CidrWithHostBits;
use super::Rule;
use crate::graph::routes::{Entry, Guard, Opener, RequestMatch, SeenSource};
use crate::model::net::{HostBits, IpRange};
use crate::model::Model;

/// The object that opens a way in, in words: ``Service `promo` ``.
pub(crate) fn object_words(entry: &Entry, model: &Model) -> String {
    let meta = entry.opener.meta(model);
    match entry.opener {
        Opener::GatewayRoute(_) => format!("{} `{}`", meta.kind, meta.name),
        _ => format!("{} `{}`", entry.opener.kind(), meta.name),
    }
}

/// The Gateway and listener a Gateway API route's way in goes through, in words:
/// ``Gateway `web/public` listener `https` (HTTPS, port 443) ``.
pub(crate) fn via_words(entry: &Entry, model: &Model) -> Option<String> {
    let via = entry.via?;
    let gateway = &model.gateway.gateways[via.listener.gateway];
    let listener = via.listener.listener(model);
    let set = match via.listener.set {
        Some(s) => {
            let set = &model.gateway.listener_sets[s].meta;
            format!(" (ListenerSet `{}/{}`)", set.namespace, set.name)
        }
        None => String::new(),
    };
    Some(format!(
        "Gateway `{}/{}` listener `{}`{set} ({}, port {})",
        gateway.meta.namespace, gateway.meta.name, listener.name, listener.protocol, listener.port
    ))
}

/// What an Ingress rule matches, in words (also part of logical keys): ``host `shop.example.com`
/// path `/` ``.
pub(crate) fn request_words(request: &RequestMatch) -> String {
    match (&request.host, &request.path) {
        (None, None) => "every request".to_string(),
        (Some(h), None) => format!("host `{h}`"),
        (None, Some(p)) => format!("path `{p}`"),
        (Some(h), Some(p)) => format!("host `{h}` path `{p}`"),
    }
}

/// What the backend pods see as the source of an entry's traffic, in words.
pub(crate) fn seen_source_words(seen: &SeenSource) -> String {
    match seen {
        SeenSource::Client => "the client's address (externalTrafficPolicy: Local)".to_string(),
        SeenSource::Node => "a node's address (externalTrafficPolicy: Cluster)".to_string(),
        SeenSource::UnknownController => "the ingress controller".to_string(),
        SeenSource::ControllerPods(namespace) => format!("the ingress controller's pods in namespace `{namespace}`"),
        SeenSource::Gateway(ranges) if ranges.is_empty() => "the gateway outside the cluster".to_string(),
        SeenSource::Gateway(ranges) => format!("the gateway subnet {}", cidrs_text(ranges)),
        SeenSource::Router => "the router".to_string(),
        SeenSource::GatewayPods(namespace) => format!("the Gateway's data-plane pods in namespace `{namespace}`"),
        SeenSource::UnknownGateway => "the Gateway's data plane".to_string(),
        SeenSource::CloudProxies(ranges) if ranges.is_empty() => {
            "the cloud load balancer's proxies, outside the cluster".to_string()
        }
        SeenSource::CloudProxies(ranges) => format!("the cloud load balancer's proxies from {}", cidrs_text(ranges)),
    }
}

pub(crate) fn guard_words(guard: &Guard) -> String {
    match guard {
        Guard::Tls => "TLS".to_string(),
        Guard::SourceRanges(ranges) => format!("source ranges {}", cidrs_text(ranges)),
        Guard::ControllerAllowlist(ranges) => format!("the controller's source allowlist ({ranges})"),
        Guard::Placeholder(text) => format!("source ranges given by a placeholder (`{text}`)"),
    }
}

/// A CIDR written with host bits, for the findings that arise from the block it covers:
/// ``through `52.207.37.75/0`, which has host bits set (see `cidr-with-host-bits`)``.
pub(crate) fn host_bits_words(host_bits: &HostBits) -> String {
    format!("through `{}`, which has host bits set (see `{}`)", host_bits.written, CidrWithHostBits::ID)
}

pub(crate) fn cidrs_text(ranges: &[IpRange]) -> String {
    ranges.iter().map(cidr_text).collect::<Vec<_>>().join(", ")
}

/// An aligned block as a CIDR.
pub(crate) fn cidr_text(range: &IpRange) -> String {
    // The host bits of an aligned block; the whole IPv6 space does not fit a u128 count.
    let host_bits = 128 - (range.last - range.first).leading_zeros();
    let prefix = range.family.bits().saturating_sub(host_bits);
    format!("{}/{prefix}", crate::model::net::format_addr(range.family, range.first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::net::parse_cidr;

    #[test]
    fn blocks_print_as_cidrs_whole_spaces_included() {
        for cidr in ["0.0.0.0/0", "::/0", "10.225.0.0/24", "198.51.100.7/32", "fd00::/8"] {
            assert_eq!(cidr_text(&parse_cidr(cidr).unwrap()), cidr);
        }
    }
}

//! `public-load-balancer`: a Service of type LoadBalancer that the cloud provisions on a public
//! address (no internal-load-balancer annotation) and that restricts no source address.

use super::Context;
use crate::finding::{Finding, Level};
use crate::model::net::parse_cidr;
use crate::model::{Service, ServiceType};

/// Annotations (and the values) that make a cloud provision an internal load balancer: Azure,
/// GKE (current and legacy), AWS (legacy flag and scheme), OCI.
const INTERNAL: [(&str, &str); 6] = [
    ("service.beta.kubernetes.io/azure-load-balancer-internal", "true"),
    ("networking.gke.io/load-balancer-type", "Internal"),
    ("cloud.google.com/load-balancer-type", "Internal"),
    ("service.beta.kubernetes.io/aws-load-balancer-internal", "true"),
    ("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal"),
    ("service.beta.kubernetes.io/oci-load-balancer-internal", "true"),
];

const SOURCE_RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

pub fn is_internal(service: &Service) -> bool {
    INTERNAL
        .iter()
        .any(|(key, value)| service.meta.annotations.get(*key).is_some_and(|v| v.eq_ignore_ascii_case(value)))
}

/// Whether the Service admits only some client addresses: `loadBalancerSourceRanges`, or the
/// source-ranges annotation, without a range that covers every address.
pub fn restricts_sources(service: &Service) -> bool {
    let from_spec = service.load_balancer_source_ranges.iter().map(|(range, _)| *range);
    let from_annotation = service
        .meta
        .annotations
        .get(SOURCE_RANGES_ANNOTATION)
        .map(|v| v.split(',').filter_map(|r| parse_cidr(r.trim()).ok()).collect::<Vec<_>>())
        .unwrap_or_default();
    let ranges: Vec<_> = from_spec.chain(from_annotation).collect();
    !ranges.is_empty() && !ranges.iter().any(|r| r.is_whole())
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for service in &cx.model.services {
        if service.service_type != ServiceType::LoadBalancer || is_internal(service) || restricts_sources(service) {
            continue;
        }
        let at = service.type_span.unwrap_or(service.meta.name_span);
        let ports = service.ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect::<Vec<_>>().join(", ");
        out.push(
            Finding::new(
                "public-load-balancer",
                Level::Warning,
                service.meta.at(at),
                format!(
                    "Service `{}` is a public load balancer open to every address{}: no internal-load-balancer annotation, no source ranges",
                    service.meta.name,
                    if ports.is_empty() { String::new() } else { format!(" on {ports}") }
                ),
            )
            .with_key(service.meta.key(), "spec.type", ""),
        );
    }
}

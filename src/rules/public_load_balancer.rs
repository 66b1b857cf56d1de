//! `public-load-balancer`: a Service of type LoadBalancer that the cloud provisions on a public
//! address (no internal-load-balancer annotation) and that restricts no source address.

use super::Context;
use super::ids::PublicLoadBalancer;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::ServiceType;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for service in cx.model.declared_services() {
        if service.service_type != ServiceType::LoadBalancer
            || service.is_internal_load_balancer()
            || service.restricts_sources()
        {
            continue;
        }
        let at = service.type_span.unwrap_or(service.meta.name_span);
        if let Some(text) = service.source_ranges_placeholder() {
            // Filled at deploy time: neither "open" nor "restricted" can be said.
            let mut finding = PublicLoadBalancer::finding(
                service.meta.at(at),
                format!(
                    "Service `{}` is a public load balancer whose source ranges are a placeholder (`{text}`) filled at deploy time: cannot be judged",
                    service.meta.name
                ),
            );
            finding.level = Level::Note;
            out.push(finding.with_key(service.meta.key(), "spec.type", ""));
            continue;
        }
        let ports = service.ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect::<Vec<_>>().join(", ");
        out.push(
            PublicLoadBalancer::finding(service.meta.at(at),
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

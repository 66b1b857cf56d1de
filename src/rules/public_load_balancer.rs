//! `public-load-balancer`: a Service of type LoadBalancer that the cloud provisions on a public
//! address (no internal-load-balancer annotation, or one whose value the cloud does not read as
//! internal) and that restricts no source address.

use super::Context;
use super::ids::PublicLoadBalancer;
use super::words::host_bits_words;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::annotations::AZURE_INTERNAL_LB;
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
        let on = if ports.is_empty() { String::new() } else { format!(" on {ports}") };
        // A source range that admits everything only because it is written with host bits
        // (`203.0.113.9/0`) is there: name the typo rather than say there is no range.
        let whole_typo = service
            .source_range_host_bits
            .iter()
            .map(|(h, _)| h.clone())
            .chain(service.annotated_source_range_host_bits())
            .find(|h| h.block.is_whole());
        let ranges = match &whole_typo {
            Some(h) => format!("its source ranges admit every address {}", host_bits_words(h)),
            None => "no source ranges".to_string(),
        };
        // An annotation whose value the cloud does not read (`"True"` for Azure) is there: say that
        // the value is the problem.
        let message = match service.unread_internal_annotation() {
            // Written to say "public": that is what it gets.
            Some((key, value, _)) if value.eq_ignore_ascii_case("false") => format!(
                "Service `{}` is a public load balancer open to every address{on}: its annotation `{key}` is `{value}`, {ranges}",
                service.meta.name
            ),
            Some((key, value, taken)) => {
                // cloud-provider-azure reads `True` case-blind for its security group, which may
                // keep internet clients out: the manifests cannot say, so neither does the message.
                let open = if key == AZURE_INTERNAL_LB && value.eq_ignore_ascii_case("true") {
                    ""
                } else {
                    " open to every address"
                };
                format!(
                    "Service `{}` is a public load balancer{open}{on}: its annotation `{key}` is `{value}`, a value the cloud does not read as internal (it takes {taken}); {ranges}",
                    service.meta.name
                )
            }
            None => format!(
                "Service `{}` is a public load balancer open to every address{on}: no internal-load-balancer annotation, {ranges}",
                service.meta.name
            ),
        };
        out.push(
            PublicLoadBalancer::finding(service.meta.at(at), message)
            .with_key(service.meta.key(), "spec.type", ""),
        );
    }
}

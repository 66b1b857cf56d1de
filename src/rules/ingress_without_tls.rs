//! `ingress-without-tls`: an Ingress routing a host that no `tls` entry covers.

use std::collections::BTreeSet;

use super::Context;
use crate::finding::{Finding, Level};
use crate::model::Ingress;

/// Whether a TLS host entry covers `host` (exactly, or as a `*.` wildcard of one label).
fn covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.split_once('.').is_some_and(|(_, rest)| rest == suffix),
        None => pattern == host,
    }
}

/// Annotations by which a cloud load balancer terminates TLS for every host of the Ingress,
/// without a `tls` section (GKE managed or pre-shared certificates, AWS ALB, Azure Application
/// Gateway).
const CLOUD_TLS_ANNOTATIONS: [&str; 4] = [
    "networking.gke.io/managed-certificates",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "alb.ingress.kubernetes.io/certificate-arn",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
];

fn host_covered(ingress: &Ingress, host: Option<&str>) -> bool {
    if ingress.tls_all_hosts || CLOUD_TLS_ANNOTATIONS.iter().any(|a| ingress.meta.annotations.contains_key(*a)) {
        return true;
    }
    host.is_some_and(|h| ingress.tls_hosts.iter().any(|p| covers(p, h)))
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for ingress in &cx.model.ingresses {
        let mut seen: BTreeSet<Option<&str>> = BTreeSet::new();
        let mut routes: Vec<(Option<&str>, crate::finding::Location)> = Vec::new();
        for path in &ingress.paths {
            let host = path.host.as_deref();
            if seen.insert(host) {
                let at = path.host_span.map_or(ingress.meta.location(), |s| ingress.meta.at(s));
                routes.push((host, at));
            }
        }
        if routes.is_empty() && ingress.default_backend.is_some() {
            routes.push((None, ingress.meta.location()));
        }
        for (host, location) in routes {
            if host_covered(ingress, host) {
                continue;
            }
            let what = host.map_or("requests for any host".to_string(), |h| format!("host `{h}`"));
            let why = if ingress.tls_span.is_none() { "it has no `tls` section" } else { "no `tls` entry covers it" };
            out.push(
                Finding::new(
                    "ingress-without-tls",
                    Level::Warning,
                    location,
                    format!("Ingress `{}` serves {what} over plain HTTP: {why}", ingress.meta.name),
                )
                .with_key(ingress.meta.key(), "spec.rules.host", host.unwrap_or("*")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("*.example.com", "shop.example.com"));
        assert!(!covers("*.example.com", "a.shop.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("example.com", "example.com"));
    }
}

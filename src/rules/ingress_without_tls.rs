//! `ingress-without-tls`: an Ingress routing a host that no `tls` entry covers.

use std::collections::BTreeSet;

use super::Context;
use super::ids::IngressWithoutTls;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for ingress in &cx.model.ingresses {
        let mut seen: BTreeSet<Option<&str>> = BTreeSet::new();
        let mut routes: Vec<(Option<&str>, crate::span::Location)> = Vec::new();
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
            if ingress.tls_covers(host) {
                continue;
            }
            let what = host.map_or("requests for any host".to_string(), |h| format!("host `{h}`"));
            let why = if ingress.tls_span.is_none() { "it has no `tls` section" } else { "no `tls` entry covers it" };
            out.push(
                IngressWithoutTls::finding(location,
                    format!("Ingress `{}` serves {what} over plain HTTP: {why}", ingress.meta.name),
                )
                .with_key(ingress.meta.key(), "spec.rules.host", host.unwrap_or("*")),
            );
        }
    }
}

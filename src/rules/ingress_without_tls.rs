//! `ingress-without-tls`: an Ingress routing a host that no `tls` entry covers.
//!
//! Every declaration is judged, copies of a repeated Ingress too. NGINX Inc.'s mergeable
//! Ingresses are judged as the controller serves them: a minion's host is served in its master's
//! server block, under the master's TLS, so a missing TLS is reported once, at the master's host.
//! A host that is a placeholder (`got.<DOMAIN>`) cannot be matched against `tls` entries: that is
//! a note, unless the Ingress has no `tls` section at all (plain HTTP whatever the host becomes).

use std::collections::BTreeSet;

use super::Context;
use super::ids::IngressWithoutTls;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::{is_placeholder_value, Ingress, Mergeable, Model};
use crate::span::Location;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let model = cx.model;
    let resolver = crate::profile::controllers::Resolver::new(model, &cx.graph.profile);
    for ingress in model.declared_ingresses() {
        // An Ingress of a class nobody serves serves nothing (`ingress-class-unknown` says so).
        if resolver.serving(ingress).dead {
            continue;
        }
        for (host, location) in routed_hosts(model, ingress) {
            // A minion with a master in the repository: the master serves the host (and is judged).
            if !model.masters_of(ingress, host).is_empty() || model.serves_tls(ingress, host) {
                continue;
            }
            let what = host.map_or("requests for any host".to_string(), |h| format!("host `{h}`"));
            let minions: Vec<String> = host
                .map(|h| model.minions_of(ingress, h).iter().map(|m| format!("`{}`", m.meta.name)).collect())
                .unwrap_or_default();
            let what =
                if minions.is_empty() { what } else { format!("{what} (with its minions {})", minions.join(", ")) };
            let placeholder = host.filter(|h| is_placeholder_value(h) && ingress.tls_span.is_some());
            let mut finding = match placeholder {
                Some(_) => IngressWithoutTls::finding(
                    location,
                    format!(
                        "Ingress `{}` routes {what}, a placeholder filled at deploy time: whether a `tls` entry covers it cannot be judged",
                        ingress.meta.name
                    ),
                ),
                None => {
                    let why =
                        if ingress.tls_span.is_none() { "it has no `tls` section" } else { "no `tls` entry covers it" };
                    IngressWithoutTls::finding(
                        location,
                        format!("Ingress `{}` serves {what} over plain HTTP: {why}", ingress.meta.name),
                    )
                }
            };
            if placeholder.is_some() {
                finding.level = Level::Note;
            }
            out.push(finding.with_key(ingress.meta.key(), "spec.rules.host", host.unwrap_or("*")));
        }
    }
}

/// The hosts an Ingress serves (`None`: any host), each once, where first written: the hosts of
/// its paths, the default backend's catch-all, and a mergeable master's hosts that minions fill.
fn routed_hosts<'a>(model: &Model, ingress: &'a Ingress) -> Vec<(Option<&'a str>, Location)> {
    let mut seen: BTreeSet<Option<&str>> = BTreeSet::new();
    let mut routes = Vec::new();
    for path in &ingress.paths {
        let host = path.host.as_deref();
        if seen.insert(host) {
            let at = path.host_span.map_or(ingress.meta.location(), |s| ingress.meta.at(s));
            routes.push((host, at));
        }
    }
    if ingress.mergeable() == Some(Mergeable::Master) {
        for (host, span) in &ingress.rule_hosts {
            if seen.insert(Some(host)) && !model.minions_of(ingress, host).is_empty() {
                routes.push((Some(&**host), ingress.meta.at(*span)));
            }
        }
    }
    if routes.is_empty() && ingress.default_backend.is_some() {
        routes.push((None, ingress.meta.location()));
    }
    routes
}

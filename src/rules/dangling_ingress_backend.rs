//! `dangling-ingress-backend`: an Ingress or Route backend naming a Service, or a Service port,
//! that no manifest declares. The engine resolves every backend once while it builds the graph
//! and records those that lead nowhere ([`UnresolvedBackend`]); this rule decides how much that
//! matters and words it.

use super::Context;
use super::ids::DanglingIngressBackend;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::graph::routes::{MissingBackend, PortChoice, UnresolvedBackend};
use crate::model::Model;
use rustc_hash::{FxHashMap, FxHashSet};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    // The namespaces that declare each Service name, copies included, in declaration order:
    // built once, so that a repository with many dangling backends stays linear.
    let mut declared: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
    if cx.graph.unresolved_backends.iter().any(|f| matches!(f.missing, MissingBackend::Service)) {
        let mut seen: FxHashSet<(&str, &str)> = FxHashSet::default();
        for s in cx.model.declared_services() {
            // Copies count: a namespace is named once, in path order.
            if seen.insert((&s.meta.name, &s.meta.namespace)) {
                declared.entry(&s.meta.name).or_default().push(&s.meta.namespace);
            }
        }
    }
    out.extend(cx.graph.unresolved_backends.iter().map(|fact| finding(cx.model, fact, &declared)));
}

fn finding(model: &Model, fact: &UnresolvedBackend, declared: &FxHashMap<&str, Vec<&str>>) -> Finding {
    let meta = fact.opener.meta(model);
    let service = &fact.service;
    match &fact.missing {
        MissingBackend::Service => {
            // An operator (custom resources in the namespace) or the cluster (a system namespace)
            // may create the Service: then it is only a note.
            let namespace = &*fact.namespace;
            let created_elsewhere = model.namespaces_with_custom_resources.contains(namespace)
                || crate::model::is_system_namespace(namespace);
            let elsewhere: &[&str] = declared.get(&**service).map_or(&[], Vec::as_slice);
            let detail = if elsewhere.is_empty() {
                format!("which no manifest declares in namespace `{namespace}`")
            } else {
                format!(
                    "which is declared only in namespace{} {} (a backend names a Service of its own namespace)",
                    if elsewhere.len() == 1 { "" } else { "s" },
                    elsewhere.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                )
            };
            let mut finding = DanglingIngressBackend::finding(
                fact.at,
                format!("{} `{}` routes to Service `{service}`, {detail}", meta.kind, meta.name),
            );
            if created_elsewhere {
                finding.level = Level::Note;
            }
            finding
            .with_key(meta.key(), "backend", &**service)
        }
        MissingBackend::Port(choice) => {
            let port = port_words(choice);
            let finding = DanglingIngressBackend::finding(
                fact.at,
                format!(
                    "{} `{}` routes to port `{port}` of Service `{service}`, which has no such port",
                    meta.kind, meta.name
                ),
            );
            // The Service declaration judged (the one of the backend's own file, when there is one).
            match fact.service_at {
                Some(at) => finding.with_related(at, format!("Service `{service}` declared here")),
                None => finding,
            }
            .with_key(meta.key(), "backend.port", format!("{service}:{port}"))
        }
    }
}

/// The port a backend names, as written (`*` for every port).
fn port_words(choice: &PortChoice) -> String {
    match choice {
        PortChoice::All => "*".to_string(),
        PortChoice::ServicePort(n) | PortChoice::RouteNumber(n) => n.to_string(),
        PortChoice::Name(n) | PortChoice::ServicePortName(n) => n.to_string(),
    }
}

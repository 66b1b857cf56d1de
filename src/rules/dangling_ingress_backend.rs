//! `dangling-ingress-backend`: an Ingress or Route backend naming a Service, or a Service port,
//! that no manifest declares. The engine resolves every backend while it builds the graph, so
//! it records these and this rule reports them.

use super::Context;
use super::ids::DanglingIngressBackend;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    out.extend(cx.graph.findings.iter().filter(|f| f.rule == DanglingIngressBackend::ID).cloned());
}

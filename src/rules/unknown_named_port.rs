//! `unknown-named-port`: a named port in a policy rule that no destination pod declares with that
//! name and protocol, so the entry allows nothing. The engine resolves named ports while it
//! builds the graph, so it records these and this rule reports them.

use super::Context;
use super::ids::UnknownNamedPort;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    out.extend(cx.graph.findings.iter().filter(|f| f.rule == UnknownNamedPort::ID).cloned());
}

//! `unknown-named-port`: a named port in a policy rule that no destination pod declares with that
//! name and protocol, so the entry allows nothing. The engine resolves named ports while it
//! builds the graph and records each one it cannot resolve ([`Unresolved`]); this rule
//! words them.

use super::Context;
use super::ids::UnknownNamedPort;
use super::Rule;
use crate::finding::Finding;
use crate::graph::UnknownNamedPort as Unresolved;
use crate::model::Direction;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    out.extend(cx.graph.unknown_named_ports.iter().map(finding));
}

fn finding(fact: &Unresolved) -> Finding {
    let whose = match fact.direction {
        Direction::Ingress => "the pods this policy selects",
        Direction::Egress => "the pods this rule sends to",
    };
    UnknownNamedPort::finding(
        fact.at,
        format!(
            "named port `{}`/{} is not a container port of {whose}; this entry allows nothing",
            fact.name, fact.protocol
        ),
    )
}

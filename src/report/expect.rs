//! `kubereach explain --expect N|NAME`: one expectation checked against one scope's graph, worded
//! for people. The verdict first, then each offending pair (as many as the graph explains) with
//! the same explanation `explain --from --to` prints for it.

use std::io::{self, Write};

use super::explain::write as write_explanation;
use crate::graph::expect::{Block, End, Evidence, Expectation, Status, Verdict, MAX_EXPLAINED};
use crate::graph::explain::Party;
use crate::graph::{Endpoint, Graph};
use crate::load::Files;
use crate::model::Model;

/// Writes the check of `e` (located in `config`, as shown to users); returns whether it holds.
pub fn write(
    e: &Expectation,
    config: &str,
    status: &Status,
    graph: &Graph,
    model: &Model,
    files: &Files,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let at = format!("{config}:{}:{}", e.span.start.line, e.span.start.col);
    writeln!(out, "expectation {} ({at}): {}", e.label(), e.statement())?;
    match status {
        Status::Holds { pairs } => {
            let s = if *pairs == 1 { "" } else { "s" };
            writeln!(out, "holds: {pairs} pair{s} checked")?;
            Ok(true)
        }
        Status::MatchesNothing(ends) => {
            let sides: Vec<String> = ends
                .iter()
                .map(|end| match end {
                    End::From => format!("`from` ({})", e.from.text),
                    End::To => format!("`to` ({})", e.to.text),
                })
                .collect();
            writeln!(out, "checks nothing: {} names no workload in this scope", sides.join(" and "))?;
            Ok(false)
        }
        Status::Violated { count, violations } => {
            let verb = if *count == 1 { "pair breaks" } else { "pairs break" };
            writeln!(out, "broken: {count} {verb} it")?;
            for v in violations {
                writeln!(out)?;
                let (from, to) = (party(graph, &v.from), party(graph, &v.to));
                let what = match e.verdict {
                    Verdict::Deny => format!("allowed on {}, which it denies", v.conns),
                    Verdict::Allow if v.conns.is_empty() => "a port it names is missing".to_string(),
                    Verdict::Allow => format!("{} is not allowed", v.conns),
                };
                writeln!(out, "── {from} => {to}: {what}")?;
                if let Evidence::Blocked(blocks) = &v.evidence {
                    for block in blocks {
                        if let Block::NoSuchPort { protocol, name, .. } = block {
                            writeln!(out, "{to} declares no {protocol} port named `{name}`")?;
                        }
                    }
                }
                let x = graph.explain(model, &v.from, &v.to);
                write_explanation(&x, graph, model, files, None, out)?;
            }
            if *count > violations.len() {
                writeln!(out, "\n… and {} more (the first {MAX_EXPLAINED} are explained)", count - violations.len())?;
            }
            Ok(false)
        }
    }
}

/// A party as `explain` names it.
fn party(graph: &Graph, party: &Party) -> String {
    match party {
        Party::Peer(p) => graph.endpoint_name(&Endpoint::Peer(*p)),
        Party::Addresses(r) => graph.endpoint_name(&Endpoint::External(*r)),
        Party::Internet => "{internet}".to_string(),
        Party::IngressController => graph.endpoint_name(&Endpoint::IngressController),
        Party::Gateway(g) => graph.endpoint_name(&Endpoint::Gateway(*g)),
    }
}

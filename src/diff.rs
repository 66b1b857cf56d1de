//! What a change adds: the findings and connections of the working tree that a base revision
//! lacks, and the connections it takes away.
//!
//! Findings are matched by their logical key (DESIGN §6), so a file that moves or is renamed
//! changes nothing; connections by their endpoints' names.

use std::collections::BTreeMap;

use crate::analysis::Loaded;
use crate::check::{self, RuleSettings};
use crate::finding::Level;
use crate::graph::Graph;

/// The logical keys of everything `check` reports on the base revision, with the highest level
/// reported under each.
pub fn finding_levels(base: &Loaded, graph: &Graph, settings: &RuleSettings) -> BTreeMap<String, Level> {
    let outcome = check::run(base, graph, settings, None);
    let mut out: BTreeMap<String, Level> = BTreeMap::new();
    for f in &outcome.findings {
        let level = out.entry(check::logical_key(f, &base.files)).or_insert(f.level);
        *level = (*level).max(f.level);
    }
    out
}

/// Keeps the findings that the base does not have, or has at a lower level (a warning that became
/// an error is new); returns how many were left out.
pub fn keep_new(outcome: &mut check::Outcome, files: &crate::load::Files, base: &BTreeMap<String, Level>) -> usize {
    let before = outcome.findings.len();
    outcome.findings.retain(|f| base.get(&check::logical_key(f, files)).is_none_or(|was| *was < f.level));
    let left_out = before - outcome.findings.len();
    outcome.baselined += left_out;
    left_out
}

/// One connection that a change adds or removes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EdgeChange {
    pub src: String,
    pub dst: String,
    /// `false`: removed.
    pub added: bool,
    pub conns: String,
}

/// Every connection of a graph by endpoint names, as the connectivity list prints it.
pub fn edges(graph: &Graph) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let _ = graph.for_each_edge(|src, dst, conns| {
        out.insert((graph.endpoint_name(src), graph.endpoint_name(dst)), conns.to_string());
        Ok::<(), std::convert::Infallible>(())
    });
    out
}

/// Connections in `head` and not in `base` (added), and the reverse (removed); a pair whose ports
/// changed is both. Sorted by source, destination, removed before added.
pub fn edge_changes(base: &Graph, head: &Graph) -> Vec<EdgeChange> {
    let (before, after) = (edges(base), edges(head));
    let mut out = Vec::new();
    for ((src, dst), conns) in &before {
        if after.get(&(src.clone(), dst.clone())) != Some(conns) {
            out.push(EdgeChange { src: src.clone(), dst: dst.clone(), added: false, conns: conns.clone() });
        }
    }
    for ((src, dst), conns) in &after {
        if before.get(&(src.clone(), dst.clone())) != Some(conns) {
            out.push(EdgeChange { src: src.clone(), dst: dst.clone(), added: true, conns: conns.clone() });
        }
    }
    out.sort();
    out
}

//! What a change adds: the findings and connections of the working tree that a base revision
//! lacks, and the connections it takes away.
//!
//! Findings are matched by their logical key (DESIGN §6), so a file that moves or is renamed
//! changes nothing; connections by their endpoints' names.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::Loaded;
use crate::check::{self, RuleSettings};
use crate::graph::Graph;

/// The logical keys of everything `check` reports on the base revision.
pub fn finding_keys(base: &Loaded, graph: &Graph, settings: &RuleSettings) -> BTreeSet<String> {
    let outcome = check::run(base, graph, settings, None);
    outcome.findings.iter().map(|f| check::logical_key(f, &base.files)).collect()
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

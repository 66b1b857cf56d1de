//! The connections a change adds and removes: two graphs compared by their endpoints' names, as
//! the connectivity list prints them (`graph --diff-base`).

use std::collections::BTreeMap;

use super::Graph;

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

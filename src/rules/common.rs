//! Facts several rules read: which namespaces hold workloads and policies, default-deny
//! policies, and where a namespace is written down.

use std::collections::BTreeMap;

use super::Context;
use crate::model::{Direction, Model, NetworkPolicy};
use crate::span::Location;

/// Per namespace that holds policies: whether some policy there manages each direction.
pub(crate) fn managed_directions(model: &Model) -> BTreeMap<&str, [bool; 2]> {
    let mut out: BTreeMap<&str, [bool; 2]> = BTreeMap::new();
    for p in &model.policies {
        let entry = out.entry(&p.meta.namespace).or_default();
        entry[0] |= p.affects(Direction::Ingress);
        entry[1] |= p.affects(Direction::Egress);
    }
    out
}

pub(crate) fn direction_index(direction: Direction) -> usize {
    match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

/// Whether `policy` is a default-deny for `direction`: it selects every pod of its namespace,
/// isolates the direction and allows nothing in it, whatever form that takes (`ingress: []`, no
/// `ingress` key, `policyTypes` written or defaulted).
pub(crate) fn is_default_deny(policy: &NetworkPolicy, direction: Direction) -> bool {
    policy.pod_selector.is_empty() && policy.affects(direction) && policy.rules(direction).is_empty()
}

/// Namespaces in which the repository declares workloads, with the workloads' indexes.
pub(crate) fn workloads_by_namespace(model: &Model) -> BTreeMap<&str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, w) in model.workloads.iter().enumerate() {
        out.entry(&w.meta.namespace).or_default().push(i);
    }
    out
}

/// Where a namespace is written: its Namespace object's name, else the first workload's
/// `metadata.namespace` (or name, when the namespace is implied).
pub(crate) fn namespace_location(cx: &Context, namespace: &str, first_workload: Option<usize>) -> Option<Location> {
    if let Some(ns) = cx.namespace(namespace) {
        return Some(ns.meta.location());
    }
    let w = &cx.model.workloads[first_workload?];
    Some(w.meta.at(w.meta.namespace_span.unwrap_or(w.meta.name_span)))
}

/// A list of directions in words: `ingress`, `egress`, `ingress and egress`.
pub(crate) fn directions_text(directions: &[Direction]) -> String {
    directions.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(" and ")
}

//! `workload-not-isolated`: in a namespace whose policies manage a direction, a workload that no
//! policy isolates for it, or whose isolating policies admit every pod of the cluster anyway (a
//! rule without peers, or `namespaceSelector: {}` alone, on every port). The allow-all test is on
//! the rules themselves, not on the pods the repository happens to declare: the cluster has
//! namespaces the repository does not show.

use super::common::{direction_index, directions_text, managed_directions};
use super::Context;
use super::ids::WorkloadNotIsolated;
use super::Rule;
use crate::finding::Finding;
use crate::model::{Direction, NetworkPolicy, PeerSelector};

/// Whether a rule of `policy` admits every pod of the cluster, on every port, in `direction`.
fn admits_whole_cluster(policy: &NetworkPolicy, direction: Direction) -> bool {
    policy.rules(direction).iter().any(|rule| {
        rule.ports.is_none()
            && match &rule.peers {
                None => true,
                Some(peers) => peers.iter().any(|p| {
                    matches!(p, PeerSelector::Pods { namespaces: Some(ns), pods, .. }
                        if ns.is_empty() && pods.as_ref().is_none_or(|s| s.is_empty()))
                }),
            }
    })
}

/// Per namespace and direction: whether most of its workloads are isolated, so that one left
/// open slipped through rather than being outside a policy's scope (a namespace shared by
/// unrelated apps, one of which brings a policy, is not held against the others).
fn mostly_isolated<'a>(cx: &'a Context<'a>) -> std::collections::BTreeMap<&'a str, [bool; 2]> {
    let mut counts: std::collections::BTreeMap<&str, [usize; 3]> = std::collections::BTreeMap::new();
    for class in cx.graph.classes.iter().filter(|c| !c.pseudo) {
        let entry = counts.entry(&*class.namespace).or_default();
        let n = class.workloads.len();
        entry[0] += n;
        if !class.ingress_policies.is_empty() {
            entry[1] += n;
        }
        if !class.egress_policies.is_empty() {
            entry[2] += n;
        }
    }
    counts.into_iter().map(|(ns, [all, i, e])| (ns, [2 * i >= all && i > 0, 2 * e >= all && e > 0])).collect()
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let managed = managed_directions(cx.model);
    let mostly = mostly_isolated(cx);
    for class in &cx.graph.classes {
        if class.pseudo {
            continue;
        }
        let Some(flags) = managed.get(&*class.namespace) else { continue };
        let majority = mostly.get(&*class.namespace).copied().unwrap_or_default();
        let mut open = Vec::new();
        let mut allow_all = Vec::new();
        for direction in [Direction::Ingress, Direction::Egress] {
            let i = direction_index(direction);
            if !flags[i] {
                continue;
            }
            let policies = match direction {
                Direction::Ingress => &class.ingress_policies,
                Direction::Egress => &class.egress_policies,
            };
            if policies.is_empty() {
                if majority[i] {
                    open.push(direction);
                }
            } else if direction == Direction::Ingress
                && policies.iter().any(|&pi| admits_whole_cluster(&cx.model.policies[pi], direction))
            {
                // Egress that admits everything is `unrestricted-egress`'s finding.
                allow_all.push(direction);
            }
        }
        if open.is_empty() && allow_all.is_empty() {
            continue;
        }
        for &w in &class.workloads {
            let workload = &cx.model.workloads[w];
            let mut parts = Vec::new();
            if !open.is_empty() {
                parts.push(format!(
                    "no NetworkPolicy selects it for {}, though most workloads of namespace `{}` are isolated",
                    directions_text(&open),
                    workload.meta.namespace
                ));
            }
            if !allow_all.is_empty() {
                parts.push(format!(
                    "a policy that selects it for {} admits every pod of the cluster on every port",
                    directions_text(&allow_all)
                ));
            }
            let dirs: Vec<Direction> = open.iter().chain(allow_all.iter()).copied().collect();
            out.push(
                WorkloadNotIsolated::finding(workload.meta.location(),
                    format!("{} `{}` is open: {}", workload.meta.kind, workload.meta.name, parts.join("; ")),
                )
                .with_key(workload.meta.key(), "metadata.name", directions_text(&dirs)),
            );
        }
    }
}

//! `workload-not-isolated`: in a namespace whose policies manage a direction, a workload that no
//! policy isolates for it, or whose isolating policies admit every pod of the cluster anyway (a
//! rule without peers, or `namespaceSelector: {}` alone, on every port). The allow-all test is on
//! the rules themselves, not on the pods the repository happens to declare: the cluster has
//! namespaces the repository does not show. The message counts the isolated workloads of the
//! namespace exactly. A Windows workload that a policy selects, on a profile that does not enforce
//! policy on Windows nodes, is `network-policy-not-enforced`'s (here it would read "no
//! NetworkPolicy selects it", which is false). A default deny of the cluster tiers (a Baseline or
//! Admin rule that denies every pod) isolates a workload as a NetworkPolicy would.

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

/// Per namespace: how many workloads it holds, and how many are isolated for ingress and for
/// egress. A workload left open is reported where at least half of its namespace is isolated for
/// that direction, so that one that slipped through is told from one outside a policy's scope (a
/// namespace shared by unrelated apps, one of which brings a policy, is not held against the
/// others).
fn isolation_counts<'a>(cx: &'a Context<'a>) -> std::collections::BTreeMap<&'a str, [usize; 3]> {
    let mut counts: std::collections::BTreeMap<&str, [usize; 3]> = std::collections::BTreeMap::new();
    for (id, class) in cx.graph.classes.iter().enumerate().filter(|(_, c)| !c.pseudo) {
        let entry = counts.entry(&*class.namespace).or_default();
        let n = class.workloads.len();
        entry[0] += n;
        let id = crate::graph::ClassId::new(id);
        if cx.graph.isolated_by_any_tier(id, Direction::Ingress) {
            entry[1] += n;
        }
        if cx.graph.isolated_by_any_tier(id, Direction::Egress) {
            entry[2] += n;
        }
    }
    counts
}

/// ``namespace `shop` isolates 3 of its 4 workloads for ingress``: exact, where "most" was not
/// (half is enough for the finding).
fn isolated_words(namespace: &str, all: usize, isolated: &[(Direction, usize)]) -> String {
    let parts: Vec<String> = match isolated {
        [(_, a), (_, b)] if a == b => vec![format!("{a} of its {all} workloads for ingress and egress")],
        _ => isolated.iter().map(|(d, n)| format!("{n} of its {all} workloads for {}", d.as_str())).collect(),
    };
    format!("namespace `{namespace}` isolates {}", parts.join(" and "))
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let managed = managed_directions(cx.model);
    let counts = isolation_counts(cx);
    let profile = &cx.graph.profile;
    for (id, class) in cx.graph.classes.iter().enumerate() {
        if class.pseudo {
            continue;
        }
        let Some(flags) = managed.get(&*class.namespace) else { continue };
        let [all, isolated_in, isolated_out] = counts.get(&*class.namespace).copied().unwrap_or_default();
        let isolated_count = |i: usize| if i == 0 { isolated_in } else { isolated_out };
        // Windows pods that a policy selects where the profile does not enforce on Windows nodes
        // are `network-policy-not-enforced`'s: "no NetworkPolicy selects it" would be false.
        let withheld_on_windows = |direction: Direction| {
            class.windows
                && !profile.windows_enforced
                && profile.dataplane.enforces()
                && cx.graph.policy_selects.iter().enumerate().any(|(pi, selected)| {
                    cx.model.policies[pi].affects(direction)
                        && selected.iter().any(|c| c.index() == id)
                })
        };
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
            let tier_isolated = cx.graph.tier_default_deny(crate::graph::ClassId::new(id), direction).is_some();
            if policies.is_empty() && !tier_isolated {
                let isolated = isolated_count(i);
                if isolated > 0 && 2 * isolated >= all && !withheld_on_windows(direction) {
                    open.push((direction, isolated));
                }
            } else if direction == Direction::Ingress
                && policies.iter().any(|&pi| admits_whole_cluster(&cx.model.policies[pi], direction))
                && !cx.graph.admin_denies_every_pod(crate::graph::ClassId::new(id), direction)
            {
                // An Admin-tier Deny of every pod makes the allow-all moot.
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
                let directions: Vec<Direction> = open.iter().map(|(d, _)| *d).collect();
                parts.push(format!(
                    "no NetworkPolicy selects it for {}, though {}",
                    directions_text(&directions),
                    isolated_words(&workload.meta.namespace, all, &open)
                ));
            }
            if !allow_all.is_empty() {
                parts.push(format!(
                    "a policy that selects it for {} admits every pod of the cluster on every port",
                    directions_text(&allow_all)
                ));
            }
            let dirs: Vec<Direction> = open.iter().map(|(d, _)| *d).chain(allow_all.iter().copied()).collect();
            out.push(
                WorkloadNotIsolated::finding(workload.meta.location(),
                    format!("{} `{}` is open: {}", workload.meta.kind, workload.meta.name, parts.join("; ")),
                )
                .with_key(workload.meta.key(), "metadata.name", directions_text(&dirs)),
            );
        }
    }
}

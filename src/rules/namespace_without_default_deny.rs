//! `namespace-without-default-deny`: a namespace holding workloads without a default-deny
//! policy for ingress and/or egress. One finding per namespace; a namespace that lacks only the
//! egress default-deny (the common, lesser gap) is a note, and so is one where policies of kinds
//! kubereach does not evaluate (CiliumNetworkPolicy, AdminNetworkPolicy, …) may deny instead, or
//! where a policy selecting every pod isolates the missing directions with allow rules.
//! A default deny of the cluster tiers (a BaselineAdminNetworkPolicy, AdminNetworkPolicy or
//! ClusterNetworkPolicy rule that denies every pod on every port, and for egress every address)
//! covers a namespace whose pods it selects, where the profile enforces the tiers.
//! System namespaces (kube-system, …) and template placeholders are not judged. The message says
//! what is true of the namespace's workloads in each missing direction: isolated by a
//! namespace-wide allow list, each selected by its labels (only later workloads start open), or
//! how many of them no policy selects.

use std::collections::BTreeSet;

use super::common::{directions_text, is_default_deny, namespace_location, workloads_by_namespace};
use super::Context;
use super::ids::NamespaceWithoutDefaultDeny;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::{is_placeholder_name, is_system_namespace, Direction};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    // Each namespace's policies, with their indexes (for the classes they select).
    let mut by_namespace: std::collections::BTreeMap<&str, (Vec<&crate::model::NetworkPolicy>, Vec<usize>)> =
        std::collections::BTreeMap::new();
    for (pi, p) in cx.model.policies.iter().enumerate() {
        let entry = by_namespace.entry(&p.meta.namespace).or_default();
        entry.0.push(p);
        entry.1.push(pi);
    }
    for (namespace, workloads) in workloads_by_namespace(cx.model) {
        if is_system_namespace(namespace) || is_placeholder_name(namespace) {
            continue;
        }
        let (policies, indexes): (&[&crate::model::NetworkPolicy], &[usize]) =
            by_namespace.get(namespace).map_or((&[], &[]), |(p, i)| (p.as_slice(), i.as_slice()));
        // A default deny of the cluster tiers (a Baseline or Admin rule that denies every pod)
        // covers the namespace as a NetworkPolicy without rules would.
        let tier_covered = |d: Direction| {
            cx.graph.namespaces.get(namespace).is_some_and(|(_, classes)| {
                let mut own = classes.iter().filter(|c| !cx.graph.classes[c.index()].pseudo).peekable();
                own.peek().is_some() && own.all(|&c| cx.graph.tier_default_deny(c, d).is_some())
            })
        };
        let missing: Vec<Direction> = [Direction::Ingress, Direction::Egress]
            .into_iter()
            .filter(|&d| !policies.iter().any(|p| is_default_deny(p, d)) && !tier_covered(d))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let Some(location) = namespace_location(cx, namespace, workloads.first().copied()) else { continue };
        let mut others: Vec<&str> = Vec::new();
        for scope in [namespace, ""] {
            if let Some(kinds) = cx.model.other_policies.get(scope) {
                // A `NetworkPolicy` here is Calico's (Kubernetes' own are evaluated): say whose.
                others.extend(kinds.iter().map(|k| if &**k == "NetworkPolicy" { "Calico NetworkPolicy" } else { &**k }));
            }
        }
        others.sort_unstable();
        others.dedup();
        let coverage: Vec<(Direction, Coverage)> =
            missing.iter().map(|&d| (d, coverage(cx, &workloads, policies, indexes, d))).collect();
        // A policy that selects every pod and isolates each missing direction: every pod is
        // isolated already, by a namespace-wide allow list rather than the rule-less baseline.
        let allow_list = match coverage.as_slice() {
            [(_, Coverage::AllowList(name)), rest @ ..]
                if rest.iter().all(|(_, c)| matches!(c, Coverage::AllowList(n) if n == name)) =>
            {
                Some(*name)
            }
            _ => None,
        };
        // A warning where some pod, today's or a later one, accepts every connection.
        let ingress_open =
            coverage.iter().any(|(d, c)| *d == Direction::Ingress && !matches!(c, Coverage::AllowList(_)));
        // Cluster tier policies that apply to the namespace's pods for a missing direction: they
        // decide some connections (tenants kept apart, say) though none denies every pod. Named
        // in the message; they do not lower the level, since what they leave is open.
        let mut tiered: Vec<String> = Vec::new();
        if let Some((_, classes)) = cx.graph.namespaces.get(namespace) {
            for &c in classes.iter().filter(|c| !cx.graph.classes[c.index()].pseudo) {
                for &d in &missing {
                    for step in cx.graph.chain(c, d) {
                        let name = cx.model.tier_policies[step.policy].describe();
                        if !tiered.contains(&name) {
                            tiered.push(name);
                        }
                    }
                }
            }
        }
        let level = if ingress_open && others.is_empty() {
            NamespaceWithoutDefaultDeny::DOC.level
        } else {
            Level::Note
        };
        let consequence = if let Some(name) = allow_list {
            format!(
                ": every pod is isolated by `{name}`, whose rules are a namespace-wide allow list; a policy without rules keeps the namespace closed when that list is edited"
            )
        } else if !others.is_empty() {
            format!("; policies of kinds kubereach does not evaluate ({}) may deny instead", others.join(", "))
        } else if !tiered.is_empty() && policies.is_empty() {
            let shown: Vec<&str> = tiered.iter().take(3).map(String::as_str).collect();
            let more = if tiered.len() > 3 { format!(" and {} more", tiered.len() - 3) } else { String::new() };
            format!(
                ": it has no NetworkPolicy, and the cluster tier policies that apply to its pods ({}{more}) deny no pod everything, so what they do not decide is open",
                shown.join(", ")
            )
        } else if policies.is_empty() {
            ": it has no NetworkPolicy at all: every pod accepts every connection and may connect anywhere".to_string()
        } else if !tiered.is_empty() {
            let shown: Vec<&str> = tiered.iter().take(3).map(String::as_str).collect();
            let more = if tiered.len() > 3 { format!(" and {} more", tiered.len() - 3) } else { String::new() };
            format!(
                ": {} (cluster tier policies apply to its pods: {}{more})",
                coverage_words(&coverage, true),
                shown.join(", ")
            )
        } else {
            format!(": {}", coverage_words(&coverage, false))
        };
        out.push(
            Finding::new(NamespaceWithoutDefaultDeny::ID,
                level,
                location,
                format!(
                    "namespace `{namespace}` has no default-deny NetworkPolicy for {}{consequence}",
                    directions_text(&missing)
                ),
            )
            .with_key(format!("Namespace/{namespace}"), "", directions_text(&missing)),
        );
    }
}

/// How the workloads of a namespace stand in a direction that has no default deny.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Coverage<'a> {
    /// A policy that selects every pod isolates the direction with allow rules.
    AllowList(&'a str),
    /// Policies select every workload the repository declares, each by its labels.
    AllSelected,
    /// `open` of the `all` workloads are selected by no policy for the direction.
    Open { open: usize, all: usize },
}

/// `policies` are the namespace's, `indexes` their indexes in the model.
fn coverage<'a>(
    cx: &Context,
    workloads: &[usize],
    policies: &[&'a crate::model::NetworkPolicy],
    indexes: &[usize],
    direction: Direction,
) -> Coverage<'a> {
    if let Some(p) = policies.iter().find(|p| p.pod_selector.is_empty() && p.affects(direction)) {
        return Coverage::AllowList(&p.meta.name);
    }
    // Selection, not enforcement: a profile that enforces nothing is `network-policy-not-enforced`'s.
    let mut selected: BTreeSet<usize> = BTreeSet::new();
    for (&pi, policy) in indexes.iter().zip(policies) {
        if !policy.affects(direction) {
            continue;
        }
        for class in cx.graph.policy_selects.get(pi).into_iter().flat_map(|s| s.iter()) {
            selected.extend(cx.graph.classes[class.index()].workloads.iter().copied());
        }
    }
    let open = workloads.iter().filter(|w| !selected.contains(w)).count();
    if open == 0 {
        Coverage::AllSelected
    } else {
        Coverage::Open { open, all: workloads.len() }
    }
}

/// What a pod left open in these directions is free to do; with `tiers`, within what the
/// cluster tier policies that apply to it leave.
fn consequence(directions: &[Direction], plural: bool, tiers: bool) -> String {
    let open = directions
        .iter()
        .map(|d| match (d, plural) {
            (Direction::Ingress, false) => "accepts every connection",
            (Direction::Ingress, true) => "accept every connection",
            (Direction::Egress, _) => "may connect anywhere",
        })
        .collect::<Vec<_>>()
        .join(" and ");
    if tiers {
        format!("{open} that the cluster tiers do not deny")
    } else {
        open
    }
}

/// The facts of each missing direction in words, directions with the same facts together.
fn coverage_words(coverage: &[(Direction, Coverage)], tiers: bool) -> String {
    let mut groups: Vec<(Coverage, Vec<Direction>)> = Vec::new();
    for &(d, c) in coverage {
        match groups.iter_mut().find(|(g, _)| *g == c) {
            Some((_, ds)) => ds.push(d),
            None => groups.push((c, vec![d])),
        }
    }
    groups
        .iter()
        .map(|(c, ds)| {
            let dirs = directions_text(ds);
            match c {
                Coverage::AllowList(name) => {
                    format!("every pod is isolated for {dirs} by `{name}`, whose rules are a namespace-wide allow list")
                }
                Coverage::AllSelected => format!(
                    "each of its workloads is selected for {dirs} by a policy that picks it by its labels, but no policy selects every pod: a workload added later, or whose labels change, {}",
                    consequence(ds, false, tiers)
                ),
                Coverage::Open { open, all } if open == all => {
                    format!("no policy selects its workloads for {dirs}: every pod {}", consequence(ds, false, tiers))
                }
                Coverage::Open { open, all } => format!(
                    "{open} of its {all} workloads {} selected by no policy for {dirs}: {} {}",
                    if *open == 1 { "is" } else { "are" },
                    if *open == 1 { "it" } else { "they" },
                    consequence(ds, *open > 1, tiers)
                ),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

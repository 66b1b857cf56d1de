//! `network-policy-not-enforced`: NetworkPolicies that the cluster's dataplane will not enforce.
//! Under a profile without a policy engine (AKS with kubenet and no Calico), said once for the
//! repository, with the tenants (or namespaces) that therefore reach each other; with no policy at
//! all, said once where the repository has several tenants, since nothing can separate them (the
//! tenant rules of `cross-namespace-exposure` stay quiet there). Under a profile that does not
//! enforce on Windows nodes, once per Windows workload that a policy selects. Cluster tier
//! policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) under a
//! profile whose dataplane does not enforce them: once, at the first of them.

use std::collections::BTreeMap;

use super::common::{namespace_location, workloads_by_namespace};
use super::Context;
use super::ids::NetworkPolicyNotEnforced;
use super::Rule;
use crate::finding::Finding;
use crate::model::{is_placeholder_name, is_system_namespace};
use crate::span::Location;
use rustc_hash::FxHashMap;

/// The tenants of the repository, in words, and where the first one is written, when there are
/// several: the values of the configured tenant label on the namespaces that hold workloads, or
/// without one, those namespaces themselves (system namespaces aside).
fn tenants(cx: &Context) -> Option<(String, Location)> {
    let workloads = workloads_by_namespace(cx.model);
    let namespaces: Vec<(&str, Option<usize>)> = workloads
        .iter()
        .filter(|(ns, _)| !is_system_namespace(ns) && !is_placeholder_name(ns))
        .map(|(ns, ws)| (*ns, ws.first().copied()))
        .collect();
    let words = match cx.graph.profile.tenant_label.as_deref() {
        Some(label) => {
            let mut by_tenant: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for (ns, _) in &namespaces {
                let tenant = cx
                    .graph
                    .namespaces
                    .get(*ns)
                    .and_then(|(labels, _)| labels.get(label).map(str::to_string))
                    .or_else(|| cx.namespace_labels(ns).get(label).map(str::to_string));
                if let Some(t) = tenant {
                    by_tenant.entry(t).or_default().push(ns);
                }
            }
            if by_tenant.len() < 2 {
                return None;
            }
            let list: Vec<String> = by_tenant
                .iter()
                .map(|(t, nss)| format!("`{t}` ({})", nss.iter().map(|n| format!("namespace `{n}`")).collect::<Vec<_>>().join(", ")))
                .collect();
            format!("the workloads of tenants {} reach each other", list.join(", "))
        }
        None if namespaces.len() >= 2 => {
            let list: Vec<String> = namespaces.iter().map(|(ns, _)| format!("`{ns}`")).collect();
            format!("the workloads of namespaces {} reach each other", list.join(", "))
        }
        None => return None,
    };
    let (first, workload) = namespaces.first()?;
    Some((words, namespace_location(cx, first, *workload)?))
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    tiers_not_enforced(cx, out);
    let profile = &cx.graph.profile;
    let policies = &cx.model.policies;
    if !profile.dataplane.enforces() {
        // kubenet with Calico enforces policies: a cluster described by the wrong profile.
        let hint = if profile.name == "aks-kubenet" && profile.describe() == "profile `aks-kubenet`" {
            " (a kubenet cluster created with Calico network policy does enforce NetworkPolicy: its profile is `aks-calico`)"
        } else {
            ""
        };
        let tenants = tenants(cx);
        let Some(first) = policies.first() else {
            // No policy to point at, but tenants that nothing can separate: DESIGN §7 makes this a
            // finding of its own, at the first tenant's namespace.
            let Some((words, at)) = tenants else { return };
            out.push(
                NetworkPolicyNotEnforced::finding(
                    at,
                    format!(
                        "{} has no NetworkPolicy engine: NetworkPolicy cannot separate the tenants of this repository, and {words} on every port{hint}",
                        profile.describe()
                    ),
                )
                .with_key(format!("Profile/{}", profile.name), "dataplane", "tenants"),
            );
            return;
        };
        let count = policies.len();
        let tenants_words = tenants.map(|(words, _)| format!("; {words}")).unwrap_or_default();
        out.push(
            NetworkPolicyNotEnforced::finding(first.meta.at(first.meta.kind_span),
                format!(
                    "{} has no NetworkPolicy engine: the {count} NetworkPolic{} of this repository filter{} nothing, and kubereach computes reachability as if {} did not exist{tenants_words}{hint}",
                    profile.describe(),
                    if count == 1 { "y" } else { "ies" },
                    if count == 1 { "s" } else { "" },
                    if count == 1 { "it" } else { "they" }
                ),
            )
            .with_key(format!("Profile/{}", profile.name), "dataplane", ""),
        );
        return;
    }
    if profile.windows_enforced {
        return;
    }
    // The policies that select each Windows class, in policy order: one pass over the
    // selections rather than one per class.
    let windows = |c: &crate::graph::Class| c.windows && !c.pseudo;
    let mut selecting_of: FxHashMap<crate::graph::ClassId, Vec<usize>> = FxHashMap::default();
    if cx.graph.classes.iter().any(windows) {
        for (pi, selected) in cx.graph.policy_selects.iter().enumerate() {
            for &c in selected.iter().filter(|c| cx.graph.classes.get(c.index()).is_some_and(windows)) {
                let list = selecting_of.entry(c).or_default();
                if list.last() != Some(&pi) {
                    list.push(pi);
                }
            }
        }
    }
    for (id, class) in cx.graph.classes.iter().enumerate().filter(|(_, c)| windows(c)) {
        let selecting: Vec<&str> = selecting_of
            .get(&crate::graph::ClassId::new(id))
            .into_iter()
            .flatten()
            .map(|&pi| &*policies[pi].meta.name)
            .collect();
        if selecting.is_empty() {
            continue;
        }
        for &w in &class.workloads {
            let workload = &cx.model.workloads[w];
            let at = workload.windows.unwrap_or(workload.meta.name_span);
            out.push(
                NetworkPolicyNotEnforced::finding(workload.meta.at(at),
                    format!(
                        "{} `{}` runs on Windows nodes, where {} enforces no NetworkPolicy: {} do{} not protect it",
                        workload.meta.kind,
                        workload.meta.name,
                        profile.describe(),
                        selecting.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                        if selecting.len() == 1 { "es" } else { "" }
                    ),
                )
                .with_key(workload.meta.key(), "windows", ""),
            );
        }
    }
}

/// The cluster tiers' policies, under a profile whose dataplane does not implement them: said
/// once, at the first; the graph treats them as absent.
fn tiers_not_enforced(cx: &Context, out: &mut Vec<Finding>) {
    let profile = &cx.graph.profile;
    if profile.tiers_enforced {
        return;
    }
    let tiers = &cx.model.tier_policies;
    let Some(first) = tiers.first() else { return };
    let others = match tiers.len() {
        1 => String::new(),
        2 => " and 1 other cluster tier policy".to_string(),
        n => format!(" and {} other cluster tier policies", n - 1),
    };
    let engine = if profile.dataplane.enforces() {
        format!("{} does not implement the cluster tiers", profile.describe())
    } else {
        format!("{} has no policy engine", profile.describe())
    };
    out.push(
        NetworkPolicyNotEnforced::finding(
            first.meta.at(first.meta.kind_span),
            format!(
                "{engine}: {}{others} filter{} nothing, and kubereach computes reachability as if {} did not exist (set `cluster.tiers-enforced: true` if this cluster's dataplane enforces them)",
                first.describe(),
                if tiers.len() == 1 { "s" } else { "" },
                if tiers.len() == 1 { "it" } else { "they" }
            ),
        )
        .with_key(format!("Profile/{}", profile.name), "tiers", ""),
    );
}

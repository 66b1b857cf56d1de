//! `network-policy-not-enforced`: NetworkPolicies that the cluster's dataplane will not enforce.
//! Under a profile without a policy engine (AKS with kubenet and no Calico), said once for the
//! repository; under a profile that does not enforce on Windows nodes, once per Windows workload
//! that a policy selects.

use super::Context;
use super::ids::NetworkPolicyNotEnforced;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let profile = &cx.graph.profile;
    let policies = &cx.model.policies;
    if !profile.dataplane.enforces() {
        let Some(first) = policies.first() else { return };
        let count = policies.len();
        out.push(
            NetworkPolicyNotEnforced::finding(first.meta.at(first.meta.kind_span),
                format!(
                    "{} has no NetworkPolicy engine: the {count} NetworkPolic{} of this repository filter nothing, and kubereach computes reachability as if {} did not exist",
                    profile.describe(),
                    if count == 1 { "y" } else { "ies" },
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
    for (id, class) in cx.graph.classes.iter().enumerate().filter(|(_, c)| c.windows && !c.pseudo) {
        let selecting: Vec<&str> = cx
            .graph
            .policy_selects
            .iter()
            .enumerate()
            .filter(|(_, selected)| selected.contains(&crate::graph::ClassId::new(id)))
            .map(|(pi, _)| &*policies[pi].meta.name)
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

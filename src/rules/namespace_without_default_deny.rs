//! `namespace-without-default-deny`: a namespace holding workloads without a default-deny
//! policy for ingress and/or egress. One finding per namespace; a namespace that lacks only the
//! egress default-deny (the common, lesser gap) is a note, and so is one where policies of kinds
//! kubereach does not evaluate (CiliumNetworkPolicy, AdminNetworkPolicy, …) may deny instead, or
//! where a policy selecting every pod isolates the missing directions with allow rules.
//! System namespaces (kube-system, …) and template placeholders are not judged.

use super::common::{directions_text, is_default_deny, namespace_location, workloads_by_namespace};
use super::Context;
use super::ids::NamespaceWithoutDefaultDeny;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::{is_placeholder_name, is_system_namespace, Direction};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut by_namespace: std::collections::BTreeMap<&str, Vec<&crate::model::NetworkPolicy>> =
        std::collections::BTreeMap::new();
    for p in &cx.model.policies {
        by_namespace.entry(&p.meta.namespace).or_default().push(p);
    }
    for (namespace, workloads) in workloads_by_namespace(cx.model) {
        if is_system_namespace(namespace) || is_placeholder_name(namespace) {
            continue;
        }
        let policies: &[&crate::model::NetworkPolicy] =
            by_namespace.get(namespace).map(Vec::as_slice).unwrap_or_default();
        let missing: Vec<Direction> = [Direction::Ingress, Direction::Egress]
            .into_iter()
            .filter(|&d| !policies.iter().any(|p| is_default_deny(p, d)))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let Some(location) = namespace_location(cx.model, namespace, workloads.first().copied()) else { continue };
        let mut others: Vec<&str> = Vec::new();
        for scope in [namespace, ""] {
            if let Some(kinds) = cx.model.other_policies.get(scope) {
                others.extend(kinds.iter().map(|k| &**k));
            }
        }
        others.sort_unstable();
        others.dedup();
        // A policy that selects every pod and isolates each missing direction: every pod is
        // isolated already, by a namespace-wide allow list rather than the rule-less baseline.
        let allow_list = policies
            .iter()
            .find(|p| p.pod_selector.is_empty() && missing.iter().all(|&d| p.affects(d)))
            .map(|p| &*p.meta.name);
        let level = if missing.contains(&Direction::Ingress) && others.is_empty() && allow_list.is_none() {
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
        } else {
            let what = match (policies.is_empty(), missing.as_slice()) {
                (true, _) => {
                    "it has no NetworkPolicy at all: every pod accepts every connection and may connect anywhere"
                }
                (false, [Direction::Ingress]) => "a pod that no policy selects accepts every connection",
                (false, [Direction::Egress]) => "a pod that no egress policy selects may connect anywhere",
                (false, _) => "a pod that no policy selects accepts every connection and may connect anywhere",
            };
            format!(": {what}")
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

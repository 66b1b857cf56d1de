//! `policy-selects-nothing`: a NetworkPolicy whose non-empty podSelector matches no workload of
//! its namespace, where the repository declares workloads there. A note where the namespace
//! holds custom resources (which may create pods).

use super::common::workloads_by_namespace;
use super::Context;
use super::ids::PolicySelectsNothing;
use super::Rule;
use crate::finding::{Finding, Level};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let by_namespace = workloads_by_namespace(cx.model);
    for (pi, policy) in cx.model.policies.iter().enumerate() {
        if policy.pod_selector.is_empty() || cx.graph.policy_selects.get(pi).is_some_and(|s| !s.is_empty()) {
            continue;
        }
        if !by_namespace.contains_key(&*policy.meta.namespace)
            || cx.graph.profile.is_external_namespace(&policy.meta.namespace)
        {
            continue;
        }
        let level = if cx.model.namespaces_with_custom_resources.contains(&policy.meta.namespace) {
            Level::Note
        } else {
            PolicySelectsNothing::DOC.level
        };
        out.push(
            Finding::new(PolicySelectsNothing::ID,
                level,
                policy.meta.at(policy.pod_selector.span),
                format!(
                    "NetworkPolicy `{}` selects `{}`, which no workload of namespace `{}` carries: it isolates nothing",
                    policy.meta.name,
                    policy.pod_selector.describe(),
                    policy.meta.namespace
                ),
            )
            .with_key(policy.meta.key(), "spec.podSelector", policy.pod_selector.describe()),
        );
    }
}

//! `policy-selects-nothing`: a NetworkPolicy whose non-empty podSelector matches no workload of
//! its namespace, where the repository declares workloads there. A note where the namespace
//! holds custom resources (which may create pods). For a tier policy, a `pods` subject whose
//! pod selector matches no workload of the namespaces it reaches, where the repository shows them
//! all (the same judgement as `policy-peer-matches-nothing`): a cluster-wide policy may be meant
//! for namespaces another repository deploys, and is not judged then.

use super::common::{namespaces_text, workloads_by_namespace, ShownNamespaces};
use super::Context;
use super::ids::PolicySelectsNothing;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::tier::Subject;

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
    let mut shown = ShownNamespaces::new(cx);
    for policy in cx.model.tier_policies.iter().filter(|p| crate::graph::tiers::takes_part(p)) {
        let Some(Subject::Pods { namespaces, pods }) = &policy.subject else { continue };
        if pods.is_empty() {
            continue;
        }
        let Some(named) = shown.reached("", Some(namespaces)) else { continue };
        if cx.graph.selects_some_class("", Some(namespaces), Some(pods)) {
            continue;
        }
        out.push(
            Finding::new(
                PolicySelectsNothing::ID,
                PolicySelectsNothing::DOC.level,
                policy.meta.at(policy.subject_span),
                format!(
                    "{}: its subject selects pods `{}` in {}, which no workload there carries: it applies to nothing",
                    policy.describe(),
                    pods.describe(),
                    namespaces_text(&named)
                ),
            )
            .with_key(policy.meta.key(), "spec.subject.pods", pods.describe()),
        );
    }
}

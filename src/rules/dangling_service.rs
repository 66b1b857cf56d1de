//! `dangling-service`: a Service whose selector matches no workload of its namespace. A note where
//! the namespace holds custom resources (which may create the pods) or no workload at all.

use super::common::workloads_by_namespace;
use super::Context;
use super::ids::DanglingService;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::{Object, ServiceType};

/// Labels that controllers add to the pods they create, absent from the pod template: a
/// Service selecting one pod of a StatefulSet (`statefulset.kubernetes.io/pod-name`) or a Job's
/// pods (`job-name`) is not dangling for lack of them in the manifests.
fn is_controller_label(key: &str) -> bool {
    matches!(
        key,
        "statefulset.kubernetes.io/pod-name"
            | "apps.kubernetes.io/pod-index"
            | "job-name"
            | "batch.kubernetes.io/job-name"
            | "controller-uid"
            | "batch.kubernetes.io/controller-uid"
            | "pod-template-hash"
            | "controller-revision-hash"
    )
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let by_namespace = workloads_by_namespace(cx.model);
    for service in cx.model.declared_services() {
        if service.service_type == ServiceType::ExternalName {
            continue;
        }
        let Some((selector, span)) = &service.selector else { continue };
        // The configuration says this namespace holds pods the repository does not show.
        if cx.graph.profile.is_external_namespace(&service.meta.namespace) {
            continue;
        }
        let workloads = by_namespace.get(&*service.meta.namespace).map(Vec::as_slice).unwrap_or_default();
        let selects = |labels: &crate::model::selector::Labels| {
            selector.0.iter().all(|(k, v)| is_controller_label(k) || labels.get(k) == Some(&**v))
        };
        let matched = workloads.iter().any(|&w| selects(&cx.model.workloads[w].pod_labels));
        // A copy of a workload (another declaration of it, which the graph does not use) still
        // shows pods some variant of the repository runs: a copied Service matching only those
        // is not dangling.
        let matched_copy = || {
            cx.model.copies.iter().any(|o| match o {
                Object::Workload(w) => w.meta.namespace == service.meta.namespace && selects(&w.pod_labels),
                _ => false,
            })
        };
        if matched || matched_copy() {
            continue;
        }
        let uncertain =
            workloads.is_empty() || cx.model.namespaces_with_custom_resources.contains(&service.meta.namespace);
        let level = if uncertain { Level::Note } else { DanglingService::DOC.level };
        let selector_text = selector.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        out.push(
            Finding::new(DanglingService::ID,
                level,
                service.meta.at(*span),
                format!(
                    "Service `{}` selects `{selector_text}`, which no workload of namespace `{}` carries",
                    service.meta.name, service.meta.namespace
                ),
            )
            .with_key(service.meta.key(), "spec.selector", selector_text),
        );
    }
}

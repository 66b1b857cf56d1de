//! `ingress-controller-on-windows`: an ingress controller that the scheduler may place on a
//! Windows node. AKS runs ingress controllers on Linux nodes only (its guidance, and the images
//! are Linux images); in a cluster with Windows node pools a controller without a Linux
//! `nodeSelector` can land on a Windows node and fail there. Reported under the AKS profiles.
//!
//! A workload is an ingress controller when its pods carry the labels of a well-known controller
//! (ingress-nginx's in any namespace; AKS application routing's `app: nginx` only in its own
//! namespace, since plain nginx servers carry it too) or of one the configuration declares (in its
//! namespace).

use super::Context;
use super::ids::IngressControllerOnWindows;
use super::Rule;
use crate::finding::Finding;
use crate::model::WorkloadKind;
use crate::profile::controllers::{well_known_pods, Controller};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let profile = &cx.graph.profile;
    if !profile.is_aks() {
        return;
    }
    // (namespace, labels): a controller is recognised by its pod labels, and also by its namespace
    // where the labels alone are common ones (`app: nginx` is also every plain nginx).
    let mut identities: Vec<(Option<Box<str>>, crate::model::selector::Labels)> = well_known_pods()
        .into_iter()
        .map(|(namespace, labels)| match labels.get("app.kubernetes.io/name") {
            // The name label alone: installs differ in the others.
            Some(name) => (None, crate::model::selector::Labels::default().with("app.kubernetes.io/name", name)),
            None => (Some(namespace), labels),
        })
        .collect();
    for spec in &profile.controllers {
        if let Controller::Pods { namespace, labels } = &spec.identity {
            if !labels.is_empty() {
                identities.push((Some(namespace.clone()), labels.clone()));
            }
        }
    }
    for workload in &cx.model.workloads {
        if matches!(workload.kind, WorkloadKind::Job | WorkloadKind::CronJob) || workload.linux_only {
            continue;
        }
        let is_controller = identities.iter().any(|(namespace, labels)| {
            namespace.as_ref().is_none_or(|ns| **ns == *workload.meta.namespace)
                && labels.0.iter().all(|(k, v)| workload.pod_labels.get(k) == Some(&**v))
        });
        // Admission webhooks and other jobs of a controller's chart carry its labels too; only
        // pods that serve traffic (a container port) are the controller itself.
        if !is_controller || workload.ports.is_empty() {
            continue;
        }
        let (at, what) = match workload.windows {
            Some(span) => (span, "is pinned to Windows nodes"),
            None => (
                workload.meta.name_span,
                "can be scheduled on a Windows node: no `nodeSelector` or required node affinity keeps it on Linux nodes",
            ),
        };
        out.push(
            IngressControllerOnWindows::finding(workload.meta.at(at),
                format!(
                    "ingress controller {} `{}` {what}; add `nodeSelector: {{kubernetes.io/os: linux}}`",
                    workload.meta.kind, workload.meta.name
                ),
            )
            .with_key(workload.meta.key(), "spec.template.spec.nodeSelector", ""),
        );
    }
}

//! `namespace-without-default-deny`: a namespace holding workloads without a default-deny
//! policy for ingress and/or egress. One finding per namespace; a namespace that lacks only the
//! egress default-deny (the common, lesser gap) is a note.

use super::common::{directions_text, is_default_deny, namespace_location, workloads_by_namespace};
use super::Context;
use crate::finding::{Finding, Level};
use crate::model::Direction;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (namespace, workloads) in workloads_by_namespace(cx.model) {
        let policies: Vec<_> = cx.model.policies.iter().filter(|p| &*p.meta.namespace == namespace).collect();
        let missing: Vec<Direction> = [Direction::Ingress, Direction::Egress]
            .into_iter()
            .filter(|&d| !policies.iter().any(|p| is_default_deny(p, d)))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let Some(location) = namespace_location(cx.model, namespace, workloads.first().copied()) else { continue };
        let level = if missing.contains(&Direction::Ingress) { Level::Warning } else { Level::Note };
        let consequence = match (policies.is_empty(), missing.as_slice()) {
            (true, _) => "it has no NetworkPolicy at all: every pod accepts every connection and may connect anywhere",
            (false, [Direction::Ingress]) => "a pod that no policy selects accepts every connection",
            (false, [Direction::Egress]) => "a pod that no egress policy selects may connect anywhere",
            (false, _) => "a pod that no policy selects accepts every connection and may connect anywhere",
        };
        out.push(
            Finding::new(
                "namespace-without-default-deny",
                level,
                location,
                format!(
                    "namespace `{namespace}` has no default-deny NetworkPolicy for {}: {consequence}",
                    directions_text(&missing)
                ),
            )
            .with_key(format!("Namespace/{namespace}"), "", directions_text(&missing)),
        );
    }
}

//! `render-failed`: a kustomization or Helm chart that its renderer (kustomize, helm) refused.
//! The load stage records the renderer's own message at the kustomization file or `Chart.yaml`;
//! this rule reports it, once per rendering.

use super::ids::RenderFailed;
use super::{Context, Rule};
use crate::finding::Finding;
use crate::load::classify::FileProblem;
use crate::model::problem::ProblemKind;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for problem in cx.problems {
        if let ProblemKind::File(FileProblem::RenderFailed { message }) = &problem.kind {
            out.push(RenderFailed::finding(
                problem.location,
                format!("cannot be rendered; its files are read as plain manifests, without its namespace, names and patches: {message}"),
            ));
        }
    }
}

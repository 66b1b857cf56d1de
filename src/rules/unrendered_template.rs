//! `unrendered-template`: a Helm chart or a templated file that kubereach cannot analyse without
//! rendering it first. Load and model record where templates were met (a chart's templates, one
//! fact per chart; directives that parse or that break the YAML; placeholders in values); this
//! rule words them, at the document's default level.

use super::ids::UnrenderedTemplate;
use super::{Context, Rule};
use crate::finding::Finding;
use crate::load::classify::FileProblem;
use crate::model::problem::ProblemKind;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for problem in cx.problems {
        let message = match &problem.kind {
            ProblemKind::File(FileProblem::ChartTemplates { chart, count }) => format!(
                "Helm chart `{chart}`: {count} template file{} not analysed, as the chart was not rendered; to render it, install helm or name its command in `.kubereach.yaml` (`render: {{helm: …}}`), or pipe its output in (`helm template … | kubereach check -`)",
                if *count == 1 { "" } else { "s" }
            ),
            ProblemKind::File(FileProblem::TemplateDirectives) => {
                "template directives (`{{ … }}`) in this file; it is not analysed: render it and analyse the output"
                    .to_string()
            }
            ProblemKind::File(FileProblem::SyntaxError { error, templated: true }) => format!(
                "template directives (`{{{{ … }}}}`) make this file invalid YAML ({error}); the documents from here on are not analysed"
            ),
            ProblemKind::Placeholders => {
                "values here are placeholders filled at deploy time (`${…}`, `$VAR`, `{{ … }}` or `<…>`); render the template (envsubst, helm template) and analyse the output"
                    .to_string()
            }
            ProblemKind::File(FileProblem::UnrenderedKustomization) => {
                "kustomization read as plain files: no kustomize is installed (neither `kustomize` nor `kubectl`), so its namespace, name prefixes and patches are not applied; install one, or set `render: {kustomize: …}` in .kubereach.yaml".to_string()
            }
            // Everything else is `invalid-manifest`'s.
            ProblemKind::File(_) | ProblemKind::Field(_) => continue,
        };
        let finding = UnrenderedTemplate::finding(problem.location, message);
        // A chart is its own identity: the note's key does not change when its wording does.
        out.push(match &problem.kind {
            ProblemKind::File(FileProblem::ChartTemplates { chart, .. }) => {
                finding.with_key(format!("Chart/{chart}"), "templates", "")
            }
            _ => finding,
        });
    }
}

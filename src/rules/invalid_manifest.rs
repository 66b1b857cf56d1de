//! `invalid-manifest`: input that the API server would reject or that kubereach cannot read. Load
//! and model record the problems as typed facts; this rule words those that are not about
//! templates. A field of the wrong type or a syntax error is an error; a file that cannot be read,
//! a repeated key or a document that is not an object is a warning.

use super::ids::InvalidManifest;
use super::{Context, Rule};
use crate::finding::{Finding, Level};
use crate::load::classify::{FileProblem, Unreadable};
use crate::model::problem::{FieldProblem, ProblemKind};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for problem in cx.problems {
        let (level, message) = match &problem.kind {
            ProblemKind::Field(field) => (InvalidManifest::DOC.level, field_message(field)),
            ProblemKind::File(FileProblem::Unreadable(reason)) => (Level::Warning, unreadable_message(reason)),
            ProblemKind::File(FileProblem::DuplicateKey { key }) => (
                Level::Warning,
                format!(
                    "key `{key}` appears twice in one mapping; tools disagree on which value wins (kustomize rejects the file)"
                ),
            ),
            ProblemKind::File(FileProblem::NotAnObject) => (
                Level::Warning,
                "document is not a Kubernetes object (it has no `apiVersion` and `kind`)".to_string(),
            ),
            ProblemKind::File(FileProblem::SyntaxError { error, templated: false }) => {
                (InvalidManifest::DOC.level, format!("{error}; the documents from here on are not analysed"))
            }
            // Template directives are `unrendered-template`'s, renderings `render-failed`'s.
            ProblemKind::File(
                FileProblem::SyntaxError { templated: true, .. }
                | FileProblem::TemplateDirectives
                | FileProblem::ChartTemplates { .. }
                | FileProblem::UnrenderedKustomization
                | FileProblem::RenderFailed { .. },
            )
            | ProblemKind::Placeholders => continue,
        };
        out.push(Finding::new(InvalidManifest::ID, level, problem.location, message));
    }
}

/// Why a file was not read or a path not followed.
fn unreadable_message(reason: &Unreadable) -> String {
    match reason {
        Unreadable::Io { error } => format!("cannot read file: {error}"),
        Unreadable::WalkError { error } => format!("cannot read: {error}"),
        Unreadable::TooLarge { size, limit } => {
            format!("file is {size} bytes, over the {limit}-byte limit; not analysed (raise it with --max-file-size)")
        }
        Unreadable::Binary { offset } => format!("binary file (NUL byte at offset {offset}); not analysed"),
        Unreadable::NotUtf8 { at, .. } => format!("file is not valid UTF-8 (byte {at}); not analysed"),
        Unreadable::NotInRevision { revision } => format!("not in revision `{revision}`"),
        Unreadable::LinkLoop { ancestor } => format!("symbolic link loop back to `{ancestor}`; not followed"),
    }
}

/// What is wrong with a field, as the API server would see it.
fn field_message(problem: &FieldProblem) -> String {
    match problem {
        FieldProblem::WrongType { path, expected, found } => format!("`{path}` must be {expected}, found {found}"),
        FieldProblem::NotAString { path, text, found } => {
            format!("`{path}` is `{text}`, which kubectl reads as {found}, not a string; quote it")
        }
        FieldProblem::PortOutOfRange { path, value } => format!("`{path}` is {value}, outside the port range 1-65535"),
        FieldProblem::PortNameWithoutLetter { path, name } => {
            format!("`{path}` is the string `{name}`; a port name needs a letter (write a number unquoted)")
        }
        FieldProblem::NotOneOf { path, value, expected } => format!("`{path}` is `{value}`; expected {expected}"),
        FieldProblem::EntryNotOneOf { path, value, expected } => format!("`{path}` has `{value}`; expected {expected}"),
        FieldProblem::MissingKey { path, key } => format!("`{path}` has no `{key}`"),
        FieldProblem::OperatorNeedsValues { path, operator } => {
            format!("`{path}`: operator {operator:?} needs at least one value")
        }
        FieldProblem::OperatorTakesNoValues { path, operator } => format!("`{path}`: operator {operator} takes no values"),
        FieldProblem::EmptyKind => "`kind` must be a non-empty string".to_string(),
        FieldProblem::ListsTooDeep => "lists nested too deeply".to_string(),
        FieldProblem::ListItemNotObject { list_kind } => {
            format!("item of `{list_kind}` is not a Kubernetes object (no `apiVersion` and `kind`)")
        }
        FieldProblem::NoName { kind } => format!("{kind} has no `metadata.name`; not analysed"),
        FieldProblem::PodWithoutSpec => "Pod has no `spec`; the API server rejects it".to_string(),
        FieldProblem::NoTemplate { kind } => format!("{kind} has no `spec.template`; the API server rejects it"),
        FieldProblem::BadCidr(error) => error.to_string(),
        FieldProblem::ExceptOutsideCidr { path, entry, cidr } => {
            format!("`{path}.except` entry `{entry}` is not strictly inside `{cidr}`")
        }
        FieldProblem::IpBlockWithSelector { path } => {
            format!("`{path}` sets `ipBlock` together with a selector; the API server rejects it")
        }
        FieldProblem::EmptyPeer { path } => format!(
            "`{path}` element sets none of `podSelector`, `namespaceSelector` and `ipBlock`; the API server rejects it"
        ),
        FieldProblem::EndPortBelowPort { path, end, start } => format!("`{path}.endPort` {end} is below `port` {start}"),
        FieldProblem::EndPortNeedsNumericPort { path } => format!("`{path}.endPort` needs a numeric `port`"),
        FieldProblem::Rejected { path, reason } => format!("`{path}` {reason}; the API server rejects it"),
    }
}

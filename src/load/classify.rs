//! File classification: which files the walk reads, which are Helm chart templates, which files
//! are manifests, which documents are Kubernetes objects, and the problems of a file's text
//! (unreadable, syntax errors, repeated keys, template directives).
//!
//! It records those problems as typed facts ([`FileProblem`]); it must not word them as findings
//! (that is the rules' work) nor read an object's fields (that is the model's).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::yaml::{Node, Stream, YamlError};
use super::{read_from, FileRead, FileSource, WalkOptions};
use crate::span::{Pos, Span};

/// A problem of a file's text or of the file as a whole, before any object is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FileProblem {
    /// The file could not be read as text, or the walk could not follow a path.
    Unreadable(Unreadable),
    /// YAML syntax error; the documents from there on are lost. `templated` when the file carries
    /// template directives, which are then the likely cause.
    SyntaxError { error: YamlError, templated: bool },
    /// A key repeated in one mapping, at the repeat.
    DuplicateKey { key: String },
    /// A document of a manifest file without `apiVersion` and `kind`.
    NotAnObject,
    /// Template directives that parse as YAML (a mapping used as a key), at the first one.
    TemplateDirectives,
    /// The templates of one Helm chart, at its `Chart.yaml`: `chart` is the chart's displayed path.
    ChartTemplates { chart: String, count: usize },
    /// A kustomization read as plain files, at its kustomization file: no kustomize is installed
    /// (`disabled`: rendering is turned off).
    UnrenderedKustomization { disabled: bool },
    /// A kustomization or chart that its renderer refused, with the renderer's message.
    RenderFailed { message: String },
}

/// Why a file was not read, or a path not followed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Unreadable {
    /// An I/O error, as the system words it.
    Io { error: String },
    /// A walk error other than a link loop, as the walker words it.
    WalkError { error: String },
    /// Larger than `--max-file-size`.
    TooLarge { size: u64, limit: u64 },
    /// A NUL byte among the first 8 KiB.
    Binary { offset: usize },
    /// Not UTF-8 from byte `at` on, which is at `pos` of the text before it.
    NotUtf8 { at: usize, pos: Pos },
    /// Absent from the git revision read.
    NotInRevision { revision: String },
    /// A symbolic link back to the folder `ancestor` (displayed path): not followed.
    LinkLoop { ancestor: String },
}

/// Whether the walk reads a file of this name: `.yaml`, `.yml` or `.json`, in any case, and
/// kustomize's extension-less `Kustomization`. The one test of it, for the walk, the base
/// revision of `--diff-base` and the watcher alike.
pub(crate) fn is_manifest_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["yaml", "yml", "json"].iter().any(|x| e.eq_ignore_ascii_case(x)))
        || path.file_name().is_some_and(|n| n == "Kustomization")
}

/// Whether `path` is a template of one of `chart_roots` (`<chart>/templates/...`).
pub(crate) fn is_chart_template(path: &Path, chart_roots: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d.file_name().is_some_and(|n| n == "templates") {
            if let Some(chart) = d.parent() {
                if chart_roots.contains(chart) {
                    return Some(chart.to_path_buf());
                }
            }
        }
        dir = d.parent();
    }
    None
}

/// Whether unparsed text looks like a Kubernetes object (`apiVersion` and `kind` keys, in block
/// or flow style, YAML or JSON), used to decide whether a file that does not parse deserves a
/// diagnostic.
pub(crate) fn text_looks_like_manifest(text: &str) -> bool {
    has_key(text, "apiVersion") && has_key(text, "kind")
}

/// Whether `key` appears as a mapping key: followed by `:` (or `":`), preceded by a line start,
/// whitespace, `{`, `,` or a quote.
fn has_key(text: &str, key: &str) -> bool {
    text.match_indices(key).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = &text[i + key.len()..];
        let key_start = matches!(before, None | Some(' ' | '\t' | '\n' | '{' | ',' | '"' | '\''));
        let key_end = after.starts_with(':') || after.starts_with("\":") || after.starts_with("':");
        key_start && key_end
    })
}

/// Whether text carries Go template directives, the mark of an unrendered Helm or kustomize
/// template.
pub(crate) fn has_template_directives(text: &str) -> bool {
    text.contains("{{") && text.contains("}}")
}

/// Whether a value is a template placeholder rather than a value: template directives, or an
/// environment placeholder (`${VAR}`, `${VAR:-default}` of envsubst and kustomize replacements).
/// The one test of placeholders, for file texts, field values and namespace names alike.
pub(crate) fn is_placeholder(text: &str) -> bool {
    text.contains("${") || has_template_directives(text)
}

/// Whether a node is a Kubernetes object: a mapping with `apiVersion` and `kind`.
pub(crate) fn is_object(node: &Node) -> bool {
    node.as_map().is_some() && node.get("apiVersion").is_some() && node.get("kind").is_some()
}

/// What a file is, as far as its path and text tell.
pub(crate) enum Classified {
    /// A template of the Helm chart at `chart`: not read (the chart is noted once).
    ChartTemplate { chart: PathBuf },
    /// Not read as text.
    Unreadable(Unreadable),
    /// Template directives that happen to parse: not analysed. `directive` is where the first
    /// one is, when the file looks like a manifest (otherwise nothing of it is reported).
    Template { text: String, directive: Option<Span> },
    /// Parsed text, possibly with syntax errors inside.
    Parsed { text: String, stream: Stream },
}

/// Reads and classifies one file of the walk.
pub(crate) fn classify(
    path: &Path,
    chart_roots: &BTreeSet<PathBuf>,
    options: &WalkOptions,
    source: &FileSource,
) -> Classified {
    if let Some(chart) = is_chart_template(path, chart_roots) {
        return Classified::ChartTemplate { chart };
    }
    let (text, stream) = match read_from(path, options, source) {
        FileRead::Unreadable(reason) => return Classified::Unreadable(reason),
        FileRead::Parsed { text, stream } => (text, stream),
    };
    if let Some(directive) = stream.complex_keys.filter(|_| has_template_directives(&text)) {
        // `replicas: {{ .Values.replicas }}` parses, as a mapping used as a key: a template.
        let directive = text_looks_like_manifest(&text).then_some(directive);
        return Classified::Template { text, directive };
    }
    Classified::Parsed { text, stream }
}

/// A document of a parsed file, empty and null documents left out.
pub(crate) enum Doc<'a> {
    Object(&'a Node),
    /// Not a Kubernetes object: reported only if the file is a manifest file.
    NotAnObject(Span),
}

/// The documents of a stream, in order.
pub(crate) fn documents(stream: &Stream) -> impl Iterator<Item = Doc<'_>> {
    stream.documents.iter().filter_map(|doc| {
        let root = doc.root.as_ref().filter(|r| !r.is_null())?;
        Some(if is_object(root) { Doc::Object(root) } else { Doc::NotAnObject(root.span) })
    })
}

/// The problems of a parsed file's text, given whether some document held an object and where
/// the documents that are not objects are; `None` when the file is not a manifest file at all
/// (values.yaml, tsconfig.json, …), of which nothing is reported.
pub(crate) fn text_problems(
    text: &str,
    stream: &Stream,
    has_objects: bool,
    not_objects: &[Span],
) -> Option<Vec<(Span, FileProblem)>> {
    let is_manifest = has_objects || (!stream.errors.is_empty() && text_looks_like_manifest(text));
    if !is_manifest {
        return None;
    }
    let mut problems = Vec::new();
    for (span, key) in &stream.duplicate_keys {
        problems.push((*span, FileProblem::DuplicateKey { key: key.clone() }));
    }
    for span in not_objects {
        problems.push((*span, FileProblem::NotAnObject));
    }
    let templated = has_template_directives(text);
    for error in &stream.errors {
        let at = error.pos();
        problems.push((Span { start: at, end: at }, FileProblem::SyntaxError { error: error.clone(), templated }));
    }
    Some(problems)
}

//! Rendering: what the cluster receives from a kustomization or a Helm chart, mapped back to the
//! repository's files.
//!
//! A renderer is the real tool of the ecosystem (`kustomize build` or `kubectl kustomize`,
//! `helm template`), run as a child process; kubereach never imitates it. What it prints is parsed
//! like any manifest stream, and every node of that stream is mapped back to the place in the
//! repository it comes from ([`SpanMap`]), so that a finding on a rendered object points at a
//! file the user can edit, never at a temporary file. What a rendering read is *consumed*: those
//! files are not analysed again as plain manifests.
//!
//! This module owns the shared types; [`kustomize`], [`helm`] and [`sourced`] (streams carrying
//! `# Source:` comments: `helm template` output, standard input) produce them.

pub mod helm;
pub mod sourced;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub mod kustomize;

use super::yaml::Stream;
use crate::span::Span;

/// How to render: the commands to run and what the configuration says per chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// `false` under `--no-render`: kustomizations and charts are read as plain files.
    pub enabled: bool,
    /// The kustomize command and its leading arguments (`["kubectl", "kustomize"]`); `None`:
    /// found on PATH (`kustomize`, else `kubectl kustomize`).
    pub kustomize: Option<Vec<String>>,
    /// The helm command (`["helm"]`); `None`: `helm` when it is on PATH.
    pub helm: Option<Vec<String>>,
    /// What the configuration says of particular charts.
    pub charts: Vec<ChartOptions>,
    /// Where rendered outputs are cached between runs; `None`: no cache on disk.
    pub cache_dir: Option<PathBuf>,
}

/// The configuration of one Helm chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartOptions {
    /// The chart's folder (absolute or relative to the working directory).
    pub dir: PathBuf,
    /// Values files, in order (`helm template -f`).
    pub values: Vec<PathBuf>,
    /// The release namespace (`helm template --namespace`).
    pub namespace: Option<String>,
    /// The release name; `None`: the chart's folder name.
    pub release: Option<String>,
}

/// What one rendering yields: the stream the tool printed, parsed, with every node mapped back.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The text the renderer printed (spans of `stream` are positions in it). Never shown to
    /// users as a location.
    pub text: String,
    /// `text`, parsed.
    pub stream: Stream,
    /// Where each node of `stream` comes from in the repository.
    pub map: SpanMap,
    /// The repository files the rendering read (its kustomization files, resources, patches,
    /// generator inputs; a chart's templates and values): they are consumed, and locations point
    /// into them.
    pub read: BTreeSet<PathBuf>,
}

/// Where the nodes of a rendered stream come from: for a span of the rendered text, a file of the
/// repository and a span in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanMap {
    /// The source files, referred to by index.
    pub files: Vec<PathBuf>,
    /// (span in the rendered text, index into `files`, span in that file), sorted by the rendered
    /// span once [`SpanMap::finish`] has run.
    pub entries: Vec<(Span, u32, Span)>,
}

impl SpanMap {
    /// Records that the rendered node at `rendered` comes from `source` at `span`.
    pub fn push(&mut self, rendered: Span, source: &Path, span: Span) {
        let index = match self.files.iter().position(|f| f == source) {
            Some(i) => i,
            None => {
                self.files.push(source.to_path_buf());
                self.files.len() - 1
            }
        };
        self.entries.push((rendered, u32::try_from(index).unwrap_or(u32::MAX), span));
    }

    /// Sorts the entries for [`SpanMap::resolve`]; call once all are pushed. Of entries with one
    /// rendered span, the last pushed stays: a node is pushed after the nodes around it, and a
    /// block list of one item has the span of its item, whose place is the more precise.
    pub fn finish(&mut self) {
        self.entries.reverse();
        // Stable: among equal spans, the last pushed comes first and is the one `dedup` keeps.
        self.entries.sort_by_key(|e| e.0);
        self.entries.dedup_by(|a, b| a.0 == b.0);
    }

    /// Where a span of the rendered text comes from: the entry of exactly that span, else the
    /// innermost entry that contains it (a finding may span a few nodes, or point inside one).
    pub fn resolve(&self, rendered: Span) -> Option<(&Path, Span)> {
        let (index, span) = self.resolve_index(rendered)?;
        let file = self.files.get(index as usize)?;
        Some((file.as_path(), span))
    }

    /// [`SpanMap::resolve`], with the file as its index into `files`.
    pub fn resolve_index(&self, rendered: Span) -> Option<(u32, Span)> {
        let exact = self.entries.binary_search_by(|e| e.0.cmp(&rendered)).ok().map(|i| &self.entries[i]);
        let entry = exact.or_else(|| {
            // The last entry starting at or before the span's start that also covers its end.
            let upto = self.entries.partition_point(|e| e.0.start <= rendered.start);
            self.entries[..upto].iter().rev().find(|e| e.0.end >= rendered.end)
        })?;
        Some((entry.1, entry.2))
    }
}

/// Starts a renderer. An executable that another process still holds open for writing (just
/// installed, or written by a thread while another one forks) cannot be run for a moment
/// (`ETXTBSY`): that is retried a few times before it counts as a failure.
pub(crate) fn spawn(command: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    const TEXT_FILE_BUSY: i32 = 26;
    let mut attempt = 0;
    loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && attempt < 10 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(5 * attempt));
            }
            other => return other,
        }
    }
}

/// A rendering that failed: where to report it (a kustomization file, a `Chart.yaml`) and the
/// tool's own message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderFailure {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Pos;

    fn span(l1: u32, c1: u32, l2: u32, c2: u32) -> Span {
        Span { start: Pos { line: l1, col: c1 }, end: Pos { line: l2, col: c2 } }
    }

    #[test]
    fn a_span_resolves_exactly_or_to_the_innermost_node_around_it() {
        let mut map = SpanMap::default();
        map.push(span(1, 1, 10, 1), Path::new("doc.yaml"), span(1, 1, 5, 1));
        map.push(span(3, 3, 3, 20), Path::new("patch.yaml"), span(6, 9, 6, 21));
        map.finish();
        assert_eq!(map.resolve(span(3, 3, 3, 20)), Some((Path::new("patch.yaml"), span(6, 9, 6, 21))));
        assert_eq!(map.resolve(span(3, 5, 3, 8)), Some((Path::new("patch.yaml"), span(6, 9, 6, 21))));
        assert_eq!(map.resolve(span(2, 1, 4, 1)), Some((Path::new("doc.yaml"), span(1, 1, 5, 1))));
        assert_eq!(map.resolve(span(11, 1, 11, 2)), None);
    }
}

//! `check --format github`: one GitHub Actions workflow command per finding, which the runner
//! turns into an annotation on the file and line.
//!
//! `::error file=<path>,line=<l>,col=<c>,endLine=<l2>,endColumn=<c2>,title=kubereach <rule-id>::<message>`,
//! `warning` for warnings and `notice` for notes. Values are escaped as GitHub's toolkit
//! (`@actions/core`) escapes them: `%`, `\r` and `\n` in the message, and also `:` and `,` in
//! property values. Like the toolkit, the columns are left out when a finding spans several lines,
//! where GitHub does not accept them. Nothing else is written: a summary line would be read as
//! log noise by the runner, and the exit code already says whether the check failed.
//!
//! `file=` is relative to the repository root, as SARIF's URIs are: GitHub attaches an
//! annotation to a path of the repository, so one relative to the working directory (a job's
//! `working-directory`) would attach to nothing. A file outside the root keeps its shown path.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use crate::finding::{Finding, Level};
use crate::load::Files;
use crate::result::Outcome;
use crate::span::FileId;

/// Writes the annotations; paths relative to `root`, the repository root.
pub fn write(outcome: &Outcome, files: &Files, root: &Path, out: &mut dyn Write) -> io::Result<()> {
    let mut paths: HashMap<FileId, String> = HashMap::new();
    for finding in &outcome.findings {
        let file = finding.location.file;
        let path = paths.entry(file).or_insert_with(|| {
            files
                .get(file)
                .and_then(|source| super::sarif::path_below_root(&source.path, root))
                .unwrap_or_else(|| files.display(file).to_string())
        });
        writeln!(out, "{}", command(finding, path))?;
    }
    Ok(())
}

/// The workflow command for one finding, shown at `path`.
pub fn command(finding: &Finding, path: &str) -> String {
    let name = match finding.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "notice",
    };
    let span = finding.location.span;
    let mut properties = vec![("file", Cow::Borrowed(path)), ("line", span.start.line.to_string().into())];
    if span.start.line == span.end.line {
        properties.push(("col", span.start.col.to_string().into()));
    }
    properties.push(("endLine", span.end.line.max(span.start.line).to_string().into()));
    if span.start.line == span.end.line {
        properties.push(("endColumn", span.end.col.max(span.start.col).to_string().into()));
    }
    properties.push(("title", format!("kubereach {}", finding.rule).into()));
    let properties: Vec<String> =
        properties.iter().map(|(key, value)| format!("{key}={}", escape_property(value))).collect();
    format!("::{name} {}::{}", properties.join(","), escape_data(&super::shown_message(finding)))
}

/// Escapes a command's message (`escapeData` in `@actions/core`).
pub fn escape_data(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '\r', '\n']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A"))
}

/// Escapes a property value (`escapeProperty` in `@actions/core`).
pub fn escape_property(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '\r', '\n', ':', ',']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A").replace(':', "%3A").replace(',', "%2C"))
}

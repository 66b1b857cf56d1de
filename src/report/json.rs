//! `check --format json`: a stable, documented schema (see the README) for tools.

use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Finding;
use crate::load::Files;
use crate::result::order::{counts, LogicalKeys};
use crate::result::Outcome;
use crate::span::Location;

#[derive(Serialize)]
struct JsonLocation<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
}

impl<'a> JsonLocation<'a> {
    fn of(l: &Location, files: &'a Files) -> Self {
        JsonLocation {
            file: files.display(l.file),
            line: l.span.start.line,
            column: l.span.start.col,
            end_line: l.span.end.line,
            end_column: l.span.end.col,
        }
    }
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    #[serde(flatten)]
    location: JsonLocation<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    level: &'a str,
    message: &'a str,
    #[serde(flatten)]
    location: JsonLocation<'a>,
    /// The logical key: rule, object, field path, peer (what `--baseline` matches).
    key: String,
    object: &'a str,
    field: &'a str,
    peer: &'a str,
    related: Vec<JsonRelated<'a>>,
    path: Vec<JsonRelated<'a>>,
    /// The scopes that produce the finding, when the analysis has several.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    scopes: &'a [String],
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
    baselined: usize,
    /// Files read (YAML and JSON files the walk found), not only those with findings.
    files: usize,
    /// Files that hold at least one finding: the human summary's "in N files".
    files_with_findings: usize,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: Tool,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
}

fn related<'a>(items: &'a [crate::finding::Related], files: &'a Files) -> Vec<JsonRelated<'a>> {
    items.iter().map(|r| JsonRelated { location: JsonLocation::of(&r.location, files), message: &r.message }).collect()
}

fn finding<'a>(f: &'a Finding, files: &'a Files, keys: &mut LogicalKeys) -> JsonFinding<'a> {
    JsonFinding {
        rule: f.rule,
        level: f.level.as_str(),
        message: &f.message,
        location: JsonLocation::of(&f.location, files),
        key: keys.key(f),
        object: &f.key.object,
        field: &f.key.field,
        peer: &f.key.peer,
        related: related(&f.related, files),
        path: related(&f.path, files),
        scopes: &f.scopes,
    }
}

pub fn write(outcome: &Outcome, files: &Files, out: &mut dyn Write) -> io::Result<()> {
    let [errors, warnings, notes] = counts(&outcome.findings);
    let report = Report {
        version: 1,
        tool: Tool { name: "kubereach", version: env!("CARGO_PKG_VERSION") },
        summary: Summary {
            errors,
            warnings,
            notes,
            suppressed: outcome.suppressed,
            baselined: outcome.baselined,
            files: files.entries.len(),
            files_with_findings: outcome
                .findings
                .iter()
                .map(|f| f.location.file)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
        },
        findings: {
            let mut keys = LogicalKeys::new(files);
            outcome.findings.iter().map(|f| finding(f, files, &mut keys)).collect()
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

//! `check --format markdown`: a summary for a pull-request comment. Exposures first, then the
//! other findings, then (with `--diff-base`) the connections the change adds and removes. Tables
//! are capped so that the comment stays within what code hosts accept.
//!
//! Run in GitHub Actions, a finding's place is a link to the file and line at the commit checked
//! ([`Links`], from the workflow's variables), so that a reader of the comment gets there in one
//! click; elsewhere it is plain text.

use std::io::{self, Write};

use crate::finding::Finding;
use crate::graph::diff::EdgeChange;
use crate::load::Files;
use crate::result::{self, Outcome};
use crate::rules;

/// Rows per table before the rest is summarised.
const MAX_ROWS: usize = 100;

/// Where a finding's file and line are on the code host: `{blob}/{path}#L{line}` for a path
/// relative to `root`.
#[derive(Clone, Debug)]
pub struct Links {
    /// The repository root the paths are relative to.
    pub root: std::path::PathBuf,
    /// `https://github.com/OWNER/REPO/blob/SHA`.
    pub blob: String,
}

impl Links {
    /// The link to a file's line, for a file below the root.
    fn to(&self, path: &std::path::Path, line: u32) -> Option<String> {
        let rel = super::sarif::path_below_root(path, &self.root)?;
        let encoded: Vec<String> = rel.split('/').map(encode_path_segment).collect();
        Some(format!("{}/{}#L{line}", self.blob.trim_end_matches('/'), encoded.join("/")))
    }
}

/// A path segment for a URL: what could end the link or change its meaning is percent-encoded.
fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Text as one code span: the fence is longer than any run of backticks inside (CommonMark),
/// with a space on each side when the text touches a backtick; a column bar is escaped, as
/// tables require even inside code.
fn code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    let text = text.replace('|', "\\|").replace(['\n', '\r'], " ");
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text for a table cell: one line, no column breaks, and nothing a renderer would turn into
/// markup (messages quote manifest text, which a pull request controls: no links, images or HTML).
/// Inside a code span (between backticks) nothing is markup, and only the column bar is escaped,
/// as tables require.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '\n' => out.push(' '),
            '\r' => {}
            _ if in_code => out.push(c),
            '\\' | '[' | ']' | '!' | '*' | '_' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            other => out.push(other),
        }
    }
    out
}

fn is_exposure(rule: &str) -> bool {
    rules::find(rule).is_some_and(|m| m.tags.iter().any(|t| t == "exposure" || t == "multi-tenancy"))
}

fn findings_table(
    title: &str,
    findings: &[&Finding],
    files: &Files,
    links: Option<&Links>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "### {title}\n")?;
    writeln!(out, "| level | rule | where | finding |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for f in findings.iter().take(MAX_ROWS) {
        let at = f.location.span.start;
        let place = code(&format!("{}:{}:{}", files.display(f.location.file), at.line, at.col));
        let link = links.zip(files.get(f.location.file)).and_then(|(l, source)| l.to(&source.path, at.line));
        let place = match link {
            Some(url) => format!("[{place}]({url})"),
            None => place,
        };
        writeln!(out, "| {} | `{}` | {place} | {} |", f.level.as_str(), f.rule, cell(&super::shown_message(f)))?;
    }
    if findings.len() > MAX_ROWS {
        writeln!(out, "\n… and {} more.", findings.len() - MAX_ROWS)?;
    }
    writeln!(out)
}

/// `Nothing new: 14 findings, all already present in `HEAD~1``, or `… in the baseline`: the one
/// line that says why a report with findings to show is empty.
pub fn nothing_new(baselined: usize, base: Option<&str>) -> String {
    let findings =
        if baselined == 1 { "1 finding, already".to_string() } else { format!("{baselined} findings, all already") };
    match base {
        Some(base) => format!("Nothing new: {findings} present in {base}"),
        None => format!("Nothing new: {findings} in the baseline"),
    }
}

/// Writes the summary. `base` names the revision the findings and connections are compared with.
pub fn write(
    outcome: &Outcome,
    files: &Files,
    changes: Option<&[EdgeChange]>,
    base: Option<&str>,
    links: Option<&Links>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let [errors, warnings, notes] = result::order::counts(&outcome.findings);
    let new = if base.is_some() { "new " } else { "" };
    if outcome.findings.is_empty() {
        writeln!(out, "## kubereach: no {new}findings\n")?;
    } else {
        writeln!(
            out,
            "## kubereach: {} {new}finding{} ({errors} error{}, {warnings} warning{}, {notes} note{})\n",
            outcome.findings.len(),
            if outcome.findings.len() == 1 { "" } else { "s" },
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
            if notes == 1 { "" } else { "s" },
        )?;
    }
    if let Some(base) = base {
        writeln!(out, "Compared with {}.\n", code(base))?;
    }
    if outcome.findings.is_empty() && outcome.baselined > 0 {
        writeln!(out, "{}.\n", nothing_new(outcome.baselined, base.map(code).as_deref()))?;
    }
    // Most severe first within each table; report order otherwise.
    let mut exposures: Vec<&Finding> = outcome.findings.iter().filter(|f| is_exposure(f.rule)).collect();
    let mut others: Vec<&Finding> = outcome.findings.iter().filter(|f| !is_exposure(f.rule)).collect();
    exposures.sort_by_key(|f| std::cmp::Reverse(f.level));
    others.sort_by_key(|f| std::cmp::Reverse(f.level));
    findings_table("Exposure", &exposures, files, links, out)?;
    findings_table("Other findings", &others, files, links, out)?;
    if let Some(changes) = changes {
        let added = changes.iter().filter(|c| c.added).count();
        let removed = changes.len() - added;
        writeln!(out, "### Connections: {added} added, {removed} removed\n")?;
        if !changes.is_empty() {
            writeln!(out, "| | from | to | ports |")?;
            writeln!(out, "| --- | --- | --- | --- |")?;
            // Added first: what the change opens matters most.
            let ordered = changes.iter().filter(|c| c.added).chain(changes.iter().filter(|c| !c.added));
            for c in ordered.take(MAX_ROWS) {
                let sign = if c.added { "+" } else { "−" };
                writeln!(
                    out,
                    "| {sign} | {} | {} | {} |",
                    cell(&format!("`{}`", c.src)),
                    cell(&format!("`{}`", c.dst)),
                    cell(&c.conns)
                )?;
            }
            if changes.len() > MAX_ROWS {
                writeln!(out, "\n… and {} more.", changes.len() - MAX_ROWS)?;
            }
            writeln!(out)?;
        }
    }
    if outcome.suppressed > 0 || outcome.baselined > 0 {
        writeln!(
            out,
            "<sub>{} suppressed, {} already present{}</sub>",
            outcome.suppressed,
            outcome.baselined,
            if base.is_some() { " in the base" } else { " in the baseline" }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{cell, code};

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code("HEAD~1"), "`HEAD~1`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b"), "`a\\|b`");
    }

    #[test]
    fn cells_carry_no_markup() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("![x](http://e/x.png)"), "\\!\\[x\\](http://e/x.png)");
        assert_eq!(cell("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(cell("host `a.example.com`"), "host `a.example.com`");
        assert_eq!(cell("`shop/web[Deployment]` is <open>"), "`shop/web[Deployment]` is &lt;open&gt;");
    }
}

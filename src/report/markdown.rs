//! `check --format markdown`: a summary for a pull-request comment. Exposures first, then the
//! other findings, then (with `--diff-base`) the connections the change adds and removes. Tables
//! are capped so that the comment stays within what code hosts accept.

use std::io::{self, Write};

use crate::finding::Finding;
use crate::graph::diff::EdgeChange;
use crate::load::Files;
use crate::result::{self, Outcome};
use crate::rules;

/// Rows per table before the rest is summarised.
const MAX_ROWS: usize = 100;

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

fn findings_table(title: &str, findings: &[&Finding], files: &Files, out: &mut dyn Write) -> io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "### {title}\n")?;
    writeln!(out, "| level | rule | where | finding |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    for f in findings.iter().take(MAX_ROWS) {
        let at = f.location.span.start;
        writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            f.level.as_str(),
            f.rule,
            cell(&format!("`{}:{}:{}`", files.display(f.location.file), at.line, at.col)),
            cell(&super::shown_message(f))
        )?;
    }
    if findings.len() > MAX_ROWS {
        writeln!(out, "\n… and {} more.", findings.len() - MAX_ROWS)?;
    }
    writeln!(out)
}

/// Writes the summary. `base` names the revision the findings and connections are compared with.
pub fn write(
    outcome: &Outcome,
    files: &Files,
    changes: Option<&[EdgeChange]>,
    base: Option<&str>,
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
        writeln!(out, "Compared with `{}`.\n", cell(base))?;
    }
    // Most severe first within each table; report order otherwise.
    let mut exposures: Vec<&Finding> = outcome.findings.iter().filter(|f| is_exposure(f.rule)).collect();
    let mut others: Vec<&Finding> = outcome.findings.iter().filter(|f| !is_exposure(f.rule)).collect();
    exposures.sort_by_key(|f| std::cmp::Reverse(f.level));
    others.sort_by_key(|f| std::cmp::Reverse(f.level));
    findings_table("Exposure", &exposures, files, out)?;
    findings_table("Other findings", &others, files, out)?;
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
    use super::cell;

    #[test]
    fn cells_carry_no_markup() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("![x](http://e/x.png)"), "\\!\\[x\\](http://e/x.png)");
        assert_eq!(cell("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(cell("host `a.example.com`"), "host `a.example.com`");
        assert_eq!(cell("`shop/web[Deployment]` is <open>"), "`shop/web[Deployment]` is &lt;open&gt;");
    }
}

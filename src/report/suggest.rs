//! What `kubereach suggest` prints besides the files: the proof of the re-analysis (findings and
//! connections before and after, the connections kept), what was withheld, and the review items
//! with their evidence; as text for people, or as JSON.

use std::io::{self, Write};

use crate::load::Files;
use crate::suggest::Suggestion;

fn location(files: &Files, at: Option<crate::span::Location>) -> String {
    // A place in a renderer's output is shown where it was rendered from.
    match at.map(|l| files.resolve(l)) {
        Some(l) => format!("{}:{}:{}", files.display(l.file), l.span.start.line, l.span.start.col),
        None => String::new(),
    }
}

/// The proof and the review items, for people.
pub fn write_summary(s: &Suggestion, files: &Files, written_to: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let p = &s.proof;
    let names: Vec<&str> = s.files.iter().map(|f| f.file_name.as_str()).collect();
    match written_to {
        Some(dir) if !names.is_empty() => {
            writeln!(out, "suggested: {} file(s) in {dir}: {}", names.len(), names.join(", "))?
        }
        _ if names.is_empty() => {
            writeln!(out, "suggested: nothing (no namespace needs a policy the analysis could derive)")?
        }
        _ => writeln!(out, "suggested: {} file(s): {}", names.len(), names.join(", "))?,
    }
    writeln!(out, "\nproof (the suggestions applied in memory, the repository analysed again):")?;
    writeln!(
        out,
        "  findings:    {} before, {} after; {} closed, {} new",
        p.findings_before,
        p.findings_after,
        p.closed.len(),
        p.opened.len()
    )?;
    writeln!(out, "  connections: {} before, {} after", p.connections_before, p.connections_after)?;
    let kept = p.connections.iter().filter(|c| c.before && c.kept).count();
    let before = p.connections.iter().filter(|c| c.before).count();
    writeln!(out, "  intended connections still allowed: {kept} of {before}")?;
    let mut closed: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &p.closed {
        *closed.entry(f.rule).or_default() += 1;
    }
    for (rule, n) in closed {
        writeln!(out, "    closed {n:>4} {rule}")?;
    }
    let mut said = std::collections::BTreeSet::new();
    for f in p.remaining.iter().filter(|f| said.insert((f.rule, &f.message))) {
        writeln!(out, "  still open: {} {}: {}", f.rule, f.level.as_str(), f.message)?;
    }
    for f in &p.opened {
        let at = if crate::suggest::in_suggested_file(f.location.file) { "suggested file" } else { "repository" };
        writeln!(out, "  new ({at}): {} {}: {}", f.rule, f.level.as_str(), f.message)?;
    }
    for c in p.connections.iter().filter(|c| !c.kept) {
        writeln!(out, "  cut: {}", c.description)?;
    }
    for problem in &p.text_problems {
        writeln!(out, "  problem in the suggested text: {problem}")?;
    }
    for e in &p.broken_expectations {
        writeln!(out, "  expectation no longer holds: {e}")?;
    }
    for (ns, why) in &s.withheld {
        writeln!(out, "  withheld namespace `{ns}`: it would cut {}", why.join("; "))?;
    }
    if !s.review.is_empty() {
        writeln!(out, "\nreview ({}): what the suggestions could not infer", s.review.len())?;
        for r in &s.review {
            let at = location(files, r.evidence);
            let at = if at.is_empty() { String::new() } else { format!(" [{at}]") };
            writeln!(out, "  {}: {}{at}", r.subject, r.message)?;
        }
    }
    Ok(())
}

/// kubereach's JSON report of the findings, each with the fixes that close it, and under
/// `suggestion` the files, the proof, the withheld namespaces and the review items.
pub fn write_json(
    s: &Suggestion,
    outcome: &crate::result::Outcome,
    files: &Files,
    fixes: &dyn Fn(usize) -> Vec<crate::suggest::Fix>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut report = Vec::new();
    super::json::write_with_fixes(outcome, files, fixes, &mut report)?;
    let mut report: serde_json::Value = serde_json::from_slice(&report).map_err(io::Error::other)?;
    let p = &s.proof;
    let finding = |f: &crate::finding::Finding| serde_json::json!({ "rule": f.rule, "level": f.level.as_str(), "message": f.message, "object": f.key.object });
    let value = serde_json::json!({
        "files": s.files.iter().map(|f| serde_json::json!({
            "namespace": f.namespace, "file": f.file_name, "policies": f.policies, "text": f.text,
        })).collect::<Vec<_>>(),
        "proof": {
            "findings_before": p.findings_before,
            "findings_after": p.findings_after,
            "closed": p.closed.iter().map(finding).collect::<Vec<_>>(),
            "opened": p.opened.iter().map(finding).collect::<Vec<_>>(),
            "remaining": p.remaining.iter().map(finding).collect::<Vec<_>>(),
            "connections_before": p.connections_before,
            "connections_after": p.connections_after,
            "intended": p.connections.iter().map(|c| serde_json::json!({
                "connection": c.description, "allowed_before": c.before, "kept": c.kept,
            })).collect::<Vec<_>>(),
            "text_problems": p.text_problems,
            "broken_expectations": p.broken_expectations,
        },
        "withheld": s.withheld.iter().map(|(ns, why)| serde_json::json!({ "namespace": ns, "would_cut": why })).collect::<Vec<_>>(),
        "review": s.review.iter().map(|r| serde_json::json!({
            "namespace": r.namespace, "subject": r.subject, "message": r.message, "evidence": location(files, r.evidence),
        })).collect::<Vec<_>>(),
    });
    if let Some(object) = report.as_object_mut() {
        object.insert("suggestion".to_string(), value);
    }
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

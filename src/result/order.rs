//! The order and the identity of findings: how every report sorts them, and the logical key that
//! `--baseline` and `--diff-base` match them by.

use crate::finding::{Finding, Level};
use crate::load::Files;

/// Sorts findings as every report shows them: by displayed path, position, rule, message.
pub fn sort_findings(findings: &mut [Finding], files: &Files) {
    findings.sort_by(|a, b| {
        (files.display(a.location.file), a.location.span, a.rule, &a.message).cmp(&(
            files.display(b.location.file),
            b.location.span,
            b.rule,
            &b.message,
        ))
    });
}

/// The logical key of a finding as text: independent of file and line where the finding has an
/// object. A finding without one (a broken document) is keyed by the text of the line it points
/// at and its message, which a move or a rename of the file keeps; one about a whole file that has
/// no text (binary, too large) by the file's name.
pub fn logical_key(f: &Finding, files: &Files) -> String {
    if !f.key.object.is_empty() {
        return format!("{}|{}|{}|{}", f.rule, f.key.object, f.key.field, f.key.peer);
    }
    let file = files.get(f.location.file);
    let line = (f.location.span.start.line as usize).checked_sub(1);
    let whole = file.map(|file| file.text());
    let text = whole
        .as_deref()
        .zip(line)
        .and_then(|(whole, line)| whole.lines().nth(line))
        .map(str::trim)
        .filter(|text| !text.is_empty());
    match text {
        Some(text) => format!("{}|line:{text}|{}", f.rule, f.message),
        None => {
            let name = file.and_then(|file| file.path.file_name()).map(|n| n.to_string_lossy()).unwrap_or_default();
            format!("{}|file:{name}|{}", f.rule, f.message)
        }
    }
}

/// Counts per level, for summaries.
pub fn counts(findings: &[Finding]) -> [usize; 3] {
    let mut c = [0; 3];
    for f in findings {
        c[match f.level {
            Level::Error => 0,
            Level::Warning => 1,
            Level::Note => 2,
        }] += 1;
    }
    c
}

//! Stage 5, report: the only code that formats for people and tools.
//!
//! Graph formats live in [`graph`] and, as pictures, in [`picture`]; `explain` in [`explain`];
//! findings are rendered here. Nothing in this module decides what is true about the repository:
//! it prints what the earlier stages computed.

pub mod expect;
pub mod explain;
pub mod fingerprint;
pub mod github;
pub mod graph;
pub mod human;
pub mod json;
pub mod markdown;
pub mod picture;
pub mod sarif;
pub mod suggest;

use std::io::{self, Write};

use crate::finding::Finding;
use crate::load::Files;

/// A finding's message as reports show it: followed, when the analysis has several scopes, by
/// the scopes that produce it (`… (scopes: overlays/dev, overlays/prod)`).
pub fn shown_message(f: &Finding) -> std::borrow::Cow<'_, str> {
    match f.scopes.as_slice() {
        [] => std::borrow::Cow::Borrowed(&f.message),
        [one] => std::borrow::Cow::Owned(format!("{} (scope: {one})", f.message)),
        many => std::borrow::Cow::Owned(format!("{} (scopes: {})", f.message, many.join(", "))),
    }
}

/// One line per finding, `path:line:col: level[rule]: message`, the form editors and terminals
/// link to; used for the diagnostics of `graph` on standard error.
pub fn write_compact(findings: &[Finding], files: &Files, out: &mut dyn Write) -> io::Result<()> {
    for f in findings {
        let start = f.location.span.start;
        writeln!(
            out,
            "{}:{}:{}: {}[{}]: {}",
            files.display(f.location.file),
            start.line,
            start.col,
            f.level.as_str(),
            f.rule,
            shown_message(f)
        )?;
    }
    Ok(())
}

//! SARIF 2.1.0 for GitHub code scanning and editors (stub; being written).

use std::io::{self, Write};
use std::path::PathBuf;

use crate::check::Outcome;
use crate::load::Files;

/// What SARIF needs beyond the findings.
#[derive(Clone, Debug, Default)]
pub struct SarifOptions {
    /// `automationDetails.id` is written as `<category>/` when given.
    pub category: Option<String>,
    /// The repository root: artifact URIs are relative to it, with `uriBaseId: %SRCROOT%`.
    pub root: PathBuf,
}

pub fn write(_outcome: &Outcome, _files: &Files, _options: &SarifOptions, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"{}\n")
}

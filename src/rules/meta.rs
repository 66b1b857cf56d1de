//! Rule metadata as the reports read it: the front matter of `rules/<id>.md`, parsed and checked
//! by `build.rs` at build time (a broken document fails the build), with its body.

use super::Doc;
use crate::finding::Level;

#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    /// PascalCase spelling of the id.
    pub name: String,
    pub level: Level,
    /// A number from 0.0 to 10.0, as GitHub code scanning reads it.
    pub security_severity: String,
    pub precision: String,
    pub tags: Vec<String>,
    /// One line: the SARIF short description.
    pub summary: String,
    /// The Markdown body: what it finds, why it matters, how to fix, an example.
    pub body: &'static str,
}

impl RuleMeta {
    /// The metadata of a rule document that `build.rs` checked.
    pub(crate) fn from_doc(doc: &'static Doc) -> RuleMeta {
        RuleMeta {
            id: doc.id,
            name: doc.name.to_string(),
            level: doc.level,
            security_severity: doc.security_severity.to_string(),
            precision: doc.precision.to_string(),
            tags: doc.tags.iter().map(|t| t.to_string()).collect(),
            summary: doc.summary.to_string(),
            body: doc.body,
        }
    }

    /// The first paragraph of "What it finds": the SARIF full description.
    pub(crate) fn description(&self) -> String {
        let after = self.body.split_once("## What it finds").map_or(self.body, |(_, rest)| rest);
        after.trim_start().split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The help as plain text (the Markdown body without its code fences' language tags).
    pub(crate) fn help_text(&self) -> String {
        self.body.to_string()
    }

    pub fn is_security(&self) -> bool {
        self.tags.iter().any(|t| t == "security")
    }
}

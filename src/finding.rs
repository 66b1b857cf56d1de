//! Findings: what the rules report about the repository, with exact locations and a logical key.
//!
//! Earlier stages record typed facts (a load problem, a repeated object, an unresolved backend);
//! the rules alone turn them into findings, so that a rule's wording lives in its own file. This
//! module only holds data; formatting belongs to `report`.

use serde::Serialize;

use crate::span::Location;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    /// The level a word names (`error`, `warning`, `note`): the one parser of levels, for the
    /// configuration and the rules' documents.
    pub fn parse(word: &str) -> Option<Level> {
        Some(match word {
            "error" => Level::Error,
            "warning" => Level::Warning,
            "note" => Level::Note,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

/// A finding's identity, independent of file and line, so that a baseline or a diff survives moved
/// code and renamed files: the primary object (`Kind/namespace/name`), the field path, the peer.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FindingKey {
    pub object: String,
    pub field: String,
    pub peer: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
    pub location: Location,
    pub related: Vec<Related>,
    pub key: FindingKey,
    /// For exposure findings: the steps of the path, from the entry to the admitting rule.
    pub path: Vec<Related>,
    /// The scopes (clusters) that produce this finding, when the analysis has several; empty
    /// when it has one. Not part of the message, so that the logical key does not change when
    /// a scope is added or renamed.
    pub scopes: Vec<String>,
}

impl Finding {
    pub fn new(rule: &'static str, level: Level, location: Location, message: impl Into<String>) -> Self {
        Finding {
            rule,
            level,
            message: message.into(),
            location,
            related: Vec::new(),
            key: FindingKey::default(),
            path: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// Sets the logical key: the object as `Kind/namespace/name`, a field path, a peer.
    pub fn with_key(mut self, object: impl Into<String>, field: impl Into<String>, peer: impl Into<String>) -> Self {
        self.key = FindingKey { object: object.into(), field: field.into(), peer: peer.into() };
        self
    }

    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related { location, message: message.into() });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_reads_back_what_it_prints() {
        for level in [Level::Note, Level::Warning, Level::Error] {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::parse("Error"), None);
        assert_eq!(Level::parse("off"), None);
    }
}

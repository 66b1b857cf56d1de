//! Findings: what every stage reports about the repository, with exact locations.
//!
//! The loader and the model report broken input (`invalid-manifest`, `unrendered-template`,
//! `duplicate-object`, …) with the same type the rules use, so that every problem reaches the user
//! the same way. This module only holds data; formatting belongs to `report`.

use serde::Serialize;

use crate::load::yaml::Span;

/// Index of a file in [`crate::load::Files`].
pub type FileId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A place in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: FileId,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
    pub location: Location,
    pub related: Vec<Related>,
}

impl Finding {
    pub fn new(rule: &'static str, level: Level, location: Location, message: impl Into<String>) -> Self {
        Finding { rule, level, message: message.into(), location, related: Vec::new() }
    }

    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Self {
        self.related.push(Related { location, message: message.into() });
        self
    }
}

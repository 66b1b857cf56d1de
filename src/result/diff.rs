//! What a change adds to the findings: those of the working tree that a base revision lacks, or
//! has at a lower level. The connections a change adds and removes are [`crate::graph::diff`]'s.
//!
//! Findings are matched by their logical key (DESIGN §6), so a file that moves or is renamed
//! changes nothing.

use std::collections::BTreeMap;

use super::order::LogicalKeys;
use super::{Outcome, RuleSource};
use crate::finding::Level;
use crate::graph::Graph;
use crate::model::build::Loaded;

/// The logical keys of everything `check` reports on the base revision, with the highest level
/// reported under each.
pub fn finding_levels(base: &Loaded, graphs: &[Graph], settings: &dyn RuleSource) -> BTreeMap<String, Level> {
    let outcome = super::run(base, graphs, settings, None);
    let mut out: BTreeMap<String, Level> = BTreeMap::new();
    let mut keys = LogicalKeys::new(&base.files);
    for f in &outcome.findings {
        let level = out.entry(keys.key(f)).or_insert(f.level);
        *level = (*level).max(f.level);
    }
    out
}

/// Keeps the findings that the base does not have, or has at a lower level (a warning that became
/// an error is new); returns how many were left out.
pub fn keep_new(outcome: &mut Outcome, files: &crate::load::Files, base: &BTreeMap<String, Level>) -> usize {
    let before = outcome.findings.len();
    let mut keys = LogicalKeys::new(files);
    outcome.findings.retain(|f| base.get(&keys.key(f)).is_none_or(|was| *was < f.level));
    let left_out = before - outcome.findings.len();
    outcome.baselined += left_out;
    left_out
}

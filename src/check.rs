//! `check`: from the loaded repository and its graph to the findings a user sees.
//!
//! Order matters and is fixed here: loader findings and rule findings are pooled, then rule
//! selection, suppressions (annotations and comments, with unused ones reported), levels from
//! configuration, the baseline, and finally the report order.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::Loaded;
use crate::config::RuleLevel;
use crate::finding::{Finding, Level};
use crate::graph::Graph;
use crate::load::Files;
use crate::rules::{self, Context};
use crate::{report, suppress};

/// Which rules run and how loud they are.
#[derive(Clone, Debug, Default)]
pub struct RuleSettings {
    /// Rule ids to run (`all` or empty: every rule).
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub levels: BTreeMap<String, RuleLevel>,
}

impl RuleSettings {
    pub fn enabled(&self, id: &str) -> bool {
        let selected = self.select.is_empty() || self.select.iter().any(|s| s == "all" || s == id);
        selected && !self.ignore.iter().any(|s| s == id) && self.levels.get(id) != Some(&RuleLevel::Off)
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings to report, in report order.
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    /// Findings left out because the baseline holds them.
    pub baselined: usize,
}

/// The logical key of a finding as text: independent of file and line where the finding has an
/// object; a finding without one (a broken file) is keyed by its file and message.
pub fn logical_key(f: &Finding, files: &Files) -> String {
    if f.key.object.is_empty() {
        format!("{}|file:{}|{}", f.rule, files.display(f.location.file), f.message)
    } else {
        format!("{}|{}|{}|{}", f.rule, f.key.object, f.key.field, f.key.peer)
    }
}

pub fn run(loaded: &Loaded, graph: &Graph, settings: &RuleSettings, baseline: Option<&BTreeSet<String>>) -> Outcome {
    let enabled = |id: &str| settings.enabled(id);
    let cx = Context { model: &loaded.model, graph };
    let mut findings: Vec<Finding> = loaded.findings.iter().filter(|f| enabled(f.rule)).cloned().collect();
    findings.extend(rules::run(&cx, &enabled));
    let suppressed = suppress::apply(findings, &loaded.model, &loaded.files, &enabled);
    let mut findings = suppressed.kept;
    if enabled(suppress::UNUSED_SUPPRESSION) {
        findings.extend(suppressed.unused);
    }
    for f in &mut findings {
        if let Some(RuleLevel::Level(level)) = settings.levels.get(f.rule) {
            f.level = *level;
        }
    }
    let mut baselined = 0;
    if let Some(known) = baseline {
        let before = findings.len();
        findings.retain(|f| !known.contains(&logical_key(f, &loaded.files)));
        baselined = before - findings.len();
    }
    report::sort_findings(&mut findings, &loaded.files);
    Outcome { findings, suppressed: suppressed.suppressed, baselined }
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

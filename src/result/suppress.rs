//! Suppressions: the `kubereach.io/ignore` annotation on an object, and the comment
//! `# kubereach:ignore rule-id[,rule-id] -- reason` on the line of a finding or alone on the line
//! above it. A suppression that suppresses nothing is itself reported (`unused-suppression`).
//!
//! Comments are found by scanning the file text line by line (they are not in the YAML tree): a
//! `#` that starts a comment is one at the start of a line or after whitespace, outside quotes.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::finding::{Finding, Level};

use crate::load::Files;
use crate::model::Model;
use crate::span::{FileId, Location};
use crate::span::{Pos, Span};

pub const UNUSED_SUPPRESSION: &str = <crate::rules::ids::UnusedSuppression as crate::rules::Rule>::ID;
pub const MARKER: &str = "kubereach:ignore";

/// One suppression and which of its rule ids were used.
#[derive(Debug)]
struct Suppression {
    rules: Vec<String>,
    /// Where it is written (reported when unused).
    location: Location,
    /// What it covers: a document's span (annotation) or one line (comment).
    covers: Cover,
    /// Per rule id of `rules`: whether it suppressed a finding.
    used: Vec<bool>,
    /// The logical key's object and field: the annotated object, or the object whose document
    /// holds the comment (the file, for a comment outside any object).
    key: (String, String),
}

#[derive(Debug)]
enum Cover {
    Span(Span),
    Line(u32),
}

impl Suppression {
    fn new(rules: Vec<String>, location: Location, covers: Cover, key: (String, String)) -> Suppression {
        let used = vec![false; rules.len()];
        Suppression { rules, location, covers, used, key }
    }

    /// The index of the rule id that suppresses a finding of rule `id` at `location`, if any.
    fn applies(&self, id: &str, location: Location) -> Option<usize> {
        if location.file != self.location.file {
            return None;
        }
        let rule = self.rules.iter().position(|r| r == id).or_else(|| self.rules.iter().position(|r| r == "all"))?;
        let at = location.span.start;
        let covered = match self.covers {
            Cover::Span(span) => span.start <= at && at < span.end.max(Pos { line: span.end.line + 1, col: 1 }),
            Cover::Line(line) => at.line == line,
        };
        covered.then_some(rule)
    }
}

/// The result of applying suppressions: the findings kept, how many were suppressed, and the
/// unused-suppression findings.
pub struct Outcome {
    pub kept: Vec<Tagged>,
    pub suppressed: usize,
    pub unused: Vec<Finding>,
}

/// Parses a comment line's suppression, if any: `(rule ids, reason)`.
fn parse_comment(line: &str) -> Option<(usize, Vec<String>, bool)> {
    let hash = comment_start(line)?;
    let comment = line[hash + 1..].trim_start();
    let rest = comment.strip_prefix(MARKER)?;
    let (ids, reason) = match rest.split_once("--") {
        Some((ids, reason)) => (ids, !reason.trim().is_empty()),
        None => (rest, false),
    };
    let rules: Vec<String> =
        ids.split([',', ' ']).map(crate::rules::canonical_id).filter(|s| !s.is_empty()).map(str::to_string).collect();
    Some((hash, rules, reason))
}

/// The byte offset of the `#` that starts a comment on this line, outside quotes.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if prev_space => quote = Some(c),
            (None, '#') if prev_space => return Some(i),
            _ => {}
        }
        prev_space = c == ' ' || c == '\t';
    }
    None
}

/// Every object's metadata, for annotations and for the owner of a comment.
fn metas(model: &Model) -> Vec<&crate::model::Meta> {
    model
        .namespaces
        .iter()
        .map(|o| &o.meta)
        .chain(model.workloads.iter().map(|o| &o.meta))
        .chain(model.services.iter().map(|o| &o.meta))
        .chain(model.ingresses.iter().map(|o| &o.meta))
        .chain(model.ingress_classes.iter().map(|o| &o.meta))
        .chain(model.routes.iter().map(|o| &o.meta))
        .chain(model.policies.iter().map(|o| &o.meta))
        .chain(model.others.iter().map(|o| &o.meta))
        .chain(model.gateway.metas())
        .collect()
}

/// The `kubereach.io/ignore` annotations of one scope's objects.
fn collect_annotations(model: &Model) -> Vec<Suppression> {
    let mut out = Vec::new();
    for meta in metas(model) {
        if let Some((value, span)) = &meta.ignore_annotation {
            let rules = value
                .split(',')
                .map(crate::rules::canonical_id)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            out.push(Suppression::new(
                rules,
                Location { file: meta.file, span: *span },
                Cover::Span(meta.span),
                (meta.key(), format!("metadata.annotations[{}]", crate::model::extract::IGNORE_ANNOTATION)),
            ));
        }
    }
    out
}

/// The suppression comments of every file whose text is kept; `models` name the object a comment
/// is inside of, for its logical key.
fn collect_comments(files: &Files, models: &[&Model]) -> Vec<Suppression> {
    let mut out = Vec::new();
    // Every object's metadata by file, in model order, gathered when the first comment is met:
    // finding a comment's owner then looks at its own file's objects only.
    let mut by_file: Option<FxHashMap<FileId, Vec<&crate::model::Meta>>> = None;
    for (id, file) in files.entries.iter().enumerate() {
        // The loader keeps every text that holds the marker (`KeepText::Containing`), so a text
        // left on disk has no comment to read.
        if !file.kept_text.contains(MARKER) {
            continue;
        }
        let by_file = by_file.get_or_insert_with(|| {
            let mut map: FxHashMap<FileId, Vec<&crate::model::Meta>> = FxHashMap::default();
            for meta in models.iter().flat_map(|m| metas(m)) {
                map.entry(meta.file).or_default().push(meta);
            }
            map
        });
        let metas: &[&crate::model::Meta] = by_file.get(&(id as FileId)).map_or(&[], Vec::as_slice);
        let lines: Vec<&str> = file.kept_text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some((hash, rules, _reason)) = parse_comment(line) else { continue };
            let line_no = i as u32 + 1;
            let alone = line[..hash].trim().is_empty();
            // Alone on its line: it covers the next line that is not a comment or blank.
            let target = if alone {
                lines[i + 1..]
                    .iter()
                    .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                    .map_or(line_no, |k| line_no + 1 + k as u32)
            } else {
                line_no
            };
            let col = line[..hash].chars().count() as u32 + 1;
            let start = Pos { line: line_no, col };
            let end = Pos { line: line_no, col: line.chars().count() as u32 + 1 };
            let owner = metas
                .iter()
                .filter(|m| m.span.start.line <= target && target <= m.span.end.line)
                .min_by_key(|m| m.span.end.line - m.span.start.line);
            // Outside any object, the comment's own text names it: a move of the file, or lines
            // added above it, keep the key.
            let key = match owner {
                Some(m) => (m.key(), "comment".to_string()),
                None => ("comment".to_string(), line[hash..].trim().to_string()),
            };
            out.push(Suppression::new(
                rules,
                Location { file: id as FileId, span: Span { start, end } },
                Cover::Line(target),
                key,
            ));
        }
    }
    out
}

/// A finding of one scope: its scope's index, where the rule put it (a place in a rendered
/// stream for a rendered object), and the finding with its locations resolved to the repository.
#[derive(Clone, Debug)]
pub struct Tagged {
    pub scope: usize,
    pub raw: Location,
    pub finding: Finding,
}

/// Applies every suppression to the findings of every scope. An annotation suppresses the
/// findings of its own object in its own scope (matched where the rule put them, which for a
/// rendered object is its rendered document); a comment suppresses the findings located on its
/// line, whichever scope produced them. A suppression that several scopes see (a comment, an
/// annotation in a base rendered by two overlays) is unused only when no scope used it. A
/// suppression naming a rule that `enabled` turns off in the suppression's file is not reported
/// as unused: with the rule off, it could not have been used.
pub fn apply(
    findings: Vec<Tagged>,
    models: &[&Model],
    files: &Files,
    enabled: &dyn Fn(FileId, &str) -> bool,
) -> Outcome {
    let mut suppressions = collect_comments(files, models);
    let comments = suppressions.len();
    // Annotations: per scope, in that scope's coordinates.
    let mut scope_of: Vec<usize> = Vec::new();
    for (scope, model) in models.iter().enumerate() {
        let annotations = collect_annotations(model);
        scope_of.extend(std::iter::repeat_n(scope, annotations.len()));
        suppressions.extend(annotations);
    }
    if suppressions.is_empty() {
        return Outcome { kept: findings, suppressed: 0, unused: Vec::new() };
    }
    let mut by_file: BTreeMap<FileId, Vec<usize>> = BTreeMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        by_file.entry(s.location.file).or_default().push(i);
    }
    let mut kept = Vec::with_capacity(findings.len());
    let mut suppressed = 0;
    for tagged in findings {
        let by_annotation = by_file.get(&tagged.raw.file).and_then(|candidates| {
            candidates
                .iter()
                .filter(|&&i| i >= comments && scope_of[i - comments] == tagged.scope)
                .find_map(|&i| suppressions[i].applies(tagged.finding.rule, tagged.raw).map(|r| (i, r)))
        });
        let hit = by_annotation.or_else(|| {
            by_file.get(&tagged.finding.location.file).and_then(|candidates| {
                candidates.iter().filter(|&&i| i < comments).find_map(|&i| {
                    suppressions[i].applies(tagged.finding.rule, tagged.finding.location).map(|r| (i, r))
                })
            })
        });
        match hit {
            Some((i, rule)) => {
                suppressions[i].used[rule] = true;
                suppressed += 1;
            }
            None => kept.push(tagged),
        }
    }
    // An annotation seen by several scopes is one suppression, at its place in the repository.
    let mut merged: BTreeMap<(Location, Vec<String>), usize> = BTreeMap::new();
    let mut keep = vec![true; suppressions.len()];
    for i in comments..suppressions.len() {
        let at = files.resolve(suppressions[i].location);
        suppressions[i].location = at;
        match merged.get(&(at, suppressions[i].rules.clone())) {
            Some(&first) => {
                let used = std::mem::take(&mut suppressions[i].used);
                for (a, b) in suppressions[first].used.iter_mut().zip(used) {
                    *a |= b;
                }
                keep[i] = false;
            }
            None => {
                merged.insert((at, suppressions[i].rules.clone()), i);
            }
        }
    }
    let suppressions: Vec<Suppression> =
        suppressions.into_iter().zip(keep).filter(|(_, k)| *k).map(|(s, _)| s).collect();
    let mut unused = Vec::new();
    for s in &suppressions {
        let unknown: Vec<&String> = s.rules.iter().filter(|r| *r != "all" && crate::rules::find(r).is_none()).collect();
        let message = if !unknown.is_empty() {
            // Reported whether or not the rest of the suppression was used: a typo hides nothing.
            format!(
                "suppression names unknown rule{} {}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown
                    .iter()
                    .map(|r| format!("`{r}`{}", crate::rules::did_you_mean(r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if s.rules.is_empty() {
            "suppression names no rule".to_string()
        } else {
            // Each rule id answers for itself: one that is used does not excuse another that is
            // not. A rule turned off could not have been used, so it is not held against the list.
            let idle: Vec<&str> = s
                .rules
                .iter()
                .zip(&s.used)
                .filter(|(r, used)| !**used && crate::rules::find(r).is_none_or(|m| enabled(s.location.file, m.id)))
                .map(|(r, _)| r.as_str())
                .collect();
            if idle.is_empty() {
                continue;
            }
            if idle.len() == s.rules.len() {
                format!("suppression of {} suppresses nothing; remove it", s.rules.join(", "))
            } else {
                format!("{} in this suppression suppresses nothing; remove it from the list", idle.join(", "))
            }
        };
        unused.push(Finding::new(UNUSED_SUPPRESSION, Level::Warning, s.location, message).with_key(
            s.key.0.clone(),
            s.key.1.clone(),
            s.rules.join(","),
        ));
    }
    Outcome { kept, suppressed, unused }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_found_outside_quotes_only() {
        assert_eq!(
            parse_comment("  app: web # kubereach:ignore workload-not-isolated -- reviewed"),
            Some((11, vec!["workload-not-isolated".to_string()], true))
        );
        assert_eq!(parse_comment("# kubereach:ignore a,b").map(|(_, r, _)| r), Some(vec!["a".into(), "b".into()]));
        assert_eq!(parse_comment("  msg: \"# kubereach:ignore x\""), None);
        assert_eq!(parse_comment("  url: http://x#kubereach:ignore"), None);
    }
}

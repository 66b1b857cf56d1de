//! Every rule against its own fixtures and its own documentation (DESIGN §3, STYLE "Layout").
//!
//! Each registered rule has `rules/<id>.md` and `fixtures/<id>/` with:
//! - `fire/`: manifests whose objects must fire the rule;
//! - `quiet/`: near misses that must not fire it;
//! - `expected.txt`: every finding of the rule on `fire/`, one per line as
//!   `fire/<file>:<line>:<column> <level>`, sorted by file, line and column.
//!
//! The expectations are written from the rule's documentation and DESIGN, not recorded from the
//! tool. The built binary runs `check` on each folder with the rule selected, from
//! `fixtures/<id>/` so that the reported paths are `fire/…` and `quiet/…`, and only the findings
//! of that rule are compared. The rule documentation's example (the firing block and its
//! "Fixed" block) is run the same way.
//!
//! A rule whose findings depend on the cluster (a profile, tenants) has its configuration in
//! `fixtures/<id>/kubereach.yaml`; its fixtures and documentation examples run with it. A rule
//! about the configuration itself (expectations) keeps one per folder, `fire/.kubereach.yaml`
//! and `quiet/.kubereach.yaml`, which wins there: its findings are located in it.
//!
//! One exception: `unused-suppression` reports a suppression only when the rules it names are
//! enabled (a suppression of a rule turned off could not have been used), so its fixtures and
//! examples run with every rule enabled.

// Integration tests: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::{kubereach, RunExt as _, MANIFEST_DIR};

fn root() -> PathBuf {
    PathBuf::from(MANIFEST_DIR)
}

fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// The registered rule ids: the first column of `kubereach rules`.
fn registered_rules() -> Vec<String> {
    let out = kubereach(["rules"]).run();
    assert!(out.success(), "`kubereach rules` failed: {}", out.stderr);
    let ids: Vec<String> = out.stdout.lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect();
    assert!(!ids.is_empty(), "`kubereach rules` lists no rule");
    ids
}

/// What to pass to `--select` to run `rule`.
fn selection(rule: &str) -> &str {
    // A suppression is reported as unused only when the rules it names run.
    if rule == "unused-suppression" {
        "all"
    } else {
        rule
    }
}

/// One finding as `file:line:column level`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    file: String,
    line: u64,
    column: u64,
    level: String,
}

impl Hit {
    fn parse(text: &str) -> Option<Hit> {
        let (place, level) = text.trim().split_once(' ')?;
        let mut parts = place.rsplitn(3, ':');
        let column = parts.next()?.parse().ok()?;
        let line = parts.next()?.parse().ok()?;
        let file = parts.next()?.to_string();
        Some(Hit { file, line, column, level: level.trim().to_string() })
    }
}

impl std::fmt::Display for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{} {}", self.file, self.line, self.column, self.level)
    }
}

/// Runs `kubereach check PATH --select … --format json --fail-on never` from `cwd`, with the
/// default settings, and returns the findings of `rule`, sorted.
fn check(cwd: &Path, path: &str, rule: &str) -> Vec<Hit> {
    // The rule's fixture configuration (a profile, tenants) when it has one, else an empty one,
    // so that a `.kubereach.yaml` of the repository (found by walking up from the fixtures)
    // cannot change what the rules report.
    let settings = tempfile::tempdir().expect("temp dir");
    let config = configuration(rule, &cwd.join(path), settings.path());
    let out = kubereach(["check", path, "--select", selection(rule), "--format", "json", "--fail-on", "never"])
        .current_dir(cwd)
        .arg("--config")
        .arg(&config)
        .run();
    let stderr = &out.stderr;
    assert!(out.success(), "kubereach check {path} (in {}) failed ({:?}): {stderr}", cwd.display(), out.code);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("kubereach check {path} printed no JSON ({e}): {stderr}"));
    let findings = report["findings"].as_array().unwrap_or_else(|| panic!("no `findings` array in {report}"));
    let mut hits: Vec<Hit> = findings
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| Hit {
            file: f["file"].as_str().expect("finding file").to_string(),
            line: f["line"].as_u64().expect("finding line"),
            column: f["column"].as_u64().expect("finding column"),
            level: f["level"].as_str().expect("finding level").to_string(),
        })
        .collect();
    hits.sort();
    hits
}

/// The configuration a rule's fixtures in `folder` run with: the folder's own `.kubereach.yaml`,
/// else the rule's `fixtures/<rule>/kubereach.yaml`, else an empty one written in `scratch`.
fn configuration(rule: &str, folder: &Path, scratch: &Path) -> PathBuf {
    let folder_own = folder.join(".kubereach.yaml");
    if folder_own.is_file() {
        return folder_own;
    }
    let own = fixtures().join(rule).join("kubereach.yaml");
    let config = if own.is_file() { own } else { scratch.join("kubereach.yaml") };
    if !config.is_file() {
        std::fs::write(&config, "{}\n").expect("write empty configuration");
    }
    config
}

/// The lines of `fixtures/<rule>/expected.txt`, as written.
fn expected_lines(rule: &str) -> Vec<String> {
    let path = fixtures().join(rule).join("expected.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// Whether `dir` holds at least one file kubereach reads, at any depth.
fn has_manifests(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            return has_manifests(&path);
        }
        path.extension().and_then(|x| x.to_str()).is_some_and(|x| matches!(x, "yaml" | "yml" | "json"))
    })
}

/// Names of the entries of `dir` that satisfy `keep`, without `suffix`.
fn entries(dir: &Path, keep: impl Fn(&Path) -> bool, suffix: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| keep(p))
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(suffix)).map(str::to_string))
        .collect()
}

#[test]
fn every_rule_has_docs_and_fixtures() {
    let rules = registered_rules();
    let mut problems = Vec::new();
    for rule in &rules {
        let doc = root().join("rules").join(format!("{rule}.md"));
        if !doc.is_file() {
            problems.push(format!("{rule}: no documentation at rules/{rule}.md"));
        }
        let dir = fixtures().join(rule);
        for folder in ["fire", "quiet"] {
            if !has_manifests(&dir.join(folder)) {
                problems.push(format!("{rule}: fixtures/{rule}/{folder}/ holds no manifest"));
            }
        }
        if !dir.join("expected.txt").is_file() {
            problems.push(format!("{rule}: no fixtures/{rule}/expected.txt"));
            continue;
        }
        let lines = expected_lines(rule);
        if lines.is_empty() {
            problems.push(format!("{rule}: fixtures/{rule}/expected.txt lists no finding"));
        }
        let mut parsed = Vec::new();
        for line in &lines {
            match Hit::parse(line) {
                Some(hit) if hit.file.starts_with("fire/") && ["error", "warning", "note"].contains(&&*hit.level) => {
                    parsed.push(hit)
                }
                _ => problems.push(format!(
                    "{rule}: expected.txt line `{line}` is not `fire/<file>:<line>:<column> <error|warning|note>`"
                )),
            }
        }
        if parsed.windows(2).any(|w| w[0] > w[1]) {
            problems.push(format!("{rule}: expected.txt is not sorted by file, line and column"));
        }
    }
    let registered: BTreeSet<String> = rules.iter().cloned().collect();
    for doc in entries(&root().join("rules"), |p| p.is_file(), ".md") {
        if !registered.contains(&doc) {
            problems.push(format!("rules/{doc}.md documents no registered rule"));
        }
    }
    for folder in entries(&fixtures(), |p| p.is_dir(), "") {
        if !registered.contains(&folder) {
            problems.push(format!("fixtures/{folder}/ belongs to no registered rule"));
        }
    }
    assert!(problems.is_empty(), "rules without docs or fixtures:\n{}", problems.join("\n"));
}

#[test]
fn fixtures_fire_exactly_where_expected() {
    let mut report = String::new();
    for rule in registered_rules() {
        let dir = fixtures().join(&rule);
        if !dir.join("fire").is_dir() || !tools_of(&rule) {
            continue; // every_rule_has_docs_and_fixtures reports it
        }
        let mut want: Vec<Hit> = expected_lines(&rule)
            .iter()
            .map(|l| Hit::parse(l).unwrap_or_else(|| panic!("{rule}: malformed expected.txt line `{l}`")))
            .collect();
        want.sort();
        let got = check(&dir, "fire", &rule);
        if got == want {
            continue;
        }
        // Multiset differences, so that a finding reported twice where once is expected shows.
        let mut missing = want.clone();
        let mut unexpected = Vec::new();
        for hit in &got {
            match missing.iter().position(|h| h == hit) {
                Some(i) => {
                    missing.remove(i);
                }
                None => unexpected.push(hit.clone()),
            }
        }
        writeln!(report, "{rule} (fixtures/{rule}/fire):").unwrap();
        for hit in &missing {
            writeln!(report, "  missing    {hit}").unwrap();
        }
        for hit in &unexpected {
            writeln!(report, "  unexpected {hit}").unwrap();
        }
    }
    assert!(report.is_empty(), "findings differ from expected.txt:\n{report}");
}

#[test]
fn quiet_fixtures_stay_quiet() {
    let mut report = String::new();
    for rule in registered_rules() {
        let dir = fixtures().join(&rule);
        if !dir.join("quiet").is_dir() || !tools_of(&rule) {
            continue; // every_rule_has_docs_and_fixtures reports it
        }
        for hit in check(&dir, "quiet", &rule) {
            writeln!(report, "{rule}: {hit}").unwrap();
        }
    }
    assert!(report.is_empty(), "quiet fixtures fire their rule:\n{report}");
}

/// The file an example is written to: the name its first line gives as a comment
/// (`# kustomization.yaml`), else `example.yaml`.
fn example_file_name(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    match first.strip_prefix("# ") {
        Some(name) if !name.contains(' ') && (name.ends_with(".yaml") || name == "Kustomization") => name.to_string(),
        _ => "example.yaml".to_string(),
    }
}

/// Whether the outside tools a rule's fixtures need are here: `render-failed` runs kustomize
/// (kubectl's). Missing, the rule's fixtures are skipped outside CI and fail under it.
fn tools_of(rule: &str) -> bool {
    match rule {
        "render-failed" => common::require_tool("kubectl", "kustomize renders the kustomizations").is_some(),
        _ => true,
    }
}

/// The first two ```yaml blocks of the document's "## Example" section: the manifest that fires
/// and the fixed one.
fn doc_examples(doc: &str) -> Vec<String> {
    let Some((_, section)) = doc.split_once("\n## Example") else { return Vec::new() };
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + "```yaml\n".len()..];
        let Some(end) = body.find("\n```") else { break };
        blocks.push(format!("{}\n", &body[..end]));
        rest = &body[end + "\n```".len()..];
        if blocks.len() == 2 {
            break;
        }
    }
    blocks
}

#[test]
fn doc_examples_behave_as_documented() {
    let mut report = String::new();
    for rule in registered_rules() {
        let path = root().join("rules").join(format!("{rule}.md"));
        let Ok(doc) = std::fs::read_to_string(&path) else {
            continue; // every_rule_has_docs_and_fixtures reports it
        };
        let blocks = doc_examples(&doc);
        let [fires, fixed] = blocks.as_slice() else {
            writeln!(report, "{rule}: the Example section has {} ```yaml blocks, expected 2", blocks.len()).unwrap();
            continue;
        };
        if !tools_of(&rule) {
            continue;
        }
        for (text, should_fire) in [(fires, true), (fixed, false)] {
            let dir = tempfile::tempdir().expect("temp dir");
            std::fs::write(dir.path().join(example_file_name(text)), text).expect("write example");
            let hits = check(dir.path(), ".", &rule);
            let what = if should_fire { "firing example" } else { "fixed example" };
            if should_fire && hits.is_empty() {
                writeln!(report, "{rule}: the {what} does not fire").unwrap();
            }
            if !should_fire && !hits.is_empty() {
                let list = hits.iter().map(Hit::to_string).collect::<Vec<_>>().join(", ");
                writeln!(report, "{rule}: the {what} still fires: {list}").unwrap();
            }
        }
    }
    assert!(report.is_empty(), "rule documentation examples:\n{report}");
}

/// What a user sees for each rule: the human report of its `fire/` fixtures, with the source
/// snippets, the related locations and, for exposures, the path from the entry to the policy rule
/// that admits the traffic, every step with its file, line and column. `fixtures_fire_exactly_where_expected`
/// pins where the findings are; these snapshots pin what they say.
#[test]
fn every_rule_renders_its_fixtures() {
    for rule in registered_rules() {
        let dir = fixtures().join(&rule);
        if !dir.join("fire").is_dir() || !tools_of(&rule) {
            continue; // every_rule_has_docs_and_fixtures reports it
        }
        let settings = tempfile::tempdir().expect("temp dir");
        let config = configuration(&rule, &dir.join("fire"), settings.path());
        let out = kubereach(["check", "fire", "--select", selection(&rule), "--format", "human", "--fail-on", "never"])
            .current_dir(&dir)
            .arg("--config")
            .arg(&config)
            .run();
        assert!(out.success(), "{rule}: {}", out.stderr);
        let text = out.stdout;
        assert!(text.contains(&format!("kubereach::{rule}")), "{rule}: its fixtures render none of its findings");
        insta::assert_snapshot!(format!("rendered_{rule}"), text);
    }
}

//! SARIF 2.1.0 for GitHub code scanning and editors (DESIGN.md §9).
//!
//! The log is built with the types of the `serde-sarif` crate (generated from the SARIF schema;
//! optional members are skipped when empty, maps are `BTreeMap`s, members are written in a fixed
//! order), so the output is deterministic: the same findings give the same bytes.
//!
//! What GitHub reads, and how it is written here:
//! - `tool.driver` carries every rule of [`crate::rules::all`], with or without results, so that
//!   `ruleIndex` is the rule's place in the registry;
//! - an artifact's `uri` is relative to [`SarifOptions::root`] (the repository root), with `/`
//!   separators, percent-encoded, and `uriBaseId: %SRCROOT%`; a file outside the root gets an
//!   absolute `file://` URI and no base;
//! - regions have start and end line and column; columns are 1-based UTF-16 code units
//!   (`run.columnKind`), converted from the loader's columns (Unicode scalar values) with the
//!   file's text;
//! - `partialFingerprints` holds `primaryLocationLineHash`, computed as the upload action does
//!   (see [`super::fingerprint`]), and the finding's logical key under
//!   [`crate::result::baseline::SARIF_KEY`], which `--baseline` reads back. A file the loader could not
//!   read as text (binary, not UTF-8, too large) gets no line hash: the action computes it from
//!   the bytes, which kubereach did not keep.
//!
//! - a finding reported below its rule's default level (an internet exposure guarded by TLS or
//!   source ranges is a note of a warning rule) gets a rule of its own, `<rule-id>/<level>`, with
//!   a `security-severity` no higher than that level is worth: code scanning reads the severity
//!   per rule, so under the rule's own id a guarded note would show as a High alert. The logical
//!   key and the line hash stay those of the finding, so only the rule id differs;
//! - code scanning's limits ([`Limits`]) are kept: past them the most severe results are kept,
//!   and the run's `toolExecutionNotifications` (and the returned notes, which the command line
//!   prints on standard error) say what was left out.
//!
//! `serde-sarif` 0.8 derives serde's traits but does not turn on serde's `derive` feature itself;
//! it builds here because this crate depends on serde with that feature.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde_json::json;
use serde_sarif::sarif;

use super::fingerprint::LineHashes;
use crate::finding::{Finding, Level, Related};
use crate::load::{self, Files};
use crate::result::baseline::SARIF_KEY;
use crate::result::order::LogicalKeys;
use crate::result::Outcome;
use crate::rules::{self, RuleMeta};
use crate::span::Pos;
use crate::span::{FileId, Location};

/// What SARIF needs beyond the findings.
#[derive(Clone, Debug, Default)]
pub struct SarifOptions {
    /// `automationDetails.id` is written as `<category>/` when given.
    pub category: Option<String>,
    /// The repository root: artifact URIs are relative to it, with `uriBaseId: %SRCROOT%`.
    pub root: PathBuf,
    /// What code scanning accepts and shows.
    pub limits: Limits,
}

/// GitHub code scanning's limits on one run ("SARIF results exceed one or more limits" in
/// GitHub's documentation): past a hard limit the upload is rejected; past a soft one only part
/// is kept. Lower values are for tests (the hidden `--sarif-max-results`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Results per run accepted (hard).
    pub results: usize,
    /// Results per run kept and shown (soft): the rest is dropped by code scanning.
    pub shown: usize,
    /// The gzipped file, in bytes (hard).
    pub gzipped_bytes: u64,
    /// Locations (here: related locations) per result (hard).
    pub locations: usize,
    /// Thread-flow locations per result (hard).
    pub thread_flow_locations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // 10 MB read as 10,000,000 bytes: the smaller of the two readings.
        Limits {
            results: 25_000,
            shown: 5_000,
            gzipped_bytes: 10_000_000,
            locations: 1_000,
            thread_flow_locations: 10_000,
        }
    }
}

/// What the writer had to leave out to stay within [`Limits`], one sentence each, for standard
/// error; the same sentences are the run's notifications.
pub type Notes = Vec<String>;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/kubereach/kubereach";
/// The base every relative artifact URI is resolved against.
pub const SRCROOT: &str = "%SRCROOT%";
/// Where the rule documents live, for `helpUri`.
const RULE_DOCS: &str = "https://github.com/kubereach/kubereach/blob/main/rules/";

/// GitHub code scanning's limits (characters), past which an upload is rejected.
const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1000;
/// GitHub shows at most this many tags per rule.
const MAX_TAGS: usize = 10;

/// Writes the log; returns what had to be left out to stay within code scanning's limits.
pub fn write(outcome: &Outcome, files: &Files, options: &SarifOptions, out: &mut dyn Write) -> io::Result<Notes> {
    let limits = options.limits;
    let mut kept = by_severity(&outcome.findings, limits.shown.min(limits.results));
    let total = kept.len();
    let mut notes = Notes::new();
    if kept.len() > limits.results {
        kept.truncate(limits.results);
    }
    // Room for the notifications, added once the results are settled (a few hundred bytes).
    let budget = limits.gzipped_bytes.saturating_sub(4096);
    loop {
        let (log, mut cut) = build(&kept, files, options, &[]);
        let mut bytes = serde_json::to_vec_pretty(&log)?;
        bytes.push(b'\n');
        drop(log);
        // Uncompressed bytes bound the gzipped ones: compress only a log that could be too large.
        let gzipped = if bytes.len() as u64 > budget { gzipped_len(&bytes)? } else { bytes.len() as u64 };
        if gzipped > budget && kept.len() > 1 {
            // Keep a share of the most severe results that should fit, with a margin.
            if kept.len() == total {
                kept = by_severity(&outcome.findings, 0);
            }
            let share = (budget as f64 / gzipped as f64) * 0.9;
            let fewer = ((kept.len() as f64) * share).floor() as usize;
            kept.truncate(fewer.clamp(1, kept.len() - 1));
            continue;
        }
        if kept.len() < total {
            let why = if total > limits.results && kept.len() == limits.results {
                format!("code scanning accepts at most {} results per run", limits.results)
            } else {
                format!("code scanning accepts at most {} bytes of gzipped SARIF", limits.gzipped_bytes)
            };
            notes.push(format!(
                "{} of {total} results written ({why}): the most severe are kept, the other {} left out; \
                 --format json reports every finding",
                kept.len(),
                total - kept.len()
            ));
        }
        if kept.len() > limits.shown {
            notes.push(format!(
                "code scanning shows at most {} results of a run: the {} results are written most severe first",
                limits.shown,
                kept.len()
            ));
        }
        notes.append(&mut cut);
        if notes.is_empty() {
            out.write_all(&bytes)?;
        } else {
            // Built again with the notifications.
            drop(bytes);
            let (log, _) = build(&kept, files, options, &notes);
            serde_json::to_writer_pretty(&mut *out, &log)?;
            out.write_all(b"\n")?;
        }
        return Ok(notes);
    }
}

/// The findings most severe first (level, then the rule's security severity), report order
/// otherwise; in report order when code scanning keeps them all, so that nothing moves.
fn by_severity(findings: &[Finding], kept_all_up_to: usize) -> Vec<&Finding> {
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    if ordered.len() > kept_all_up_to {
        let severity = |f: &Finding| -> u32 {
            let score = rules::find(f.rule).and_then(|m| m.security_severity.parse::<f64>().ok()).unwrap_or(0.0);
            (score.clamp(0.0, 10.0) * 10.0) as u32
        };
        ordered.sort_by_key(|f| (std::cmp::Reverse(f.level), std::cmp::Reverse(severity(f))));
    }
    ordered
}

/// The size of `bytes` gzipped, as the upload action sends them.
fn gzipped_len(bytes: &[u8]) -> io::Result<u64> {
    struct Count(u64);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut encoder = flate2::write::GzEncoder::new(Count(0), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.0)
}

/// The sibling rule of `meta` for findings reported at `level`, below its default.
fn lowered_id(meta: &RuleMeta, level: Level) -> String {
    format!("{}/{}", meta.id, level.as_str())
}

/// Whether a finding at `level` of `meta` needs a rule of its own: it is below the rule's
/// default, and code scanning would show it at a severity above what that level is worth (the
/// severity is shown for rules tagged `security` only; elsewhere the level is shown as it is).
/// Other findings keep their rule's id, so their alerts stay as they were.
fn lowered(meta: &RuleMeta, level: Level) -> bool {
    level < meta.level
        && meta.is_security()
        && meta.security_severity.parse::<f64>().is_ok_and(|s| s > severity_cap(level))
}

/// The rule id a finding is reported under.
fn reported_id(f: &Finding) -> String {
    match rules::find(f.rule) {
        Some(meta) if lowered(meta, f.level) => lowered_id(meta, f.level),
        _ => f.rule.to_string(),
    }
}

fn build(findings: &[&Finding], files: &Files, options: &SarifOptions, notes: &[String]) -> (sarif::Sarif, Notes) {
    let metas = rules::all();
    // Rules every finding refers to: the registry, then any id a finding carries that the
    // registry lacks (a defect elsewhere; it still gets a descriptor so that `ruleIndex` holds),
    // then the rules of findings reported below their rule's default level.
    let mut index: HashMap<String, usize> = metas.iter().enumerate().map(|(i, m)| (m.id.to_string(), i)).collect();
    let unknown: BTreeSet<&str> = findings.iter().map(|f| f.rule).filter(|id| !index.contains_key(*id)).collect();
    let mut descriptors: Vec<sarif::ReportingDescriptor> = metas.iter().map(descriptor).collect();
    for id in unknown {
        index.insert(id.to_string(), descriptors.len());
        descriptors.push(unknown_descriptor(id));
    }
    let lowered: BTreeSet<(&str, Level)> = findings
        .iter()
        .filter(|f| rules::find(f.rule).is_some_and(|m| lowered(m, f.level)))
        .map(|f| (f.rule, f.level))
        .collect();
    for (id, level) in lowered {
        if let Some(meta) = rules::find(id) {
            index.insert(lowered_id(meta, level), descriptors.len());
            descriptors.push(lowered_descriptor(meta, level));
        }
    }

    let root = absolute(&options.root);
    let mut cx = Context {
        files,
        keys: LogicalKeys::new(files),
        root: &root,
        artifacts: HashMap::new(),
        limits: options.limits,
        cut: CutCounts::default(),
    };
    let results: Vec<sarif::Result> = findings
        .iter()
        .map(|f| {
            let id = reported_id(f);
            let at = index.get(&id).copied();
            cx.result(f, id, at)
        })
        .collect();
    let cut = cx.cut.notes(&options.limits);

    let version = env!("CARGO_PKG_VERSION");
    let driver = sarif::ToolComponent::builder()
        .name("kubereach")
        .version(version)
        .semantic_version(version)
        .information_uri(INFORMATION_URI)
        .rules(descriptors)
        .build();
    let base_ids =
        BTreeMap::from([(SRCROOT.to_string(), sarif::ArtifactLocation::builder().uri(directory_uri(&root)).build())]);
    let mut invocation = sarif::Invocation::builder().execution_successful(true).build();
    if !notes.is_empty() || !cut.is_empty() {
        let notifications = notes
            .iter()
            .chain(&cut)
            .map(|text| {
                let mut n = sarif::Notification::builder()
                    .message(sarif::Message::builder().text(sentence(text)).build())
                    .build();
                n.level = Some(json!("warning"));
                n
            })
            .collect();
        invocation.tool_execution_notifications = Some(notifications);
    }
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .original_uri_base_ids(base_ids)
        .column_kind(json!("utf16CodeUnits"))
        .invocations(vec![invocation])
        .results(results);
    let run = match automation_id(options.category.as_deref()) {
        Some(id) => run.automation_details(sarif::RunAutomationDetails::builder().id(id).build()).build(),
        None => run.build(),
    };
    (sarif::Sarif::builder().schema(SCHEMA_URI).version(json!("2.1.0")).runs(vec![run]).build(), cut)
}

/// Locations cut from results to stay within the per-result limits.
#[derive(Default)]
struct CutCounts {
    related: usize,
    steps: usize,
}

impl CutCounts {
    fn notes(&self, limits: &Limits) -> Notes {
        let mut notes = Notes::new();
        if self.related > 0 {
            notes.push(format!(
                "{} results had more than {} related locations; the first {} of each are written",
                self.related, limits.locations, limits.locations
            ));
        }
        if self.steps > 0 {
            notes.push(format!(
                "{} results had paths of more than {} steps; the first {} of each are written",
                self.steps, limits.thread_flow_locations, limits.thread_flow_locations
            ));
        }
        notes
    }
}

/// `<category>/`, as the upload action writes it: a category that already ends in `/` is kept.
pub fn automation_id(category: Option<&str>) -> Option<String> {
    let category = category.map(str::trim).filter(|c| !c.is_empty())?;
    Some(if category.ends_with('/') { category.to_string() } else { format!("{category}/") })
}

fn result_level(l: Level) -> sarif::ResultLevel {
    match l {
        Level::Error => sarif::ResultLevel::Error,
        Level::Warning => sarif::ResultLevel::Warning,
        Level::Note => sarif::ResultLevel::Note,
    }
}

/// Cuts `text` to at most `max` characters, at a word boundary, with an ellipsis.
fn limit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(at) if at > 0 => cut[..at].trim_end().to_string(),
        _ => cut,
    };
    format!("{cut}…")
}

/// A message as SARIF rules want it: one that ends with a period (or other final punctuation).
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        return String::from("(no message).");
    }
    match text.chars().last() {
        Some('.' | '!' | '?' | '…') => text.to_string(),
        _ => format!("{text}."),
    }
}

fn descriptor(meta: &RuleMeta) -> sarif::ReportingDescriptor {
    let mut tags: Vec<String> = Vec::new();
    // `security` first so that the cut to GitHub's limit never drops it.
    if meta.is_security() {
        tags.push("security".to_string());
    }
    for t in &meta.tags {
        if t != "security" && !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags.truncate(MAX_TAGS);
    let properties = BTreeMap::from([
        ("precision".to_string(), json!(meta.precision)),
        ("security-severity".to_string(), json!(meta.security_severity)),
    ]);
    let full = meta.description();
    let full = if full.trim().is_empty() { meta.summary.clone() } else { full };
    let help_text = meta.help_text();
    let help_text = if help_text.trim().is_empty() { sentence(&meta.summary) } else { help_text };
    let help_markdown = if meta.body.trim().is_empty() { help_text.clone() } else { meta.body.to_string() };
    sarif::ReportingDescriptor::builder()
        .id(meta.id)
        .name(limit(&meta.name, MAX_NAME))
        .short_description(
            sarif::MultiformatMessageString::builder().text(limit(&meta.summary, MAX_DESCRIPTION)).build(),
        )
        .full_description(sarif::MultiformatMessageString::builder().text(limit(&full, MAX_DESCRIPTION)).build())
        .help(sarif::MultiformatMessageString::builder().text(help_text).markdown(help_markdown).build())
        .help_uri(format!("{RULE_DOCS}{}.md", meta.id))
        .default_configuration(sarif::ReportingConfiguration::builder().level(json!(meta.level.as_str())).build())
        .properties(sarif::PropertyBag::builder().tags(tags).additional_properties(properties).build())
        .build()
}

/// The highest `security-severity` a finding at `level` is worth, whatever its rule's: code
/// scanning shows 9.0 and above as Critical, 7.0 to 8.9 as High, 4.0 to 6.9 as Medium and below
/// as Low, so a note is at most Low and a warning at most Medium.
fn severity_cap(level: Level) -> f64 {
    match level {
        Level::Note => 2.0,
        Level::Warning => 5.0,
        Level::Error => 10.0,
    }
}

/// The rule of `meta`'s findings reported at `level`, below the rule's default: the same
/// documentation, said to be for those findings, at a severity that level is worth.
fn lowered_descriptor(meta: &RuleMeta, level: Level) -> sarif::ReportingDescriptor {
    let mut d = descriptor(meta);
    let id = lowered_id(meta, level);
    let word = level.as_str();
    let capped = severity_cap(level);
    let lead = format!(
        "The findings of `{}` that kubereach reports at level {word}, below the rule's default ({}): judged of less \
         weight (for an exposure: an entry guarded by TLS or by source ranges), or lowered by the configuration.",
        meta.id,
        meta.level.as_str()
    );
    d.id = id;
    d.name = Some(limit(&format!("{}{}{}", meta.name, word[..1].to_uppercase(), &word[1..]), MAX_NAME));
    d.short_description = Some(
        sarif::MultiformatMessageString::builder()
            .text(limit(&format!("{} ({word})", meta.summary), MAX_DESCRIPTION))
            .build(),
    );
    if let Some(help) = d.help.as_mut() {
        help.text = format!("{lead}\n\n{}", help.text);
        help.markdown = help.markdown.as_ref().map(|m| format!("{lead}\n\n{m}"));
    }
    d.default_configuration = Some(sarif::ReportingConfiguration::builder().level(json!(word)).build());
    if let Some(props) = d.properties.as_mut() {
        props.additional_properties.insert("security-severity".to_string(), json!(format!("{capped:.1}")));
    }
    d
}

fn unknown_descriptor(id: &str) -> sarif::ReportingDescriptor {
    let text = format!("kubereach rule {id}.");
    sarif::ReportingDescriptor::builder()
        .id(id)
        .name(id)
        .short_description(sarif::MultiformatMessageString::builder().text(text.clone()).build())
        .full_description(sarif::MultiformatMessageString::builder().text(text.clone()).build())
        .help(sarif::MultiformatMessageString::builder().text(text.clone()).markdown(text).build())
        .default_configuration(sarif::ReportingConfiguration::builder().level(json!("warning")).build())
        .build()
}

/// What a file contributes to the log, computed once per file.
struct Artifact<'a> {
    /// The `uri` and, for a file below the root, `%SRCROOT%`.
    uri: String,
    base: Option<&'static str>,
    /// The byte ranges of the text's lines, split as YAML (and the upload action) split them.
    lines: Vec<Range<usize>>,
    /// Computed for files that hold a primary location.
    hashes: Option<LineHashes>,
    path: &'a Path,
    /// The kept text, or one read back from disk: only files that findings point at have one.
    text: Cow<'a, str>,
}

impl Artifact<'_> {
    /// The text of a 1-based line, without its line break.
    fn line(&self, line: u32) -> Option<&str> {
        let range = self.lines.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        self.text.get(range.clone())
    }
}

struct Context<'a> {
    files: &'a Files,
    keys: LogicalKeys<'a>,
    root: &'a Path,
    artifacts: HashMap<FileId, Artifact<'a>>,
    limits: Limits,
    cut: CutCounts,
}

impl<'a> Context<'a> {
    fn artifact(&mut self, file: FileId) -> &mut Artifact<'a> {
        let (files, root) = (self.files, self.root);
        self.artifacts.entry(file).or_insert_with(|| {
            let Some(source) = files.get(file) else {
                // Not a file of this analysis (a defect elsewhere): a placeholder, never a panic.
                let uri = encode_segment(files.display(file));
                return Artifact {
                    uri,
                    base: Some(SRCROOT),
                    lines: std::iter::once(0..0).collect(),
                    hashes: None,
                    path: Path::new(""),
                    text: Cow::Borrowed(""),
                };
            };
            let (path, text) = (source.path.as_path(), source.text());
            let (uri, base) = match artifact_uri(path, root) {
                Uri::Relative(uri) => (uri, Some(SRCROOT)),
                Uri::Absolute(uri) => (uri, None),
            };
            Artifact { uri, base, lines: split_lines(&text), hashes: None, path, text }
        })
    }

    fn physical(&mut self, location: &Location) -> sarif::PhysicalLocation {
        let artifact = self.artifact(location.file);
        let mut place = sarif::ArtifactLocation::builder().uri(artifact.uri.clone()).build();
        place.uri_base_id = artifact.base.map(str::to_string);
        let (start, end) = region(|n| artifact.line(n), location.span.start, location.span.end);
        let region = sarif::Region::builder()
            .start_line(i64::from(start.line))
            .start_column(i64::from(start.col))
            .end_line(i64::from(end.line))
            .end_column(i64::from(end.col))
            .build();
        sarif::PhysicalLocation::builder().artifact_location(place).region(region).build()
    }

    fn line_hash(&mut self, location: &Location) -> Option<String> {
        let artifact = self.artifact(location.file);
        let hashes = artifact.hashes.get_or_insert_with(|| {
            if artifact.text.is_empty() && !load::is_empty_file(artifact.path) {
                // Text the loader did not keep: no lines to hash.
                LineHashes::default()
            } else if load::starts_with_bom(artifact.path) {
                LineHashes::new(&format!("\u{feff}{}", artifact.text))
            } else {
                LineHashes::new(&artifact.text)
            }
        });
        hashes.line(location.span.start.line).map(str::to_string)
    }

    fn location(&mut self, location: &Location, message: Option<&str>, id: Option<usize>) -> sarif::Location {
        let mut loc = sarif::Location::builder().physical_location(self.physical(location)).build();
        loc.message = message.map(|m| sarif::Message::builder().text(sentence(m)).build());
        loc.id = id.and_then(|i| i64::try_from(i).ok());
        loc
    }

    fn related(&mut self, related: &[Related]) -> Vec<sarif::Location> {
        if related.len() > self.limits.locations {
            self.cut.related += 1;
        }
        let related = &related[..related.len().min(self.limits.locations)];
        related.iter().enumerate().map(|(i, r)| self.location(&r.location, Some(&r.message), Some(i + 1))).collect()
    }

    fn code_flow(&mut self, path: &[Related]) -> sarif::CodeFlow {
        if path.len() > self.limits.thread_flow_locations {
            self.cut.steps += 1;
        }
        let steps: Vec<sarif::ThreadFlowLocation> = path[..path.len().min(self.limits.thread_flow_locations)]
            .iter()
            .map(|step| {
                sarif::ThreadFlowLocation::builder()
                    .location(self.location(&step.location, Some(&step.message), None))
                    .build()
            })
            .collect();
        sarif::CodeFlow::builder().thread_flows(vec![sarif::ThreadFlow::builder().locations(steps).build()]).build()
    }

    fn result(&mut self, f: &Finding, rule_id: String, rule_index: Option<usize>) -> sarif::Result {
        let mut fingerprints = BTreeMap::from([(SARIF_KEY.to_string(), self.keys.key(f))]);
        if let Some(hash) = self.line_hash(&f.location) {
            fingerprints.insert("primaryLocationLineHash".to_string(), hash);
        }
        let primary = self.location(&f.location, None, None);
        let mut result = sarif::Result::builder()
            .rule_id(rule_id)
            .level(result_level(f.level))
            .message(sarif::Message::builder().text(sentence(&super::shown_message(f))).build())
            .locations(vec![primary])
            .partial_fingerprints(fingerprints)
            .build();
        if !f.scopes.is_empty() {
            let scopes = serde_json::json!({ "scopes": f.scopes });
            result.properties = serde_json::from_value(scopes).ok();
        }
        result.rule_index = rule_index.and_then(|i| i64::try_from(i).ok());
        if !f.related.is_empty() {
            result.related_locations = Some(self.related(&f.related));
        }
        if !f.path.is_empty() {
            result.code_flows = Some(vec![self.code_flow(&f.path)]);
        }
        result
    }
}

/// Lines split on `\r\n`, `\r` and `\n`, as YAML and the upload action count them.
fn split_lines(text: &str) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(at) = text[start..].find(['\r', '\n']).map(|at| start + at) {
        lines.push(start..at);
        start = at + if text[at..].starts_with("\r\n") { 2 } else { 1 };
    }
    lines.push(start..text.len());
    lines
}

/// The 1-based UTF-16 column of a 1-based column counted in Unicode scalar values. A column past
/// the end of the line (or on a line the text lacks) counts one unit per missing character.
fn utf16_column(line: Option<&str>, col: u32) -> u32 {
    let chars = usize::try_from(col.max(1) - 1).unwrap_or(usize::MAX);
    let mut units = 0usize;
    let mut seen = 0usize;
    for c in line.unwrap_or("").chars().take(chars) {
        units += c.len_utf16();
        seen += 1;
    }
    let units = units.saturating_add(chars - seen);
    u32::try_from(units).unwrap_or(u32::MAX - 1).saturating_add(1)
}

/// The region of a span in UTF-16 columns: an end before the start becomes the start, and an
/// exclusive end at the start of a later line becomes the end of the line before it.
fn region<'t>(line_text: impl Fn(u32) -> Option<&'t str>, start: Pos, end: Pos) -> (Pos, Pos) {
    let start = Pos { line: start.line.max(1), col: start.col.max(1) };
    let mut end = if end < start { start } else { end };
    if end.col <= 1 && end.line > start.line {
        let line = end.line - 1;
        let chars = line_text(line).map_or(0, |l| l.chars().count());
        end = Pos { line, col: u32::try_from(chars).unwrap_or(u32::MAX - 1).saturating_add(1) };
    }
    let start16 = Pos { line: start.line, col: utf16_column(line_text(start.line), start.col) };
    let mut end16 = Pos { line: end.line, col: utf16_column(line_text(end.line), end.col) };
    if end16.line == start16.line && end16.col < start16.col {
        end16.col = start16.col;
    }
    (start16, end16)
}

enum Uri {
    /// Relative to the root.
    Relative(String),
    /// `file://…`.
    Absolute(String),
}

/// An absolute, lexically normalised path (no `.` or `..`), without touching the file system.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The URI of a file: relative to `root` when it is below it (as found, or once symbolic links
/// are resolved), else an absolute `file://` URI of its resolved path.
fn artifact_uri(path: &Path, root: &Path) -> Uri {
    let lexical = absolute(path);
    if let Ok(rel) = lexical.strip_prefix(root) {
        return Uri::Relative(relative_uri(rel));
    }
    let resolved = load::canonical_path(&lexical);
    let root_resolved = load::canonical_path(root);
    match resolved.strip_prefix(&root_resolved) {
        Ok(rel) => Uri::Relative(relative_uri(rel)),
        Err(_) => Uri::Absolute(file_uri(&resolved)),
    }
}

/// A file's path relative to the repository root, with `/` separators and not encoded, as GitHub
/// wants it in a workflow annotation or a link; `None` for a file outside the root. The same
/// test as the SARIF artifacts' (as found, or once symbolic links are resolved).
pub fn path_below_root(path: &Path, root: &Path) -> Option<String> {
    let root = absolute(root);
    let lexical = absolute(path);
    let rel = match lexical.strip_prefix(&root) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => load::canonical_path(&lexical).strip_prefix(load::canonical_path(&root)).ok()?.to_path_buf(),
    };
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A relative path as a URI reference: segments percent-encoded, joined with `/`.
fn relative_uri(rel: &Path) -> String {
    let segments: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(encode_bytes(&os_bytes(s))),
            _ => None,
        })
        .collect();
    segments.join("/")
}

/// `file:///…` for an absolute path (a Windows drive becomes `file:///C:/…`).
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for c in path.components() {
        match c {
            Component::Prefix(p) => {
                uri.push('/');
                uri.push_str(&p.as_os_str().to_string_lossy().replace('\\', "/"));
            }
            Component::Normal(s) => {
                uri.push('/');
                uri.push_str(&encode_bytes(&os_bytes(s)));
            }
            Component::RootDir | Component::CurDir | Component::ParentDir => {}
        }
    }
    if uri == "file://" {
        uri.push('/');
    }
    uri
}

/// The `file://` URI of a directory, ending with `/` as `originalUriBaseIds` requires.
fn directory_uri(path: &Path) -> String {
    let mut uri = file_uri(path);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Percent-encodes one path segment: unreserved characters and the sub-delimiters that are safe in
/// a path stay, everything else (space, `%`, `:`, `#`, `?`, non-ASCII, …) becomes `%XX` of its
/// UTF-8 bytes. `:` is encoded so that a first segment never reads as a scheme.
fn encode_segment(segment: &str) -> String {
    encode_bytes(segment.as_bytes())
}

/// A file name's bytes as the file system has them: on Unix a name need not be UTF-8, and its
/// bytes percent-encoded map back to the file where a lossy conversion (U+FFFD) would not.
fn os_bytes(name: &std::ffi::OsStr) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt as _;
        Cow::Borrowed(name.as_bytes())
    }
    #[cfg(not(unix))]
    {
        match name.to_string_lossy() {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }
    }
}

fn encode_bytes(segment: &[u8]) -> String {
    let mut out = String::with_capacity(segment.len());
    for &b in segment {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b'@' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_gets_one_trailing_slash() {
        assert_eq!(automation_id(Some("kubereach")), Some("kubereach/".to_string()));
        assert_eq!(automation_id(Some("a/b/")), Some("a/b/".to_string()));
        assert_eq!(automation_id(Some("  ")), None);
        assert_eq!(automation_id(None), None);
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("my file.yaml"), "my%20file.yaml");
        assert_eq!(encode_segment("a%b#c?d:e"), "a%25b%23c%3Fd%3Ae");
        assert_eq!(encode_segment("café"), "caf%C3%A9");
        assert_eq!(encode_segment("x-y_z.~(1)"), "x-y_z.~(1)");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_name_that_is_not_utf8_keeps_its_bytes() {
        use std::os::unix::ffi::OsStrExt as _;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
        let rel = Path::new("deploy").join(name);
        assert_eq!(relative_uri(&rel), "deploy/caf%E9.yaml", "not caf%EF%BF%BD (U+FFFD)");
        assert_eq!(file_uri(&Path::new("/r").join(name)), "file:///r/caf%E9.yaml");
    }

    #[test]
    fn uris_relative_to_root_or_absolute() {
        let root = Path::new("/repo");
        match artifact_uri(Path::new("/repo/deploy/my app/a.yaml"), root) {
            Uri::Relative(u) => assert_eq!(u, "deploy/my%20app/a.yaml"),
            Uri::Absolute(u) => panic!("expected relative, got {u}"),
        }
        match artifact_uri(Path::new("/elsewhere/b.yaml"), root) {
            Uri::Absolute(u) => assert_eq!(u, "file:///elsewhere/b.yaml"),
            Uri::Relative(u) => panic!("expected absolute, got {u}"),
        }
        assert_eq!(directory_uri(Path::new("/repo")), "file:///repo/");
        assert_eq!(directory_uri(Path::new("/")), "file:///");
    }

    #[test]
    fn lines_split_on_every_break() {
        let split = |text: &str| split_lines(text).into_iter().map(|r| text[r].to_string()).collect::<Vec<_>>();
        assert_eq!(split("a\r\nb\rc\nd"), ["a", "b", "c", "d"]);
        assert_eq!(split(""), [""]);
        assert_eq!(split("a\n"), ["a", ""]);
    }

    #[test]
    fn columns_count_utf16_units() {
        // `😀` is two UTF-16 units, `é` one.
        let line = Some("name: é😀x");
        assert_eq!(utf16_column(line, 1), 1);
        assert_eq!(utf16_column(line, 7), 7);
        assert_eq!(utf16_column(line, 8), 8);
        assert_eq!(utf16_column(line, 9), 10);
        assert_eq!(utf16_column(line, 10), 11);
        // Past the end: one unit per missing character.
        assert_eq!(utf16_column(line, 12), 13);
        assert_eq!(utf16_column(None, 3), 3);
        assert_eq!(utf16_column(line, 0), 1);
    }

    #[test]
    fn regions_are_never_inverted() {
        let lines = ["a: 😀b", "c: d"];
        let lines = |n: u32| lines.get(n as usize - 1).copied();
        let p = |line, col| Pos { line, col };
        // Empty span stays empty and valid.
        assert_eq!(region(lines, p(1, 5), p(1, 5)), (p(1, 6), p(1, 6)));
        // An end at the start of the next line ends the line before.
        assert_eq!(region(lines, p(1, 1), p(2, 1)), (p(1, 1), p(1, 7)));
        // An end before the start collapses to the start.
        assert_eq!(region(lines, p(2, 3), p(1, 1)), (p(2, 3), p(2, 3)));
    }

    #[test]
    fn messages_end_with_a_period() {
        assert_eq!(sentence("open to all"), "open to all.");
        assert_eq!(sentence("done."), "done.");
        assert_eq!(sentence(""), "(no message).");
    }

    #[test]
    fn long_text_is_cut_at_a_word() {
        let text = "word ".repeat(300);
        let cut = limit(&text, MAX_DESCRIPTION);
        assert!(cut.chars().count() <= MAX_DESCRIPTION);
        assert!(cut.ends_with("word…"));
        assert_eq!(limit("short", 10), "short");
    }
}

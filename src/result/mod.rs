//! The result stage: from the loaded repository and its graph to the findings a user sees.
//!
//! Order matters and is fixed here: the rules' findings (those about the input included), then rule
//! selection, suppressions (annotations and comments, with unused ones reported), levels from
//! configuration, the baseline, and finally the report order.
//!
//! A report may be limited to some files ([`FileFilter`], `check --only-files`, for pre-commit):
//! the whole repository is still loaded and every rule still sees every object, because
//! reachability is global (a policy in one file isolates a workload in another); only what is
//! reported is limited, to findings whose primary location lies in those files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::config::RuleLevel;
use crate::finding::Finding;
use crate::graph::expect::Expectation;
use crate::graph::Graph;
use crate::load::{self, Files};
use crate::model::build::Loaded;
use crate::rules::{self, Context};
use crate::span::FileId;

pub mod baseline;
pub mod diff;
pub mod expect;
pub mod order;
pub mod pipeline;
pub mod scopes;
pub mod settings;
pub mod suppress;

use rayon::prelude::*;
use suppress::Tagged;

/// Which rules run and how loud they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSettings {
    /// Rule ids to run (`all` or empty: every rule).
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub levels: BTreeMap<String, RuleLevel>,
}

impl RuleSettings {
    pub fn enabled(&self, id: &str) -> bool {
        let selected = self.select.is_empty() || self.select.iter().any(|s| s == "all" || s == id);
        // `all` in `ignore` ignores every rule, as in `select` it selects every one.
        selected && !self.ignore.iter().any(|s| s == "all" || s == id) && self.levels.get(id) != Some(&RuleLevel::Off)
    }
}

/// Where rule settings come from: one set for every file (a library caller, a test), or the
/// configuration that governs each file ([`settings::Settings`]).
pub trait RuleSource: Sync {
    /// The rule settings of findings located in `path`.
    fn rules_for(&self, path: &Path) -> &RuleSettings;
    /// Whether some file may have rule `id` enabled: which rules run at all.
    fn any_enabled(&self, id: &str) -> bool;
    /// The settings of every file, when they are the same for all (no lookup per file then).
    fn uniform(&self) -> Option<&RuleSettings>;
    /// The reachability expectations that govern a scope, with their configuration file.
    fn expectations(&self, _scope: &crate::model::build::ScopeSettings) -> Option<(&Path, &[Expectation])> {
        None
    }
}

impl RuleSource for RuleSettings {
    fn rules_for(&self, _: &Path) -> &RuleSettings {
        self
    }
    fn any_enabled(&self, id: &str) -> bool {
        self.enabled(id)
    }
    fn uniform(&self) -> Option<&RuleSettings> {
        Some(self)
    }
}

/// The rule settings of each file of an analysis, looked up once per file that has findings.
struct PerFile<'a> {
    source: &'a dyn RuleSource,
    files: &'a Files,
    resolved: std::sync::Mutex<Vec<Option<&'a RuleSettings>>>,
}

impl<'a> PerFile<'a> {
    fn new(source: &'a dyn RuleSource, files: &'a Files) -> Self {
        PerFile { source, files, resolved: std::sync::Mutex::new(vec![None; files.entries.len()]) }
    }

    fn of(&self, file: FileId) -> &'a RuleSettings {
        if let Some(only) = self.source.uniform() {
            return only;
        }
        let lookup = || match self.files.get(file) {
            Some(f) => self.source.rules_for(&f.path),
            None => self.source.rules_for(Path::new(".")),
        };
        let Ok(mut resolved) = self.resolved.lock() else { return lookup() };
        match resolved.get_mut(file as usize) {
            Some(slot) => slot.get_or_insert_with(lookup),
            None => lookup(),
        }
    }

    fn enabled(&self, file: FileId, id: &str) -> bool {
        self.of(file).enabled(id)
    }
}

#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings to report, in report order.
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    /// Findings left out because the baseline holds them.
    pub baselined: usize,
    /// What the findings were drawn from, for summaries: a clean report of nothing must not
    /// look like a clean repository.
    pub analysed: Analysed,
}

/// How much input an analysis saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Analysed {
    /// YAML and JSON files the walk found (read or not).
    pub files: usize,
    /// Files that declared at least one object.
    pub manifests: usize,
    pub objects: usize,
    /// Scopes (clusters) that held objects.
    pub scopes: usize,
    /// Kustomizations and charts rendered.
    pub rendered: usize,
}

impl Analysed {
    pub fn of(loaded: &Loaded) -> Analysed {
        // Renderers' outputs are not files of the repository; standard input (its text kept) is
        // what was given to read.
        let files = loaded.files.entries.iter().filter(|f| f.map.is_none() || !f.kept_text.is_empty()).count();
        Analysed {
            files,
            manifests: loaded.manifests,
            objects: loaded.objects,
            scopes: loaded.scopes_with_objects().count(),
            rendered: loaded.rendered,
        }
    }
}

/// The files a report is limited to (`check --only-files`). Paths are compared once resolved
/// ([`load::canonical_path`]), so `./a.yaml`, `a.yaml`, an absolute path and a symbolic link to
/// the file all name it. A path that names no loaded manifest simply selects nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFilter {
    wanted: BTreeSet<PathBuf>,
}

impl FileFilter {
    pub fn new<P: AsRef<Path>>(paths: impl IntoIterator<Item = P>) -> Self {
        FileFilter { wanted: paths.into_iter().map(|p| load::canonical_path(p.as_ref())).collect() }
    }

    /// Whether `path` is one of the files.
    pub fn contains(&self, path: &Path) -> bool {
        self.wanted.contains(&load::canonical_path(path))
    }

    /// Keeps the findings whose primary location is in one of the files; related locations and
    /// path steps elsewhere do not count, as the finding is shown (and fixed) where it points.
    pub fn retain(&self, findings: &mut Vec<Finding>, files: &Files) {
        self.retain_by(findings, files, |f| f.location.file);
    }

    /// [`FileFilter::retain`] for anything that names a file.
    pub fn retain_by<T>(&self, items: &mut Vec<T>, files: &Files, file_of: impl Fn(&T) -> crate::span::FileId) {
        // Resolving a path costs system calls: once per file that has findings, not per finding.
        let mut selected: Vec<Option<bool>> = vec![None; files.entries.len()];
        items.retain(|item| {
            let file = file_of(item);
            let Some(slot) = selected.get_mut(file as usize) else { return false };
            *slot.get_or_insert_with(|| files.get(file).is_some_and(|f| f.map.is_none() && self.contains(&f.path)))
        });
    }
}

pub fn run(loaded: &Loaded, graphs: &[Graph], rules: &dyn RuleSource, baseline: Option<&BTreeSet<String>>) -> Outcome {
    run_for_files(loaded, graphs, rules, baseline, None)
}

/// [`run`], with the report limited to the findings located in `only` when it is given.
/// `graphs` holds each scope's graph, in the order of `loaded.scopes`.
///
/// Rule selection and levels are those of the configuration that governs the file of each
/// finding's primary location (resolved to the repository): a rule runs when some file has it
/// on, and its findings are kept where their file's settings have it on.
pub fn run_for_files(
    loaded: &Loaded,
    graphs: &[Graph],
    rules: &dyn RuleSource,
    baseline: Option<&BTreeSet<String>>,
    only: Option<&FileFilter>,
) -> Outcome {
    run_for_scope(loaded, graphs, rules, baseline, only, None)
}

/// [`run_for_files`], limited to the scope at index `scope` when it is given (`check --scope`).
pub fn run_for_scope(
    loaded: &Loaded,
    graphs: &[Graph],
    rules: &dyn RuleSource,
    baseline: Option<&BTreeSet<String>>,
    only: Option<&FileFilter>,
    scope: Option<usize>,
) -> Outcome {
    let files = &loaded.files;
    let per_file = PerFile::new(rules, files);
    let runs = |id: &str| rules.uniform().map_or_else(|| rules.any_enabled(id), |all| all.enabled(id));
    let expectations = expect::bind(loaded, graphs, rules);
    // Each scope on its own, in parallel; every location then resolved to the repository.
    let per_scope: Vec<Vec<Finding>> = loaded
        .scopes
        .par_iter()
        .zip(graphs.par_iter())
        .enumerate()
        .map(|(i, (s, graph))| match scope {
            Some(chosen) if chosen != i => Vec::new(),
            _ => {
                let cx = Context::new(s, graph);
                let cx = match expectations.get(i).and_then(Option::as_ref) {
                    Some(e) => cx.with_expectations(e),
                    None => cx,
                };
                rules::run(&cx, &runs)
            }
        })
        .collect();
    let mut findings: Vec<Tagged> = Vec::with_capacity(per_scope.iter().map(Vec::len).sum());
    for (scope, found) in per_scope.into_iter().enumerate() {
        for mut finding in found {
            let raw = finding.location;
            resolve_locations(&mut finding, files);
            findings.push(Tagged { scope, raw, finding });
        }
    }
    if rules.uniform().is_none() {
        findings.retain(|t| per_file.enabled(t.finding.location.file, t.finding.rule));
    }
    // Filtering before suppressions is exact, since a suppression only covers findings of its own
    // file, and it keeps the count of suppressed findings to the files reported. Suppressions in
    // other files then look unused; their findings are filtered out in turn.
    if let Some(only) = only {
        only.retain_by(&mut findings, files, |t| t.finding.location.file);
    }
    let models: Vec<&crate::model::Model> = loaded.scopes.iter().map(|s| &s.model).collect();
    let suppressed = suppress::apply(findings, &models, files, &|file, id| per_file.enabled(file, id));
    let names: Vec<&str> = loaded.scopes.iter().map(|s| s.name.as_str()).collect();
    let several = loaded.scopes_with_objects().nth(1).is_some();
    let mut findings = scopes::merge(suppressed.kept, &names, several);
    let mut unused = suppressed.unused;
    unused.retain(|f| per_file.enabled(f.location.file, suppress::UNUSED_SUPPRESSION));
    if let Some(only) = only {
        only.retain(&mut unused, files);
    }
    findings.extend(unused);
    for f in &mut findings {
        if let Some(RuleLevel::Level(level)) = per_file.of(f.location.file).levels.get(f.rule) {
            f.level = *level;
        }
    }
    let mut baselined = 0;
    if let Some(known) = baseline {
        let before = findings.len();
        let mut keys = order::LogicalKeys::new(files);
        findings.retain(|f| !known.contains(&keys.key(f)));
        baselined = before - findings.len();
    }
    order::sort_findings(&mut findings, files);
    Outcome { findings, suppressed: suppressed.suppressed, baselined, analysed: Analysed::of(loaded) }
}

/// Resolves every location of a finding that points into a renderer's output to the place in
/// the repository it was rendered from.
fn resolve_locations(finding: &mut Finding, files: &Files) {
    finding.location = files.resolve(finding.location);
    for related in finding.related.iter_mut().chain(finding.path.iter_mut()) {
        related.location = files.resolve(related.location);
    }
}

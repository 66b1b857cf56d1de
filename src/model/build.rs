//! The pipeline driver: load → model, file by file in parallel, then the merge in path order.
//!
//! Each file is read, parsed and turned into typed objects on a rayon worker, and its YAML tree is
//! dropped before the next file is taken, so peak memory holds the model, not every tree. Results
//! are merged in path order, which makes the outcome independent of the thread count.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::load::classify::{self, Classified, Doc, FileProblem};
use crate::load::{self, stamp, Discovery, Files, SourceFile, Stamp, WalkOptions};
use crate::model::problem::{InputProblem, ProblemKind, Repeat};
use crate::model::{extract_document, FileRank, Model, Object};
use crate::span::{FileId, Location};

#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub walk: WalkOptions,
    /// Namespace of objects that name none.
    pub default_namespace: String,
    /// Which file texts to keep in memory, for source snippets and suppression comments.
    pub keep_text: load::KeepText,
    /// Where file contents come from: the disk, or another revision's objects.
    pub source: load::FileSource,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            walk: WalkOptions::default(),
            default_namespace: "default".to_string(),
            keep_text: load::KeepText::All,
            source: load::FileSource::Disk,
        }
    }
}

/// What loading a repository yields.
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Files,
    pub model: Model,
    /// Problems of the input: unreadable files, syntax errors, invalid fields, templates.
    pub(crate) problems: Vec<InputProblem>,
    /// Objects declared again, file by file.
    pub(crate) repeats: Vec<Repeat>,
    pub bytes_read: u64,
    pub objects: usize,
    /// Files that declared at least one object.
    pub manifests: usize,
}

#[derive(Clone)]
struct FileOutcome {
    text: String,
    /// The text was parsed but not kept: a report reads it back from disk.
    text_on_disk: bool,
    objects: Vec<Object>,
    problems: Vec<InputProblem>,
    bytes: u64,
    chart_template_of: Option<PathBuf>,
}

/// Loads and models every manifest under `paths`.
pub fn load(paths: &[PathBuf], options: &LoadOptions) -> Result<Loaded, load::LoadError> {
    let discovery = match &options.source {
        load::FileSource::Disk => load::discover(paths, &options.walk)?,
        load::FileSource::Snapshot(snapshot) => load::discover_snapshot(snapshot, paths, &options.walk)?,
    };
    Ok(load_discovered(discovery, options))
}

fn load_discovered(discovery: Discovery, options: &LoadOptions) -> Loaded {
    let discovery = without_patches(discovery, options);
    let interner = crate::model::Interner::default();
    let outcomes: Vec<(FileId, FileOutcome)> = discovery
        .files
        .par_iter()
        .enumerate()
        .map(|(i, path)| (i as FileId, load_one(i as FileId, path, &discovery, options, &interner)))
        .collect();
    let ids = discovery.files.len();
    assemble(&discovery, outcomes, ids)
}

/// Kustomize patch files are partial objects, not applied on their own: left out.
fn without_patches(mut discovery: Discovery, options: &LoadOptions) -> Discovery {
    let patches = load::kustomize_patches(&discovery.files, &options.walk, &options.source);
    if !patches.is_empty() {
        discovery.files.retain(|f| !patches.contains(&load::normalize(f)));
    }
    discovery
}

/// Puts per-file outcomes (in path order, with their file ids) together into the model. `ids`
/// is the number of file ids in use; ids without a file of this run get an empty entry.
fn assemble(discovery: &Discovery, outcomes: Vec<(FileId, FileOutcome)>, ids: usize) -> Loaded {
    let mut loaded = Loaded::default();
    loaded.files.entries = (0..ids).map(|_| SourceFile::new(PathBuf::new(), String::new())).collect();
    // Each file's objects stay in their own vector until the model takes them one by one, so
    // that no second copy of every object is ever held.
    let mut objects: Vec<Vec<Object>> = Vec::with_capacity(outcomes.len());
    let mut templates_per_chart: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut file_of_path: BTreeMap<&Path, FileId> = BTreeMap::new();
    for (path, (id, outcome)) in discovery.files.iter().zip(outcomes) {
        file_of_path.insert(path, id);
        loaded.bytes_read += outcome.bytes;
        loaded.objects += outcome.objects.len();
        loaded.manifests += usize::from(!outcome.objects.is_empty());
        objects.push(outcome.objects);
        loaded.problems.extend(outcome.problems);
        if let Some(chart) = outcome.chart_template_of {
            *templates_per_chart.entry(chart).or_default() += 1;
        }
        if let Some(entry) = loaded.files.entries.get_mut(id as usize) {
            *entry = SourceFile {
                path: path.clone(),
                display: load::display_path(path),
                kept_text: outcome.text,
                text_on_disk: outcome.text_on_disk,
            };
        }
    }
    // One fact per Helm chart, at its Chart.yaml, rather than one per template.
    for (chart, count) in templates_per_chart {
        let chart_file = chart.join("Chart.yaml");
        let file = match file_of_path.get(chart_file.as_path()) {
            Some(id) => *id,
            None => push_file(&mut loaded.files, &chart_file),
        };
        let kind = FileProblem::ChartTemplates { chart: load::display_path(&chart), count };
        loaded.problems.push(InputProblem { kind: ProblemKind::File(kind), location: load::file_start(file) });
    }
    for (path, reason) in &discovery.problems {
        let file = push_file(&mut loaded.files, path);
        let kind = FileProblem::Unreadable(reason.clone());
        loaded.problems.push(InputProblem { kind: ProblemKind::File(kind), location: load::file_start(file) });
    }
    let ranks = file_ranks(&discovery.files);
    (loaded.model, loaded.repeats) = Model::from_objects(objects, &ranks);
    loaded
}

/// Each file's rank for choosing the analysed copy of a repeated object, judged on its path below
/// the folder all the files share, so that neither the working directory nor where the
/// repository lies on the disk counts.
fn file_ranks(files: &[PathBuf]) -> Vec<FileRank> {
    let mut shared: Option<Vec<std::path::Component>> = None;
    for file in files {
        let folders: Vec<_> = file.parent().map(|p| p.components().collect()).unwrap_or_default();
        shared = Some(match shared {
            None => folders,
            Some(prefix) => prefix.into_iter().zip(folders).take_while(|(a, b)| a == b).map(|(a, _)| a).collect(),
        });
    }
    let shared: PathBuf = shared.unwrap_or_default().into_iter().collect();
    files.iter().map(|f| FileRank::of_path(&f.strip_prefix(&shared).unwrap_or(f).to_string_lossy())).collect()
}

/// Repeated analyses of the same paths (`check --watch`) that re-read only the files that changed.
///
/// [`Session::load`] redoes the walk (files come and go) and re-reads a file only when its
/// modification time or size changed. [`Session::reload`] is for files known to have been
/// modified (not created or removed): it reads only them and patches the previous model in place,
/// unless a repeated object is involved (a repeat decides which declaration wins, so the model is
/// rebuilt). File ids are stable across runs, so that cached objects keep pointing at their file.
#[derive(Default)]
pub struct Session {
    ids: HashMap<PathBuf, FileId>,
    cache: HashMap<PathBuf, (Stamp, FileOutcome)>,
    interner: crate::model::Interner,
    /// The previous result, its discovery, and each file's position in path order.
    last: Option<(Loaded, Discovery, HashMap<FileId, usize>)>,
    /// How many files declare each object key (kind, namespace, name).
    declarations: HashMap<(String, String, String), u32>,
    /// Files read by the last run (the others came from the cache or the previous model).
    pub reparsed: usize,
    /// Whether the last run patched the previous model in place.
    pub patched: bool,
    /// The options the cache was filled with: parsed objects depend on them (the default
    /// namespace, the size limit), so other options start afresh.
    options_seen: Option<String>,
}

/// What of the load options shapes the parsed objects and the file set.
fn options_fingerprint(options: &LoadOptions) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}|{:?}",
        options.default_namespace,
        options.walk.excludes,
        options.walk.anchored_excludes,
        options.walk.max_file_size,
        options.keep_text
    )
}

impl Session {
    pub fn new() -> Session {
        Session::default()
    }

    /// The result of the last run.
    pub fn loaded(&self) -> Option<&Loaded> {
        self.last.as_ref().map(|(loaded, _, _)| loaded)
    }

    /// Loads the paths, re-reading only the files whose modification time or size changed.
    pub fn load(&mut self, paths: &[PathBuf], options: &LoadOptions) -> Result<&Loaded, load::LoadError> {
        self.patched = false;
        let fingerprint = options_fingerprint(options);
        if self.options_seen.as_ref() != Some(&fingerprint) {
            self.cache.clear();
            self.last = None;
            self.options_seen = Some(fingerprint);
        }
        let discovery = without_patches(load::discover(paths, &options.walk)?, options);
        for path in &discovery.files {
            let next = self.ids.len() as FileId;
            self.ids.entry(path.clone()).or_insert(next);
        }
        let ids = &self.ids;
        let cache = &self.cache;
        let interner = &self.interner;
        let fresh: Vec<(FileId, Option<Stamp>, Option<FileOutcome>)> = discovery
            .files
            .par_iter()
            .map(|path| {
                let id = ids.get(path).copied().unwrap_or_default();
                let now = stamp(path);
                let cached = cache.get(path).filter(|(was, _)| now.is_some() && Some(*was) == now);
                match cached {
                    Some(_) => (id, now, None),
                    None => (id, now, Some(load_one(id, path, &discovery, options, interner))),
                }
            })
            .collect();
        self.reparsed = fresh.iter().filter(|(_, _, o)| o.is_some()).count();
        let mut outcomes = Vec::with_capacity(fresh.len());
        for (path, (id, now, outcome)) in discovery.files.iter().zip(fresh) {
            let outcome = match outcome {
                Some(o) => {
                    if let Some(now) = now {
                        self.cache.insert(path.clone(), (now, o.clone()));
                    }
                    o
                }
                None => match self.cache.get(path) {
                    Some((_, o)) => o.clone(),
                    None => load_one(id, path, &discovery, options, interner),
                },
            };
            outcomes.push((id, outcome));
        }
        // Files gone from the walk leave the cache (their ids stay reserved).
        let present: HashSet<&PathBuf> = discovery.files.iter().collect();
        self.cache.retain(|p, _| present.contains(p));
        self.declarations.clear();
        for (_, outcome) in &outcomes {
            let keys: HashSet<_> = outcome.objects.iter().map(Model::object_key).collect();
            for key in keys {
                *self.declarations.entry(key).or_default() += 1;
            }
        }
        let ranks = outcomes.iter().enumerate().map(|(rank, (id, _))| (*id, rank)).collect();
        let loaded = assemble(&discovery, outcomes, self.ids.len());
        let (loaded, _, _) = self.last.insert((loaded, discovery, ranks));
        Ok(loaded)
    }

    /// Loads again after `modified` files changed in place: only they are read, and the previous
    /// model is patched. Falls back to [`Session::load`] for anything else: a file that is new,
    /// gone, a Helm chart's or a kustomization, or an object declared in several files.
    pub fn reload(
        &mut self,
        modified: &[PathBuf],
        paths: &[PathBuf],
        options: &LoadOptions,
    ) -> Result<&Loaded, load::LoadError> {
        if modified.is_empty() || !self.try_patch(modified, options) {
            self.patched = false;
            return self.load(paths, options);
        }
        self.patched = true;
        self.reparsed = modified.len();
        match &self.last {
            Some((loaded, _, _)) => Ok(loaded),
            // `try_patch` succeeds only with a previous result.
            None => Err(load::LoadError::Missing("the previous analysis".to_string())),
        }
    }

    /// Patches the previous result with the new contents of `modified`; `false` (and nothing
    /// changed) when that cannot be done exactly.
    fn try_patch(&mut self, modified: &[PathBuf], options: &LoadOptions) -> bool {
        let Some((_, discovery, _)) = &self.last else { return false };
        let mut updates = Vec::new();
        for path in modified {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let special = matches!(name, "Chart.yaml" | "kustomization.yaml" | "kustomization.yml" | "Kustomization");
            let (Some(&id), Some((_, old)), Some(now)) = (self.ids.get(path), self.cache.get(path), stamp(path)) else {
                return false;
            };
            if special || old.chart_template_of.is_some() || !discovery.files.contains(path) {
                return false;
            }
            let new = load_one(id, path, discovery, options, &self.interner);
            let old_keys: HashSet<_> = old.objects.iter().map(Model::object_key).collect();
            let new_keys: Vec<_> = new.objects.iter().map(Model::object_key).collect();
            let distinct: HashSet<_> = new_keys.iter().cloned().collect();
            let repeats_elsewhere = old_keys.iter().any(|k| self.declarations.get(k).copied().unwrap_or(0) > 1)
                || new_keys
                    .iter()
                    .any(|k| self.declarations.get(k).copied().unwrap_or(0) > u32::from(old_keys.contains(k)));
            if new.chart_template_of.is_some() || distinct.len() != new_keys.len() || repeats_elsewhere {
                return false;
            }
            updates.push((path.clone(), id, now, old_keys, distinct, new));
        }
        // Within one batch, two files must not gain the same object, nor one gain what another
        // drops (the analysed declaration would change): the model is rebuilt then.
        let mut gained: HashSet<&(String, String, String)> = HashSet::new();
        for (_, _, _, old_keys, new_keys, _) in &updates {
            for key in new_keys.iter().filter(|k| !old_keys.contains(*k)) {
                if !gained.insert(key) {
                    return false;
                }
            }
        }
        let dropped: HashSet<&(String, String, String)> = updates
            .iter()
            .flat_map(|(_, _, _, old_keys, new_keys, _)| old_keys.iter().filter(|k| !new_keys.contains(*k)))
            .collect();
        if gained.iter().any(|k| dropped.contains(k)) {
            return false;
        }
        if options_fingerprint(options) != self.options_seen.clone().unwrap_or_default() {
            return false;
        }
        let Some((loaded, _, ranks)) = &mut self.last else { return false };
        for (path, id, now, old_keys, new_keys, new) in updates {
            for key in old_keys {
                if let Some(n) = self.declarations.get_mut(&key) {
                    *n = n.saturating_sub(1);
                }
            }
            for key in new_keys {
                *self.declarations.entry(key).or_default() += 1;
            }
            if let Some((_, old)) = self.cache.get(&path) {
                loaded.objects = (loaded.objects + new.objects.len()).saturating_sub(old.objects.len());
                loaded.manifests = (loaded.manifests + usize::from(!new.objects.is_empty()))
                    .saturating_sub(usize::from(!old.objects.is_empty()));
                loaded.bytes_read = (loaded.bytes_read + new.bytes).saturating_sub(old.bytes);
            }
            let rank = |f: FileId| ranks.get(&f).copied().unwrap_or(usize::MAX);
            loaded.model.replace_file(id, new.objects.clone(), rank);
            loaded.problems.retain(|p| p.location.file != id);
            loaded.problems.extend(new.problems.iter().cloned());
            // A repeat within the file may be gone (a repeat across files never gets here).
            loaded.repeats.retain(|r| r.file != id);
            if let Some(entry) = loaded.files.entries.get_mut(id as usize) {
                entry.kept_text = new.text.clone();
                entry.text_on_disk = new.text_on_disk;
            }
            self.cache.insert(path, (now, new));
        }
        true
    }
}

fn push_file(files: &mut Files, path: &Path) -> FileId {
    files.entries.push(SourceFile::new(path.to_path_buf(), load::display_path(path)));
    (files.entries.len() - 1) as FileId
}

/// Reads, classifies and models one file.
fn load_one(
    file: FileId,
    path: &Path,
    discovery: &Discovery,
    options: &LoadOptions,
    interner: &crate::model::Interner,
) -> FileOutcome {
    let mut outcome = FileOutcome {
        text: String::new(),
        text_on_disk: false,
        objects: Vec::new(),
        problems: Vec::new(),
        bytes: 0,
        chart_template_of: None,
    };
    let file_problem = |span, kind| InputProblem { kind: ProblemKind::File(kind), location: Location { file, span } };
    let (text, stream) = match classify::classify(path, &discovery.chart_roots, &options.walk, &options.source) {
        Classified::ChartTemplate { chart } => {
            outcome.chart_template_of = Some(chart);
            return outcome;
        }
        Classified::Unreadable(reason) => {
            let location = load::unreadable_location(file, &reason);
            let kind = FileProblem::Unreadable(reason);
            outcome.problems.push(InputProblem { kind: ProblemKind::File(kind), location });
            return outcome;
        }
        Classified::Template { text, directive } => {
            outcome.bytes = text.len() as u64;
            if let Some(span) = directive {
                outcome.problems.push(file_problem(span, FileProblem::TemplateDirectives));
            }
            keep(&mut outcome, text, options);
            return outcome;
        }
        Classified::Parsed { text, stream } => (text, stream),
    };
    outcome.bytes = text.len() as u64;
    let mut not_objects = Vec::new();
    let mut has_objects = false;
    for doc in classify::documents(&stream) {
        match doc {
            Doc::Object(root) => {
                has_objects = true;
                let objects = extract_document(file, root, &options.default_namespace, interner, &mut outcome.problems);
                outcome.objects.extend(objects);
            }
            Doc::NotAnObject(span) => not_objects.push(span),
        }
    }
    match classify::text_problems(&text, &stream, has_objects, &not_objects) {
        Some(problems) => outcome.problems.extend(problems.into_iter().map(|(span, kind)| file_problem(span, kind))),
        // Not a manifest file (values.yaml, tsconfig.json, …): nothing of it is reported.
        None => outcome.problems.clear(),
    }
    keep(&mut outcome, text, options);
    outcome
}

/// Keeps a parsed file's text in the outcome, or notes that a report will read it back.
fn keep(outcome: &mut FileOutcome, text: String, options: &LoadOptions) {
    let on_disk = matches!(options.source, load::FileSource::Disk);
    match options.keep_text {
        load::KeepText::All => outcome.text = text,
        load::KeepText::Containing(needle) if !on_disk || text.contains(needle) => outcome.text = text,
        load::KeepText::Containing(_) => outcome.text_on_disk = true,
        load::KeepText::None => {}
    }
}

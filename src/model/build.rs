//! The pipeline driver: load → model, file by file in parallel, then the merge in path order.
//!
//! Each file is read, parsed and turned into typed objects on a rayon worker, and its YAML tree is
//! dropped before the next file is taken, so peak memory holds the model, not every tree. Results
//! are merged in path order, which makes the outcome independent of the thread count.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::load::classify::{self, Classified, Doc, FileProblem};
use crate::load::render::{RenderFailure, RenderOptions, Rendered};
use crate::load::{self, stamp, Discovery, Files, SourceFile, Stamp, VirtualMap, WalkOptions};
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
    /// How kustomizations and charts are rendered.
    pub render: RenderOptions,
    /// How plain files are grouped into scopes; `None`: one scope, [`REPOSITORY_SCOPE`].
    pub scoping: Option<Arc<dyn Scoping>>,
    /// The text of standard input, when `-` is among the paths: one more stream to analyse.
    pub stdin: Option<Arc<String>>,
    /// Files that declare no objects but that findings point into (configuration files with
    /// expectations): given ids after every other file ([`Loaded::located`]).
    pub located: Vec<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            walk: WalkOptions::default(),
            default_namespace: "default".to_string(),
            keep_text: load::KeepText::All,
            source: load::FileSource::Disk,
            render: RenderOptions::default(),
            scoping: None,
            stdin: None,
            located: Vec::new(),
        }
    }
}

impl LoadOptions {
    /// Where a plain file belongs.
    fn place(&self, path: &Path) -> Placement {
        match &self.scoping {
            Some(scoping) => scoping.plain(path),
            None => Placement {
                scope: REPOSITORY_SCOPE.to_string(),
                settings: ScopeSettings::default(),
                default_namespace: self.default_namespace.clone(),
            },
        }
    }

    /// The settings of a rendered folder.
    fn place_rendered(&self, folder: &Path) -> Placement {
        match &self.scoping {
            Some(scoping) => scoping.rendered(folder),
            None => self.place(folder),
        }
    }
}

/// What loading a repository yields: every file read, and the objects grouped into scopes.
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Files,
    /// The clusters analysed, each on its own: plain manifests first, then rendered ones, by name.
    pub scopes: Vec<Scope>,
    pub bytes_read: u64,
    pub objects: usize,
    /// Files that declared at least one object.
    pub manifests: usize,
    /// Kustomizations and charts rendered (successfully or not), and the wall time rendering took.
    pub rendered: usize,
    pub render_time: std::time::Duration,
    /// The files of [`LoadOptions::located`] and their ids (their text is read back when shown).
    pub located: Vec<(PathBuf, FileId)>,
}

impl Loaded {
    /// The scope of that name.
    pub fn scope(&self, name: &str) -> Option<&Scope> {
        self.scopes.iter().find(|s| s.name == name)
    }

    /// The scopes that hold objects: what `graph` and `explain` choose from.
    pub fn scopes_with_objects(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter().filter(|s| s.objects > 0)
    }

    /// The only scope of an analysis that has one (an empty scope when there is none): for the
    /// callers (tests, benchmarks) that analyse one cluster.
    pub fn single(&self) -> &Scope {
        static EMPTY: std::sync::OnceLock<Scope> = std::sync::OnceLock::new();
        let mut with_objects = self.scopes_with_objects();
        match (with_objects.next(), with_objects.next()) {
            (Some(scope), None) => scope,
            _ => self.scopes.first().unwrap_or_else(|| EMPTY.get_or_init(Scope::default)),
        }
    }
}

/// One cluster's worth of objects, analysed on its own (DESIGN §11).
#[derive(Debug, Default)]
pub struct Scope {
    /// How users name it: a rendered folder's path, a declared scope's name, `repository`.
    pub name: String,
    pub source: ScopeSource,
    /// Which configuration applies to it.
    pub settings: ScopeSettings,
    pub model: Model,
    /// Problems of the input in this scope: unreadable files, syntax errors, invalid fields,
    /// templates, renderings that failed.
    pub(crate) problems: Vec<InputProblem>,
    /// Objects declared again, file by file.
    pub(crate) repeats: Vec<Repeat>,
    pub objects: usize,
}

/// What a scope is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeSource {
    /// Plain manifests: outside every rendered kustomization and chart.
    #[default]
    Plain,
    /// A kustomization rendered by kustomize (its folder).
    Kustomization(PathBuf),
    /// A Helm chart rendered by `helm template` (its folder).
    Chart(PathBuf),
    /// The document stream of standard input.
    Stdin,
}

/// Which configuration governs a scope: the configuration folder (an index into the settings'
/// folders) and the declared scope of that configuration, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopeSettings {
    pub folder: usize,
    pub declared: Option<usize>,
}

/// Where a file or a rendered folder belongs: the configuration's answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Placement {
    /// The scope's name (ignored for a rendered folder, whose scope is named after it).
    pub scope: String,
    pub settings: ScopeSettings,
    /// The namespace of objects that name none.
    pub default_namespace: String,
}

/// How the configuration places plain files into scopes and gives rendered folders their
/// settings; `result::settings` implements it from the configuration files. Without one, every
/// plain file is in one scope, `repository`.
pub trait Scoping: std::fmt::Debug + Send + Sync {
    /// The scope of a plain manifest file.
    fn plain(&self, path: &Path) -> Placement;
    /// The settings of a rendered folder (a kustomization or a chart).
    fn rendered(&self, folder: &Path) -> Placement;
}

/// The name of the scope of plain manifests when the configuration declares none.
pub const REPOSITORY_SCOPE: &str = "repository";

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
    let mut plan = plan_renders(&discovery, options);
    let discovery = without_consumed(discovery, &mut plan);
    let interner = crate::model::Interner::default();
    let ids = discovery.files.len();
    let (outcomes, renders) = rayon::join(
        || {
            discovery
                .files
                .par_iter()
                .enumerate()
                .map(|(i, path)| (i as FileId, load_one(i as FileId, path, &discovery, options, &interner)))
                .collect::<Vec<(FileId, FileOutcome)>>()
        },
        || run_renders(&plan, ids, options, &interner),
    );
    let mut plain: Vec<(PathBuf, FileId, FileOutcome)> =
        discovery.files.iter().cloned().zip(outcomes).map(|(path, (id, outcome))| (path, id, outcome)).collect();
    plain.extend(load_fallback(&plan, &renders.0, ids, &discovery, options, &interner));
    assemble(&discovery, plain, ids, renders, &plan, options)
}

/// Reads the files of leaves that failed to render as plain files, with the ids that follow the
/// renderings' virtual files.
fn load_fallback(
    plan: &RenderPlan,
    renders: &[RenderOutcome],
    ids: usize,
    discovery: &Discovery,
    options: &LoadOptions,
    interner: &crate::model::Interner,
) -> Vec<(PathBuf, FileId, FileOutcome)> {
    let first = ids + plan.jobs.len();
    fallback_files(plan, renders)
        .into_par_iter()
        .enumerate()
        .map(|(k, path)| {
            let id = (first + k) as FileId;
            let outcome = load_one(id, &path, discovery, options, interner);
            (path, id, outcome)
        })
        .collect()
}

/// What is rendered, and which walk files that consumes.
#[derive(Debug, Default)]
pub(crate) struct RenderPlan {
    pub(crate) jobs: Vec<RenderJob>,
    /// Files read by the renderings (and, without a renderer, kustomize patches): not analysed
    /// as plain manifests.
    pub(crate) consumed: std::collections::BTreeSet<PathBuf>,
    /// Kustomizations and charts that are read as plain files instead: (the kustomization or
    /// Chart.yaml file, why).
    pub(crate) unrendered: Vec<(PathBuf, FileProblem)>,
    /// The kustomizations of the tree and the kustomize command, when leaves are rendered.
    pub(crate) kustomize: Option<(Arc<load::render::kustomize::Plan>, Vec<String>)>,
    /// The walk's files left out as consumed, as walked (those of a leaf that fails to render
    /// are read as plain files after all).
    pub(crate) set_aside: Vec<PathBuf>,
}

/// One stream to render and analyse as a scope of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RenderJob {
    Kustomization(PathBuf),
    Chart(PathBuf),
    Stdin(Arc<String>),
}

impl RenderJob {
    fn source(&self) -> ScopeSource {
        match self {
            RenderJob::Kustomization(dir) => ScopeSource::Kustomization(dir.clone()),
            RenderJob::Chart(dir) => ScopeSource::Chart(dir.clone()),
            RenderJob::Stdin(_) => ScopeSource::Stdin,
        }
    }

    fn name(&self) -> String {
        match self {
            RenderJob::Kustomization(dir) | RenderJob::Chart(dir) => load::display_path(dir),
            RenderJob::Stdin(_) => STDIN.to_string(),
        }
    }
}

/// How standard input is shown.
pub const STDIN: &str = "<stdin>";

/// Which kustomizations and charts to render, and what that consumes.
fn plan_renders(discovery: &Discovery, options: &LoadOptions) -> RenderPlan {
    let mut plan = RenderPlan::default();
    if let Some(text) = &options.stdin {
        plan.jobs.push(RenderJob::Stdin(Arc::clone(text)));
    }
    plan_kustomizations(discovery, options, &mut plan);
    plan_charts(discovery, options, &mut plan);
    plan
}

/// The kustomizations to render: every leaf (one that no other kustomization of the tree uses),
/// when kustomize is installed or configured; the files their trees read are consumed. Without
/// kustomize (or for another revision, which is not on the disk for kustomize to read), each leaf
/// is noted and its files are read as plain manifests, less the patches, which are partial objects.
fn plan_kustomizations(discovery: &Discovery, options: &LoadOptions, plan: &mut RenderPlan) {
    use load::render::kustomize;
    let kustomizations = kustomize::plan(&discovery.files, &options.walk, &options.source);
    let on_disk = matches!(options.source, load::FileSource::Disk);
    let command = if options.render.enabled && on_disk { kustomize::command(&options.render) } else { None };
    let Some(command) = command.filter(|_| !kustomizations.leaves.is_empty()) else {
        plan.consumed.extend(kustomizations.patches.iter().cloned());
        // Turned off on purpose (`--no-render`), or another revision: nothing to say.
        if options.render.enabled && on_disk {
            for leaf in &kustomizations.leaves {
                let file = kustomizations.kustomizations.get(leaf).map_or_else(|| leaf.clone(), |k| k.file.clone());
                plan.unrendered.push((file, FileProblem::UnrenderedKustomization));
            }
        }
        return;
    };
    plan.consumed.extend(kustomizations.consumed.iter().cloned());
    // Patch files of kustomizations no leaf reaches (a component nobody uses) are partial
    // objects all the same.
    plan.consumed.extend(kustomizations.patches.iter().cloned());
    // What sits beside a rendered kustomization without being used by it (an entry commented
    // out, a file another tool applies) is not what kustomize deploys: not analysed either.
    let folders: std::collections::BTreeSet<PathBuf> = kustomizations
        .consumed
        .iter()
        .filter(|f| load::render::kustomize::is_kustomization_file(f))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    let beside: Vec<PathBuf> = discovery
        .files
        .iter()
        .map(|f| load::normalize(f))
        .filter(|f| f.parent().is_some_and(|d| folders.contains(d)) && !plan.consumed.contains(f))
        .collect();
    plan.consumed.extend(beside);
    plan.jobs.extend(kustomizations.leaves.iter().cloned().map(RenderJob::Kustomization));
    plan.kustomize = Some((Arc::new(kustomizations), command));
}

/// The walk's files that only leaves that failed to render consume: read as plain files
/// instead, as without a renderer (their patches left out), so that a kustomize error costs the
/// analysis of that leaf's namespace and names, not of its objects.
fn fallback_files(plan: &RenderPlan, renders: &[RenderOutcome]) -> Vec<PathBuf> {
    let Some((kustomizations, _)) = &plan.kustomize else { return Vec::new() };
    let mut failed = std::collections::BTreeSet::new();
    let mut rendered = std::collections::BTreeSet::new();
    for render in renders {
        if let RenderJob::Kustomization(leaf) = &render.job {
            let set = if render.rendered.is_ok() { &mut rendered } else { &mut failed };
            set.extend(kustomizations.consumed_by.get(leaf).into_iter().flatten().cloned());
        }
    }
    // Files beside a kustomization that only failed leaves use are read too, as they would be
    // without kustomize.
    let failed_folders: std::collections::BTreeSet<PathBuf> = failed
        .iter()
        .filter(|f| load::render::kustomize::is_kustomization_file(f) && !rendered.contains(*f))
        .filter_map(|f| f.parent().map(Path::to_path_buf))
        .collect();
    plan.set_aside
        .iter()
        .filter(|f| {
            let f = load::normalize(f);
            let only_failed = failed.contains(&f) && !rendered.contains(&f);
            let beside_failed = !failed.contains(&f)
                && !rendered.contains(&f)
                && f.parent().is_some_and(|d| failed_folders.contains(d));
            (only_failed || beside_failed) && !kustomizations.patches.contains(&f)
        })
        .cloned()
        .collect()
}

/// The Helm charts to render, when helm is installed or configured: each chart root that is no
/// subchart and no library chart is a job, and every file of the walk below it is consumed (its
/// templates, values and subcharts are what the rendering reads). Without helm, or for another
/// revision (not on the disk for helm to read), charts stay unrendered and are noted as before.
/// Library charts are never analysed.
fn plan_charts(discovery: &Discovery, options: &LoadOptions, plan: &mut RenderPlan) {
    use load::render::helm;
    let on_disk = matches!(options.source, load::FileSource::Disk);
    // A library chart renders nothing by itself (the charts that depend on it render its
    // definitions): its files are neither manifests nor a chart to note as unrendered, with or
    // without helm.
    for chart in discovery.chart_roots.iter().filter(|c| on_disk && helm::is_library(c)) {
        plan.consumed.extend(discovery.files.iter().filter(|f| f.starts_with(chart)).map(|f| load::normalize(f)));
    }
    if !options.render.enabled || !on_disk || helm::command(&options.render).is_none() {
        return;
    }
    for chart in helm::renderable_charts(&discovery.chart_roots) {
        plan.consumed.extend(discovery.files.iter().filter(|f| f.starts_with(&chart)).map(|f| load::normalize(f)));
        plan.jobs.push(RenderJob::Chart(chart));
    }
}

/// The plain files: the walk's, less those a rendering consumes (kept in the plan).
fn without_consumed(mut discovery: Discovery, plan: &mut RenderPlan) -> Discovery {
    if !plan.consumed.is_empty() {
        let (set_aside, kept) = discovery.files.into_iter().partition(|f| plan.consumed.contains(&load::normalize(f)));
        plan.set_aside = set_aside;
        discovery.files = kept;
    }
    discovery
}

/// What one rendering yields for the model: the stream's objects, extracted with the virtual
/// file id reserved for it, and its problems.
struct RenderOutcome {
    job: RenderJob,
    /// The rendered stream, without its tree (the objects are extracted); or the failure.
    rendered: Result<Rendered, RenderFailure>,
    objects: Vec<Object>,
    problems: Vec<InputProblem>,
    placement: Placement,
}

/// Renders every job, in parallel. The job at index `j` gets the virtual file id `first + j`.
fn run_renders(
    plan: &RenderPlan,
    first: usize,
    options: &LoadOptions,
    interner: &crate::model::Interner,
) -> (Vec<RenderOutcome>, Duration) {
    let started = Instant::now();
    let outcomes = plan
        .jobs
        .par_iter()
        .enumerate()
        .map(|(j, job)| {
            let file = (first + j) as FileId;
            let placement = match job {
                RenderJob::Kustomization(dir) | RenderJob::Chart(dir) => options.place_rendered(dir),
                RenderJob::Stdin(_) => options.place(Path::new(".")),
            };
            let rendered = render_one(job, plan, options);
            let mut outcome =
                RenderOutcome { job: job.clone(), rendered, objects: Vec::new(), problems: Vec::new(), placement };
            if let Ok(rendered) = &mut outcome.rendered {
                let stream = std::mem::take(&mut rendered.stream);
                extract_stream(
                    file,
                    &rendered.text,
                    &stream,
                    &outcome.placement.default_namespace,
                    interner,
                    &mut outcome.objects,
                    &mut outcome.problems,
                );
            }
            outcome
        })
        .collect();
    (outcomes, started.elapsed())
}

/// Runs the renderer of one job.
fn render_one(job: &RenderJob, plan: &RenderPlan, options: &LoadOptions) -> Result<Rendered, RenderFailure> {
    match job {
        RenderJob::Chart(dir) => match load::render::helm::command(&options.render) {
            Some(command) => load::render::helm::render(dir, &command, &options.render),
            None => Err(RenderFailure {
                file: dir.join("Chart.yaml"),
                span: crate::span::Span::default(),
                message: "helm is not installed".to_string(),
            }),
        },
        // `# Source:` comments (`helm template … | kubereach check -`) map documents to the
        // templates they name, where those exist below the working directory.
        RenderJob::Stdin(text) => {
            let resolve = load::render::sourced::working_directory_resolver(text);
            Ok(load::render::sourced::map_sourced(text.as_str().to_string(), &resolve))
        }
        RenderJob::Kustomization(dir) => match &plan.kustomize {
            Some((kustomizations, command)) => {
                load::render::kustomize::render(dir, kustomizations, command, &options.render)
            }
            None => Err(RenderFailure {
                file: dir.clone(),
                span: crate::span::Span::default(),
                message: "kustomize is not installed".to_string(),
            }),
        },
    }
}

/// The objects and problems of a parsed stream, as [`load_one`] finds them in a file.
fn extract_stream(
    file: FileId,
    text: &str,
    stream: &load::yaml::Stream,
    default_namespace: &str,
    interner: &crate::model::Interner,
    objects: &mut Vec<Object>,
    problems: &mut Vec<InputProblem>,
) {
    let mut found = Vec::new();
    let mut not_objects = Vec::new();
    for doc in classify::documents(stream) {
        match doc {
            Doc::Object(root) => {
                objects.extend(
                    extract_document(file, root, default_namespace, interner, &mut found).into_iter().map(compact),
                );
            }
            Doc::NotAnObject(span) => not_objects.push(span),
        }
    }
    // A rendered stream or standard input is a stream of manifests by definition: its problems
    // (a syntax error included) are reported even when no object could be read.
    if let Some(text_problems) = classify::text_problems(text, stream, true, &not_objects) {
        let at = |span| Location { file, span };
        found.extend(
            text_problems
                .into_iter()
                .map(|(span, kind)| InputProblem { kind: ProblemKind::File(kind), location: at(span) }),
        );
    }
    problems.extend(found);
}

/// One scope while it is being put together.
#[derive(Default)]
struct ScopeParts {
    settings: ScopeSettings,
    /// Objects file by file, in path order, with each file's rank.
    objects: Vec<Vec<Object>>,
    ranks: Vec<FileRank>,
    problems: Vec<InputProblem>,
}

/// Puts per-file outcomes (in path order, with their file ids) and renderings together into
/// scopes. `ids` is the number of file ids in use by the walk's files; ids without a file of this
/// run get an empty entry; the renderings' virtual files follow, then the files they read.
fn assemble(
    discovery: &Discovery,
    plain: Vec<(PathBuf, FileId, FileOutcome)>,
    ids: usize,
    renders: (Vec<RenderOutcome>, Duration),
    plan: &RenderPlan,
    options: &LoadOptions,
) -> Loaded {
    let mut loaded = Loaded::default();
    // The walk's files, the renderings' virtual files, then the files of leaves that failed.
    let reserved = plain.iter().map(|(_, id, _)| *id as usize + 1).max().unwrap_or(0).max(ids + renders.0.len());
    loaded.files.entries = (0..reserved).map(|_| SourceFile::new(PathBuf::new(), String::new())).collect();
    let mut scopes: BTreeMap<(ScopeSource, String), ScopeParts> = BTreeMap::new();
    // Each plain file's scope, as an index into `placements` (a few scopes for many files).
    let mut placed: rustc_hash::FxHashMap<FileId, usize> = rustc_hash::FxHashMap::default();
    let mut placements: Vec<(ScopeSource, String)> = Vec::new();
    let mut placement_ids: HashMap<(ScopeSource, String), usize> = HashMap::new();
    let mut templates_per_chart: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut file_of_path = PathIndex::default();
    // Asked of the system once, not once per file shown.
    let cwd = std::env::current_dir().ok();
    let ranks = {
        let paths: Vec<&Path> = plain.iter().map(|(path, _, _)| path.as_path()).collect();
        file_ranks(&paths)
    };
    let mut problems = Vec::new();
    for ((path, id, outcome), rank) in plain.into_iter().zip(ranks) {
        let path = &path;
        file_of_path.plain.push(id);
        loaded.bytes_read += outcome.bytes;
        loaded.objects += outcome.objects.len();
        loaded.manifests += usize::from(!outcome.objects.is_empty());
        let placement = options.place(path);
        let key = (ScopeSource::Plain, placement.scope);
        let index = match placement_ids.get(&key) {
            Some(index) => *index,
            None => {
                placements.push(key.clone());
                placement_ids.insert(key.clone(), placements.len() - 1);
                placements.len() - 1
            }
        };
        let parts = scopes.entry(key).or_default();
        parts.settings = placement.settings;
        if !outcome.objects.is_empty() {
            parts.objects.push(outcome.objects);
            parts.ranks.push(rank);
        }
        placed.insert(id, index);
        problems.extend(outcome.problems);
        if let Some(chart) = outcome.chart_template_of {
            *templates_per_chart.entry(chart).or_default() += 1;
        }
        if let Some(entry) = loaded.files.entries.get_mut(id as usize) {
            *entry = SourceFile {
                path: path.clone(),
                display: load::display_path_from(path, cwd.as_deref()),
                kept_text: outcome.text,
                text_on_disk: outcome.text_on_disk,
                map: None,
            };
        }
    }
    // The renderings: one virtual file each (ids `ids..ids + jobs`), and a scope each.
    let (renders, render_time) = renders;
    let ids_in_walk = ids;
    loaded.render_time = render_time;
    // Renderings that yielded objects: each is a scope analysed.
    loaded.rendered = renders
        .iter()
        .filter(|r| !matches!(r.job, RenderJob::Stdin(_)) && r.rendered.is_ok() && !r.objects.is_empty())
        .count();
    let mut virtual_maps = Vec::new();
    // The virtual files first, at the ids their objects were extracted with (`ids + j`), before
    // any file a rendering points into is added.
    let mut virtual_ids: Vec<FileId> = Vec::with_capacity(renders.len());
    for (j, render) in renders.iter().enumerate() {
        let id = ids + j;
        let name = render.job.name();
        if let Some(entry) = loaded.files.entries.get_mut(id) {
            *entry = SourceFile::new(PathBuf::from(&name), name);
        }
        virtual_ids.push(id as FileId);
    }
    for (render, file) in renders.into_iter().zip(virtual_ids) {
        let name = render.job.name();
        // Standard input joins the plain files of its place (`check - policies/` analyses the
        // stream and the folder as one cluster); a rendering is a scope of its own.
        let key = match render.job {
            RenderJob::Stdin(_) => (ScopeSource::Plain, render.placement.scope.clone()),
            _ => (render.job.source(), name.clone()),
        };
        let mut parts = ScopeParts { settings: render.placement.settings, ..ScopeParts::default() };
        match render.rendered {
            Ok(rendered) => {
                loaded.bytes_read += rendered.text.len() as u64;
                loaded.objects += render.objects.len();
                if let RenderJob::Stdin(_) = render.job {
                    loaded.manifests += usize::from(!render.objects.is_empty());
                    if let Some(entry) = loaded.files.entries.get_mut(file as usize) {
                        entry.kept_text = rendered.text.clone();
                    }
                }
                virtual_maps.push((file, rendered.map, rendered.read));
                parts.problems = render.problems;
                if !render.objects.is_empty() {
                    parts.objects.push(render.objects);
                    parts.ranks.push(FileRank::default());
                }
            }
            Err(failure) => {
                let at = lookup_or_push(&mut loaded.files, &mut file_of_path, &failure.file);
                let kind = FileProblem::RenderFailed { message: failure.message };
                parts.problems.push(InputProblem {
                    kind: ProblemKind::File(kind),
                    location: Location { file: at, span: failure.span },
                });
            }
        }
        let scope = scopes.entry(key).or_default();
        scope.settings = parts.settings;
        scope.objects.extend(parts.objects);
        scope.ranks.extend(parts.ranks);
        scope.problems.extend(parts.problems);
    }
    // Each virtual file's map, with the files it points into given ids.
    let mut rendered_sources: HashSet<FileId> = HashSet::new();
    for (file, map, read) in virtual_maps {
        let ids: Vec<FileId> =
            map.files.iter().map(|p| lookup_or_push(&mut loaded.files, &mut file_of_path, p)).collect();
        // The files objects come from; a kustomization that only sets their namespace or labels
        // is not a manifest.
        rendered_sources.extend(
            ids.iter()
                .zip(&map.files)
                .filter(|(id, path)| {
                    (**id as usize) >= ids_in_walk && !load::render::kustomize::is_kustomization_file(path)
                })
                .map(|(id, _)| *id),
        );
        for path in &read {
            lookup_or_push(&mut loaded.files, &mut file_of_path, path);
        }
        if let Some(entry) = loaded.files.entries.get_mut(file as usize) {
            let fallback = match &entry.kept_text {
                // A stream whose text is kept (standard input) is its own place.
                text if !text.is_empty() => None,
                _ => map.files.first().map(|_| load::file_start(ids.first().copied().unwrap_or(file))),
            };
            entry.map = Some(Arc::new(VirtualMap { spans: map, files: ids, fallback }));
        }
    }
    // The files that rendered objects come from count as manifests analysed.
    loaded.manifests += rendered_sources.len();
    // One fact per Helm chart, at its Chart.yaml, rather than one per template.
    for (chart, count) in templates_per_chart {
        let chart_file = chart.join("Chart.yaml");
        let file = lookup_or_push(&mut loaded.files, &mut file_of_path, &chart_file);
        let kind = FileProblem::ChartTemplates { chart: load::display_path(&chart), count };
        problems.push(InputProblem { kind: ProblemKind::File(kind), location: load::file_start(file) });
    }
    for (path, kind) in &plan.unrendered {
        let file = lookup_or_push(&mut loaded.files, &mut file_of_path, path);
        problems.push(InputProblem { kind: ProblemKind::File(kind.clone()), location: load::file_start(file) });
    }
    for (path, reason) in &discovery.problems {
        let file = lookup_or_push(&mut loaded.files, &mut file_of_path, path);
        let kind = FileProblem::Unreadable(reason.clone());
        problems.push(InputProblem { kind: ProblemKind::File(kind), location: load::file_start(file) });
    }
    // Problems of plain files belong to the file's scope; those of files outside the walk to the
    // scope their path would have.
    for problem in problems {
        let key = match placed.get(&problem.location.file).and_then(|i| placements.get(*i)) {
            Some(key) => key.clone(),
            None => {
                let path = loaded.files.get(problem.location.file).map(|f| f.path.clone()).unwrap_or_default();
                let placement = options.place(&path);
                scopes.entry((ScopeSource::Plain, placement.scope.clone())).or_default().settings = placement.settings;
                (ScopeSource::Plain, placement.scope)
            }
        };
        scopes.entry(key).or_default().problems.push(problem);
    }
    for path in &options.located {
        let id = push_file(&mut loaded.files, path);
        if let Some(entry) = loaded.files.entries.get_mut(id as usize) {
            // Kept in memory (a configuration file is small): suppression comments are read from
            // kept texts only.
            match std::fs::read(path).ok().and_then(|bytes| load::decode(bytes).ok()) {
                Some(text) => entry.kept_text = text,
                None => entry.text_on_disk = true,
            }
        }
        loaded.located.push((path.clone(), id));
    }
    // The tables of files are done with: freed before the models are built, the moment of peak
    // memory (a file's entry in each, for hundreds of thousands of files).
    drop(placed);
    drop(placement_ids);
    drop(file_of_path);
    loaded.scopes = scopes
        .into_iter()
        .filter(|(_, parts)| !parts.objects.is_empty() || !parts.problems.is_empty())
        .map(|((source, name), parts)| {
            let objects = parts.objects.iter().map(Vec::len).sum();
            let (model, repeats) = Model::from_objects(parts.objects, &parts.ranks);
            Scope { name, source, settings: parts.settings, model, problems: parts.problems, repeats, objects }
        })
        .collect();
    loaded
}

/// The ids of files by their normalized paths, for the files that renderings, charts and
/// problems name. Built at its first use, from the walk's files already in the table: a
/// repository without such files never hashes its hundreds of thousands of paths.
#[derive(Default)]
struct PathIndex {
    /// The walk's files (and fallback files), in path order: what the index starts with.
    plain: Vec<FileId>,
    map: Option<HashMap<PathBuf, FileId>>,
}

impl PathIndex {
    fn map(&mut self, files: &Files) -> &mut HashMap<PathBuf, FileId> {
        let plain = &self.plain;
        self.map.get_or_insert_with(|| {
            let mut map = HashMap::with_capacity(plain.len());
            for id in plain {
                if let Some(entry) = files.entries.get(*id as usize) {
                    // Later files of the same path win, as they did when inserted one by one.
                    map.insert(load::normalize(&entry.path), *id);
                }
            }
            map
        })
    }
}

/// The id of the file at `path`, pushing a file known by its path (its text read back from
/// disk when a report needs it) when the table has none.
fn lookup_or_push(files: &mut Files, index: &mut PathIndex, path: &Path) -> FileId {
    let key = load::normalize(path);
    let ids = index.map(files);
    if let Some(id) = ids.get(&key) {
        return *id;
    }
    let id = push_file(files, path);
    if let Some(entry) = files.entries.get_mut(id as usize) {
        entry.text_on_disk = path.is_file();
    }
    ids.insert(key, id);
    id
}

/// Each file's rank for choosing the analysed copy of a repeated object, judged on its path below
/// the folder all the files share, so that neither the working directory nor where the
/// repository lies on the disk counts.
fn file_ranks(files: &[&Path]) -> Vec<FileRank> {
    let mut shared: Option<Vec<std::path::Component>> = None;
    for file in files {
        let folders = file.parent().map(Path::components);
        match (&mut shared, folders) {
            (None, folders) => shared = Some(folders.map(Iterator::collect).unwrap_or_default()),
            (Some(prefix), Some(folders)) => {
                let common = prefix.iter().zip(folders).take_while(|(a, b)| *a == b).count();
                prefix.truncate(common);
            }
            (Some(prefix), None) => prefix.clear(),
        }
    }
    let shared: PathBuf = shared.unwrap_or_default().into_iter().collect();
    files.par_iter().map(|f| FileRank::of_path(&f.strip_prefix(&shared).unwrap_or(f).to_string_lossy())).collect()
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
    /// Whether the last run rendered something: the model is then rebuilt on every run (the
    /// renderer's cache spares the work of what did not change).
    rendering: bool,
}

/// What of the load options shapes the parsed objects and the file set.
fn options_fingerprint(options: &LoadOptions) -> String {
    format!(
        "{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}",
        options.default_namespace,
        options.walk.excludes,
        options.walk.anchored_excludes,
        options.walk.max_file_size,
        options.keep_text,
        options.scoping,
        options.render,
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
        let discovery = load::discover(paths, &options.walk)?;
        let mut plan = plan_renders(&discovery, options);
        let discovery = without_consumed(discovery, &mut plan);
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
        let renders = run_renders(&plan, self.ids.len(), options, interner);
        self.rendering = !plan.jobs.is_empty();
        let mut plain: Vec<(PathBuf, FileId, FileOutcome)> =
            discovery.files.iter().cloned().zip(outcomes).map(|(path, (id, outcome))| (path, id, outcome)).collect();
        plain.extend(load_fallback(&plan, &renders.0, self.ids.len(), &discovery, options, interner));
        let loaded = assemble(&discovery, plain, self.ids.len(), renders, &plan, options);
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
        let Some((loaded, discovery, _)) = &self.last else { return false };
        // Patching in place knows one scope of plain files only.
        if self.rendering || loaded.scopes.len() > 1 {
            return false;
        }
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
            if loaded.scopes.is_empty() {
                loaded.scopes.push(Scope { name: REPOSITORY_SCOPE.to_string(), ..Scope::default() });
            }
            let Some(scope) = loaded.scopes.first_mut() else { return false };
            scope.objects = (scope.objects + new.objects.len()).saturating_sub(old_count(&self.cache, &path));
            scope.model.replace_file(id, new.objects.clone(), rank);
            scope.problems.retain(|p| p.location.file != id);
            scope.problems.extend(new.problems.iter().cloned());
            // A repeat within the file may be gone (a repeat across files never gets here).
            scope.repeats.retain(|r| r.file != id);
            if let Some(entry) = loaded.files.entries.get_mut(id as usize) {
                entry.kept_text = new.text.clone();
                entry.text_on_disk = new.text_on_disk;
            }
            self.cache.insert(path, (now, new));
        }
        true
    }
}

/// How many objects the cached outcome of a file held.
fn old_count(cache: &HashMap<PathBuf, (Stamp, FileOutcome)>, path: &Path) -> usize {
    cache.get(path).map_or(0, |(_, o)| o.objects.len())
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
    let namespace = match &options.scoping {
        Some(_) => options.place(path).default_namespace,
        None => options.default_namespace.clone(),
    };
    let mut not_objects = Vec::new();
    let mut has_objects = false;
    for doc in classify::documents(&stream) {
        match doc {
            Doc::Object(root) => {
                has_objects = true;
                let objects = extract_document(file, root, &namespace, interner, &mut outcome.problems);
                outcome.objects.extend(objects.into_iter().map(compact));
            }
            Doc::NotAnObject(span) => not_objects.push(span),
        }
    }
    match classify::text_problems(&text, &stream, has_objects, &not_objects) {
        Some(problems) => outcome.problems.extend(problems.into_iter().map(|(span, kind)| file_problem(span, kind))),
        // Not a manifest file (values.yaml, tsconfig.json, …): nothing of it is reported.
        None => outcome.problems.clear(),
    }
    // Held until every file is read: no room for more objects than the file has.
    outcome.objects.shrink_to_fit();
    keep(&mut outcome, text, options);
    outcome
}

/// The object with its lists cut to their length. Extraction grows them item by item, and a
/// vector that grew to one or two items holds room for four: for a network policy (its rules,
/// their peers and ports, each selector's labels) that is most of its memory, and the model is
/// what stays resident. Done on the worker, while the object is fresh, so that the model is
/// built compact rather than compacted later.
fn compact(mut object: Object) -> Object {
    fn selector(s: &mut crate::model::selector::Selector) {
        s.match_labels.shrink_to_fit();
        s.expressions.shrink_to_fit();
        for r in &mut s.expressions {
            r.values.shrink_to_fit();
        }
    }
    fn rules(rules: &mut Vec<crate::model::PolicyRule>) {
        rules.shrink_to_fit();
        for rule in rules {
            for peer in rule.peers.iter_mut().flatten() {
                match peer {
                    crate::model::PeerSelector::Pods { namespaces, pods, .. } => {
                        namespaces.iter_mut().chain(pods.iter_mut()).for_each(selector);
                    }
                    crate::model::PeerSelector::IpBlock { except, host_bits, .. } => {
                        except.shrink_to_fit();
                        host_bits.shrink_to_fit();
                    }
                }
            }
            if let Some(peers) = &mut rule.peers {
                peers.shrink_to_fit();
            }
            if let Some(ports) = &mut rule.ports {
                ports.shrink_to_fit();
            }
        }
    }
    match &mut object {
        Object::Workload(w) => w.ports.shrink_to_fit(),
        Object::Service(s) => {
            s.ports.shrink_to_fit();
            s.load_balancer_source_ranges.shrink_to_fit();
            s.source_range_placeholders.shrink_to_fit();
            s.source_range_host_bits.shrink_to_fit();
            s.external_ips.shrink_to_fit();
        }
        Object::Ingress(i) => {
            i.paths.shrink_to_fit();
            i.rule_hosts.shrink_to_fit();
            i.tls_hosts.shrink_to_fit();
        }
        Object::Route(r) => r.services.shrink_to_fit(),
        Object::NetworkPolicy(p) => {
            selector(&mut p.pod_selector);
            p.policy_types.shrink_to_fit();
            rules(&mut p.ingress);
            rules(&mut p.egress);
        }
        // Namespaces, classes and other kinds hold no list that grows with the input.
        _ => {}
    }
    object
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacted_objects_keep_every_item_and_no_spare_room() {
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: n}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  ingress:\n    - from:\n        - podSelector: {matchLabels: {app: a, tier: b}}\n        - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}\n      ports: [{port: 80}]\n";
        let stream = load::yaml::parse_stream(text);
        let root = stream.documents.first().and_then(|d| d.root.as_ref()).unwrap();
        let interner = crate::model::Interner::default();
        let objects = extract_document(0, root, "default", &interner, &mut Vec::new());
        let before = format!("{objects:?}");
        let compacted: Vec<Object> = objects.into_iter().map(compact).collect();
        assert_eq!(format!("{compacted:?}"), before);
        let Some(Object::NetworkPolicy(policy)) = compacted.first() else { panic!("{compacted:?}") };
        assert_eq!(policy.ingress.capacity(), 1);
        let peers = policy.ingress[0].peers.as_ref().unwrap();
        assert_eq!(peers.capacity(), 2);
        match &peers[0] {
            crate::model::PeerSelector::Pods { pods: Some(pods), .. } => assert_eq!(pods.match_labels.capacity(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn files_are_ranked_below_the_folder_they_share() {
        let ranks = file_ranks(&[Path::new("repo/deploy/web.yaml"), Path::new("repo/examples/web.yaml")]);
        assert_eq!(ranks, vec![FileRank::of_path("deploy/web.yaml"), FileRank::of_path("examples/web.yaml")]);
        // A file without a folder leaves nothing shared.
        let ranks = file_ranks(&[Path::new("examples/web.yaml"), Path::new("web.yaml")]);
        assert_eq!(ranks, vec![FileRank::of_path("examples/web.yaml"), FileRank::of_path("web.yaml")]);
    }
}

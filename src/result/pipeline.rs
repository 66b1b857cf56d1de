//! The entry points of the library: the whole pipeline for one set of [`Settings`].
//!
//! [`analyse`] loads the repository and builds its graph (what `graph` and `explain` answer
//! from); [`check`] goes on to the findings a user sees, with the base revision's findings left
//! out under `diff_base`; [`analyse_revision`] does the first for another git revision. The
//! command line, `check --watch` (through a [`Session`]) and the tests call these, so that every
//! front end runs the same pipeline. They run on the current rayon pool, which the caller
//! chooses, and report each finished stage to an observer (`--stats` times them); they print
//! nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::settings::Settings;
use super::Outcome;
use crate::graph::diff::EdgeChange;
use crate::graph::{self, Graph};
use crate::load::{self, git::GitError, FileSource, LoadError};
use crate::model::build::{self, LoadOptions, Loaded, Scope, Session};
use rayon::prelude::*;

/// A stage that has just finished, for an observer that times the pipeline.
#[derive(Clone, Copy, Debug)]
pub struct StageDone {
    pub name: &'static str,
    pub started: Instant,
    /// For the load stage: bytes read and objects found.
    pub volume: Option<(u64, usize)>,
    /// The stage's time when it is not `started.elapsed()` (rendering, which the load stage
    /// measures inside itself).
    pub took: Option<std::time::Duration>,
}

/// Something that wants to know when each stage is done; `&mut |_| {}` for nobody.
pub type Observer<'o> = &'o mut dyn FnMut(StageDone);

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The base revision could not be read.
    #[error(transparent)]
    Revision(#[from] GitError),
    #[error("no scope is named `{name}`; the scopes are: {}", list_scopes(available))]
    UnknownScope { name: String, available: Vec<String> },
    #[error("the analysis has {} scopes (clusters analysed on their own); choose one with --scope: {}", available.len(), list_scopes(available))]
    ScopeNeeded { available: Vec<String> },
}

fn list_scopes(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".to_string();
    }
    names.join(", ")
}

/// Where the repository comes from: read afresh, or through a session that re-reads only what
/// changed since its last run (`modified`: files known to have changed in place; empty: look at
/// every file).
pub enum Source<'s> {
    Fresh,
    Session { session: &'s mut Session, modified: &'s [PathBuf] },
}

/// The loaded repository: owned, or the session's.
pub enum LoadedRef<'s> {
    Owned(Box<Loaded>),
    Session(&'s Loaded),
}

impl std::ops::Deref for LoadedRef<'_> {
    type Target = Loaded;
    fn deref(&self) -> &Loaded {
        match self {
            LoadedRef::Owned(loaded) => loaded,
            LoadedRef::Session(loaded) => loaded,
        }
    }
}

/// What `check` computed: the repository, each scope's graph and the findings to report.
pub struct Checked<'s> {
    pub loaded: LoadedRef<'s>,
    /// Each scope's graph, in the order of `loaded.scopes`.
    pub graphs: Vec<Graph>,
    pub outcome: Outcome,
    /// Under `diff_base`: the connections the working tree adds and removes.
    pub changes: Option<Vec<EdgeChange>>,
}

/// One scope of a loaded repository and its reachability graph: what `graph` and `explain` answer
/// from.
pub struct Analysis {
    pub loaded: Loaded,
    /// The index of the scope in `loaded.scopes`.
    pub scope: usize,
    pub graph: Graph,
}

impl Analysis {
    pub fn scope(&self) -> &Scope {
        self.loaded.scopes.get(self.scope).unwrap_or_else(|| self.loaded.single())
    }
}

/// Which scope `graph` and `explain` answer for: the one named, else the only scope with
/// objects (or none when there is none).
pub fn choose_scope(loaded: &Loaded, asked: Option<&str>) -> Result<Option<usize>, PipelineError> {
    let available = || loaded.scopes_with_objects().map(|s| s.name.clone()).collect::<Vec<_>>();
    match asked {
        Some(name) => match loaded.scopes.iter().position(|s| s.name == name) {
            Some(i) => Ok(Some(i)),
            None => Err(PipelineError::UnknownScope { name: name.to_string(), available: available() }),
        },
        None => {
            let mut with_objects = loaded.scopes.iter().enumerate().filter(|(_, s)| s.objects > 0);
            match (with_objects.next(), with_objects.next()) {
                (Some((i, _)), None) => Ok(Some(i)),
                (None, _) => Ok(loaded.scopes.first().map(|_| 0)),
                (Some(_), Some(_)) => Err(PipelineError::ScopeNeeded { available: available() }),
            }
        }
    }
}

/// Each scope's graph, built in parallel with its own profile.
fn graphs_of(loaded: &Loaded, settings: &Settings) -> Vec<Graph> {
    loaded.scopes.par_iter().map(|s| graph::build_with(&s.model, settings.profile_for(&s.settings))).collect()
}

/// The load stage's report: its time, with rendering as a stage of its own when there was any.
fn observe_load(observe: Observer, started: Instant, loaded: &Loaded) {
    if loaded.rendered > 0 {
        observe(StageDone { name: "render", started, volume: None, took: Some(loaded.render_time) });
    }
    observe(StageDone { name: "load", started, volume: Some((loaded.bytes_read, loaded.objects)), took: None });
}

/// Loads the repository and builds the reachability graph of one scope (`settings.scope`, else
/// the only one).
pub fn analyse(settings: &Settings, observe: Observer) -> Result<Analysis, PipelineError> {
    let started = Instant::now();
    let loaded = build::load(&settings.paths, &settings.load)?;
    observe_load(observe, started, &loaded);
    let started = Instant::now();
    let scope = choose_scope(&loaded, settings.scope.as_deref())?;
    let graph = match scope.and_then(|i| loaded.scopes.get(i)) {
        Some(s) => graph::build_with(&s.model, settings.profile_for(&s.settings)),
        None => graph::build_with(&crate::model::Model::default(), &settings.profile),
    };
    observe(StageDone { name: "graph", started, volume: None, took: None });
    Ok(Analysis { loaded, scope: scope.unwrap_or(0), graph })
}

/// The same paths, with the same settings, as they are at a git revision (read from git's
/// objects; nothing is checked out): the repository and each scope's graph. When that revision
/// holds kustomizations or charts to render, its tree is written to a temporary folder for the
/// renderers (they read the disk), and what is read there is named as in the working tree.
pub fn analyse_revision(settings: &Settings, revision: &str) -> Result<(Loaded, Vec<Graph>), PipelineError> {
    let snapshot = load::git::snapshot(revision, &settings.paths)?;
    let renders = settings.load.render.enabled
        && snapshot.files.keys().any(|p| {
            load::render::kustomize::is_kustomization_file(p) || p.file_name().is_some_and(|n| n == "Chart.yaml")
        });
    let loaded = if renders {
        let export = load::git::export(revision, &settings.paths)?;
        let mut walk = settings.load.walk.clone();
        for (root, _) in &mut walk.anchored_excludes {
            *root = export.in_export(root);
        }
        let options = LoadOptions {
            source: FileSource::Disk,
            keep_text: crate::load::KeepText::All,
            stdin: None,
            walk,
            ..settings.load.clone()
        };
        let mut loaded = build::load(&export.paths, &options)?;
        loaded.files.adopt_export(&export);
        for scope in &mut loaded.scopes {
            if let build::ScopeSource::Kustomization(dir) | build::ScopeSource::Chart(dir) = &mut scope.source {
                *dir = export.in_working_tree(dir);
                scope.name = load::display_path(dir);
            }
        }
        loaded
    } else {
        let options = LoadOptions {
            source: FileSource::Snapshot(Arc::new(snapshot)),
            keep_text: crate::load::KeepText::All,
            stdin: None,
            ..settings.load.clone()
        };
        build::load(&settings.paths, &options)?
    };
    let graphs = graphs_of(&loaded, settings);
    Ok((loaded, graphs))
}

/// The connections that `graphs` add and remove over `base`, scope by scope (matched by name).
pub fn connection_changes(base: (&Loaded, &[Graph]), now: (&Loaded, &[Graph])) -> Vec<EdgeChange> {
    let empty = Graph::default();
    let mut names: Vec<&str> = now.0.scopes.iter().chain(&base.0.scopes).map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let graph_of = |(loaded, graphs): (&Loaded, &[Graph]), name: &str| -> Option<usize> {
        loaded.scopes.iter().position(|s| s.name == name).filter(|i| *i < graphs.len())
    };
    let mut changes = Vec::new();
    for name in names {
        let before = graph_of(base, name).map_or(&empty, |i| &base.1[i]);
        let after = graph_of(now, name).map_or(&empty, |i| &now.1[i]);
        changes.extend(crate::graph::diff::edge_changes(before, after));
    }
    changes
}

/// The whole pipeline: load (or reload through a session), graph, rules, and the result stage
/// (selection, suppressions, levels, baseline, only-files, the diff against `diff_base`).
pub fn check<'s>(settings: &Settings, source: Source<'s>, observe: Observer) -> Result<Checked<'s>, PipelineError> {
    let started = Instant::now();
    let loaded = match source {
        Source::Fresh => LoadedRef::Owned(Box::new(build::load(&settings.paths, &settings.load)?)),
        Source::Session { session, modified } => {
            LoadedRef::Session(session.reload(modified, &settings.paths, &settings.load)?)
        }
    };
    observe_load(observe, started, &loaded);
    // `check --scope NAME`: that scope alone (an unknown name is an error, as for `graph`).
    let only_scope = match &settings.scope {
        Some(name) => choose_scope(&loaded, Some(name))?,
        None => None,
    };
    let started = Instant::now();
    let graphs = graphs_of(&loaded, settings);
    observe(StageDone { name: "graph", started, volume: None, took: None });
    let mut changes = None;
    let mut base_levels = None;
    if let Some(base) = &settings.diff_base {
        // What the base revision already reports, at the same level or higher, is not new.
        let (base_loaded, base_graphs) = analyse_revision(settings, base)?;
        base_levels = Some(super::diff::finding_levels(&base_loaded, &base_graphs, settings));
        changes = Some(connection_changes((&base_loaded, &base_graphs), (&loaded, &graphs)));
    }
    let started = Instant::now();
    let mut outcome = super::run_for_scope(
        &loaded,
        &graphs,
        settings,
        settings.baseline.as_ref(),
        settings.only_files.as_ref(),
        only_scope,
    );
    if let Some(levels) = &base_levels {
        super::diff::keep_new(&mut outcome, &loaded.files, levels);
    }
    observe(StageDone { name: "rules", started, volume: None, took: None });
    Ok(Checked { loaded, graphs, outcome, changes })
}

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
use crate::model::build::{self, LoadOptions, Loaded, Session};

/// A stage that has just finished, for an observer that times the pipeline.
#[derive(Clone, Copy, Debug)]
pub struct StageDone {
    pub name: &'static str,
    pub started: Instant,
    /// For the load stage: bytes read and objects found.
    pub volume: Option<(u64, usize)>,
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

/// What `check` computed: the repository, its graph and the findings to report.
pub struct Checked<'s> {
    pub loaded: LoadedRef<'s>,
    pub graph: Graph,
    pub outcome: Outcome,
    /// Under `diff_base`: the connections the working tree adds and removes.
    pub changes: Option<Vec<EdgeChange>>,
}

/// Loads the repository and builds its reachability graph.
pub fn analyse(settings: &Settings, observe: Observer) -> Result<(Loaded, Graph), PipelineError> {
    let started = Instant::now();
    let loaded = build::load(&settings.paths, &settings.load)?;
    observe(StageDone { name: "load", started, volume: Some((loaded.bytes_read, loaded.objects)) });
    let started = Instant::now();
    let graph = graph::build_with(&loaded.model, &settings.profile);
    observe(StageDone { name: "graph", started, volume: None });
    Ok((loaded, graph))
}

/// The same paths, with the same settings, as they are at a git revision (read from git's
/// objects; nothing is checked out).
pub fn analyse_revision(settings: &Settings, revision: &str) -> Result<(Loaded, Graph), PipelineError> {
    let snapshot = load::git::snapshot(revision, &settings.paths)?;
    let options = LoadOptions {
        source: FileSource::Snapshot(Arc::new(snapshot)),
        keep_text: crate::load::KeepText::All,
        ..settings.load.clone()
    };
    let loaded = build::load(&settings.paths, &options)?;
    let graph = graph::build_with(&loaded.model, &settings.profile);
    Ok((loaded, graph))
}

/// The whole pipeline: load (or reload through a session), graph, rules, and the result stage
/// (selection, suppressions, levels, baseline, only-files, the diff against `diff_base`).
pub fn check<'s>(settings: &Settings, source: Source<'s>, observe: Observer) -> Result<Checked<'s>, PipelineError> {
    let (loaded, graph) = match source {
        Source::Fresh => {
            let (loaded, graph) = analyse(settings, observe)?;
            (LoadedRef::Owned(Box::new(loaded)), graph)
        }
        Source::Session { session, modified } => {
            let started = Instant::now();
            let loaded = session.reload(modified, &settings.paths, &settings.load)?;
            observe(StageDone { name: "load", started, volume: Some((loaded.bytes_read, loaded.objects)) });
            let started = Instant::now();
            let graph = graph::build_with(&loaded.model, &settings.profile);
            observe(StageDone { name: "graph", started, volume: None });
            (LoadedRef::Session(loaded), graph)
        }
    };
    let mut changes = None;
    let mut base_levels = None;
    if let Some(base) = &settings.diff_base {
        // What the base revision already reports, at the same level or higher, is not new.
        let (base_loaded, base_graph) = analyse_revision(settings, base)?;
        base_levels = Some(super::diff::finding_levels(&base_loaded, &base_graph, settings));
        changes = Some(crate::graph::diff::edge_changes(&base_graph, &graph));
    }
    let started = Instant::now();
    let mut outcome =
        super::run_for_files(&loaded, &graph, settings, settings.baseline.as_ref(), settings.only_files.as_ref());
    if let Some(levels) = &base_levels {
        super::diff::keep_new(&mut outcome, &loaded.files, levels);
    }
    observe(StageDone { name: "rules", started, volume: None });
    Ok(Checked { loaded, graph, outcome, changes })
}

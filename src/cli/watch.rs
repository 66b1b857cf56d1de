//! `check --watch`: check, then check again whenever a manifest or the configuration changes.
//!
//! Changes are debounced (an editor's save, a `git checkout`, arrive as bursts of events), and
//! each run goes through one [`Session`](crate::model::build::Session), which re-reads only the
//! files whose modification time or size changed. The report file, when there is one, is
//! replaced at once each time, so that an editor that reloads it never sees half a report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher as _};

use super::{check_once, CheckArgs, CliError};
use crate::model::build::Session;

/// Quiet time after the last event before a run starts.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Whether a changed path can change what `check` reports.
fn relevant(path: &Path, output: Option<&Path>) -> bool {
    if output.is_some_and(|o| o == path) {
        return false;
    }
    if path.components().any(|c| c.as_os_str() == ".git") {
        return false;
    }
    crate::load::is_manifest_file(path)
}

/// What changed during one burst of events.
#[derive(Default)]
struct Change {
    /// Files whose contents changed in place.
    modified: Vec<PathBuf>,
    /// A file was created, removed or renamed: the walk must be redone.
    structural: bool,
}

/// Blocks until a relevant change has happened and the burst of events is over; `None` when the
/// watcher is gone.
fn wait_for_change(events: &Receiver<notify::Result<notify::Event>>, output: Option<&Path>) -> Option<Change> {
    let mut change = Change::default();
    let record = |event: notify::Result<notify::Event>, change: &mut Change| -> bool {
        let Ok(event) = event else {
            // Events were lost: look at everything.
            change.structural = true;
            return true;
        };
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        let in_place = matches!(event.kind, EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any));
        // A folder that appears, goes or moves (a path gone without an extension is taken for
        // one), or an ignore file that changes, changes which files the walk finds.
        let changes_the_walk = |p: &PathBuf| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            matches!(name, ".gitignore" | ".ignore")
                || (!in_place && (p.is_dir() || (!p.exists() && p.extension().is_none())))
        };
        if event.paths.iter().any(|p| !p.components().any(|c| c.as_os_str() == ".git") && changes_the_walk(p)) {
            change.structural = true;
            return true;
        }
        let paths: Vec<PathBuf> = event.paths.into_iter().filter(|p| relevant(p, output)).collect();
        if paths.is_empty() {
            return false;
        }
        if in_place {
            change.modified.extend(paths);
        } else {
            change.structural = true;
        }
        true
    };
    loop {
        match events.recv() {
            Ok(event) => {
                if record(event, &mut change) {
                    break;
                }
            }
            Err(_) => return None,
        }
    }
    loop {
        match events.recv_timeout(DEBOUNCE) {
            Ok(event) => {
                record(event, &mut change);
            }
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
    change.modified.sort();
    change.modified.dedup();
    Some(change)
}

pub fn run(args: &CheckArgs, pool: &rayon::ThreadPool) -> Result<ExitCode, CliError> {
    let requested = args.requested();
    let paths = requested.scanned_paths();
    let (sender, events) = channel();
    let mut watcher = notify::recommended_watcher(sender).map_err(|e| CliError::Watch(e.to_string()))?;
    for path in &paths {
        watcher
            .watch(path, RecursiveMode::Recursive)
            .map_err(|e| CliError::Watch(format!("{}: {e}", path.display())))?;
    }
    // A configuration may live above the scanned paths (those below them are watched with them).
    // Its folder is watched on its own only when no scanned path covers it: a second,
    // non-recursive watch of a folder already watched recursively replaces the first, and folders
    // created later would go unseen. A broken walk is the first run's to report.
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let recursive: Vec<PathBuf> = paths.iter().map(|p| canonical(p)).collect();
    let mut alone: Vec<PathBuf> = Vec::new();
    for config in requested.config_files(&paths).unwrap_or_default() {
        let Some(dir) = config.parent() else { continue };
        let dir = canonical(if dir.as_os_str().is_empty() { Path::new(".") } else { dir });
        if !recursive.iter().any(|w| dir.starts_with(w)) && !alone.contains(&dir) {
            let _ = watcher.watch(&dir, RecursiveMode::NonRecursive);
            alone.push(dir);
        }
    }
    let output: Option<PathBuf> = args.output.as_ref().map(|o| {
        let absolute = std::env::current_dir().map(|d| d.join(o)).unwrap_or_else(|_| o.clone());
        crate::load::normalize(&absolute)
    });
    let mut session = Session::new();
    let mut modified: Vec<PathBuf> = Vec::new();
    loop {
        let started = Instant::now();
        match check_once(args, pool, Some((&mut session, &modified))) {
            Ok(_) => eprintln!(
                "kubereach: checked in {} ms ({} file{} read); watching for changes, Ctrl-C to stop",
                started.elapsed().as_millis(),
                session.reparsed,
                if session.reparsed == 1 { "" } else { "s" }
            ),
            // A broken configuration is fixed while watching: say so and wait for the fix.
            Err(e) => eprintln!("kubereach: error: {e}"),
        }
        let Some(change) = wait_for_change(&events, output.as_deref()) else {
            return Ok(ExitCode::SUCCESS);
        };
        // Paths as the walk names them (relative to the working directory when below it), so that
        // the session recognises its files; a structural change reloads everything.
        modified =
            if change.structural { Vec::new() } else { change.modified.iter().map(|p| walk_name(p, &paths)).collect() };
    }
}

/// The path under which the walk of `roots` finds an absolute `path`: the root as written on the
/// command line joined with the rest.
fn walk_name(path: &Path, roots: &[PathBuf]) -> PathBuf {
    for root in roots {
        let absolute = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
        if let Ok(rest) = path.strip_prefix(&absolute) {
            return root.join(rest);
        }
    }
    path.to_path_buf()
}

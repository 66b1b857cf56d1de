//! `check --watch`: check, then check again whenever a manifest or the configuration changes.
//!
//! Changes are debounced (an editor's save, a `git checkout`, arrive as bursts of events), and
//! each run goes through one [`Session`](crate::analysis::Session), which re-reads only the
//! files whose modification time or size changed. The report file, when there is one, is
//! replaced at once each time, so that an editor that reloads it never sees half a report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::{check_once, paths_or_cwd, CheckArgs, CliError};
use crate::analysis::Session;

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
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") || name == "Kustomization"
}

/// Blocks until a relevant change has happened and the burst of events is over. `false` when the
/// watcher is gone.
fn wait_for_change(events: &Receiver<notify::Result<notify::Event>>, output: Option<&Path>) -> bool {
    let is_relevant = |event: &notify::Result<notify::Event>| match event {
        Ok(e) => !matches!(e.kind, EventKind::Access(_)) && e.paths.iter().any(|p| relevant(p, output)),
        Err(_) => true,
    };
    loop {
        match events.recv() {
            Ok(event) if is_relevant(&event) => break,
            Ok(_) => continue,
            Err(_) => return false,
        }
    }
    loop {
        match events.recv_timeout(DEBOUNCE) {
            Ok(_) => continue,
            Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

pub fn run(args: &CheckArgs, pool: &rayon::ThreadPool) -> Result<ExitCode, CliError> {
    let paths = paths_or_cwd(&args.common.paths);
    let (sender, events) = channel();
    let mut watcher = notify::recommended_watcher(sender).map_err(|e| CliError::Watch(e.to_string()))?;
    for path in &paths {
        watcher
            .watch(path, RecursiveMode::Recursive)
            .map_err(|e| CliError::Watch(format!("{}: {e}", path.display())))?;
    }
    // The configuration may live above the scanned paths.
    let config = args.common.config.clone().or_else(|| paths.first().and_then(|p| crate::config::discover(p)));
    if let Some(dir) = config.as_ref().and_then(|c| c.parent()) {
        let _ = watcher.watch(dir, RecursiveMode::NonRecursive);
    }
    let output: Option<PathBuf> = args.output.as_ref().map(|o| {
        let absolute = std::env::current_dir().map(|d| d.join(o)).unwrap_or_else(|_| o.clone());
        crate::load::normalize(&absolute)
    });
    let mut session = Session::new();
    loop {
        let started = Instant::now();
        match check_once(args, pool, Some(&mut session)) {
            Ok(_) => eprintln!(
                "kubereach: checked in {} ms ({} file{} read); watching for changes, Ctrl-C to stop",
                started.elapsed().as_millis(),
                session.reparsed,
                if session.reparsed == 1 { "" } else { "s" }
            ),
            // A broken configuration is fixed while watching: say so and wait for the fix.
            Err(e) => eprintln!("kubereach: error: {e}"),
        }
        if !wait_for_change(&events, output.as_deref()) {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

//! Where the repository of a path starts: the nearest folder that holds `.git`.

use std::path::{Path, PathBuf};

/// The repository root of `path`: the nearest folder at or above it with a `.git`, else the
/// working directory. Findings are reported relative to it (SARIF URIs), and `check --only-files`
/// analyses all of it for context.
pub fn repository_root(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let start = std::fs::canonicalize(path).unwrap_or_else(|_| cwd.join(path));
    nearest_folder(&start, |d| d.join(".git").exists()).unwrap_or(cwd)
}

/// The nearest folder at or above `start` (a folder, or the folder of a file) that `holds`
/// accepts: how the repository root and the configuration file are found.
pub fn nearest_folder(start: &Path, holds: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let mut dir = if start.is_dir() { Some(start) } else { start.parent() };
    while let Some(d) = dir {
        if holds(d) {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// Every file named `name` under `paths` (say `.kubereach.yaml`), found as the walk finds
/// manifests: `.gitignore` and `.ignore` respected, hidden folders and `.git` skipped, links
/// followed, `excludes` (gitignore syntax, relative to each path) left out. The file itself may
/// be hidden. Sorted, each path as the walk names it.
pub fn find_named(paths: &[PathBuf], name: &str, excludes: &[String]) -> Result<Vec<PathBuf>, super::LoadError> {
    let mut found = Vec::new();
    for root in paths {
        if root.is_file() {
            continue;
        }
        let mut overrides = ignore::overrides::OverrideBuilder::new(root);
        for pattern in excludes {
            overrides
                .add(&format!("!{pattern}"))
                .map_err(|e| super::LoadError::BadExclude { pattern: pattern.clone(), message: e.to_string() })?;
        }
        let overrides = overrides
            .build()
            .map_err(|e| super::LoadError::BadExclude { pattern: excludes.join(", "), message: e.to_string() })?;
        let mut builder = ignore::WalkBuilder::new(root);
        // Hidden entries are let through to find the hidden file, then hidden folders are skipped
        // by hand, as the manifest walk skips them.
        builder.follow_links(true).overrides(overrides).require_git(false).hidden(false).filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            entry.depth() == 0 || !is_dir || !entry.file_name().to_string_lossy().starts_with('.')
        });
        let wanted = std::ffi::OsStr::new(name);
        let hits: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::default();
        builder.threads(rayon::current_num_threads().max(1)).build_parallel().run(|| {
            Box::new(|entry| {
                if let Ok(entry) = entry {
                    if entry.file_name() == wanted && entry.file_type().is_some_and(|t| t.is_file()) {
                        if let Ok(mut hits) = hits.lock() {
                            hits.push(entry.into_path());
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
        found.extend(hits.into_inner().unwrap_or_default());
    }
    found.sort();
    found.dedup();
    Ok(found)
}

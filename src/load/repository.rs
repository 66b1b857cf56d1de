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

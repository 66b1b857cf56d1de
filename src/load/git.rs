//! Manifests of another revision, read from git's objects: no checkout, the working tree untouched.
//!
//! `check --diff-base REV` and `graph --diff-base REV` analyse the base revision the way they
//! analyse the working tree: the same scanned paths, the same excludes, the same loader, only the
//! bytes come from `git cat-file` instead of the disk. Blobs are keyed by the path the file has
//! (or would have) in the working tree, so that both analyses name files alike.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The manifest-like files of one revision under the scanned paths, by working-tree path.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub revision: String,
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    #[error("`{path}` is not inside a git repository")]
    NotARepository { path: String },
    #[error("`{path}` is not inside the repository `{top}` of the first path")]
    OtherRepository { path: String, top: String },
    #[error("git cannot resolve `{revision}`: {message}")]
    UnknownRevision { revision: String, message: String },
    #[error("git failed: {0}")]
    Failed(String),
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(GitError::Failed(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    Ok(out.stdout)
}

/// The top folder of the repository that holds `path`.
pub fn repository_top(path: &Path) -> Result<PathBuf, GitError> {
    let dir = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let out = git(dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| GitError::NotARepository { path: path.display().to_string() })?;
    let top = String::from_utf8_lossy(&out).trim().to_string();
    Ok(PathBuf::from(top))
}

/// Reads the files of `revision` under `scan_paths` (as given on the command line).
pub fn snapshot(revision: &str, scan_paths: &[PathBuf]) -> Result<Snapshot, GitError> {
    let first = scan_paths.first().map_or(Path::new("."), PathBuf::as_path);
    let top = repository_top(first)?;
    let top_real = std::fs::canonicalize(&top).unwrap_or_else(|_| top.clone());
    let unknown = || GitError::UnknownRevision {
        revision: revision.to_string(),
        message: "not a commit, branch or tag of this repository".to_string(),
    };
    let verified =
        git(&top, &["rev-parse", "--verify", "--quiet", &format!("{revision}^{{tree}}")]).map_err(|_| unknown())?;
    let tree = String::from_utf8_lossy(&verified).trim().to_string();
    if tree.is_empty() {
        return Err(unknown());
    }
    // Each scanned path as a prefix inside the repository, with the path it is known by.
    let mut scopes: Vec<(String, PathBuf)> = Vec::new();
    for p in scan_paths {
        let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let Ok(relative) = real.strip_prefix(&top_real) else {
            return Err(GitError::OtherRepository { path: p.display().to_string(), top: top.display().to_string() });
        };
        scopes.push((relative.to_string_lossy().replace('\\', "/"), p.clone()));
    }
    let listing = git(&top, &["ls-tree", "-r", "-z", "--full-tree", &tree])?;
    // path → (mode, object id) of every entry, for following symbolic links within the tree.
    let mut entries: BTreeMap<String, (String, String)> = BTreeMap::new();
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else { continue };
        let mut fields = meta.split_whitespace();
        if let (Some(mode), Some(_kind), Some(id)) = (fields.next(), fields.next(), fields.next()) {
            entries.insert(path.to_string(), (mode.to_string(), id.to_string()));
        }
    }
    // (object id, working-tree path); links are read as their targets once known.
    let mut wanted: Vec<(String, PathBuf)> = Vec::new();
    let mut links: Vec<(String, String, PathBuf)> = Vec::new();
    let mut submodules: Vec<PathBuf> = Vec::new();
    for (path, (mode, id)) in &entries {
        let Some(key) = working_tree_path(path, &scopes) else { continue };
        if mode == "160000" {
            submodules.push(key);
            continue;
        }
        if !crate::load::is_manifest_file(Path::new(path)) {
            continue;
        }
        match mode.as_str() {
            "120000" => links.push((path.clone(), id.clone(), key)),
            _ => wanted.push((id.clone(), key)),
        }
    }
    // Files the working tree's ignore rules leave out are left out of the base too, tracked or
    // not, as the walk leaves them out of the working tree.
    let candidates: Vec<&str> =
        entries.keys().filter(|p| crate::load::is_manifest_file(Path::new(p))).map(String::as_str).collect();
    let ignored = ignored_paths(&top, &candidates)?;
    if !ignored.is_empty() {
        let shown: std::collections::BTreeSet<PathBuf> =
            ignored.iter().filter_map(|p| working_tree_path(p, &scopes)).collect();
        wanted.retain(|(_, key)| !shown.contains(key));
        links.retain(|(_, _, key)| !shown.contains(key));
    }
    let mut files = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(Snapshot { revision: revision.to_string(), files });
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::Spawn)?;
    let ids: String = wanted.iter().map(|(id, _)| format!("{id}\n")).collect();
    let mut stdin = child.stdin.take().ok_or_else(|| GitError::Failed("no stdin".to_string()))?;
    // Write from another thread: git answers while it reads, and both pipes are bounded.
    let writer = std::thread::spawn(move || stdin.write_all(ids.as_bytes()));
    let stdout = child.stdout.take().ok_or_else(|| GitError::Failed("no stdout".to_string()))?;
    let mut reader = BufReader::new(stdout);
    for (_, key) in &wanted {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(|e| GitError::Failed(e.to_string()))?;
        // `<id> blob <size>`
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| GitError::Failed(format!("unexpected `git cat-file` answer `{}`", header.trim())))?;
        let mut bytes = vec![0u8; size];
        reader.read_exact(&mut bytes).map_err(|e| GitError::Failed(e.to_string()))?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline).map_err(|e| GitError::Failed(e.to_string()))?;
        files.insert(key.clone(), bytes);
    }
    let _ = writer.join();
    let _ = child.wait();
    // A link to a file of the tree reads as that file, as on disk.
    for (path, id, key) in links {
        let target = read_blob(&top, &id)?;
        let target = String::from_utf8_lossy(&target).to_string();
        let dir = Path::new(&path).parent().unwrap_or(Path::new(""));
        let resolved = crate::load::normalize(&dir.join(&target)).to_string_lossy().replace('\\', "/");
        if let Some((mode, target_id)) = entries.get(&resolved) {
            if mode != "120000" && mode != "160000" {
                files.insert(key, read_blob(&top, target_id)?);
            }
        }
    }
    // A submodule's contents are another repository's: they are taken as they are in the working
    // tree, so that a change of the superproject is not blamed for them.
    for dir in submodules {
        for entry in ignore::WalkBuilder::new(&dir).build().flatten() {
            let path = entry.path();
            if entry.file_type().is_some_and(|t| t.is_file()) && crate::load::is_manifest_file(path) {
                if let Ok(bytes) = std::fs::read(path) {
                    files.insert(path.to_path_buf(), bytes);
                }
            }
        }
    }
    Ok(Snapshot { revision: revision.to_string(), files })
}

/// Which of `paths` (relative to the repository's top) the ignore rules of the working tree
/// exclude, tracked files included.
fn ignored_paths(top: &Path, paths: &[&str]) -> Result<Vec<String>, GitError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["check-ignore", "--no-index", "--stdin", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::Spawn)?;
    let input: Vec<u8> = paths.iter().flat_map(|p| p.bytes().chain(std::iter::once(0))).collect();
    let mut stdin = child.stdin.take().ok_or_else(|| GitError::Failed("no stdin".to_string()))?;
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().map_err(|e| GitError::Failed(e.to_string()))?;
    let _ = writer.join();
    // Exit 1 means that nothing is ignored.
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).to_string())
        .collect())
}

fn read_blob(top: &Path, id: &str) -> Result<Vec<u8>, GitError> {
    git(top, &["cat-file", "blob", id])
}

/// The working-tree path of a repository path under one of the scanned paths, as the walk would
/// name it; `None` outside them, or hidden below them (the walk skips hidden files).
fn working_tree_path(path: &str, scopes: &[(String, PathBuf)]) -> Option<PathBuf> {
    for (prefix, shown) in scopes {
        let rest = if prefix.is_empty() {
            Some(path)
        } else if path == prefix {
            Some("")
        } else {
            path.strip_prefix(prefix.as_str()).and_then(|r| r.strip_prefix('/'))
        };
        if let Some(rest) = rest {
            if rest.split('/').any(|c| c.starts_with('.')) {
                return None;
            }
            return Some(if rest.is_empty() { shown.clone() } else { shown.join(rest) });
        }
    }
    None
}

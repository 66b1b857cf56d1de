//! Manifests of another revision, read from git's objects: no checkout, the working tree untouched.
//!
//! `check --diff-base REV` and `graph --diff-base REV` analyse the base revision the way they
//! analyse the working tree: the same scanned paths, the same excludes, the same loader, only the
//! bytes come from `git cat-file` instead of the disk. Blobs are keyed by the path the file has
//! (or would have) in the working tree, so that both analyses name files alike.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::load::classify::Unreadable;

/// The manifest-like files of one revision under the scanned paths, by working-tree path.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub revision: String,
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Paths the walk could not follow (symbolic link loops), with the reason, as the walk of the
    /// working tree reports them.
    pub(crate) problems: Vec<(PathBuf, Unreadable)>,
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
pub(crate) fn repository_top(path: &Path) -> Result<PathBuf, GitError> {
    let dir = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new(".")) };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let out = git(dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| GitError::NotARepository { path: path.display().to_string() })?;
    let top = String::from_utf8_lossy(&out).trim().to_string();
    Ok(PathBuf::from(top))
}

/// Reads the files of `revision` under `scan_paths` (as given on the command line).
pub(crate) fn snapshot(revision: &str, scan_paths: &[PathBuf]) -> Result<Snapshot, GitError> {
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
    // The files the walk would read, as (path as the walk reaches it, working-tree path, object
    // id); symbolic links are followed below, as the walk follows them on disk.
    let mut found: Vec<(String, PathBuf, String)> = Vec::new();
    let mut links: Vec<Link> = Vec::new();
    let mut submodules: Vec<PathBuf> = Vec::new();
    for (path, (mode, id)) in &entries {
        let Some(key) = working_tree_path(path, &scopes) else { continue };
        match mode.as_str() {
            "160000" => submodules.push(key),
            "120000" => links.push(Link { walked: path.clone(), id: id.clone(), key, depth: 0 }),
            _ if crate::load::is_manifest_file(Path::new(path)) => found.push((path.clone(), key, id.clone())),
            _ => {}
        }
    }
    let mut problems = Vec::new();
    follow_links(&top, &entries, links, &scopes, &mut found, &mut problems)?;
    // Files the working tree's ignore rules leave out are left out of the base too, tracked or
    // not, as the walk leaves them out of the working tree.
    let walked: Vec<&str> = found.iter().map(|(walked, _, _)| walked.as_str()).collect();
    let ignored = ignored_paths(&top, &walked)?;
    found.retain(|(walked, _, _)| !ignored.contains(walked));
    let mut files = BTreeMap::new();
    for ((_, key, _), bytes) in found.iter().zip(read_blobs(&top, found.iter().map(|(_, _, id)| id.as_str()))?) {
        files.insert(key.clone(), bytes);
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
    Ok(Snapshot { revision: revision.to_string(), files, problems })
}

/// A symbolic link of the tree, reached by the walk at `walked` (relative to the repository's
/// top), shown at `key`, after `depth` other links.
struct Link {
    walked: String,
    id: String,
    key: PathBuf,
    depth: usize,
}

/// Links followed one into another at most: a chain longer than this is taken for a loop.
const MAX_LINK_DEPTH: usize = 16;

/// Follows the links of the tree as the walk follows them on disk: a link to a file reads as the
/// file (under the link's name), a link to a folder as the folder's files under the link's path,
/// and a link back to a folder it lies in is a loop, reported as the walk reports it.
fn follow_links(
    top: &Path,
    entries: &BTreeMap<String, (String, String)>,
    mut links: Vec<Link>,
    scopes: &[(String, PathBuf)],
    found: &mut Vec<(String, PathBuf, String)>,
    problems: &mut Vec<(PathBuf, Unreadable)>,
) -> Result<(), GitError> {
    // Link targets are blobs too: read them all at once.
    while !links.is_empty() {
        let targets = read_blobs(top, links.iter().map(|l| l.id.as_str()))?;
        let mut next = Vec::new();
        for (link, target) in links.into_iter().zip(targets) {
            let target = String::from_utf8_lossy(&target).to_string();
            let dir = Path::new(&link.walked).parent().unwrap_or(Path::new(""));
            let resolved = crate::load::normalize(&dir.join(&target)).to_string_lossy().replace('\\', "/");
            match entries.get(&resolved) {
                Some((mode, id)) if mode == "120000" => {
                    if link.depth < MAX_LINK_DEPTH {
                        next.push(Link { walked: link.walked, id: id.clone(), key: link.key, depth: link.depth + 1 });
                    }
                }
                Some((mode, _)) if mode == "160000" => {}
                Some((_, id)) => {
                    if crate::load::is_manifest_file(Path::new(&link.walked)) {
                        found.push((link.walked, link.key, id.clone()));
                    }
                }
                None => {
                    // A folder of the tree: the entries under `resolved/` (the whole tree for its top).
                    let prefix = if resolved.is_empty() { String::new() } else { format!("{resolved}/") };
                    if !entries.range(prefix.clone()..).next().is_some_and(|(p, _)| p.starts_with(&prefix)) {
                        continue; // a dangling link, or one out of the repository
                    }
                    if link.walked.starts_with(&prefix) || link.depth >= MAX_LINK_DEPTH {
                        let ancestor = working_tree_path(&resolved, scopes).unwrap_or_else(|| PathBuf::from(&resolved));
                        let ancestor = crate::load::display_path(&ancestor);
                        problems.push((link.key, Unreadable::LinkLoop { ancestor }));
                        continue;
                    }
                    for (path, (mode, id)) in entries.range(prefix.clone()..) {
                        let Some(rest) = path.strip_prefix(&prefix) else { break };
                        // The walk skips hidden files and folders under the link as anywhere.
                        if rest.split('/').any(|c| c.starts_with('.')) {
                            continue;
                        }
                        let walked = format!("{}/{rest}", link.walked);
                        let key = link.key.join(rest);
                        match mode.as_str() {
                            "160000" => {}
                            "120000" => {
                                next.push(Link { walked, id: id.clone(), key, depth: link.depth + 1 });
                            }
                            _ if crate::load::is_manifest_file(Path::new(rest)) => {
                                found.push((walked, key, id.clone()))
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        links = next;
    }
    Ok(())
}

/// The contents of the objects `ids`, in order, through one `git cat-file --batch`.
fn read_blobs<'a>(top: &Path, ids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, GitError> {
    let ids: String = ids.map(|id| format!("{id}\n")).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let count = ids.lines().count();
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(GitError::Spawn)?;
    let mut stdin = child.stdin.take().ok_or_else(|| GitError::Failed("no stdin".to_string()))?;
    // Write from another thread: git answers while it reads, and both pipes are bounded.
    let writer = std::thread::spawn(move || stdin.write_all(ids.as_bytes()));
    let stdout = child.stdout.take().ok_or_else(|| GitError::Failed("no stdout".to_string()))?;
    let mut reader = BufReader::new(stdout);
    let mut blobs = Vec::with_capacity(count);
    for _ in 0..count {
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
        blobs.push(bytes);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(blobs)
}

/// Which of `paths` (relative to the repository's top) the ignore rules of the working tree
/// exclude, tracked files included, decided as the walk decides: folder by folder from the top,
/// where a folder left out leaves out all below it, and at each level the `.ignore` files (which
/// the walk also reads) take precedence over git's own rules (`.gitignore`, `.git/info/exclude`,
/// the global excludes), so that a `!pattern` there brings back what git ignores.
fn ignored_paths(top: &Path, paths: &[&str]) -> Result<BTreeSet<String>, GitError> {
    // Every level each path passes through: its folders (as `dir/`) and itself.
    let levels = |path: &str| -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> =
            path.match_indices('/').map(|(i, _)| (path[..=i].to_string(), true)).collect();
        out.push((path.to_string(), false));
        out
    };
    let mut asked: BTreeSet<String> = BTreeSet::new();
    for path in paths {
        asked.extend(levels(path).into_iter().map(|(level, _)| level));
    }
    let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
    let git_says = git_ignored(top, &asked)?;
    let mut matchers: BTreeMap<PathBuf, Option<ignore::gitignore::Gitignore>> = BTreeMap::new();
    let mut dot_ignore = |level: &str, is_dir: bool| -> Option<bool> {
        let path = level.trim_end_matches('/');
        // The deepest `.ignore` that has a say decides.
        for dir in Path::new(path).ancestors().skip(1) {
            let folder = top.join(dir);
            let matcher = matchers.entry(folder.clone()).or_insert_with(|| {
                let file = folder.join(".ignore");
                file.is_file().then(|| ignore::gitignore::Gitignore::new(&file).0)
            });
            match matcher.as_ref().map(|m| m.matched(top.join(path), is_dir)) {
                Some(ignore::Match::Ignore(_)) => return Some(true),
                Some(ignore::Match::Whitelist(_)) => return Some(false),
                _ => {}
            }
        }
        None
    };
    let mut ignored = BTreeSet::new();
    for path in paths {
        let left_out = levels(path)
            .into_iter()
            .any(|(level, is_dir)| dot_ignore(&level, is_dir).unwrap_or_else(|| git_says.contains(&level)));
        if left_out {
            ignored.insert((*path).to_string());
        }
    }
    Ok(ignored)
}

/// Which of `paths` git's ignore rules exclude (`git check-ignore --no-index`).
fn git_ignored(top: &Path, paths: &[&str]) -> Result<BTreeSet<String>, GitError> {
    if paths.is_empty() {
        return Ok(BTreeSet::new());
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

/// A revision's whole tree written to a temporary folder, for the renderers, which read files
/// from the disk: kustomize and helm cannot read git's objects. Removed when dropped.
#[derive(Debug)]
pub struct Export {
    /// The temporary folder: the revision's top folder.
    pub dir: PathBuf,
    /// The repository's top folder in the working tree (links resolved).
    pub top: PathBuf,
    /// Each scanned path, inside `dir`.
    pub paths: Vec<PathBuf>,
}

impl Drop for Export {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Export {
    /// The place in the working tree of a path inside the export; other paths are unchanged.
    pub fn in_working_tree(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.dir) {
            Ok(rest) => self.top.join(rest),
            Err(_) => path.to_path_buf(),
        }
    }

    /// The place inside the export of a path of the working tree; other paths are unchanged.
    pub fn in_export(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.top) {
            Ok(rest) => self.dir.join(rest),
            Err(_) => path.to_path_buf(),
        }
    }
}

/// Writes the tree of `revision` (`git archive`, unpacked by `tar`) into a new temporary folder,
/// with the scanned paths mapped into it.
pub(crate) fn export(revision: &str, scan_paths: &[PathBuf]) -> Result<Export, GitError> {
    let first = scan_paths.first().map_or(Path::new("."), PathBuf::as_path);
    let top = repository_top(first)?;
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("kubereach-base-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| GitError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    let export = Export { dir, top, paths: Vec::new() };
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(&export.top)
        .args(["archive", "--format=tar", revision])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let Some(tar_input) = archive.stdout.take() else {
        return Err(GitError::Failed("git archive gave no output".to_string()));
    };
    let unpacked = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&export.dir)
        .stdin(Stdio::from(tar_input))
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| GitError::Failed(format!("cannot run tar: {e}")))?;
    let archived = archive.wait_with_output().map_err(GitError::Spawn)?;
    if !archived.status.success() {
        return Err(GitError::UnknownRevision {
            revision: revision.to_string(),
            message: String::from_utf8_lossy(&archived.stderr).trim().to_string(),
        });
    }
    if !unpacked.status.success() {
        return Err(GitError::Failed(format!("tar: {}", String::from_utf8_lossy(&unpacked.stderr).trim())));
    }
    let mut export = export;
    export.paths =
        scan_paths.iter().map(|p| export.in_export(&std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))).collect();
    Ok(export)
}

//! Stage 2, load: find the manifest files under the given paths, read and parse them.
//!
//! This is the only module that touches the file system. It walks with the `ignore` crate
//! (`.gitignore`, `.ignore` and hidden files respected, `.git` skipped), keeps `*.yaml`, `*.yml`
//! and `*.json`, and records every problem it meets (unreadable, binary or oversized files, symlink
//! loops, YAML syntax errors) as a typed fact (`classify::FileProblem`) instead of an abort;
//! the rules word them. Files are returned in byte order of their display path so that every
//! later stage is deterministic. Files of another git revision come from [`git`] as a
//! [`FileSource::Snapshot`] and go through the same reader. Which file is what (a manifest, a
//! chart template, a document that is no object) is decided in `classify`.

pub(crate) mod classify;
pub mod git;
mod repository;
pub use repository::{find_named, nearest_folder, repository_root};
pub mod render;
pub mod yaml;

use std::collections::BTreeSet;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use ignore::overrides::OverrideBuilder;
use ignore::WalkBuilder;

use crate::span::{FileId, Location};
use crate::span::{Pos, Span};
pub(crate) use classify::is_manifest_file;
use classify::Unreadable;
use yaml::Stream;

/// One file the analysis read (or tried to read).
#[derive(Debug)]
pub struct SourceFile {
    /// The path as found on disk.
    pub path: PathBuf,
    /// The path shown to users: relative to the working directory when it is below it, with `/`.
    pub display: String,
    /// The text, when the loader kept it (see [`KeepText`]); empty when the file could not be read
    /// as text or was left on disk. Read it through [`SourceFile::text`].
    pub kept_text: String,
    /// The text was not kept in memory but can be read back from `path` when a report needs it.
    pub text_on_disk: bool,
    /// For the output of a renderer (a *virtual* file): where its places come from in the
    /// repository. Locations in a virtual file are resolved through it before they are reported.
    pub map: Option<std::sync::Arc<VirtualMap>>,
}

/// How the places of a virtual file (a rendered stream) resolve to files of the repository.
#[derive(Debug, Default)]
pub struct VirtualMap {
    pub spans: render::SpanMap,
    /// The file id of each of `spans.files`.
    pub files: Vec<FileId>,
    /// Where a place that maps nowhere is reported; `None`: in the virtual file itself (standard
    /// input, whose text is kept and shown as `<stdin>`).
    pub fallback: Option<Location>,
}

impl SourceFile {
    /// A file known by its path only, with no text.
    pub fn new(path: PathBuf, display: String) -> SourceFile {
        SourceFile { path, display, kept_text: String::new(), text_on_disk: false, map: None }
    }

    /// A file with its text kept in memory.
    pub fn with_text(path: PathBuf, display: String, text: String) -> SourceFile {
        SourceFile { path, display, kept_text: text, text_on_disk: false, map: None }
    }

    /// The file's text: the kept one, or read back from disk (decoded as when it was loaded).
    /// Empty when there is none: an unreadable file, a text the loader was told not to keep, or
    /// a file that has since become unreadable.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        if !self.text_on_disk {
            return std::borrow::Cow::Borrowed(&self.kept_text);
        }
        match fs::read(&self.path).ok().map(decode) {
            Some(Ok(text)) => std::borrow::Cow::Owned(text),
            _ => std::borrow::Cow::Borrowed(""),
        }
    }
}

/// Which file texts the loader keeps in memory once a file is parsed. Reports need a text only
/// for the files they show findings of, and reading those few back from disk costs less than
/// holding every text of a large repository through the whole analysis.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeepText {
    /// Every text (the file may change on disk before the report; revisions are not on disk).
    #[default]
    All,
    /// Only the texts that contain this string (the suppression comment marker); the others are
    /// read back from disk when asked for.
    Containing(&'static str),
    /// None: reports show no snippets.
    None,
}

/// Every file of one analysis, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct Files {
    pub entries: Vec<SourceFile>,
}

impl Files {
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.entries.get(id as usize)
    }

    pub fn display(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| f.display.as_str())
    }

    /// Where a location is in the repository: itself for a file of the repository; for a place
    /// in a renderer's output, the place it was rendered from.
    pub fn resolve(&self, location: Location) -> Location {
        let Some(map) = self.get(location.file).and_then(|f| f.map.as_deref()) else { return location };
        match map.spans.resolve_index(location.span) {
            Some((index, span)) => match map.files.get(index as usize) {
                Some(file) => Location { file: *file, span },
                None => map.fallback.unwrap_or(location),
            },
            None => map.fallback.unwrap_or(location),
        }
    }

    /// Moves the files read from a revision's export ([`git::Export`]) to their places in the
    /// working tree, so that both analyses name files alike; texts left on disk are read first,
    /// as the export is about to go.
    pub fn adopt_export(&mut self, export: &git::Export) {
        for file in &mut self.entries {
            if !file.path.starts_with(&export.dir) {
                continue;
            }
            if file.text_on_disk {
                file.kept_text = fs::read(&file.path).ok().and_then(|b| decode(b).ok()).unwrap_or_default();
                file.text_on_disk = false;
            }
            file.path = export.in_working_tree(&file.path);
            file.display = display_path(&file.path);
        }
    }

    /// Whether a file is the output of a renderer.
    pub fn is_virtual(&self, id: FileId) -> bool {
        self.get(id).is_some_and(|f| f.map.is_some())
    }
}

#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Glob patterns (gitignore syntax) of paths to leave out, relative to each scanned path.
    pub excludes: Vec<String>,
    /// The `exclude` patterns of each configuration file in use, relative to the file's folder
    /// (the first element, absolute). A path is judged by the configuration that governs it, the
    /// one of the closest folder above it (a file with no patterns still governs its folder).
    pub anchored_excludes: Vec<(PathBuf, Vec<String>)>,
    /// Files larger than this are reported and not read.
    pub max_file_size: u64,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions { excludes: Vec::new(), anchored_excludes: Vec::new(), max_file_size: 64 * 1024 * 1024 }
    }
}

/// Where file contents come from: the disk, or a revision's objects.
#[derive(Clone, Debug, Default)]
pub enum FileSource {
    #[default]
    Disk,
    Snapshot(std::sync::Arc<git::Snapshot>),
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("path `{0}` does not exist")]
    Missing(String),
    #[error("invalid --exclude pattern `{pattern}`: {message}")]
    BadExclude { pattern: String, message: String },
    #[error("cannot read standard input: {0}")]
    Stdin(String),
}

/// What a walk found: the candidate files, the Helm charts among them, and walk problems.
#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<PathBuf>,
    /// Folders that hold a `Chart.yaml`: files under their `templates/` are unrendered templates.
    pub chart_roots: BTreeSet<PathBuf>,
    /// Paths the walk could not follow (symlink loops, permissions), with the reason.
    pub(crate) problems: Vec<(PathBuf, Unreadable)>,
}

#[derive(Default)]
struct WalkFindings {
    files: Vec<PathBuf>,
    chart_roots: Vec<PathBuf>,
    problems: Vec<(PathBuf, Unreadable)>,
}

/// Walks `paths` and lists the YAML and JSON files under them.
pub(crate) fn discover(paths: &[PathBuf], options: &WalkOptions) -> Result<Discovery, LoadError> {
    let mut discovery = Discovery::default();
    // Every root's files in walk order, then sorted once (stable, in parallel) with the repeats
    // removed: the order and the spelling kept of a BTreeSet filled root by root, at a fraction
    // of the comparisons' cost for hundreds of thousands of paths.
    let mut files: Vec<PathBuf> = Vec::new();
    let anchored = Anchored::new(&options.anchored_excludes)?.map(std::sync::Arc::new);
    let cwd = std::env::current_dir().unwrap_or_default();
    for root in paths {
        if !root.exists() && root.symlink_metadata().is_err() {
            return Err(LoadError::Missing(root.display().to_string()));
        }
        let mut overrides = OverrideBuilder::new(root);
        for pattern in &options.excludes {
            overrides
                .add(&format!("!{pattern}"))
                .map_err(|e| LoadError::BadExclude { pattern: pattern.clone(), message: e.to_string() })?;
        }
        let overrides = overrides
            .build()
            .map_err(|e| LoadError::BadExclude { pattern: options.excludes.join(", "), message: e.to_string() })?;
        let mut builder = WalkBuilder::new(root);
        builder.follow_links(true).overrides(overrides).require_git(false);
        if let Some(matcher) = &anchored {
            let matcher = std::sync::Arc::clone(matcher);
            let cwd = cwd.clone();
            builder.filter_entry(move |entry| {
                let absolute = normalize(&cwd.join(entry.path()));
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !matcher.excluded(&absolute, is_dir)
            });
        }
        // A parallel walk (the order is restored by sorting below).
        let found: std::sync::Mutex<WalkFindings> = std::sync::Mutex::default();
        builder.threads(rayon::current_num_threads().max(1)).build_parallel().run(|| {
            Box::new(|entry| {
                let record = |f: &mut WalkFindings| match &entry {
                    Ok(entry) => {
                        let path = entry.path();
                        if !entry.file_type().is_some_and(|t| t.is_file()) {
                            return;
                        }
                        if path.file_name().is_some_and(|n| n == "Chart.yaml") {
                            if let Some(parent) = path.parent() {
                                f.chart_roots.push(parent.to_path_buf());
                            }
                        }
                        // A file named on the command line is read whatever its name
                        // (`check rendered-prod`); the extension filters only what a walk finds.
                        if is_manifest_file(path) || entry.depth() == 0 {
                            f.files.push(path.to_path_buf());
                        }
                    }
                    Err(err) => {
                        let path = error_path(err).unwrap_or_else(|| root.clone());
                        f.problems.push((path, describe_walk_error(err)));
                    }
                };
                if let Ok(mut f) = found.lock() {
                    record(&mut f);
                }
                ignore::WalkState::Continue
            })
        });
        let found = found.into_inner().unwrap_or_default();
        files.extend(found.files);
        discovery.chart_roots.extend(found.chart_roots);
        discovery.problems.extend(found.problems);
    }
    discovery.problems.sort();
    discovery.problems.dedup();
    discovery.files = sorted_paths(files);
    Ok(discovery)
}

/// `paths` in `Path` order with the repeats removed, the first spelling of each kept: what a
/// stable sort and `dedup` do, with each path's components encoded once into bytes that compare
/// as the components do ([`component_key`]), rather than split into components again at every one
/// of a sort's comparisons. What is sorted is each key's first bytes after those all keys share
/// (the roots' folders), held in the sorted items, and the path's rank: the keys themselves, one
/// allocation each, are read only when two heads are equal. At 380,000 paths, a sort of the paths
/// took a second of CPU time, mostly waiting for memory.
fn sorted_paths(mut paths: Vec<PathBuf>) -> Vec<PathBuf> {
    use rayon::prelude::*;
    // A Windows prefix (`C:`, `\\server\share`) compares by its parsed kind, not its bytes.
    if paths.iter().any(|p| matches!(p.components().next(), Some(std::path::Component::Prefix(_)))) {
        paths.par_sort();
        paths.dedup();
        return paths;
    }
    let keys: Vec<Vec<u8>> = paths.par_iter().map(|p| component_key(p)).collect();
    let shared = keys.first().map_or(0, |first| {
        keys.iter().fold(first.len(), |n, k| first[..n].iter().zip(k).take_while(|(a, b)| a == b).count())
    });
    let rest = |i: u32| keys.get(i as usize).map_or(&[][..], |k| k.get(shared..).unwrap_or_default());
    let mut order: Vec<((u128, u64), u32)> =
        (0..keys.len() as u32).into_par_iter().map(|i| (head(rest(i)), i)).collect();
    // Equal keys end up in the order of their ranks: the first spelling is the one kept.
    order.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| rest(a.1).cmp(rest(b.1))).then(a.1.cmp(&b.1)));
    order.dedup_by(|a, b| a.0 == b.0 && rest(a.1) == rest(b.1));
    let mut slots: Vec<Option<PathBuf>> = paths.into_iter().map(Some).collect();
    order.iter().filter_map(|&(_, i)| slots.get_mut(i as usize).and_then(Option::take)).collect()
}

/// A key's first 24 bytes as integers that compare as the bytes do, zeros after a shorter key.
/// Heads that differ order their keys; a key that is the start of another ends with a 0 where
/// the other has the kind of its next component (never 0), so a shorter head sorts first as its
/// key does.
fn head(key: &[u8]) -> (u128, u64) {
    let mut bytes = [0u8; 24];
    let n = key.len().min(24);
    bytes[..n].copy_from_slice(&key[..n]);
    let mut high = [0u8; 16];
    let mut low = [0u8; 8];
    high.copy_from_slice(&bytes[..16]);
    low.copy_from_slice(&bytes[16..]);
    (u128::from_be_bytes(high), u64::from_be_bytes(low))
}

/// A path's components as bytes whose order is the order of `Path`s: each component is its kind
/// (in the order of [`std::path::Component`]'s variants), its name for a name, and a
/// 0 byte, which no name contains, so that a name that is the start of another sorts first, as
/// it does between components.
fn component_key(path: &Path) -> Vec<u8> {
    use std::path::Component;
    let mut key = Vec::with_capacity(path.as_os_str().len() + 8);
    for component in path.components() {
        match component {
            // Sorted apart by the caller; here only to order paths with one after those without.
            Component::Prefix(_) => key.push(1),
            Component::RootDir => key.push(2),
            Component::CurDir => key.push(3),
            Component::ParentDir => key.push(4),
            Component::Normal(name) => {
                key.push(5);
                key.extend_from_slice(name.as_encoded_bytes());
            }
        }
        key.push(0);
    }
    key
}

/// The `exclude` patterns of every configuration file in use, each anchored at its file's folder.
/// Each path is judged by the configuration that governs it: the one of the closest folder
/// strictly above it, so that a folder's own file governs what is inside the folder, while
/// whether the folder is walked at all is for the file above it to say. A folder that holds its
/// own configuration is left out, with that configuration, when the file above excludes the
/// folder or everything inside it (`sub/`, `sub/**`).
pub(crate) struct Anchored {
    /// (folder, its matcher), the deepest folders first.
    folders: Vec<(PathBuf, ignore::gitignore::Gitignore)>,
}

impl Anchored {
    /// `None` when no configuration file is in use.
    pub(crate) fn new(list: &[(PathBuf, Vec<String>)]) -> Result<Option<Anchored>, LoadError> {
        if list.is_empty() {
            return Ok(None);
        }
        let mut folders = Vec::with_capacity(list.len());
        for (base, patterns) in list {
            let mut builder = ignore::gitignore::GitignoreBuilder::new(base);
            for pattern in patterns {
                builder
                    .add_line(None, pattern)
                    .map_err(|e| LoadError::BadExclude { pattern: pattern.clone(), message: e.to_string() })?;
            }
            let matcher = builder
                .build()
                .map_err(|e| LoadError::BadExclude { pattern: patterns.join(", "), message: e.to_string() })?;
            folders.push((base.clone(), matcher));
        }
        folders.sort_by_key(|(base, _)| std::cmp::Reverse(base.components().count()));
        Ok(Some(Anchored { folders }))
    }

    /// Whether the absolute, normalized `path` is left out.
    pub(crate) fn excluded(&self, path: &Path, is_dir: bool) -> bool {
        // The matcher of a folder only sees paths below the folder (it panics on others).
        let Some((_, governing)) = self.folders.iter().find(|(base, _)| path.starts_with(base) && path != base) else {
            return false;
        };
        if governing.matched_path_or_any_parents(path, is_dir).is_ignore() {
            return true;
        }
        // A folder with its own configuration, whose contents the file above excludes as a whole
        // (`sub/**`): the folder goes, its file with it (a probe name no pattern means to match).
        is_dir
            && self.folders.iter().any(|(base, _)| base == path)
            && governing.matched_path_or_any_parents(path.join("\u{1}"), false).is_ignore()
    }
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn describe_walk_error(err: &ignore::Error) -> Unreadable {
    match err {
        ignore::Error::Loop { ancestor, .. } => Unreadable::LinkLoop { ancestor: display_path(ancestor) },
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => describe_walk_error(err),
        other => Unreadable::WalkError { error: other.to_string() },
    }
}

/// The path as users should see it: relative to the working directory when below it.
pub(crate) fn display_path(path: &Path) -> String {
    display_path_from(path, std::env::current_dir().ok().as_deref())
}

/// [`display_path`] with the working directory already known: for the callers that show many
/// paths, which would otherwise ask the system for it once per path.
pub(crate) fn display_path_from(path: &Path, cwd: Option<&Path>) -> String {
    let relative =
        cwd.and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf)).unwrap_or_else(|| path.to_path_buf());
    let shown = relative.to_string_lossy().replace('\\', "/");
    let shown = shown.strip_prefix("./").map(str::to_string).unwrap_or(shown);
    if shown.is_empty() {
        ".".to_string()
    } else {
        shown
    }
}

/// The outcome of reading one file.
#[derive(Debug)]
pub(crate) enum FileRead {
    /// Parsed text (possibly with syntax errors inside).
    Parsed { text: String, stream: Stream },
    /// Not read as text, for the reason given.
    Unreadable(Unreadable),
}

/// Reads standard input (`kubereach check -`) once, as a manifest file is read: at most
/// `max_size` bytes, decoded as [`decode`] decodes a file.
pub fn read_stdin(max_size: u64) -> Result<String, LoadError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::Stdin(e.to_string()))?;
    if bytes.len() as u64 > max_size {
        return Err(LoadError::Stdin(format!("it is larger than --max-file-size ({max_size} bytes)")));
    }
    decode(bytes).map_err(|reason| {
        LoadError::Stdin(match reason {
            Unreadable::Binary { offset } => format!("binary data (NUL byte at offset {offset})"),
            Unreadable::NotUtf8 { pos, .. } => format!("not UTF-8 text from line {}, column {}", pos.line, pos.col),
            other => format!("{other:?}"),
        })
    })
}

/// Reads and parses one file from `source`.
pub(crate) fn read_from(path: &Path, options: &WalkOptions, source: &FileSource) -> FileRead {
    match source {
        FileSource::Disk => read_file(path, options),
        FileSource::Snapshot(snapshot) => match snapshot.files.get(path) {
            None => FileRead::Unreadable(Unreadable::NotInRevision { revision: snapshot.revision.clone() }),
            Some(bytes) if bytes.len() as u64 > options.max_file_size => {
                FileRead::Unreadable(Unreadable::TooLarge { size: bytes.len() as u64, limit: options.max_file_size })
            }
            Some(bytes) => parse_bytes(bytes.clone()),
        },
    }
}

/// Reads and parses one file. Never panics on content; a problem is a [`FileRead::Unreadable`].
pub(crate) fn read_file(path: &Path, options: &WalkOptions) -> FileRead {
    // Opened first, its size asked of the open file: one lookup of the path rather than two, a
    // visible share of the kernel's time over hundreds of thousands of files. When it cannot be
    // opened, the path's metadata is read as before, so that what is said stays the same (a file
    // too large is that, whether or not it can be opened).
    let opened = fs::File::open(path);
    let metadata = match &opened {
        Ok(file) => file.metadata(),
        Err(_) => fs::metadata(path),
    };
    let metadata = match metadata {
        Ok(m) => m,
        Err(e) => return FileRead::Unreadable(Unreadable::Io { error: e.to_string() }),
    };
    if metadata.len() > options.max_file_size {
        return FileRead::Unreadable(Unreadable::TooLarge { size: metadata.len(), limit: options.max_file_size });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // `take` bounds a file that grows while we read it.
    let read = opened.and_then(|f| f.take(options.max_file_size + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        return FileRead::Unreadable(Unreadable::Io { error: e.to_string() });
    }
    parse_bytes(bytes)
}

/// Text checks (binary, encoding, byte-order mark) and parsing, whatever the bytes' origin.
fn parse_bytes(bytes: Vec<u8>) -> FileRead {
    match decode(bytes) {
        Ok(text) => {
            let stream = yaml::parse_stream(&text);
            FileRead::Parsed { text, stream }
        }
        Err(reason) => FileRead::Unreadable(reason),
    }
}

/// The encodings a byte-order mark announces, besides UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wide {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// The wide encoding a file's byte-order mark announces, with the mark's length. UTF-32 LE is
/// tested before UTF-16 LE, whose mark begins it.
fn wide_bom(bytes: &[u8]) -> Option<(Wide, usize)> {
    match bytes {
        [0xFF, 0xFE, 0x00, 0x00, ..] => Some((Wide::Utf32Le, 4)),
        [0x00, 0x00, 0xFE, 0xFF, ..] => Some((Wide::Utf32Be, 4)),
        [0xFF, 0xFE, ..] => Some((Wide::Utf16Le, 2)),
        [0xFE, 0xFF, ..] => Some((Wide::Utf16Be, 2)),
        _ => None,
    }
}

/// A file's bytes as text, the way kubectl reads them: a UTF-16 or UTF-32 file that starts with
/// a byte-order mark is decoded (kubectl reads through a BOM-sniffing decoder; Windows editors
/// save files as UTF-16), a leading UTF-8 mark is dropped, and anything else must be UTF-8 without
/// a NUL byte. Lines and columns of everything later are those of the decoded text, which is also
/// the text kept for snippets and suppression comments.
pub(crate) fn decode(bytes: Vec<u8>) -> Result<String, Unreadable> {
    if let Some((wide, bom)) = wide_bom(&bytes) {
        return Ok(decode_wide(&bytes[bom..], wide));
    }
    let head = &bytes[..bytes.len().min(8192)];
    // `contains` on bytes is a vectorised search; the position is looked for only when there is one.
    if head.contains(&0) {
        let offset = head.iter().position(|b| *b == 0).unwrap_or_default();
        return Err(Unreadable::Binary { offset });
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let pos = text_pos(&e.as_bytes()[..at]);
            return Err(Unreadable::NotUtf8 { at, pos });
        }
    };
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// UTF-16 or UTF-32 to text. What does not decode (a lone surrogate, a value beyond Unicode, a
/// truncated last unit) becomes U+FFFD, as Go's decoder that kubectl uses does.
fn decode_wide(bytes: &[u8], wide: Wide) -> String {
    match wide {
        Wide::Utf16Le | Wide::Utf16Be => {
            let units = bytes.chunks(2).map(|c| match (c, wide) {
                ([a, b], Wide::Utf16Le) => u16::from_le_bytes([*a, *b]),
                ([a, b], _) => u16::from_be_bytes([*a, *b]),
                _ => 0xFFFD,
            });
            char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
        }
        Wide::Utf32Le | Wide::Utf32Be => bytes
            .chunks(4)
            .map(|c| {
                let unit = match <[u8; 4]>::try_from(c) {
                    Ok(b) if wide == Wide::Utf32Le => u32::from_le_bytes(b),
                    Ok(b) => u32::from_be_bytes(b),
                    Err(_) => 0xFFFD,
                };
                char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
    }
}

/// The line and column (in characters) just after `valid`, which is valid UTF-8.
fn text_pos(valid: &[u8]) -> Pos {
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
    let col = std::str::from_utf8(&valid[line_start..]).map_or(0, |s| s.chars().count()) + 1;
    let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Pos { line: clamp(line), col: clamp(col) }
}

/// Where a problem of a file that was not read is reported: where the text stops being readable
/// when that is known, else at the start of the file.
pub(crate) fn unreadable_location(file: FileId, reason: &Unreadable) -> Location {
    match reason {
        Unreadable::NotUtf8 { pos, .. } => Location { file, span: Span { start: *pos, end: *pos } },
        _ => file_start(file),
    }
}

/// What the loader reads from a file's bytes, every node built (nothing skipped): the documents,
/// or why the text could not be read. For comparing kubereach's reading with another YAML reader
/// (the `yaml-dump` example and `scripts/yaml-differential.py`); analysis does not use it.
#[doc(hidden)]
pub fn read_for_comparison(bytes: Vec<u8>) -> Result<Stream, String> {
    let text = decode(bytes).map_err(|reason| format!("{reason:?}"))?;
    Ok(yaml::parse_stream_with(&text, yaml::Detail::Everything))
}

/// A location at the very start of a file, for problems that concern the whole file.
pub(crate) fn file_start(file: FileId) -> Location {
    let p = Pos { line: 1, col: 1 };
    Location { file, span: Span { start: p, end: p } }
}

/// The files of a snapshot, as a walk of the same paths would find them on disk: manifest
/// extensions, excludes applied, Helm charts recognised.
pub(crate) fn discover_snapshot(
    snapshot: &git::Snapshot,
    paths: &[PathBuf],
    options: &WalkOptions,
) -> Result<Discovery, LoadError> {
    let bad = |pattern: &str, e: ignore::Error| LoadError::BadExclude {
        pattern: pattern.to_string(),
        message: e.to_string(),
    };
    let mut matchers = Vec::new();
    for root in paths {
        let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
        for pattern in &options.excludes {
            builder.add_line(None, pattern).map_err(|e| bad(pattern, e))?;
        }
        matchers.push((root.clone(), builder.build().map_err(|e| bad(&options.excludes.join(", "), e))?));
    }
    let anchored = Anchored::new(&options.anchored_excludes)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut discovery = Discovery { problems: snapshot.problems.clone(), ..Discovery::default() };
    for path in snapshot.files.keys() {
        let excluded = matchers
            .iter()
            .any(|(root, m)| path.starts_with(root) && m.matched_path_or_any_parents(path, false).is_ignore())
            || anchored.as_ref().is_some_and(|m| {
                // A snapshot lists files only: each of their folders is judged as the walk would.
                let absolute = normalize(&cwd.join(path));
                absolute.ancestors().skip(1).any(|dir| m.excluded(dir, true)) || m.excluded(&absolute, false)
            });
        if excluded {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "Chart.yaml") {
            if let Some(dir) = path.parent() {
                discovery.chart_roots.insert(dir.to_path_buf());
            }
        }
        if is_manifest_file(path) || paths.contains(path) {
            discovery.files.push(path.clone());
        }
    }
    // The walk's order (paths compared component by component), so that a repeated object is
    // resolved the same way in both trees.
    discovery.files.sort();
    Ok(discovery)
}

/// The path with symbolic links, `.` and `..` resolved, for comparing paths that name one file in
/// different ways (`./a.yaml`, `a.yaml`, an absolute path, a link); a path that does not exist is
/// made absolute and normalized lexically instead.
pub fn canonical_path(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf())
        };
        normalize(&absolute)
    })
}

/// `a/./b/../c` → `a/c`, lexically (a `..` that climbs above the start is kept).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.iter().map(|c| c.as_os_str()).collect()
}

/// Whether the file on disk starts with a UTF-8 byte order mark, which the loader strips from the
/// text but the upload action hashes (three bytes read, only for files that hold results).
pub(crate) fn starts_with_bom(path: &Path) -> bool {
    let mut head = [0u8; 3];
    fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == [0xEF, 0xBB, 0xBF]
}

/// Whether the file on disk is empty (an empty text then hashes as the action hashes it).
pub(crate) fn is_empty_file(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0)
}

/// What identifies a file's content between two runs without reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
}

pub(crate) fn stamp(path: &Path) -> Option<Stamp> {
    let m = fs::metadata(path).ok()?;
    Some(Stamp { modified: m.modified().ok(), len: m.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_path_of_a_missing_file_is_absolute_and_normalized() {
        let path = canonical_path(Path::new("no-such-folder/sub/../file.yaml"));
        assert!(path.is_absolute(), "{}", path.display());
        assert!(path.ends_with("no-such-folder/file.yaml"), "{}", path.display());
    }

    #[test]
    fn paths_sort_by_their_component_keys_as_paths_sort() {
        let spelled = [
            "a/b.yaml",
            "a-b/x.yaml",
            "a/x.yaml",
            "a.yaml",
            "a",
            "a//b.yaml",
            "./a/b.yaml",
            "a/./b.yaml",
            "/a/b",
            "/a",
            "../a",
            "..",
            ".",
            "ab/c",
            "a/b/c",
            "a/b",
            "b",
            "a/b.yaml/",
            "x y/ä.yaml",
            "x/y",
            "x/y",
        ];
        let paths: Vec<PathBuf> = spelled.iter().map(PathBuf::from).collect();
        let mut expected = paths.clone();
        expected.sort();
        expected.dedup();
        let sorted = sorted_paths(paths.clone());
        // The same order and, of paths equal as paths, the same spelling kept.
        let shown = |v: &[PathBuf]| v.iter().map(|p| p.as_os_str().to_owned()).collect::<Vec<_>>();
        assert_eq!(shown(&sorted), shown(&expected));
        // Under a long shared folder, names equal in their first bytes and longer than a head.
        let long: Vec<PathBuf> = paths
            .iter()
            .chain(&[PathBuf::from("a/bcdefghijklmnopqrstuvwxyz-1"), PathBuf::from("a/bcdefghijklmnopqrstuvwxyz")])
            .chain(&[PathBuf::from("a/bcdefghijklmnopqrstuvwxyz-1"), PathBuf::from("a/bcdefghijklmnopqrstuvwxy/z")])
            .map(|p| Path::new("/some/long/shared/folder/of/the/repository").join(p))
            .collect();
        let mut expected = long.clone();
        expected.sort();
        expected.dedup();
        assert_eq!(shown(&sorted_paths(long)), shown(&expected));
    }

    #[test]
    fn the_walk_lists_each_file_once_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yaml", "a-b/x.yaml", "a/x.yaml", "a/y.yml", "notes.txt"] {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, "a: 1\n").unwrap();
        }
        // The same folder twice: its files once, as the first root spells them.
        let roots = [dir.path().to_path_buf(), dir.path().join(".")];
        let found = discover(&roots, &WalkOptions::default()).unwrap();
        assert!(found.files.iter().all(|f| !f.to_string_lossy().contains("/./")), "{:?}", found.files);
        let relative: Vec<String> = found
            .files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().to_string_lossy().replace('\\', "/"))
            .collect();
        // Paths compare folder by folder: `a/…` before `a-b/…`, unlike their bytes.
        assert_eq!(relative, ["a/x.yaml", "a/y.yml", "a-b/x.yaml", "b.yaml"]);
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("a/./b/../c.yaml")), PathBuf::from("a/c.yaml"));
        assert_eq!(normalize(Path::new("../x/base/../p.yaml")), PathBuf::from("../x/p.yaml"));
        assert_eq!(normalize(Path::new("./k/p.yaml")), PathBuf::from("k/p.yaml"));
    }

    fn decoded(bytes: &[u8]) -> String {
        match decode(bytes.to_vec()) {
            Ok(text) => text,
            Err(reason) => panic!("{reason:?}"),
        }
    }

    #[test]
    fn utf16_and_utf32_with_a_bom_are_decoded() {
        let text = "a: é\nb: 日\n";
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            le.extend(unit.to_le_bytes());
            be.extend(unit.to_be_bytes());
        }
        let mut le32 = vec![0xFF, 0xFE, 0, 0];
        let mut be32 = vec![0, 0, 0xFE, 0xFF];
        for c in text.chars() {
            le32.extend((c as u32).to_le_bytes());
            be32.extend((c as u32).to_be_bytes());
        }
        for bytes in [&le, &be, &le32, &be32] {
            assert_eq!(decoded(bytes), text);
        }
        // A lone surrogate and a truncated last unit become U+FFFD, as in Go's decoder.
        assert_eq!(decoded(&[0xFF, 0xFE, 0x00, 0xD8, b'a', 0, b'b']), "\u{fffd}a\u{fffd}");
        // The UTF-8 mark is dropped; text without a mark is UTF-8.
        assert_eq!(decoded(b"\xEF\xBB\xBFa: 1\n"), "a: 1\n");
    }

    #[test]
    fn nul_without_a_bom_is_binary_and_a_bad_byte_is_located() {
        assert_eq!(decode(b"a: 1\n\0".to_vec()), Err(Unreadable::Binary { offset: 5 }));
        assert_eq!(
            decode(b"a: 1\nb: \xC3\xA9\xFF\n".to_vec()),
            Err(Unreadable::NotUtf8 { at: 10, pos: Pos { line: 2, col: 5 } })
        );
    }

    #[test]
    fn manifest_text_is_recognised_in_block_and_flow_style() {
        use super::classify::text_looks_like_manifest;
        assert!(text_looks_like_manifest("apiVersion: v1\nkind: Pod\n"));
        assert!(text_looks_like_manifest("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}"));
        assert!(!text_looks_like_manifest("replicas: 3\nimage: nginx\n"));
    }
}

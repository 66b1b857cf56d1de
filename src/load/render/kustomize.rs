//! Kustomize: which kustomizations are rendered (the *plan*), the command that renders them, the
//! rendering itself (through the real engine, under a time limit, cached by the content of what
//! it reads) and the mapping of its output back to the repository.
//!
//! kubereach never imitates kustomize: it runs `kustomize build` (or `kubectl kustomize`) on a
//! wrapping kustomization, in a fresh temporary folder, that names the leaf by a relative path
//! (kustomize refuses absolute resource paths) and asks for `buildMetadata: [originAnnotations,
//! transformerAnnotations]`. Each rendered object then names its source file (or the kustomization
//! whose generator made it) and the kustomizations whose transformers touched it; `relocate`
//! turns that into a place for every node. Those two annotations are kustomize's bookkeeping, not
//! what the cluster receives: they are cut out of the rendered text before it is parsed.
//!
//! What this module reads of a kustomization is only what it needs to know which files a
//! rendering reads (for the consumed set and the cache key) and where its entries are (for
//! locations); kustomize itself decides what the output is, and a kustomization this module
//! cannot read is simply rendered and fails with kustomize's message.
//!
//! Remote resources (a URL in `resources`, anywhere in a leaf's tree) are not rendered: fetching
//! over the network would make an analysis slow, dependent on the network and not reproducible,
//! and no cache key could cover it. Such a leaf is a [`RenderFailure`] at the remote entry that
//! says so; the user can render it and pipe the stream to `kubereach check -`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{RenderFailure, RenderOptions, Rendered};
use crate::load::yaml::{self, Node, Value};
use crate::load::{normalize, read_from, FileRead, FileSource, WalkOptions};
use crate::span::{Pos, Span};
use relocate::Origin;

/// The names kustomize accepts for a kustomization file, in the order it looks for them.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// How long one rendering may run: far beyond any local build (kubeflow's largest leaf renders in
/// under a second); only a stuck plugin or fetch reaches it.
const TIME_LIMIT: Duration = Duration::from_secs(120);

/// Whether `path` names a kustomization file.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| FILE_NAMES.contains(&n))
}

/// A kustomization's `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Kustomization,
    /// `kind: Component`: only ever applied by a kustomization that lists it, never rendered alone.
    Component,
}

/// What an entry of a kustomization that names a place is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// `resources` or `bases`: a file of objects or another kustomization.
    Resource,
    /// `components`.
    Component,
    /// A patch file (`patches`, `patchesStrategicMerge`, `patchesJson6902`).
    Patch,
    /// A file or folder of transformer, generator or validator configurations.
    Plugin,
    /// Any other file read: generator inputs, `replacements`, `configurations`, `crds`, `openapi`,
    /// helm values.
    Input,
}

/// An entry that names a place: its text, where it is written, and the path it names.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub role: Role,
    pub text: String,
    pub span: Span,
    /// The place named (walked form, normalized); `None` for a remote URL.
    pub path: Option<PathBuf>,
}

/// A patch of a kustomization: where its text is and which objects it selects.
#[derive(Clone, Debug)]
pub(crate) struct Patch {
    /// Where the patch text is: a file, or inline in the kustomization.
    pub source: PatchSource,
    /// The target selector, when the entry has one (JSON 6902 patches always do).
    pub target: Option<Selector>,
    /// Applied after the name prefix and suffix (legacy `patchesJson6902`).
    pub late: bool,
}

#[derive(Clone, Debug)]
pub(crate) enum PatchSource {
    File(PathBuf),
    /// The patch's text, and the node of the kustomization that holds it.
    Inline {
        text: String,
        node: Span,
        block_indent: Option<u32>,
    },
}

/// A patch target (`target:`): each field present must match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
}

/// A `configMapGenerator` or `secretGenerator` entry.
#[derive(Clone, Debug)]
pub(crate) struct Generator {
    /// `ConfigMap` or `Secret`.
    pub kind: &'static str,
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    /// The data keys it writes, each with the entry that writes it (`literals`, `files`).
    pub keys: Vec<(String, Span)>,
}

/// One kustomization file, as far as kubereach reads it.
#[derive(Clone, Debug)]
pub struct Kustomization {
    /// The kustomization file (walked form).
    pub file: PathBuf,
    pub kind: Kind,
    pub(crate) entries: Vec<Entry>,
    pub(crate) patches: Vec<Patch>,
    pub(crate) generators: Vec<Generator>,
    /// `namespace:`, with the span of its value.
    pub(crate) namespace: Option<(String, Span)>,
    pub(crate) name_prefix: Option<String>,
    pub(crate) name_suffix: Option<String>,
    /// The labels it adds (`commonLabels`, `labels[].pairs`): key, value, and the entry's span.
    pub(crate) labels: Vec<(String, String, Span)>,
    /// `helmCharts` is used (rendering needs kustomize's `--enable-helm`).
    pub(crate) helm: bool,
}

/// What one leaf's tree reads.
#[derive(Clone, Debug, Default)]
pub struct Reads {
    /// Every file read (walked form, normalized), kustomization files included.
    pub files: BTreeSet<PathBuf>,
    /// Folders read as a whole (a generator's folder of files): every file below them counts.
    pub folders: BTreeSet<PathBuf>,
    /// The kustomization folders of the tree, the leaf first.
    pub kustomizations: Vec<PathBuf>,
    /// Remote resources: (kustomization file, entry span, URL).
    pub remote: Vec<(PathBuf, Span, String)>,
}

/// Every kustomization of the analysed tree, which are leaves, and what each leaf reads.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The kustomization folders to render, in path order.
    pub leaves: Vec<PathBuf>,
    /// Every file some leaf's tree reads (kustomization files included), normalized: they are not
    /// analysed again as plain manifests when the leaves are rendered.
    pub consumed: BTreeSet<PathBuf>,
    /// The patch files of every kustomization met: partial objects, never manifests on their own.
    /// What to leave out when kustomizations are read unrendered.
    pub patches: BTreeSet<PathBuf>,
    /// Every kustomization met, by folder (those outside the analysed tree included).
    pub kustomizations: BTreeMap<PathBuf, Kustomization>,
    /// What each leaf reads, by leaf folder.
    pub reads: BTreeMap<PathBuf, Reads>,
    /// What each leaf consumes (its reads, folders expanded), by leaf folder: when a leaf fails
    /// to render, what only it consumes is read as plain files instead.
    pub consumed_by: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

/// Where the plan reads kustomizations from, and how it tells files from folders.
struct Tree<'a> {
    walk: &'a WalkOptions,
    source: &'a FileSource,
}

impl Tree<'_> {
    fn is_dir(&self, path: &Path) -> bool {
        match self.source {
            FileSource::Disk => path.is_dir(),
            FileSource::Snapshot(s) => {
                s.files.range(path.to_path_buf()..).next().is_some_and(|(k, _)| k != path && k.starts_with(path))
            }
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        match self.source {
            FileSource::Disk => path.is_file(),
            FileSource::Snapshot(s) => s.files.contains_key(path),
        }
    }

    /// The kustomization file of a folder.
    fn kustomization_file(&self, dir: &Path) -> Option<PathBuf> {
        FILE_NAMES.iter().map(|n| dir.join(n)).find(|f| self.is_file(f))
    }

    /// Every file below a folder.
    fn files_below(&self, dir: &Path) -> Vec<PathBuf> {
        match self.source {
            FileSource::Disk => {
                let mut out = Vec::new();
                let mut stack = vec![dir.to_path_buf()];
                while let Some(d) = stack.pop() {
                    let Ok(read) = std::fs::read_dir(&d) else { continue };
                    for entry in read.flatten() {
                        let path = entry.path();
                        match entry.file_type() {
                            Ok(t) if t.is_dir() => stack.push(path),
                            Ok(t) if t.is_file() => out.push(normalize(&path)),
                            _ => {}
                        }
                    }
                }
                out.sort();
                out
            }
            FileSource::Snapshot(s) => s.files.keys().filter(|k| k.starts_with(dir)).cloned().collect(),
        }
    }
}

/// Plans the rendering of the kustomizations among `files` (the walk's files, as walked).
///
/// A *leaf* is a kustomization of the walk that no other kustomization uses as a resource, base,
/// component or plugin folder (transformers, generators, validators); a `Component` alone is not
/// a leaf. Kustomizations that only refer to each other in a cycle, with no leaf above them, get
/// the first of them (in path order) as a leaf, so that kustomize reports the cycle. Never fails:
/// a kustomization that cannot be read is still planned (its rendering fails with kustomize's
/// message).
pub fn plan(files: &[PathBuf], walk: &WalkOptions, source: &FileSource) -> Plan {
    let tree = Tree { walk, source };
    let mut plan = Plan::default();
    let walked: Vec<PathBuf> = files.iter().filter(|f| is_kustomization_file(f)).map(|f| normalize(f)).collect();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for file in &walked {
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        // Two kustomization files in one folder: kustomize refuses it, and the folder is one
        // kustomization; the first name in kustomize's order is read.
        if plan.kustomizations.contains_key(&dir) {
            continue;
        }
        plan.kustomizations.insert(dir.clone(), read_kustomization(&tree, file));
        dirs.push(dir);
    }
    let mut referenced: BTreeSet<PathBuf> = BTreeSet::new();
    for dir in &dirs {
        if let Some(k) = plan.kustomizations.get(dir) {
            for e in &k.entries {
                if matches!(e.role, Role::Resource | Role::Component | Role::Plugin) {
                    if let Some(p) = &e.path {
                        referenced.insert(p.clone());
                    }
                }
            }
        }
    }
    let is_component =
        |plan: &Plan, dir: &Path| plan.kustomizations.get(dir).is_some_and(|k| k.kind == Kind::Component);
    let mut leaves: Vec<PathBuf> =
        dirs.iter().filter(|d| !referenced.contains(*d) && !is_component(&plan, d)).cloned().collect();
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    for leaf in &leaves {
        let reads = collect_reads(&tree, &mut plan.kustomizations, leaf);
        reached.extend(reads.kustomizations.iter().cloned());
        plan.reads.insert(leaf.clone(), reads);
    }
    // Cycles with nothing above them: render their first member so that kustomize says why.
    loop {
        let orphan = dirs.iter().find(|d| !reached.contains(*d) && !is_component(&plan, d)).cloned();
        let Some(orphan) = orphan else { break };
        let reads = collect_reads(&tree, &mut plan.kustomizations, &orphan);
        reached.extend(reads.kustomizations.iter().cloned());
        reached.insert(orphan.clone());
        plan.reads.insert(orphan.clone(), reads);
        leaves.push(orphan);
    }
    leaves.sort();
    for (leaf, reads) in &plan.reads {
        let mut consumed: BTreeSet<PathBuf> = reads.files.iter().cloned().collect();
        for folder in &reads.folders {
            consumed.extend(tree.files_below(folder));
        }
        plan.consumed.extend(consumed.iter().cloned());
        plan.consumed_by.insert(leaf.clone(), consumed);
    }
    for k in plan.kustomizations.values() {
        for e in &k.entries {
            if let (Role::Patch, Some(p)) = (e.role, &e.path) {
                plan.patches.insert(p.clone());
            }
        }
    }
    plan.leaves = leaves;
    plan
}

/// Everything the tree of `leaf` reads, following referenced folders wherever they are.
fn collect_reads(tree: &Tree, known: &mut BTreeMap<PathBuf, Kustomization>, leaf: &Path) -> Reads {
    let mut reads = Reads::default();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut stack = vec![leaf.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        if !known.contains_key(&dir) {
            let Some(file) = tree.kustomization_file(&dir) else { continue };
            known.insert(dir.clone(), read_kustomization(tree, &file));
        }
        let Some(k) = known.get(&dir) else { continue };
        reads.kustomizations.push(dir.clone());
        reads.files.insert(k.file.clone());
        let mut below = Vec::new();
        for e in &k.entries {
            let Some(path) = &e.path else {
                reads.remote.push((k.file.clone(), e.span, e.text.clone()));
                continue;
            };
            if tree.is_dir(path) {
                match e.role {
                    Role::Resource | Role::Component | Role::Plugin => below.push(path.clone()),
                    // A folder of generator inputs: all of it.
                    Role::Patch | Role::Input => {
                        reads.folders.insert(path.clone());
                    }
                }
            } else {
                reads.files.insert(path.clone());
            }
        }
        // Depth first, in the order written.
        stack.extend(below.into_iter().rev());
    }
    reads
}

/// Whether a resource entry is a remote target (kustomize's URL forms).
fn is_remote(text: &str) -> bool {
    text.contains("://")
        || text.starts_with("git@")
        || text.starts_with("github.com/")
        || text.starts_with("gitlab.com/")
        || text.starts_with("bitbucket.org/")
}

/// Reads one kustomization file. What cannot be read is left out (kustomize will say why).
fn read_kustomization(tree: &Tree, file: &Path) -> Kustomization {
    let mut k = Kustomization {
        file: file.to_path_buf(),
        kind: Kind::Kustomization,
        entries: Vec::new(),
        patches: Vec::new(),
        generators: Vec::new(),
        namespace: None,
        name_prefix: None,
        name_suffix: None,
        labels: Vec::new(),
        helm: false,
    };
    let FileRead::Parsed { text, stream } = read_from(file, tree.walk, tree.source) else { return k };
    let Some(root) = stream.documents.first().and_then(|d| d.root.as_ref()) else { return k };
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let resolve = |p: &str| normalize(&dir.join(p));
    let add = |k: &mut Kustomization, role: Role, node: &Node| {
        if let Some(t) = node.as_str() {
            let remote = matches!(role, Role::Resource | Role::Component) && is_remote(t);
            k.entries.push(Entry { role, text: t.to_string(), span: node.span, path: (!remote).then(|| resolve(t)) });
        }
    };
    if root.get("kind").and_then(Node::as_str) == Some("Component") {
        k.kind = Kind::Component;
    }
    for key in ["resources", "bases"] {
        for item in seq(root.get(key)) {
            add(&mut k, Role::Resource, item);
        }
    }
    for item in seq(root.get("components")) {
        add(&mut k, Role::Component, item);
    }
    for key in ["transformers", "generators", "validators"] {
        // A string is a file or folder of plugin configurations; a mapping is an inline one.
        for item in seq(root.get(key)) {
            add(&mut k, Role::Plugin, item);
        }
    }
    for key in ["configurations", "crds"] {
        for item in seq(root.get(key)) {
            add(&mut k, Role::Input, item);
        }
    }
    if let Some(p) = root.get("openapi").and_then(|o| o.get("path")) {
        add(&mut k, Role::Input, p);
    }
    for item in seq(root.get("replacements")) {
        if let Some(p) = item.get("path") {
            add(&mut k, Role::Input, p);
        }
    }
    for item in seq(root.get("helmCharts")) {
        k.helm = true;
        if let Some(p) = item.get("valuesFile") {
            add(&mut k, Role::Input, p);
        }
        for p in seq(item.get("additionalValuesFiles")) {
            add(&mut k, Role::Input, p);
        }
    }
    if let Some(home) = root.get("helmGlobals").and_then(|g| g.get("chartHome")) {
        add(&mut k, Role::Input, home);
    } else if k.helm && tree.is_dir(&dir.join("charts")) {
        k.entries.push(Entry {
            role: Role::Input,
            text: "charts".into(),
            span: root.span,
            path: Some(resolve("charts")),
        });
    }
    for (key, kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
        for item in seq(root.get(key)) {
            let mut keys = Vec::new();
            for literal in seq(item.get("literals")) {
                if let Some(t) = literal.as_str() {
                    keys.push((t.split('=').next().unwrap_or(t).to_string(), literal.span));
                }
            }
            for f in seq(item.get("files")) {
                add(&mut k, Role::Input, &file_of_generator_entry(f));
                if let Some(t) = f.as_str() {
                    let key = match t.split_once('=') {
                        Some((key, _)) => key.to_string(),
                        None => Path::new(t).file_name().and_then(|n| n.to_str()).unwrap_or(t).to_string(),
                    };
                    keys.push((key, f.span));
                }
            }
            for e in seq(item.get("envs")) {
                add(&mut k, Role::Input, e);
            }
            if let Some(e) = item.get("env") {
                add(&mut k, Role::Input, e);
            }
            if let Some((name_node, name)) = item.get("name").and_then(|n| n.as_str().map(|s| (n, s))) {
                k.generators.push(Generator {
                    kind,
                    name: name.to_string(),
                    name_span: name_node.span,
                    span: item.span,
                    keys,
                });
            }
        }
    }
    read_patches(&mut k, root, &text, &dir);
    let pairs =
        root.get("commonLabels").into_iter().chain(seq(root.get("labels")).iter().filter_map(|l| l.get("pairs")));
    for map in pairs {
        for (key, value) in map.as_map().unwrap_or_default() {
            if let (Some(k_text), Some(v_text)) = (key.as_scalar(), value.as_scalar()) {
                k.labels.push((k_text.text.to_string(), v_text.text.to_string(), key.span.to(value.span)));
            }
        }
    }
    k.namespace = root.get("namespace").and_then(|n| n.as_str().map(|s| (s.to_string(), n.span)));
    k.name_prefix = root.get("namePrefix").and_then(Node::as_str).map(str::to_string);
    k.name_suffix = root.get("nameSuffix").and_then(Node::as_str).map(str::to_string);
    k
}

/// `files:` entries are `path` or `key=path`: the node with the path part only.
fn file_of_generator_entry(node: &Node) -> Node {
    match node.as_str().and_then(|t| t.split_once('=')) {
        Some((_, path)) => {
            Node { value: Value::Scalar(yaml::Scalar { text: path.into(), plain: false }), span: node.span }
        }
        None => node.clone(),
    }
}

fn seq(node: Option<&Node>) -> &[Node] {
    node.and_then(Node::as_seq).unwrap_or_default()
}

fn read_patches(k: &mut Kustomization, root: &Node, text: &str, dir: &Path) {
    let push_entry = |k: &mut Kustomization, node: &Node| {
        if let Some(t) = node.as_str() {
            k.entries.push(Entry {
                role: Role::Patch,
                text: t.to_string(),
                span: node.span,
                path: Some(normalize(&dir.join(t))),
            });
        }
    };
    for (key, late) in [("patchesStrategicMerge", false), ("patches", false), ("patchesJson6902", true)] {
        for item in seq(root.get(key)) {
            let target = item.get("target").map(read_selector);
            // A string is a path, except in `patchesStrategicMerge`, where a patch written out
            // (several lines) is inline.
            let inline_text = key == "patchesStrategicMerge" && item.as_str().is_some_and(|t| t.contains('\n'));
            let source = if let Some(path) = item.as_str().filter(|_| !inline_text) {
                push_entry(k, item);
                Some(PatchSource::File(normalize(&dir.join(path))))
            } else if let Some(p) = item.get("path") {
                push_entry(k, p);
                p.as_str().map(|t| PatchSource::File(normalize(&dir.join(t))))
            } else {
                // An inline patch: `patch: |` text, or (patchesStrategicMerge) the item itself.
                let node = item.get("patch").unwrap_or(item);
                node.as_str().map(|t| PatchSource::Inline {
                    text: t.to_string(),
                    node: node.span,
                    block_indent: block_indent(text, node),
                })
            };
            if let Some(source) = source {
                k.patches.push(Patch { source, target, late });
            }
        }
    }
}

/// The column shift of a literal block scalar's content (`|`, `|-`, `|+`), when `node` is one:
/// the parser places such a scalar at its content, so line `n` of the text is the file's line
/// `node.start.line + n - 1`, shifted right by the returned amount. `None` for any other scalar
/// (folded or quoted text does not keep the file's lines).
fn block_indent(text: &str, node: &Node) -> Option<u32> {
    let lines: Vec<&str> = text.lines().collect();
    let line = node.span.start.line as usize;
    let indent = node.span.start.col.checked_sub(1)?;
    let header = lines.get(line.checked_sub(2)?)?.trim_end();
    if !(header.ends_with('|') || header.ends_with("|-") || header.ends_with("|+")) {
        return None;
    }
    let first = lines.get(line - 1)?;
    let content = first.get(indent as usize..)?;
    (Some(content) == node.as_str()?.lines().next()).then_some(indent)
}

fn read_selector(node: &Node) -> Selector {
    let get = |k: &str| node.get(k).and_then(Node::as_str).map(str::to_string);
    Selector {
        group: get("group"),
        version: get("version"),
        kind: get("kind"),
        name: get("name"),
        namespace: get("namespace"),
        label_selector: get("labelSelector"),
    }
}

// -------------------------------------------------------------------------------------------------
// The command

/// The kustomize command to run, with its leading arguments: the configured one, else
/// `kustomize build` when `kustomize` is on PATH, else `kubectl kustomize` when `kubectl` is.
/// `None`: rendering is off, or no renderer is installed.
pub fn command(options: &RenderOptions) -> Option<Vec<String>> {
    if !options.enabled {
        return None;
    }
    if let Some(configured) = options.kustomize.as_ref().filter(|c| !c.is_empty()) {
        return Some(configured.clone());
    }
    if find_program("kustomize").is_some() {
        return Some(vec!["kustomize".into(), "build".into()]);
    }
    find_program("kubectl").map(|_| vec!["kubectl".into(), "kustomize".into()])
}

/// The path of an executable found on PATH (or `name` itself when it is a path).
fn find_program(name: &str) -> Option<PathBuf> {
    let executable = |path: &Path| -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            path.is_file() || path.with_extension("exe").is_file()
        }
    };
    if name.contains('/') || name.contains(std::path::MAIN_SEPARATOR) {
        let path = PathBuf::from(name);
        return executable(&path).then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|candidate| executable(candidate))
}

// -------------------------------------------------------------------------------------------------
// Rendering

/// Renders one leaf through the real engine and maps every node of its output back to the
/// repository. Safe to call from several threads at once.
pub fn render(
    leaf: &Path,
    plan: &Plan,
    command: &[String],
    options: &RenderOptions,
) -> Result<Rendered, RenderFailure> {
    let leaf = normalize(leaf);
    let fallback = Reads { kustomizations: vec![leaf.clone()], ..Reads::default() };
    let reads = plan.reads.get(&leaf).unwrap_or(&fallback);
    let leaf_file = plan.kustomizations.get(&leaf).map(|k| k.file.clone()).unwrap_or_else(|| leaf.join(FILE_NAMES[0]));
    let at_start = Span { start: Pos { line: 1, col: 1 }, end: Pos { line: 1, col: 1 } };
    if let Some((file, span, url)) = reads.remote.first() {
        return Err(RenderFailure {
            file: file.clone(),
            span: *span,
            message: format!(
                "not rendered: it reads the remote resource `{url}`, and kubereach does not fetch over the network; render it yourself and pipe the output to `kubereach check -`"
            ),
        });
    }
    let Some(program) = command.first() else {
        return Err(RenderFailure { file: leaf_file, span: at_start, message: "no kustomize command".into() });
    };
    let key = cache_key(command, reads);
    let text = match cached(&leaf, key, options) {
        Some(Ok(text)) => text,
        Some(Err(failure)) => return Err(failure),
        None => match run(&leaf, program, &command[1..], plan, reads, TIME_LIMIT) {
            Ok(text) => {
                store(&leaf, key, Ok(&text), options);
                text
            }
            Err(Failed::Kustomize(failure)) => {
                store(&leaf, key, Err(&failure), options);
                return Err(failure);
            }
            Err(Failed::Run(failure)) => return Err(failure),
        },
    };
    // Any wrapper folder: they all sit side by side, so relative paths resolve the same.
    let root = wrapper_base().join("wrapper");
    let leaf_abs = std::fs::canonicalize(&leaf).unwrap_or_else(|_| crate::load::canonical_path(&leaf));
    let to_repo = |relative: &str| -> PathBuf {
        let absolute = normalize(&root.join(relative));
        match relative_path(&leaf_abs, &absolute) {
            Some(rel) => normalize(&leaf.join(rel)),
            None => absolute,
        }
    };
    let mut rendered = relocate::relocate(&text, plan, reads, &to_repo);
    rendered.read = reads.files.clone();
    for folder in &reads.folders {
        rendered.read.extend(Tree { walk: &WalkOptions::default(), source: &FileSource::Disk }.files_below(folder));
    }
    Ok(rendered)
}

/// Every rendering's wrapper folder is a child of this folder (canonical), so that the relative
/// paths kustomize writes in the origin annotations resolve the same for a cached text.
fn wrapper_base() -> PathBuf {
    let tmp = std::env::temp_dir();
    std::fs::canonicalize(&tmp).unwrap_or(tmp).join("kubereach-kustomize")
}

/// A fresh wrapper folder, removed on drop.
struct Wrapper(PathBuf);

impl Drop for Wrapper {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wrapper_dir() -> std::io::Result<Wrapper> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = wrapper_base();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("{}-{}-{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    // The base is shared by every run; a wrapper's own folder is one level below it, so that
    // `../..` from any wrapper is the same place.
    let dir = base.join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(Wrapper(dir))
}

/// `to` relative to the folder `from` (both absolute and normalized).
fn relative_path(from: &Path, to: &Path) -> Option<PathBuf> {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    // Different roots (Windows drives): no relative path.
    if a.first() != b.first() {
        return None;
    }
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c.as_os_str());
    }
    Some(out)
}

/// Why a rendering failed: kustomize said so (the same inputs fail the same way, so the failure
/// is cached), or it could not run to the end (a time limit, a missing program: not cached).
enum Failed {
    Kustomize(RenderFailure),
    Run(RenderFailure),
}

/// Runs kustomize on a wrapper of `leaf`, for at most `limit`: the printed stream, or the
/// failure located in the repository.
fn run(
    leaf: &Path,
    program: &str,
    args: &[String],
    plan: &Plan,
    reads: &Reads,
    limit: Duration,
) -> Result<String, Failed> {
    let leaf_file = plan.kustomizations.get(leaf).map_or_else(|| leaf.join(FILE_NAMES[0]), |k| k.file.clone());
    let at_start = Span { start: Pos { line: 1, col: 1 }, end: Pos { line: 1, col: 1 } };
    let fail = |message: String| Failed::Run(RenderFailure { file: leaf_file.clone(), span: at_start, message });
    let wrapper = wrapper_dir().map_err(|e| fail(format!("cannot create a temporary folder to render in: {e}")))?;
    // The folder of `./kustomization.yaml` is the empty path, which names the working directory.
    let folder = if leaf.as_os_str().is_empty() { Path::new(".") } else { leaf };
    let leaf_abs = std::fs::canonicalize(folder).map_err(|e| fail(format!("cannot read the folder: {e}")))?;
    let relative = relative_path(&wrapper.0, &leaf_abs)
        .ok_or_else(|| fail("the folder is on another drive than the temporary folder".into()))?;
    let relative = relative.to_string_lossy().replace('\\', "/");
    let wrapping = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {relative}\nbuildMetadata: [originAnnotations, transformerAnnotations]\n"
    );
    std::fs::write(wrapper.0.join("kustomization.yaml"), wrapping)
        .map_err(|e| fail(format!("cannot write in a temporary folder: {e}")))?;
    let child = super::spawn(
        Command::new(program)
            .args(args)
            .arg(&wrapper.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let mut child = child.map_err(|e| fail(format!("cannot run `{program}`: {e}")))?;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut buf);
        }
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    // After a kill the readers are not waited for: a process the renderer started (a `git`
    // fetch) may still hold the pipes open; the readers end when it does.
    let Some(status) = status else {
        return Err(fail(format!("`{program}` did not finish within {} seconds", limit.as_secs_f32())));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let message = clean_message(&String::from_utf8_lossy(&stderr), &relative, &wrapper.0, &leaf_abs);
        return Err(Failed::Kustomize(locate_failure(
            message,
            &String::from_utf8_lossy(&stderr),
            plan,
            reads,
            leaf_file,
        )));
    }
    String::from_utf8(stdout).map_err(|_| fail(format!("`{program}` printed text that is not UTF-8")))
}

/// kustomize's own message: kubectl's log prefix and quoting removed, the wrapper's layer of the
/// message removed, and paths shown relative to the working directory.
fn clean_message(stderr: &str, relative: &str, wrapper: &Path, leaf_abs: &Path) -> String {
    let mut message = match stderr.find("\"command failed\" err=") {
        Some(at) => {
            let rest = &stderr[at + "\"command failed\" err=".len()..];
            if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.rfind('"').unwrap_or(quoted.len());
                unquote(&quoted[..end])
            } else if let Some(block) = rest.strip_prefix('<') {
                let body = block.trim_start_matches('\n');
                let body = body.rsplit_once("\n >").map_or(body, |(b, _)| b);
                body.lines().map(|l| l.strip_prefix('\t').unwrap_or(l)).collect::<Vec<_>>().join("\n")
            } else {
                rest.trim().to_string()
            }
        }
        None => {
            let text = stderr.trim();
            text.strip_prefix("Error: ").unwrap_or(text).to_string()
        }
    };
    message = without_addresses(&without_layers(&message));
    let wrapper_text = wrapper.to_string_lossy().to_string();
    message = message.replace(&wrapper_text, "<wrapper>");
    if let Ok(cwd) = std::env::current_dir() {
        let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
        let prefix = format!("{}/", cwd.to_string_lossy());
        message = message.replace(&prefix, "");
    }
    message.replace(relative, &crate::load::display_path(leaf_abs)).trim().to_string()
}

/// kustomize's message without the layers each kustomization folder adds on the way down (the
/// wrapper's among them): "accumulating resources from 'DIR': 'DIR' must resolve to a file':
/// recursed accumulation of path 'DIR': …"; the failure's location already names the innermost
/// kustomization. A missing file's second attempt as a folder ("must build at directory: …",
/// the same error again) is dropped too.
fn without_layers(message: &str) -> String {
    const LAYER: &str = "accumulating resources: accumulation err='accumulating resources from '";
    const FILE: &str = "' must resolve to a file': ";
    let mut rest = message;
    while let Some(after) = rest.strip_prefix(LAYER) {
        let Some(at) = after.find(FILE) else { break };
        let inner = &after[at + FILE.len()..];
        let stripped = ["recursed accumulation of path '", "couldn't make target for path '"].iter().find_map(|p| {
            let path_and_rest = inner.strip_prefix(p)?;
            path_and_rest.find("': ").map(|end| &path_and_rest[end + 3..])
        });
        match stripped {
            Some(next) => rest = next,
            None => break,
        }
    }
    let mut out = rest.to_string();
    // A transformer's failure echoes its whole configuration first: the entry it came from is
    // the failure's location already.
    if let Some(rest) = out.strip_prefix("trouble configuring builtin ") {
        if let Some((name, tail)) =
            rest.split_once(" with config: `").and_then(|(n, a)| Some((n, a.split_once("\n`: ")?.1)))
        {
            out = format!("{name}: {tail}");
        }
    }
    if let Some(at) = out.find("': must build at directory: ") {
        out.truncate(at);
        if let Some(inner) = out.strip_prefix("accumulating resources: accumulation err='") {
            out = inner.to_string();
        }
    }
    out
}

/// Memory addresses that kustomize prints of its Go values (`merging from generator &{0xc0017b72b0
/// 0xc001808f80}`) written `0x…`: they change from run to run, and the message is part of the
/// finding's key, which a baseline and code scanning match findings by.
fn without_addresses(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("0x") {
        let digits = rest[at + 2..].bytes().take_while(u8::is_ascii_hexdigit).count();
        out.push_str(&rest[..at]);
        // Short hexadecimal numbers (a mode, a flag) are kept: addresses are long.
        if digits >= 8 {
            out.push_str("0x…");
        } else {
            out.push_str(&rest[at..at + 2 + digits]);
        }
        rest = &rest[at + 2 + digits..];
    }
    out.push_str(rest);
    out
}

/// Go's `%q` quoting undone (the escapes kubectl's logger writes).
fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Where a failure is reported: the entry of the innermost kustomization the message names whose
/// path the message names too (a missing patch, a missing resource), else that kustomization's
/// file (at the line of a YAML error), else the leaf's kustomization file.
fn locate_failure(message: String, raw: &str, plan: &Plan, reads: &Reads, leaf_file: PathBuf) -> RenderFailure {
    let raw = unquote(raw);
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| crate::load::canonical_path(p));
    let mut innermost: Option<(usize, &Kustomization)> = None;
    for dir in &reads.kustomizations {
        let Some(k) = plan.kustomizations.get(dir) else { continue };
        let needle = format!("'{}'", abs(dir).to_string_lossy());
        if let Some(at) = raw.rfind(&needle) {
            if innermost.is_none_or(|(best, _)| at > best) {
                innermost = Some((at, k));
            }
        }
    }
    let at_start = Span { start: Pos { line: 1, col: 1 }, end: Pos { line: 1, col: 1 } };
    let Some((_, k)) = innermost.or_else(|| plan.kustomizations.values().find(|k| k.file == leaf_file).map(|k| (0, k)))
    else {
        return RenderFailure { file: leaf_file, span: at_start, message };
    };
    for e in &k.entries {
        if let Some(p) = &e.path {
            let a = abs(p).to_string_lossy().to_string();
            if raw.contains(&format!("'{a}'"))
                || raw.contains(&format!("({})", e.text))
                || raw.contains(&format!("'{}'", e.text))
            {
                return RenderFailure { file: k.file.clone(), span: e.span, message };
            }
        }
    }
    // `yaml: line N:` of the kustomization file itself.
    let span = raw
        .find("invalid Kustomization: yaml: line ")
        .and_then(|at| {
            let rest = &raw[at + "invalid Kustomization: yaml: line ".len()..];
            rest.split(':').next()?.trim().parse::<u32>().ok()
        })
        .map_or(at_start, |line| Span { start: Pos { line, col: 1 }, end: Pos { line, col: 1 } });
    RenderFailure { file: k.file.clone(), span, message }
}

// -------------------------------------------------------------------------------------------------
// The cache

/// 128 bits of the command, the renderer's executable (path, size, time: an upgrade changes
/// them), kubereach's version and every byte the leaf reads.
fn cache_key(command: &[String], reads: &Reads) -> u128 {
    let mut a = std::collections::hash_map::DefaultHasher::new();
    let mut b = std::collections::hash_map::DefaultHasher::new();
    b.write_u8(0x5a);
    let mut feed = |bytes: &[u8]| {
        a.write(bytes);
        b.write(bytes);
        a.write_usize(bytes.len());
        b.write_usize(bytes.len());
    };
    feed(crate::VERSION.as_bytes());
    for part in command {
        feed(part.as_bytes());
    }
    if let Some(program) = command.first().and_then(|p| find_program(p)) {
        feed(program.to_string_lossy().as_bytes());
        if let Ok(m) = std::fs::metadata(&program) {
            feed(&m.len().to_le_bytes());
            let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            feed(&modified.map_or(0, |d| d.as_nanos()).to_le_bytes());
        }
    }
    let tree = Tree { walk: &WalkOptions::default(), source: &FileSource::Disk };
    let mut files: BTreeSet<PathBuf> = reads.files.clone();
    for folder in &reads.folders {
        files.extend(tree.files_below(folder));
    }
    // The rendered text names sources relative to the wrapper's folder: where the wrapper and the
    // files are is part of what the text says, so two copies of one tree do not share outputs.
    feed(wrapper_base().to_string_lossy().as_bytes());
    for file in &files {
        let absolute = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
        feed(absolute.to_string_lossy().as_bytes());
        match std::fs::read(file) {
            Ok(bytes) => feed(&bytes),
            Err(_) => feed(b"\0missing"),
        }
    }
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// What the memory cache holds per leaf: the key and outcome of its last rendering (a
/// `--watch` session keeps one per leaf, not one per edit). kustomize's own failures are kept
/// too, in memory and on disk: the same inputs fail the same way.
type Remembered = HashMap<PathBuf, (u128, Result<String, RenderFailure>)>;

fn memory() -> &'static Mutex<Remembered> {
    static CACHE: OnceLock<Mutex<Remembered>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn disk_path(key: u128, options: &RenderOptions) -> Option<PathBuf> {
    Some(options.cache_dir.as_ref()?.join("kustomize").join(format!("{key:032x}.yaml")))
}

/// Where a remembered failure is kept: beside the text it would have been, once per spelling of
/// the leaf and working directory. A failure names its kustomization and paths as the run that
/// met it spelled them (relative to its working directory), so a run that reaches the same leaf
/// another way (an absolute path, another directory) must not replay it.
fn failure_path(leaf: &Path, key: u128, options: &RenderOptions) -> Option<PathBuf> {
    let mut spelling = std::collections::hash_map::DefaultHasher::new();
    leaf.hash(&mut spelling);
    std::env::current_dir().ok().hash(&mut spelling);
    let spelling = spelling.finish();
    Some(options.cache_dir.as_ref()?.join("kustomize").join(format!("{key:032x}-{spelling:016x}.failure")))
}

/// A failure as a file: its place on the first line (`line col end-line end-col path`), then the
/// message.
fn failure_text(failure: &RenderFailure) -> String {
    let s = failure.span;
    format!(
        "{} {} {} {} {}\n{}",
        s.start.line,
        s.start.col,
        s.end.line,
        s.end.col,
        failure.file.to_string_lossy(),
        failure.message
    )
}

fn read_failure(text: &str) -> Option<RenderFailure> {
    let (head, message) = text.split_once('\n')?;
    let mut parts = head.splitn(5, ' ');
    let mut number = || parts.next()?.parse::<u32>().ok();
    let (l1, c1, l2, c2) = (number()?, number()?, number()?, number()?);
    let file = PathBuf::from(parts.next()?);
    let span = Span { start: Pos { line: l1, col: c1 }, end: Pos { line: l2, col: c2 } };
    Some(RenderFailure { file, span, message: message.to_string() })
}

/// The remembered outcome of rendering `leaf` with inputs `key`: from memory, else from the
/// cache folder.
fn cached(leaf: &Path, key: u128, options: &RenderOptions) -> Option<Result<String, RenderFailure>> {
    if let Ok(map) = memory().lock() {
        if let Some((k, outcome)) = map.get(leaf) {
            if *k == key {
                return Some(outcome.clone());
            }
        }
    }
    let outcome = match std::fs::read_to_string(disk_path(key, options)?) {
        Ok(text) => Ok(text),
        Err(_) => Err(read_failure(&std::fs::read_to_string(failure_path(leaf, key, options)?).ok()?)?),
    };
    if let Ok(mut map) = memory().lock() {
        map.insert(leaf.to_path_buf(), (key, outcome.clone()));
    }
    Some(outcome)
}

/// Keeps an outcome in memory and, when a cache folder is set, on disk (written to a temporary
/// name, then renamed, so that a concurrent reader never sees half a file). A cache that cannot
/// be written is no error.
fn store(leaf: &Path, key: u128, outcome: Result<&str, &RenderFailure>, options: &RenderOptions) {
    if let Ok(mut map) = memory().lock() {
        map.insert(leaf.to_path_buf(), (key, outcome.map(str::to_string).map_err(Clone::clone)));
    }
    let (path, text) = match outcome {
        Ok(text) => (disk_path(key, options), text.to_string()),
        Err(failure) => (failure_path(leaf, key, options), failure_text(failure)),
    };
    let Some(path) = path else { return };
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temporary = dir.join(format!(".{key:032x}.{}.tmp", std::process::id()));
    if std::fs::write(&temporary, text).is_ok() && std::fs::rename(&temporary, &path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

/// What kustomize's origin annotation says of one rendered object.
pub(crate) fn read_origin(value: &str, to_repo: &dyn Fn(&str) -> PathBuf) -> Option<Origin> {
    let stream = yaml::parse_stream(value);
    let root = stream.documents.first()?.root.as_ref()?;
    if let Some(path) = root.get("path").and_then(Node::as_str) {
        if root.get("repo").is_some() {
            return None;
        }
        return Some(Origin::File(to_repo(path)));
    }
    let configured_in = root.get("configuredIn").and_then(Node::as_str)?;
    let by = root.get("configuredBy").and_then(|b| b.get("kind")).and_then(Node::as_str).unwrap_or_default();
    Some(Origin::Generated { kustomization: to_repo(configured_in), by: by.to_string() })
}

/// The kustomization files of kustomize's transformations annotation, in the order applied,
/// each once.
pub(crate) fn read_transformations(value: &str, to_repo: &dyn Fn(&str) -> PathBuf) -> Vec<PathBuf> {
    let stream = yaml::parse_stream(value);
    let mut out: Vec<PathBuf> = Vec::new();
    let items = stream.documents.first().and_then(|d| d.root.as_ref()).and_then(Node::as_seq).unwrap_or_default();
    for item in items {
        if let Some(file) = item.get("configuredIn").and_then(Node::as_str) {
            let file = to_repo(file);
            if !out.contains(&file) {
                out.push(file);
            }
        }
    }
    out
}

mod relocate;
#[cfg(test)]
mod tests;

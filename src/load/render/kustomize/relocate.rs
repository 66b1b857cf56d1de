//! Relocation: where each node of a rendered kustomize stream comes from in the repository.
//!
//! kustomize's origin annotation names an object's source file (or the kustomization whose
//! generator made it), its transformations annotation the kustomizations that touched it. From
//! there each node of the rendered object (keys and values, at every depth) is placed, in this
//! order:
//! 1. the last patch of those kustomizations that selects the object and sets the node: a
//!    strategic-merge patch with the same field path (list items matched by their merge key,
//!    `name`, `containerPort`, `port`, …) and, for a scalar, the same value; a JSON 6902 operation
//!    whose `path` is the node or one of its parents (the node inside the operation's `value`, else
//!    the operation). A patch only claims what the source does not already say: a value the
//!    source holds too, or a mapping the source has, stays at the source;
//! 2. the same field path in the source document (list items by merge key, else by position);
//! 3. the kustomization entry that produced it: the `namespace:` value for a namespace the source
//!    does not set, the `commonLabels`/`labels` pair for a label or selector term it adds, the
//!    generator entry (and its `literals`/`files` item for a data key) for a
//!    generated object;
//! 4. the source document's `metadata.name` (the generator's `name` for a generated object).
//!
//! The two annotations are kustomize's bookkeeping, not what the cluster receives: they are cut
//! out of the text before it is parsed. Written by hand: no crate maps a rendered tree back onto
//! kustomize's inputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{read_origin, read_transformations, Generator, Kustomization, Patch, PatchSource, Plan, Reads, Selector};
use crate::load::render::{Rendered, SpanMap};
use crate::load::yaml::{self, Node, Stream, Value};
use crate::load::{read_file, FileRead, WalkOptions};
use crate::span::{Pos, Span};

const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// The keys by which a strategic merge matches the items of a list, in the order tried.
const MERGE_KEYS: [&str; 8] = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey", "key"];

/// Where a rendered object comes from, as its origin annotation says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A resource file (repository path).
    File(PathBuf),
    /// Made by a generator (`by`: `ConfigMapGenerator`, …) of a kustomization (its file).
    Generated { kustomization: PathBuf, by: String },
}

/// Turns a position in a patch's text into one in the file that holds it.
#[derive(Clone, Copy, Debug)]
enum Offset {
    /// The patch is a file of its own.
    Identity,
    /// Inline in a literal block scalar: content line `n` is the file's line `line + n`, shifted
    /// right by `indent`.
    Block { line: u32, indent: u32 },
    /// Inline in some other scalar: everything at the scalar.
    Fixed(Span),
}

impl Offset {
    fn apply(self, span: Span) -> Span {
        match self {
            Offset::Identity => span,
            Offset::Block { line, indent } => {
                let shift = |p: Pos| Pos { line: p.line + line, col: p.col + indent };
                Span { start: shift(span.start), end: shift(span.end) }
            }
            Offset::Fixed(s) => s,
        }
    }
}

/// A JSON 6902 operation: its path (decoded segments), its value, and the operation's node.
#[derive(Debug)]
struct Op {
    path: Vec<String>,
    value: Option<Node>,
    span: Span,
}

/// A patch that applies to the object being placed.
#[derive(Debug)]
enum Applied {
    Merge { file: PathBuf, root: Node, offset: Offset },
    Json { file: PathBuf, ops: Vec<Op>, offset: Offset },
}

/// Parsed files and inline patches, each read once per rendering.
#[derive(Default)]
struct Texts {
    files: HashMap<PathBuf, Option<Arc<Stream>>>,
}

impl Texts {
    fn file(&mut self, path: &Path) -> Option<Arc<Stream>> {
        self.files
            .entry(path.to_path_buf())
            .or_insert_with(|| match read_file(path, &WalkOptions::default()) {
                FileRead::Parsed { stream, .. } => Some(Arc::new(stream)),
                FileRead::Unreadable(_) => None,
            })
            .clone()
    }
}

/// The rendered stream of `text`, its origin bookkeeping cut out, with every node placed.
/// `to_repo` turns a path of the annotations (relative to the wrapper) into a repository path.
pub(crate) fn relocate(text: &str, plan: &Plan, reads: &Reads, to_repo: &dyn Fn(&str) -> PathBuf) -> Rendered {
    let raw = yaml::parse_stream(text);
    let mut origins: Vec<(Option<Origin>, Vec<PathBuf>)> = Vec::new();
    let mut cut: Vec<(u32, u32)> = Vec::new();
    for doc in &raw.documents {
        let annotations = doc.root.as_ref().and_then(|r| r.get("metadata")).and_then(|m| m.entry("annotations"));
        let mut origin = None;
        let mut transformations = Vec::new();
        if let Some((key, map)) = annotations {
            let entries = map.as_map().unwrap_or_default();
            let mut removed = 0;
            for (k, v) in entries {
                match k.as_str() {
                    Some(ORIGIN) => origin = v.as_str().and_then(|s| read_origin(s, to_repo)),
                    Some(TRANSFORMATIONS) => {
                        transformations = v.as_str().map(|s| read_transformations(s, to_repo)).unwrap_or_default()
                    }
                    _ => continue,
                }
                removed += 1;
                cut.push((k.span.start.line, k.span.start.col));
            }
            if removed > 0 && removed == entries.len() {
                cut.push((key.span.start.line, u32::MAX));
            }
        }
        origins.push((origin, transformations));
    }
    let stripped = strip_lines(text, &cut);
    let stream = yaml::parse_stream(&stripped);
    let (text, stream) = if stream.documents.len() == raw.documents.len() {
        (stripped, stream)
    } else {
        // Never expected; the bookkeeping then stays rather than losing objects.
        (text.to_string(), raw)
    };
    let by_file: HashMap<&Path, &Kustomization> = plan.kustomizations.values().map(|k| (k.file.as_path(), k)).collect();
    let leaf_file = reads
        .kustomizations
        .first()
        .and_then(|d| plan.kustomizations.get(d))
        .map(|k| k.file.clone())
        .unwrap_or_default();
    let mut texts = Texts::default();
    let mut map = SpanMap::default();
    for (doc, (origin, transformations)) in stream.documents.iter().zip(&origins) {
        let Some(root) = &doc.root else { continue };
        let chain: Vec<&Kustomization> =
            transformations.iter().filter_map(|f| by_file.get(f.as_path()).copied()).collect();
        let mut placer = Placer {
            map: &mut map,
            source: None,
            generator: None,
            chain,
            applied: Vec::new(),
            fallback: (leaf_file.clone(), Span::default()),
        };
        placer.prepare(root, origin.as_ref(), &by_file, &mut texts);
        let whole = placer.whole();
        placer.map.push(doc.span, &whole.0, whole.1);
        placer.map.push(root.span, &whole.0, whole.1);
        let source_root = placer.source.as_ref().map(|(_, n)| n.clone());
        let patches: Vec<Option<Node>> = placer
            .applied
            .iter()
            .map(|a| match a {
                Applied::Merge { root, .. } => Some(root.clone()),
                Applied::Json { .. } => None,
            })
            .collect();
        let mut path = Vec::new();
        placer.children(root, &mut path, source_root.as_ref(), &patches);
    }
    map.finish();
    Rendered { text, stream, map, read: Default::default() }
}

/// `text` without the lines of the cut entries: from the key's line, every following line
/// indented at least to the key's column (a block scalar's content); `u32::MAX`: the key's line
/// only.
fn strip_lines(text: &str, cut: &[(u32, u32)]) -> String {
    if cut.is_empty() {
        return text.to_string();
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut drop = vec![false; lines.len()];
    for &(line, col) in cut {
        let first = line as usize - 1;
        if first >= lines.len() {
            continue;
        }
        drop[first] = true;
        if col == u32::MAX {
            continue;
        }
        let depth = col as usize - 1;
        for (i, l) in lines.iter().enumerate().skip(first + 1) {
            let body = l.trim_end_matches(['\n', '\r']);
            let indent = body.len() - body.trim_start_matches(' ').len();
            if body.trim().is_empty() || indent > depth {
                drop[i] = true;
            } else {
                break;
            }
        }
    }
    lines.iter().zip(drop).filter(|(_, d)| !d).map(|(l, _)| *l).collect()
}

/// Places the nodes of one rendered object.
struct Placer<'a, 'm> {
    map: &'m mut SpanMap,
    /// The source document: its file and root.
    source: Option<(PathBuf, Node)>,
    /// The generator that made the object, in its kustomization.
    generator: Option<(PathBuf, Generator)>,
    /// The kustomizations whose transformers touched the object, in the order applied.
    chain: Vec<&'a Kustomization>,
    /// The patches that select the object, in the order applied.
    applied: Vec<Applied>,
    /// Where a node with no better place goes.
    fallback: (PathBuf, Span),
}

fn scalar_text(node: &Node) -> Option<&str> {
    node.as_scalar().map(|s| &*s.text)
}

fn same_scalar(a: &Node, b: &Node) -> bool {
    matches!((scalar_text(a), scalar_text(b)), (Some(x), Some(y)) if x == y)
}

fn is_collection(node: &Node) -> bool {
    !matches!(node.value, Value::Scalar(_))
}

/// Whether two trees say the same thing, wherever they are written: scalars by text, mappings
/// by their entries in any order, lists item by item.
fn same_tree(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(x), Value::Scalar(y)) => x.text == y.text,
        (Value::Seq(x), Value::Seq(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same_tree(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| scalar_text(k).is_some_and(|key| b.get(key).is_some_and(|w| same_tree(v, w))))
        }
        _ => false,
    }
}

/// The item of `list` that corresponds to the rendered `item`: by merge key, by equal scalar,
/// else (when `by_position`) the item at the same index.
fn match_item<'n>(list: &'n [Node], item: &Node, index: usize, by_position: bool) -> Option<&'n Node> {
    if item.as_map().is_some() {
        for key in MERGE_KEYS {
            let Some(value) = item.get(key).and_then(scalar_text) else { continue };
            if let Some(found) = list.iter().find(|c| c.get(key).and_then(scalar_text) == Some(value)) {
                return Some(found);
            }
        }
    } else if let Some(found) = list.iter().find(|c| same_scalar(c, item)) {
        return Some(found);
    }
    // A patch's list is matched by position only where items have no merge key: such a list
    // (ingress rules, peers) is replaced whole, item by item. Claims check the values anyway.
    let keyed = item.as_map().is_some_and(|_| MERGE_KEYS.iter().any(|k| item.get(k).is_some()));
    if by_position || !keyed {
        list.get(index)
    } else {
        None
    }
}

/// The documents of a stream, `List` items expanded.
fn objects(stream: &Stream) -> Vec<&Node> {
    let mut out = Vec::new();
    for doc in &stream.documents {
        let Some(root) = &doc.root else { continue };
        match (root.get("kind").and_then(Node::as_str), root.get("items").and_then(Node::as_seq)) {
            (Some(kind), Some(items)) if kind.ends_with("List") => out.extend(items.iter()),
            _ => out.push(root),
        }
    }
    out
}

fn meta<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get("metadata").and_then(|m| m.get(key)).and_then(Node::as_str)
}

/// Whether a target name (a regular expression for kustomize) selects `names`: exactly, or any
/// name when it uses regular expression syntax (kubereach does not evaluate those; a patch only
/// claims nodes whose value it holds, which keeps a loose match harmless).
fn name_matches(pattern: &str, names: &[&str]) -> bool {
    if pattern.chars().any(|c| "^$.*+?()[]{}|\\".contains(c)) {
        return true;
    }
    names.contains(&pattern)
        || names
            .windows(2)
            .any(|w| matches!(w, [source, rendered] if pattern.contains(source) && rendered.contains(pattern)))
}

/// Whether an equality-based label selector (`a=b,c!=d,e,!f`) selects `labels`; set-based terms
/// (`in`, `notin`) count as selecting.
fn labels_match(selector: &str, labels: Option<&Node>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(scalar_text);
    selector.split(',').map(str::trim).filter(|t| !t.is_empty()).all(|term| {
        if term.contains(" in ") || term.contains(" notin ") || term.contains('(') {
            true
        } else if let Some((k, v)) = term.split_once("!=") {
            label(k.trim()) != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            label(k.trim()) == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            label(k.trim()).is_none()
        } else {
            label(term).is_some()
        }
    })
}

fn selects(selector: &Selector, root: &Node, names: &[&str]) -> bool {
    let api = root.get("apiVersion").and_then(Node::as_str).unwrap_or_default();
    let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
    selector.kind.as_deref().is_none_or(|k| root.get("kind").and_then(Node::as_str) == Some(k))
        && selector.group.as_deref().is_none_or(|g| g == group)
        && selector.version.as_deref().is_none_or(|v| v == version)
        && selector.name.as_deref().is_none_or(|n| name_matches(n, names))
        && selector.namespace.as_deref().is_none_or(|ns| meta(root, "namespace").is_none_or(|m| m == ns))
        && selector
            .label_selector
            .as_deref()
            .is_none_or(|s| labels_match(s, root.get("metadata").and_then(|m| m.get("labels"))))
}

/// A JSON pointer's segments, `~1` and `~0` decoded.
fn pointer(path: &str) -> Vec<String> {
    path.split('/').skip(1).map(|s| s.replace("~1", "/").replace("~0", "~")).collect()
}

impl Placer<'_, '_> {
    /// Finds the source document, the generator and the patches that apply.
    fn prepare(
        &mut self,
        root: &Node,
        origin: Option<&Origin>,
        by_file: &HashMap<&Path, &Kustomization>,
        texts: &mut Texts,
    ) {
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
        let name = meta(root, "name").unwrap_or_default();
        match origin {
            Some(Origin::File(file)) => {
                if let Some(stream) = texts.file(file) {
                    let docs: Vec<&Node> = objects(&stream)
                        .into_iter()
                        .filter(|d| d.get("kind").and_then(Node::as_str) == Some(kind))
                        .collect();
                    // The document whose name, with the prefixes and suffixes added, is the
                    // rendered name: exactly, else the longest contained; the only one of the
                    // kind otherwise.
                    let found = docs.iter().find(|d| meta(d, "name") == Some(name)).or_else(|| {
                        docs.iter()
                            .filter(|d| meta(d, "name").is_some_and(|n| !n.is_empty() && name.contains(n)))
                            .max_by_key(|d| meta(d, "name").map_or(0, str::len))
                    });
                    let found = found.or_else(|| (docs.len() == 1).then(|| &docs[0]));
                    if let Some(doc) = found {
                        self.source = Some((file.clone(), (*doc).clone()));
                    }
                }
                if self.source.is_none() {
                    self.fallback = (file.clone(), Span::default());
                }
            }
            Some(Origin::Generated { kustomization, by }) => {
                let generated = match by.as_str() {
                    "ConfigMapGenerator" => Some("ConfigMap"),
                    "SecretGenerator" => Some("Secret"),
                    _ => None,
                };
                let k = by_file.get(kustomization.as_path());
                let generator = k.and_then(|k| {
                    k.generators
                        .iter()
                        .filter(|g| Some(g.kind) == generated && name.contains(&g.name))
                        .max_by_key(|g| g.name.len())
                });
                match generator {
                    Some(g) => self.generator = Some((kustomization.clone(), g.clone())),
                    None => self.fallback = (kustomization.clone(), Span::default()),
                }
            }
            None => {}
        }
        let source_name = self.source.as_ref().and_then(|(_, n)| meta(n, "name")).map(str::to_string);
        let generator_name = self.generator.as_ref().map(|(_, g)| g.name.clone());
        let original = source_name.or(generator_name).unwrap_or_else(|| name.to_string());
        let names = [original.as_str(), name];
        for k in self.chain.clone() {
            let ordered = k.patches.iter().filter(|p| !p.late).chain(k.patches.iter().filter(|p| p.late));
            for patch in ordered {
                self.add_patch(k, patch, root, &names, texts);
            }
        }
    }

    fn add_patch(&mut self, k: &Kustomization, patch: &Patch, root: &Node, names: &[&str], texts: &mut Texts) {
        let (file, stream, offset) = match &patch.source {
            PatchSource::File(path) => match texts.file(path) {
                Some(s) => (path.clone(), s, Offset::Identity),
                None => return,
            },
            PatchSource::Inline { text, node, block_indent } => {
                let offset = match block_indent {
                    Some(indent) => Offset::Block { line: node.start.line - 1, indent: *indent },
                    None => Offset::Fixed(*node),
                };
                (k.file.clone(), Arc::new(yaml::parse_stream(text)), offset)
            }
        };
        for doc in &stream.documents {
            let Some(proot) = &doc.root else { continue };
            if let Some(ops) = proot.as_seq() {
                // JSON 6902: only through a target.
                if !patch.target.as_ref().is_some_and(|t| selects(t, root, names)) {
                    continue;
                }
                let ops = ops
                    .iter()
                    .filter(|op| {
                        matches!(op.get("op").and_then(Node::as_str), Some("add" | "replace" | "copy" | "move"))
                    })
                    .filter_map(|op| {
                        Some(Op {
                            path: pointer(op.get("path")?.as_str()?),
                            value: op.get("value").cloned(),
                            span: op.span,
                        })
                    })
                    .collect();
                self.applied.push(Applied::Json { file: file.clone(), ops, offset });
            } else if proot.as_map().is_some() {
                let selected = match &patch.target {
                    Some(t) => selects(t, root, names),
                    None => {
                        proot.get("kind").and_then(Node::as_str) == root.get("kind").and_then(Node::as_str)
                            && meta(proot, "name").is_some_and(|n| name_matches(n, names))
                    }
                };
                if selected {
                    self.applied.push(Applied::Merge { file: file.clone(), root: proot.clone(), offset });
                }
            }
        }
    }

    /// Where the whole object comes from.
    fn whole(&self) -> (PathBuf, Span) {
        if let Some((file, node)) = &self.source {
            return (file.clone(), node.span);
        }
        if let Some((file, g)) = &self.generator {
            return (file.clone(), g.span);
        }
        self.fallback.clone()
    }

    /// The last resort: the source's name, the generator's name, or the fallback.
    fn name_place(&self) -> (PathBuf, Span) {
        if let Some((file, node)) = &self.source {
            let name = node.get("metadata").and_then(|m| m.get("name"));
            return (file.clone(), name.map_or(node.span, |n| n.span));
        }
        if let Some((file, g)) = &self.generator {
            return (file.clone(), g.name_span);
        }
        self.fallback.clone()
    }

    /// The `namespace:` of the last kustomization of the chain that sets the rendered value.
    fn namespace_place(&self, value: Option<&str>) -> Option<(PathBuf, Span)> {
        let k =
            self.chain.iter().rev().find(|k| k.namespace.as_ref().is_some_and(|(ns, _)| Some(ns.as_str()) == value))?;
        k.namespace.as_ref().map(|(_, span)| (k.file.clone(), *span))
    }

    /// A label (or selector term) that a kustomization of the chain adds (`commonLabels`,
    /// `labels`): that entry, the last one that adds this key with this value.
    fn label_place(&self, path: &[String], value: Option<&str>) -> Option<(PathBuf, Span)> {
        let key = path.last()?;
        let value = value?;
        self.chain.iter().rev().find_map(|k| {
            k.labels.iter().find(|(lk, lv, _)| lk == key && lv == value).map(|(_, _, span)| (k.file.clone(), *span))
        })
    }

    /// The place a generator entry gives a node of the object it made.
    fn entry_place(&self, path: &[String]) -> Option<(PathBuf, Span)> {
        let (file, g) = self.generator.as_ref()?;
        if path.first().is_some_and(|p| matches!(p.as_str(), "data" | "binaryData" | "stringData")) {
            if let Some((_, span)) = path.get(1).and_then(|key| g.keys.iter().find(|(k, _)| k == key)) {
                return Some((file.clone(), *span));
            }
        }
        if path == ["metadata", "name"] {
            return Some((file.clone(), g.name_span));
        }
        Some((file.clone(), g.span))
    }

    /// The patch (last first) that claims a node at `path`, given what the source holds there.
    fn patch_place(
        &self,
        path: &[String],
        rendered: &Node,
        source: Option<&Node>,
        patches: &[Option<Node>],
        key: bool,
    ) -> Option<(PathBuf, Span)> {
        let claims = |candidate: &Node| -> bool {
            match source {
                None => true,
                // A key the source has too stays at the source.
                Some(_) if key => false,
                // A collection is the patch's when the patch wrote all of it (a list a
                // strategic-merge patch replaces, an item it brings) and the source said
                // otherwise; a mapping the patch only adds to stays at the source.
                Some(s) if is_collection(rendered) => same_tree(candidate, rendered) && !same_tree(s, rendered),
                Some(s) => same_scalar(candidate, rendered) && !same_scalar(s, rendered),
            }
        };
        for (applied, node) in self.applied.iter().zip(patches).rev() {
            match applied {
                Applied::Merge { file, offset, .. } => {
                    let Some(node) = node else { continue };
                    let equal = key || is_collection(rendered) || same_scalar(node, rendered);
                    if equal && claims(node) {
                        return Some((file.clone(), offset.apply(node.span)));
                    }
                }
                Applied::Json { file, ops, offset } => {
                    let op = ops.iter().rev().find(|op| {
                        op.path.len() <= path.len()
                            && op.path.iter().zip(path).all(|(a, b)| a == b || (a == "-" && b.parse::<usize>().is_ok()))
                    });
                    let Some(op) = op else { continue };
                    let below = &path[op.path.len()..];
                    let descend = |v: &Node, segments: &[String]| -> Option<Node> {
                        segments
                            .iter()
                            .try_fold(v, |n, seg| match &n.value {
                                Value::Map(_) => n.get(seg),
                                Value::Seq(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
                                Value::Scalar(_) => None,
                            })
                            .cloned()
                    };
                    let inside = match (key, below.split_last()) {
                        // A key inside the operation's value: that key.
                        (true, Some((last, parents))) => op
                            .value
                            .as_ref()
                            .and_then(|v| descend(v, parents))
                            .and_then(|parent| parent.entry(last).map(|(k, _)| k.clone())),
                        (true, None) => None,
                        (false, _) => op.value.as_ref().and_then(|v| descend(v, below)),
                    };
                    if key && source.is_some() {
                        continue;
                    }
                    let place = inside.map_or(op.span, |n| n.span);
                    // The node the operation writes is its own; below it, what the source
                    // already says stays at the source.
                    let claimed = op.path.len() == path.len()
                        || match source {
                            None => true,
                            Some(s) => !is_collection(rendered) && !same_scalar(s, rendered),
                        };
                    if claimed {
                        return Some((file.clone(), offset.apply(place)));
                    }
                }
            }
        }
        None
    }

    /// Records the place of one rendered node (a key when `key`; `value` is the text of the
    /// entry's value, for a key and its value alike).
    fn place(
        &mut self,
        path: &[String],
        rendered: &Node,
        value: Option<&str>,
        source: Option<&Node>,
        patches: &[Option<Node>],
        key: bool,
    ) {
        let namespace_from_kustomization =
            path == ["metadata", "namespace"] && source.is_none_or(|s| key || scalar_text(s) != value);
        let place = self
            .patch_place(path, rendered, source, patches, key)
            .or_else(|| namespace_from_kustomization.then(|| self.namespace_place(value)).flatten())
            .or_else(|| source.map(|s| (self.source_file(), s.span)))
            .or_else(|| self.label_place(path, value))
            .or_else(|| self.entry_place(path))
            .unwrap_or_else(|| self.name_place());
        let (file, span) = place;
        self.map.push(rendered.span, &file, span);
    }

    fn source_file(&self) -> PathBuf {
        self.source.as_ref().map(|(f, _)| f.clone()).unwrap_or_default()
    }

    /// Places the entries or items below `rendered` (whose own place is already recorded).
    fn children(&mut self, rendered: &Node, path: &mut Vec<String>, source: Option<&Node>, patches: &[Option<Node>]) {
        match &rendered.value {
            Value::Scalar(_) => {}
            Value::Map(entries) => {
                for (k, v) in entries.iter() {
                    let Some(key) = scalar_text(k) else { continue };
                    let source_entry = source.and_then(|s| s.entry(key));
                    let patch_entries: Vec<Option<(&Node, &Node)>> =
                        patches.iter().map(|p| p.as_ref().and_then(|p| p.entry(key))).collect();
                    path.push(key.to_string());
                    let keys: Vec<Option<Node>> = patch_entries.iter().map(|e| e.map(|(k, _)| k.clone())).collect();
                    self.place(path, k, scalar_text(v), source_entry.map(|(k, _)| k), &keys, true);
                    let values: Vec<Option<Node>> = patch_entries.iter().map(|e| e.map(|(_, v)| v.clone())).collect();
                    let source_value = source_entry.map(|(_, v)| v);
                    self.place(path, v, scalar_text(v), source_value, &values, false);
                    self.children(v, path, source_value, &values);
                    path.pop();
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let source_item = source.and_then(Node::as_seq).and_then(|l| match_item(l, item, i, true));
                    let patch_items: Vec<Option<Node>> = patches
                        .iter()
                        .map(|p| p.as_ref().and_then(Node::as_seq).and_then(|l| match_item(l, item, i, false)).cloned())
                        .collect();
                    path.push(i.to_string());
                    self.place(path, item, scalar_text(item), source_item, &patch_items, false);
                    self.children(item, path, source_item, &patch_items);
                    path.pop();
                }
            }
        }
    }
}

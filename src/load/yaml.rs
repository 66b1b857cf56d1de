//! Span-keeping YAML documents.
//!
//! Builds a small tree from granit-parser's event parser so that every node keeps its line and
//! column. Written by hand (rather than using a YAML value crate) for three reasons: kubereach
//! needs spans on every node, it needs to know whether a scalar was plain (YAML 1.1 resolution is
//! decided per field by the model, as kubectl does), and it must bound what hostile input can
//! cost. Every stage is linear in the input: keys are checked for repeats through a hash set,
//! anchors are found by id in a hash map, an alias shares the anchored subtree (`Arc`) instead of
//! copying it, and each file has a node budget (aliases and merge keys count what they stand
//! for), so an alias bomb, a file of ten thousand `[` or millions of tiny scalars is a located
//! error, not an out-of-memory or a stack overflow.
//!
//! The parser: kubectl reads YAML with go-yaml, a port of libyaml, so what libyaml accepts is what
//! must be read. granit-parser (a maintained, `forbid(unsafe_code)` descendant of saphyr) with its
//! libyaml options agrees with libyaml on every real file we have (the differential test of
//! `scripts/yaml-differential.py`, run in CI against PyYAML's libyaml reader, holds it to that);
//! saphyr rejected quoted scalars continued at column 0 and flow collections closed left of their
//! key, which go-yaml accepts. libyaml-safer would be exact by construction but panics on valid
//! input (a block scalar at the end of a file without a line break), and the libyaml C code itself
//! would need `unsafe`.
//!
//! Merge keys (`<<: *base`, `<<: [*a, *b]`) are applied as go-yaml v2 (kubectl's reader) applies
//! them: in the order written, each key overriding what came before, earlier maps of a merge list
//! taking precedence over later ones.
//!
//! A syntax error ends the parse of the file: documents completed before it are kept.

use std::fmt;
use std::sync::Arc;

use granit_parser::{Event, Marker, Options, Parser, ScalarStyle, Span as ParserSpan};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::span::{Pos, Span};

fn pos_from_marker(m: &Marker) -> Pos {
    Pos { line: clamp_u32(m.line()), col: clamp_u32(m.col()).saturating_add(1) }
}

fn span_from_parser(span: &ParserSpan) -> Span {
    Span { start: pos_from_marker(&span.start), end: pos_from_marker(&span.end) }
}

fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A scalar's text and whether it was written plain (unquoted, untagged), which is what decides
/// whether YAML 1.1 may read it as a boolean or a number.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// A boxed `str` rather than a `String`: no spare capacity, and a smaller node.
    pub text: Box<str>,
    pub plain: bool,
}

/// A node's content. Collections are shared (`Arc`): an alias, a merge key or an anchor costs a
/// reference count, not a copy of the subtree. A slice of exactly the collection's length, in one
/// allocation with its count: the builder collects the items of open collections on stacks of its
/// own and moves each finished one out once (see `Builder::items`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Arc<[Node]>),
    Map(Arc<[(Node, Node)]>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// How kubectl (YAML 1.1, via its YAML-to-JSON step) reads a plain scalar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resolved<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str(&'a str),
}

impl Scalar {
    pub fn resolve(&self) -> Resolved<'_> {
        if !self.plain {
            return Resolved::Str(&self.text);
        }
        resolve_plain(&self.text)
    }
}

fn resolve_plain(t: &str) -> Resolved<'_> {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN" => return Resolved::Float,
        _ => {}
    }
    let first = t.as_bytes()[0];
    if !(first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.') {
        return Resolved::Str(t);
    }
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let parsed = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        i64::from_str_radix(&digits[1..], 8).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(v) = parsed {
        return Resolved::Int(if neg { -v } else { v });
    }
    if is_float(digits) {
        return Resolved::Float;
    }
    Resolved::Str(t)
}

fn is_float(s: &str) -> bool {
    // YAML 1.1 float: digits with one dot and an optional exponent (`1.0`, `.5`, `1e3` is not one).
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dots = 0;
    let mut digits = 0;
    for b in mantissa.bytes() {
        match b {
            b'.' => dots += 1,
            b'0'..=b'9' => digits += 1,
            _ => return false,
        }
    }
    if dots != 1 || digits == 0 {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

impl Node {
    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping, with the key node (whose span findings point at).
    pub(crate) fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?.iter().find_map(|(k, v)| match &k.value {
            Value::Scalar(s) if &*s.text == key => Some((k, v)),
            _ => None,
        })
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// A value that is absent or YAML null counts as absent, as it does for the API server.
    pub(crate) fn get_present(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.resolve() == Resolved::Null)
    }

    /// The scalar's text when it reads as a string (quoted, or plain and not a YAML 1.1 bool,
    /// number or null).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self.as_scalar()?.resolve() {
            Resolved::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int(_) => "an integer",
                Resolved::Float => "a number",
                Resolved::Str(_) => "a string",
            },
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Why a document (or the rest of a file) could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("YAML syntax error: {message}")]
    Syntax { message: String, at: Pos },
    #[error("alias `*{alias}` expands beyond {limit} nodes (a YAML alias bomb?)")]
    AliasBudget { alias: String, limit: usize, at: Pos },
    #[error("more than {limit} YAML nodes in one file (aliases and merge keys counted at what they repeat)")]
    NodeBudget { limit: usize, at: Pos },
    #[error("nesting deeper than {limit} levels")]
    TooDeep { limit: usize, at: Pos },
    #[error("alias `*{alias}` refers to no anchor")]
    UnknownAlias { alias: String, at: Pos },
    /// go-yaml refuses a collection that contains itself.
    #[error("alias `*{alias}` is inside the collection it names, which would contain itself")]
    RecursiveAlias { alias: String, at: Pos },
    #[error("merge key `<<` needs a mapping or a list of mappings, found {found}")]
    BadMerge { found: &'static str, at: Pos },
}

impl YamlError {
    pub fn pos(&self) -> Pos {
        match self {
            YamlError::Syntax { at, .. }
            | YamlError::AliasBudget { at, .. }
            | YamlError::NodeBudget { at, .. }
            | YamlError::TooDeep { at, .. }
            | YamlError::UnknownAlias { at, .. }
            | YamlError::RecursiveAlias { at, .. }
            | YamlError::BadMerge { at, .. } => *at,
        }
    }
}

/// One document of a stream: its root (None for an empty document) and its span.
#[derive(Debug)]
pub struct Document {
    pub root: Option<Node>,
    pub span: Span,
}

/// What a file's text yields: the documents that parsed, and the errors met in between.
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<Document>,
    pub errors: Vec<YamlError>,
    /// Keys repeated in one mapping (kubectl rejects them), at the repeat.
    pub duplicate_keys: Vec<(Span, String)>,
    /// Whether some mapping key is itself a mapping or list: never so in a Kubernetes object, and
    /// the mark of a template directive such as `replicas: {{ .Values.replicas }}` that happens
    /// to parse.
    pub complex_keys: Option<Span>,
}

pub(crate) const MAX_DEPTH: usize = 256;
/// Aliases may add at most this many nodes beyond a fixed allowance per file: generous for
/// real manifests (anchors of a few dozen nodes reused a few times), fatal for a billion laughs.
const ALIAS_ALLOWANCE: usize = 100_000;
/// The most nodes one file may stand for (built, and those aliases and merge keys repeat): about
/// 100 MB of tree at most, so that no file takes more than a bounded share of memory and time.
/// Manifests are far below it: a node stands for 10 to 20 bytes of YAML, so this is a file of
/// 20 to 40 MB, without counting the collections that are never built (`SKIPPED_KEYS`).
pub(crate) const NODE_BUDGET: usize = 2_000_000;

/// How much of a stream to build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Detail {
    /// Leave out the collections kubereach never reads (`SKIPPED_KEYS`): what analysis uses.
    #[default]
    Analysis,
    /// Every node: for comparing what was read with another reader.
    Everything,
}

/// Parses every document of `text`, up to the first error.
///
/// Parsing stops at a syntax error, as `kubectl apply` does: it applies the documents before the
/// broken one and none after it, so those are what the cluster would run.
pub(crate) fn parse_stream(text: &str) -> Stream {
    parse_stream_with(text, Detail::Analysis)
}

/// [`parse_stream`], building as much as `detail` asks for.
pub fn parse_stream_with(text: &str, detail: Detail) -> Stream {
    parse_stream_limited(text, detail, NODE_BUDGET)
}

/// The text with every byte-order mark that starts a line removed. libyaml (and go-yaml) skip a
/// mark at column 0 wherever a token may start, which is where files joined with `cat` carry
/// them (`---` then `\u{feff}apiVersion: v1`); granit-parser reads such a mark as content, so it
/// is removed before parsing. The columns of the rest of such a line are then one less than in
/// the file, and a mark at the start of a line inside a block scalar (never seen in a manifest) is
/// dropped where libyaml would keep it.
fn without_line_start_boms(text: &str) -> Option<String> {
    // One scan for the mark's first byte (rare; a byte search is the fastest scan there is)
    // before looking for the mark at a line start.
    if !text.as_bytes().contains(&0xEF) || (!text.contains("\n\u{feff}") && !text.contains("\r\u{feff}")) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut previous = '\0';
    for c in text.chars() {
        if !(c == '\u{feff}' && matches!(previous, '\n' | '\r')) {
            out.push(c);
        }
        previous = c;
    }
    Some(out)
}

pub(crate) fn parse_stream_limited(text: &str, detail: Detail, node_budget: usize) -> Stream {
    let stripped = without_line_start_boms(text);
    let text = stripped.as_deref().unwrap_or(text);
    let mut stream = Stream::default();
    let mut b = Builder {
        stack: Vec::new(),
        items: Vec::new(),
        entries: Vec::new(),
        anchors: FxHashMap::default(),
        anchor_names: FxHashMap::default(),
        alias_budget: ALIAS_ALLOWANCE.saturating_add(text.len()),
        nodes: 0,
        node_budget,
        skip_unread: detail == Detail::Analysis,
        doc_start: Span::default(),
        root: None,
        duplicate_keys: Vec::new(),
        complex_keys: None,
        skip_depth: 0,
        skip_start: Span::default(),
        skipped_anchors: FxHashMap::default(),
        skip_counts: Vec::new(),
    };
    if let Err(err) = build_documents(text, &mut b, &mut stream.documents) {
        stream.errors.push(err);
    }
    stream.duplicate_keys = std::mem::take(&mut b.duplicate_keys);
    stream.complex_keys = b.complex_keys;
    stream
}

/// A collection being built; its items (entries) so far are those of `Builder::items`
/// (`Builder::entries`) from `first` on.
enum Frame {
    Seq {
        first: usize,
        start: Span,
        anchor: usize,
        /// Nodes below this one, aliases counted at what they stand for.
        count: usize,
    },
    Map {
        first: usize,
        pending_key: Option<Node>,
        start: Span,
        anchor: usize,
        count: usize,
        /// Whether some key is a merge key `<<`.
        merges: bool,
    },
}

struct Builder {
    stack: Vec<Frame>,
    /// The items of every open sequence, the innermost last, and the entries of every open
    /// mapping: one growing buffer each for the whole file, so that a finished collection costs
    /// one allocation of its exact size rather than a vector grown by doubling (and kept with its
    /// spare capacity).
    items: Vec<Node>,
    entries: Vec<(Node, Node)>,
    /// Anchors of the current document by id, with the number of nodes each stands for.
    anchors: FxHashMap<usize, (Node, usize)>,
    /// Anchor names by id, for messages.
    anchor_names: FxHashMap<usize, Box<str>>,
    alias_budget: usize,
    /// Nodes built or repeated so far in the file, against `node_budget`.
    nodes: usize,
    node_budget: usize,
    /// Whether the collections of `SKIPPED_KEYS` are left unbuilt.
    skip_unread: bool,
    doc_start: Span,
    root: Option<Node>,
    duplicate_keys: Vec<(Span, String)>,
    complex_keys: Option<Span>,
    /// Depth inside a skipped collection (0: not skipping).
    skip_depth: usize,
    /// Where the skipped collection started.
    skip_start: Span,
    /// Anchors defined inside skipped collections, with the number of nodes each stands for
    /// (an alias to one reads as null, but still costs its expansion against the alias budget,
    /// so that a bomb under a skipped key is reported like any other).
    skipped_anchors: FxHashMap<usize, usize>,
    /// Node counts of the open skipped collections, innermost last, with their anchors.
    skip_counts: Vec<(usize, usize)>,
}

/// Keys whose collection values kubereach never reads (container environment, probes, volumes,
/// ConfigMap data, status, …): their nodes are not built, which saves most of the allocation of a
/// typical manifest. Scalar values of these keys are kept (a label named `data` is a label), and
/// so is everything else; the parser still checks the skipped text's syntax.
/// The skipped keys whose values may name the Services a workload reaches (environment, command
/// lines, volumes of ConfigMaps, ConfigMap data): built after all when [`read_references`] asks.
const REFERENCE_KEYS: [&str; 6] = ["env", "envFrom", "volumes", "command", "args", "data"];

/// Whether [`REFERENCE_KEYS`] are built. A process-wide choice, made once by `kubereach suggest`
/// before it loads: every way the loader parses (files, renderings, revisions) goes through
/// [`parse_stream`], and other commands keep the smaller tree.
static READ_REFERENCES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Builds, from now on, the values that may name Services (see [`REFERENCE_KEYS`]).
pub fn read_references() {
    READ_REFERENCES.store(true, std::sync::atomic::Ordering::Relaxed);
}

const SKIPPED_KEYS: [&str; 19] = [
    "env",
    "envFrom",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "volumeMounts",
    "volumeDevices",
    "volumes",
    "command",
    "args",
    "lifecycle",
    "securityContext",
    "tolerations",
    "topologySpreadConstraints",
    "data",
    "stringData",
    "binaryData",
    "status",
    "managedFields",
];

/// Whether a key is go-yaml's merge key: `<<` written plain (a quoted `"<<"` is an ordinary key).
fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::Scalar(k) if k.plain && &*k.text == "<<")
}

/// Mappings up to this size look for repeated keys by comparing with each earlier key; larger
/// ones through a hash set, so that a mapping of 150,000 keys costs 150,000 lookups.
const LINEAR_KEY_CHECK: usize = 16;

impl Builder {
    fn add_skipped(&mut self, n: usize) {
        if let Some(top) = self.skip_counts.last_mut() {
            top.1 = top.1.saturating_add(n);
        }
    }

    /// Counts `n` more nodes against the file's budget.
    fn charge(&mut self, n: usize, at: Pos) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.node_budget {
            return Err(YamlError::NodeBudget { limit: self.node_budget, at });
        }
        Ok(())
    }

    /// Counts `n` repeated nodes (an alias, a merge) against the alias budget and the node budget.
    fn charge_alias(&mut self, id: usize, n: usize, at: Pos) -> Result<(), YamlError> {
        if n > self.alias_budget {
            let alias = self.anchor_names.get(&id).map_or_else(|| id.to_string(), |name| name.to_string());
            return Err(YamlError::AliasBudget { alias, limit: ALIAS_ALLOWANCE, at });
        }
        self.alias_budget -= n;
        self.charge(n, at)
    }

    /// Whether the collection starting now is the value of a skipped key.
    fn starts_skipped_value(&self) -> bool {
        if !self.skip_unread {
            return false;
        }
        match self.stack.last() {
            Some(Frame::Map { pending_key: Some(key), .. }) => {
                let references = READ_REFERENCES.load(std::sync::atomic::Ordering::Relaxed);
                matches!(&key.value, Value::Scalar(k) if SKIPPED_KEYS.contains(&&*k.text)
                    && !(references && REFERENCE_KEYS.contains(&&*k.text)))
            }
            _ => false,
        }
    }

    /// Adds a finished node, which stands for `count` nodes, to the collection being built.
    fn push_value(&mut self, node: Node, count: usize) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { count: total, .. }) => {
                self.items.push(node);
                *total = total.saturating_add(count);
            }
            Some(Frame::Map { pending_key, count: total, merges, .. }) => {
                *total = total.saturating_add(count);
                match pending_key.take() {
                    None => {
                        *merges |= is_merge_key(&node);
                        *pending_key = Some(node);
                    }
                    Some(key) => self.entries.push((key, node)),
                }
            }
        }
    }

    /// Records repeated keys, and keys that are themselves collections (at the mapping that holds
    /// them: for `replicas: {{ .Values.replicas }}`, the outer `{`), among the open entries from
    /// `first` on.
    fn check_keys(&mut self, first: usize, map_start: Span) {
        let entries = &self.entries[first..];
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        let hashed = entries.len() > LINEAR_KEY_CHECK;
        for (i, (key, _)) in entries.iter().enumerate() {
            match &key.value {
                // Merge keys may repeat: each one merges.
                Value::Scalar(_) if is_merge_key(key) => {}
                Value::Scalar(k) => {
                    let repeated = if hashed {
                        !seen.insert(&k.text)
                    } else {
                        entries[..i]
                            .iter()
                            .any(|(other, _)| matches!(&other.value, Value::Scalar(o) if o.text == k.text))
                    };
                    if repeated {
                        self.duplicate_keys.push((key.span, k.text.to_string()));
                    }
                }
                _ => {
                    self.complex_keys.get_or_insert(map_start);
                }
            }
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node, count: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), count));
        }
    }
}

/// The entries of a mapping with its merge keys applied, as go-yaml v2 applies them: entries in
/// the order written, each setting its key (a later one replaces an earlier one's value in
/// place), a merge key setting every key of its mapping, or of each mapping of its list from the
/// last to the first (so that the first one wins).
fn apply_merges(entries: &[(Node, Node)]) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut out: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
    let mut index: FxHashMap<Box<str>, usize> = FxHashMap::default();
    let mut set = |key: &Node, value: &Node, out: &mut Vec<(Node, Node)>| {
        if let Value::Scalar(k) = &key.value {
            if let Some(&i) = index.get(&k.text) {
                out[i].1 = value.clone();
                return;
            }
            index.insert(k.text.clone(), out.len());
        }
        out.push((key.clone(), value.clone()));
    };
    for (key, value) in entries {
        if !is_merge_key(key) {
            set(key, value, &mut out);
            continue;
        }
        let not_a_map = |n: &Node| YamlError::BadMerge { found: n.kind_name(), at: n.span.start };
        match &value.value {
            Value::Map(source) => source.iter().for_each(|(k, v)| set(k, v, &mut out)),
            Value::Seq(sources) => {
                if let Some(bad) = sources.iter().find(|s| s.as_map().is_none()) {
                    return Err(not_a_map(bad));
                }
                for source in sources.iter().rev() {
                    source.as_map().unwrap_or_default().iter().for_each(|(k, v)| set(k, v, &mut out));
                }
            }
            Value::Scalar(_) => return Err(not_a_map(value)),
        }
    }
    Ok(out)
}

fn libyaml_options() -> Options {
    let mut options = Options::default();
    // libyaml reads a byte-order mark inside a document as content, and a block scalar that ends
    // the file without a line break without adding one.
    options.bom_inside_document_as_content = true;
    options.block_scalar_eof_without_line_feed = true;
    // Nesting is bounded in the scanner, before any event.
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    // Names, for the messages about aliases.
    options.emit_anchor_events = true;
    options.emit_unresolved_aliases = true;
    options
}

/// The parser alone, as the loader runs it (same options, same text preparation), its events
/// consumed and dropped: how many there were, or `None` at a syntax error. For measuring what the
/// loader adds to the parser (the scale benchmark); analysis does not use it.
#[doc(hidden)]
pub fn parser_events(text: &str) -> Option<usize> {
    let stripped = without_line_start_boms(text);
    let text = stripped.as_deref().unwrap_or(text);
    let mut events = 0;
    for item in Parser::new_from_str_with_options(text, libyaml_options()) {
        std::hint::black_box(item.ok()?);
        events += 1;
    }
    Some(events)
}

fn build_documents(text: &str, b: &mut Builder, out: &mut Vec<Document>) -> Result<(), YamlError> {
    let parser = Parser::new_from_str_with_options(text, libyaml_options());
    let syntax = |e: granit_parser::ScanError| {
        let at = pos_from_marker(e.marker());
        let message = e.info();
        // The scanner bounds nesting itself; say it in the same words as the builder.
        if message.contains("recursion limit") || message.contains("nesting limit") {
            return YamlError::TooDeep { limit: MAX_DEPTH, at };
        }
        YamlError::Syntax { message, at }
    };
    for item in parser {
        let (event, pspan) = item.map_err(syntax)?;
        let span = span_from_parser(&pspan);
        match event {
            Event::StreamEnd => return Ok(()),
            Event::DocumentStart(..) => {
                b.doc_start = span;
                b.root = None;
                b.anchors.clear();
                b.anchor_names.clear();
            }
            Event::DocumentEnd => {
                let root = b.root.take();
                let doc_span = match &root {
                    Some(r) => b.doc_start.to(r.span),
                    None => b.doc_start,
                };
                out.push(Document { root, span: doc_span });
            }
            Event::Anchor(id, name) => {
                b.anchor_names.insert(id, name.into());
            }
            Event::UnresolvedAlias(name) => {
                return Err(YamlError::UnknownAlias { alias: name.into_owned(), at: span.start });
            }
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(_)
                if b.skip_depth > 0 =>
            {
                match event {
                    Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                        if b.stack.len() + b.skip_depth >= MAX_DEPTH {
                            return Err(YamlError::TooDeep { limit: MAX_DEPTH, at: span.start });
                        }
                        b.skip_depth += 1;
                        b.skip_counts.push((anchor, 0));
                    }
                    Event::Scalar(_, _, anchor, _) => {
                        if anchor != 0 {
                            b.skipped_anchors.insert(anchor, 1);
                        }
                        b.add_skipped(1);
                    }
                    Event::Alias(id) => {
                        let cost = match b.skipped_anchors.get(&id) {
                            Some(&cost) => cost,
                            None => b.anchors.get(&id).map_or(1, |(_, cost)| *cost),
                        };
                        b.charge_alias(id, cost, span.start)?;
                        b.add_skipped(cost);
                    }
                    _ => {}
                }
            }
            Event::SequenceEnd | Event::MappingEnd if b.skip_depth > 0 => {
                b.skip_depth -= 1;
                let (anchor, count) = b.skip_counts.pop().unwrap_or_default();
                if anchor != 0 {
                    b.skipped_anchors.insert(anchor, count.saturating_add(1));
                }
                b.add_skipped(count.saturating_add(1));
                if b.skip_depth == 0 {
                    let null = Scalar { text: "".into(), plain: true };
                    let start = b.skip_start;
                    b.charge(1, span.start)?;
                    b.push_value(Node { value: Value::Scalar(null), span: start.to(span) }, 1);
                }
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) if b.starts_skipped_value() => {
                b.skip_depth = 1;
                b.skip_start = span;
                b.skip_counts.push((anchor, 0));
            }
            Event::Scalar(text, style, anchor, tag) => {
                // An empty node (`a:`) arrives as a plain `~` with an empty span: kept as the
                // empty plain scalar it was written as.
                let empty = style == ScalarStyle::Plain && pspan.start.index() == pspan.end.index();
                let text: Box<str> = if empty { "".into() } else { text.into() };
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix() == "str");
                let plain = style == ScalarStyle::Plain && !tagged_str;
                b.charge(1, span.start)?;
                let node = Node { value: Value::Scalar(Scalar { text, plain }), span };
                b.remember(anchor, &node, 1);
                b.push_value(node, 1);
            }
            Event::SequenceStart(_, anchor, _) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(YamlError::TooDeep { limit: MAX_DEPTH, at: span.start });
                }
                b.charge(1, span.start)?;
                b.stack.push(Frame::Seq { first: b.items.len(), start: span, anchor, count: 0 });
            }
            Event::MappingStart(_, anchor, _) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(YamlError::TooDeep { limit: MAX_DEPTH, at: span.start });
                }
                b.charge(1, span.start)?;
                b.stack.push(Frame::Map {
                    first: b.entries.len(),
                    pending_key: None,
                    start: span,
                    anchor,
                    count: 0,
                    merges: false,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, count) = match b.stack.pop() {
                    Some(Frame::Seq { first, start, anchor, count }) => {
                        let first = first.min(b.items.len());
                        let end = b.items.last().filter(|_| b.items.len() > first).map_or(span, |n| n.span);
                        let items: Arc<[Node]> = b.items.drain(first..).collect();
                        let node = Node { value: Value::Seq(items), span: start.to(end) };
                        let count = count.saturating_add(1);
                        b.remember(anchor, &node, count);
                        (node, count)
                    }
                    Some(Frame::Map { first, start, anchor, count, merges, .. }) => {
                        let first = first.min(b.entries.len());
                        b.check_keys(first, start);
                        let end = b.entries.last().filter(|_| b.entries.len() > first).map_or(span, |(_, v)| v.span);
                        let count = count.saturating_add(1);
                        // What a merge key brings in was counted as its value (an alias charged
                        // at what it stands for): merged, it is still there once.
                        let entries: Arc<[(Node, Node)]> = if merges {
                            let merged = apply_merges(&b.entries[first..])?;
                            b.entries.truncate(first);
                            merged.into()
                        } else {
                            b.entries.drain(first..).collect()
                        };
                        let node = Node { value: Value::Map(entries), span: start.to(end) };
                        b.remember(anchor, &node, count);
                        (node, count)
                    }
                    None => continue,
                };
                b.push_value(node, count);
            }
            Event::Alias(id) => {
                let Some((target, cost)) = b.anchors.get(&id).map(|(n, c)| (n.clone(), *c)) else {
                    if let Some(&cost) = b.skipped_anchors.get(&id) {
                        b.charge_alias(id, cost, span.start)?;
                        let null = Scalar { text: "".into(), plain: true };
                        b.push_value(Node { value: Value::Scalar(null), span }, cost);
                        continue;
                    }
                    // The parser resolved the alias, so its anchor is defined: on a collection
                    // still open.
                    let alias = b.anchor_names.get(&id).map_or_else(|| id.to_string(), |n| n.to_string());
                    return Err(YamlError::RecursiveAlias { alias, at: span.start });
                };
                b.charge_alias(id, cost, span.start)?;
                let mut node = target;
                node.span = span;
                b.push_value(node, cost);
            }
            // StreamStart, and events that are opt-in (comments) or added in later versions.
            _ => {}
        }
    }
    Ok(())
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let s = parse_stream(text);
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        s.documents.into_iter().next().and_then(|d| d.root).unwrap()
    }

    #[test]
    fn keeps_line_and_column_of_values() {
        let n = one("a: 1\nb:\n  c: [x, \"y\"]\n");
        let (k, v) = n.get("b").unwrap().entry("c").unwrap();
        assert_eq!(k.span.start, Pos { line: 3, col: 3 });
        let items = v.as_seq().unwrap();
        assert_eq!(items[1].span.start, Pos { line: 3, col: 10 });
        assert!(!items[1].as_scalar().unwrap().plain);
    }

    #[test]
    fn nested_collections_keep_their_own_items_and_ends() {
        // Items of the open collections share the builder's buffers: each finished one takes
        // exactly its own, in order, however deep and whatever kinds are open around it.
        let n = one("a: [1, [2, 3], {b: [4], c: {}}, []]\nd: {e: 5}\nf:\n  - g: 6\n    h: [7]\n");
        let a = n.get("a").and_then(Node::as_seq).unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a[1].as_seq().map(<[Node]>::len), Some(2));
        assert_eq!(a[2].get("b").and_then(Node::as_seq).map(<[Node]>::len), Some(1));
        assert_eq!(a[2].get("c").and_then(Node::as_map).map(<[(Node, Node)]>::len), Some(0));
        assert_eq!(a[3].as_seq().map(<[Node]>::len), Some(0));
        assert_eq!(
            n.get("d").and_then(|d| d.get("e")).and_then(Node::as_scalar).map(Scalar::resolve),
            Some(Resolved::Int(5))
        );
        let f = n.get("f").and_then(Node::as_seq).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].as_map().map(<[(Node, Node)]>::len), Some(2));
        // A collection ends where its last item does; an empty one where it closes.
        assert_eq!(n.get("a").unwrap().span.end, Pos { line: 1, col: 35 });
        assert_eq!(a[3].span, Span { start: Pos { line: 1, col: 33 }, end: Pos { line: 1, col: 35 } });
        assert_eq!(n.as_map().map(<[(Node, Node)]>::len), Some(3));
        assert_eq!(parser_events("a: [1\n"), None);
        assert_eq!(parser_events("a: [1, 2]\n"), Some(11));
    }

    #[test]
    fn yaml_1_1_resolution_of_plain_scalars() {
        for (t, r) in [
            ("on", Resolved::Bool(true)),
            ("No", Resolved::Bool(false)),
            ("y", Resolved::Bool(true)),
            ("80", Resolved::Int(80)),
            ("0x1F", Resolved::Int(31)),
            ("010", Resolved::Int(8)),
            ("1_000", Resolved::Int(1000)),
            ("1.0", Resolved::Float),
            ("~", Resolved::Null),
            ("web", Resolved::Str("web")),
            ("1.2.3", Resolved::Str("1.2.3")),
            ("10.0.0.0/8", Resolved::Str("10.0.0.0/8")),
        ] {
            let s = Scalar { text: t.into(), plain: true };
            assert_eq!(s.resolve(), r, "{t}");
        }
        let quoted = Scalar { text: "on".into(), plain: false };
        assert_eq!(quoted.resolve(), Resolved::Str("on"));
    }

    #[test]
    fn documents_before_a_syntax_error_survive_with_the_error_located() {
        let text = "a: 1\n---\nb: 2\n---\nc: [unclosed\nd: 4\n---\ne: 5\n";
        let s = parse_stream(text);
        assert_eq!(s.errors.len(), 1);
        assert!(s.errors[0].pos().line >= 5, "{:?}", s.errors);
        let roots: Vec<_> = s.documents.iter().filter_map(|d| d.root.as_ref()).collect();
        assert_eq!(roots.len(), 2);
        assert!(roots[1].get("b").is_some());
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in "bcdefghijk".chars() {
            text.push_str(&format!(
                "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = name;
        }
        let s = parse_stream(&text);
        assert!(matches!(s.errors.first(), Some(YamlError::AliasBudget { .. })), "{:?}", s.errors);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        let s = parse_stream(&text);
        assert!(matches!(s.errors.first(), Some(YamlError::TooDeep { .. })), "{:?}", s.errors);
    }

    #[test]
    fn what_saphyr_refused_and_libyaml_reads_is_read() {
        // A quoted scalar continued at column 0, and a flow list closed left of its key.
        let n = one("a: 'one\ntwo'\nspec:\n  ports: [\n    x\n]\n");
        assert_eq!(n.get("a").and_then(Node::as_str), Some("one two"));
        assert_eq!(n.get("spec").and_then(|s| s.get("ports")).and_then(Node::as_seq).map(<[Node]>::len), Some(1));
    }

    #[test]
    fn empty_values_stay_empty_plain_scalars() {
        let n = one("a:\nb: [x, ]\n");
        let a = n.get("a").and_then(Node::as_scalar).unwrap();
        assert_eq!((&*a.text, a.plain), ("", true));
        assert!(n.get("a").unwrap().is_null());
    }

    #[test]
    fn a_block_scalar_at_the_end_of_the_file_gets_no_line_feed() {
        assert_eq!(one("a: |\n  x").get("a").and_then(Node::as_str), Some("x"));
    }

    #[test]
    fn aliases_share_the_anchored_subtree() {
        let n = one("base: &l [1, 2, 3]\nother: *l\n");
        let (Some(Value::Seq(a)), Some(Value::Seq(b))) =
            (n.get("base").map(|v| &v.value), n.get("other").map(|v| &v.value))
        else {
            panic!("not lists");
        };
        assert!(Arc::ptr_eq(a, b));
    }

    #[test]
    fn alias_messages_name_the_anchor() {
        let s = parse_stream("a: *base\n");
        assert_eq!(s.errors.first().map(ToString::to_string).as_deref(), Some("alias `*base` refers to no anchor"));
        let mut text = String::from("a: &base [x, x, x, x, x, x, x, x, x, x]\nb: [");
        text.push_str(&vec!["*base"; 40_000].join(", "));
        text.push_str("]\n");
        let s = parse_stream(&text);
        match s.errors.first() {
            Some(e @ YamlError::AliasBudget { at, .. }) => {
                assert!(e.to_string().contains("`*base`"), "{e}");
                assert_eq!(at.line, 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_collection_that_contains_itself_is_refused_at_the_alias() {
        let s = parse_stream("a: &r [1, *r]\n");
        assert!(
            matches!(s.errors.first(), Some(YamlError::RecursiveAlias { alias, at: Pos { line: 1, col: 11 } }) if alias == "r"),
            "{:?}",
            s.errors
        );
    }

    #[test]
    fn repeated_keys_are_found_in_small_and_large_mappings() {
        let s = parse_stream("a: 1\nb: 2\na: 3\n");
        assert_eq!(
            s.duplicate_keys,
            vec![(Span { start: Pos { line: 3, col: 1 }, end: Pos { line: 3, col: 2 } }, "a".into())]
        );
        let mut text: String = (0..1000).map(|i| format!("k{i}: v\n")).collect();
        text.push_str("k500: again\n");
        let s = parse_stream(&text);
        assert_eq!(s.duplicate_keys.len(), 1);
        assert_eq!(s.duplicate_keys[0].0.start.line, 1001);
        // Merge keys may repeat.
        assert!(parse_stream("a: &a {x: 1}\nb: &b {y: 1}\nc:\n  <<: *a\n  <<: *b\n").duplicate_keys.is_empty());
    }

    #[test]
    fn merge_keys_apply_in_order_and_the_first_map_of_a_list_wins() {
        let n = one("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\nd:\n  x: 0\n  <<: *a\n");
        let c = n.get("c").unwrap();
        let texts = |m: &Node| -> Vec<(String, String)> {
            m.as_map()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_scalar().unwrap().text.to_string(), v.as_scalar().unwrap().text.to_string()))
                .collect()
        };
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect()
        };
        assert_eq!(texts(c), pairs(&[("y", "1"), ("z", "3"), ("x", "1")]));
        // go-yaml v2: a key before the merge is replaced by the merged value.
        assert_eq!(texts(n.get("d").unwrap()), pairs(&[("x", "1"), ("y", "1")]));
        // Merged entries keep the spans of where they are written.
        assert_eq!(c.entry("x").unwrap().0.span.start.line, 1);
        // A quoted `<<` is an ordinary key.
        assert!(one("a: &a {x: 1}\nc:\n  '<<': *a\n").get("c").unwrap().get("<<").is_some());
    }

    #[test]
    fn a_merge_of_something_else_than_mappings_is_an_error_at_it() {
        let s = parse_stream("a: &a 1\nc:\n  <<: *a\n");
        assert!(
            matches!(s.errors.first(), Some(YamlError::BadMerge { at: Pos { line: 3, .. }, .. })),
            "{:?}",
            s.errors
        );
    }

    #[test]
    fn the_node_budget_refuses_the_file_where_it_runs_out() {
        let s = parse_stream_limited("a: [1, 2, 3]\nb: [4, 5, 6]\n", Detail::Analysis, 6);
        assert!(
            matches!(s.errors.first(), Some(YamlError::NodeBudget { limit: 6, at: Pos { line: 2, col: 1 } })),
            "{:?}",
            s.errors
        );
        // Aliases count what they stand for.
        let s = parse_stream_limited("a: &l [1, 2, 3]\nb: *l\n", Detail::Analysis, 8);
        assert!(
            matches!(s.errors.first(), Some(YamlError::NodeBudget { at: Pos { line: 2, .. }, .. })),
            "{:?}",
            s.errors
        );
    }

    #[test]
    fn a_byte_order_mark_at_a_line_start_is_skipped_as_libyaml_skips_it() {
        let s = parse_stream("a: 1\n---\n\u{feff}b: 2\n");
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        assert!(s.documents[1].root.as_ref().unwrap().get("b").is_some());
    }

    #[test]
    fn skipped_collections_are_kept_when_everything_is_asked_for() {
        let text = "env: [{name: a}]\n";
        assert!(parse_stream(text).documents[0].root.as_ref().unwrap().get("env").unwrap().is_null());
        let all = parse_stream_with(text, Detail::Everything);
        assert!(all.documents[0].root.as_ref().unwrap().get("env").unwrap().as_seq().is_some());
    }

    #[test]
    fn aliases_resolve_to_a_copy_located_at_the_alias() {
        let n = one("base: &l {app: web}\nother: *l\n");
        let other = n.get("other").unwrap();
        assert_eq!(other.get("app").unwrap().as_str(), Some("web"));
        assert_eq!(other.span.start.line, 2);
    }
}

//! Span-keeping YAML documents.
//!
//! Builds a small tree from saphyr's event parser so that every node keeps its line and column.
//! Written by hand (rather than using a YAML value crate) for three reasons: kubereach needs spans
//! on every node, it needs to know whether a scalar was plain (YAML 1.1 resolution is decided per
//! field by the model, as kubectl does), and it must bound what hostile input can cost: aliases
//! are expanded against a budget and nesting has a depth limit, so an alias bomb or a file of ten
//! thousand `[` is a located error, not an out-of-memory or a stack overflow.
//!
//! A syntax error ends the parse of the file: documents completed before it are kept.

use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as ParserSpan};

use crate::span::{Pos, Span};

fn span_from_parser(span: ParserSpan) -> Span {
    let conv = |m: saphyr_parser::Marker| Pos { line: clamp_u32(m.line()), col: clamp_u32(m.col()).saturating_add(1) };
    Span { start: conv(span.start), end: conv(span.end) }
}

fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A scalar's text and whether it was written plain (unquoted, untagged), which is what decides
/// whether YAML 1.1 may read it as a boolean or a number.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub plain: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
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
    pub(crate) fn resolve(&self) -> Resolved<'_> {
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
    #[error("alias expansion exceeds {limit} nodes (a YAML alias bomb?)")]
    AliasBudget { limit: usize, at: Pos },
    #[error("nesting deeper than {limit} levels")]
    TooDeep { limit: usize, at: Pos },
    #[error("alias `*{id}` refers to no anchor")]
    UnknownAlias { id: usize, at: Pos },
}

impl YamlError {
    pub(crate) fn pos(&self) -> Pos {
        match self {
            YamlError::Syntax { at, .. }
            | YamlError::AliasBudget { at, .. }
            | YamlError::TooDeep { at, .. }
            | YamlError::UnknownAlias { at, .. } => *at,
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

/// Parses every document of `text`, up to the first error.
///
/// Parsing stops at a syntax error, as `kubectl apply` does: it applies the documents before the
/// broken one and none after it, so those are what the cluster would run.
pub(crate) fn parse_stream(text: &str) -> Stream {
    let mut stream = Stream::default();
    if let Err(err) = parse_from(text, &mut stream) {
        stream.errors.push(err);
    }
    stream
}

enum Frame {
    Seq { items: Vec<Node>, start: Span, anchor: usize },
    Map { entries: Vec<(Node, Node)>, pending_key: Option<Node>, start: Span, anchor: usize },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node)>,
    alias_budget: usize,
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
    skipped_anchors: Vec<(usize, usize)>,
    /// Node counts of the open skipped collections, innermost last, with their anchors.
    skip_counts: Vec<(usize, usize)>,
}

/// Keys whose collection values kubereach never reads (container environment, probes, volumes,
/// ConfigMap data, status, …): their nodes are not built, which saves most of the allocation of a
/// typical manifest. Scalar values of these keys are kept (a label named `data` is a label), and
/// so is everything else; the parser still checks the skipped text's syntax.
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

impl Builder {
    fn add_skipped(&mut self, n: usize) {
        if let Some(top) = self.skip_counts.last_mut() {
            top.1 = top.1.saturating_add(n);
        }
    }

    /// Whether the collection starting now is the value of a skipped key.
    fn starts_skipped_value(&self) -> bool {
        match self.stack.last() {
            Some(Frame::Map { pending_key: Some(key), .. }) => {
                matches!(&key.value, Value::Scalar(k) if SKIPPED_KEYS.contains(&&*k.text))
            }
            _ => false,
        }
    }

    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, pending_key, .. }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }

    /// Records repeated keys, and keys that are themselves collections (at the mapping that holds
    /// them: for `replicas: {{ .Values.replicas }}`, the outer `{`).
    fn check_keys(&mut self, entries: &[(Node, Node)], map_start: Span) {
        for (i, (key, _)) in entries.iter().enumerate() {
            match &key.value {
                Value::Scalar(k) => {
                    if entries[..i]
                        .iter()
                        .any(|(other, _)| matches!(&other.value, Value::Scalar(o) if o.text == k.text))
                    {
                        self.duplicate_keys.push((key.span, k.text.to_string()));
                    }
                }
                _ => {
                    self.complex_keys.get_or_insert(map_start);
                }
            }
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    let mut count = 0;
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        count += 1;
        match &n.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => todo.extend(items.iter()),
            Value::Map(entries) => {
                for (k, v) in entries {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
    count
}

fn parse_from(text: &str, stream: &mut Stream) -> Result<(), YamlError> {
    let mut b = Builder {
        stack: Vec::new(),
        anchors: Vec::new(),
        alias_budget: ALIAS_ALLOWANCE + text.len(),
        doc_start: Span::default(),
        root: None,
        duplicate_keys: Vec::new(),
        complex_keys: None,
        skip_depth: 0,
        skip_start: Span::default(),
        skipped_anchors: Vec::new(),
        skip_counts: Vec::new(),
    };
    let result = build_documents(text, &mut b, &mut stream.documents);
    stream.duplicate_keys = std::mem::take(&mut b.duplicate_keys);
    stream.complex_keys = b.complex_keys;
    result
}

fn build_documents(text: &str, b: &mut Builder, out: &mut Vec<Document>) -> Result<(), YamlError> {
    let mut parser = Parser::new_from_str(text);
    let syntax = |e: saphyr_parser::ScanError| {
        let at = Pos { line: clamp_u32(e.marker().line()), col: clamp_u32(e.marker().col()).saturating_add(1) };
        // The scanner bounds flow nesting itself; say it in the same words as block nesting.
        if e.info().contains("recursion limit") {
            return YamlError::TooDeep { limit: MAX_DEPTH, at };
        }
        YamlError::Syntax { message: e.info().to_string(), at }
    };
    for item in &mut parser {
        let (event, pspan) = item.map_err(syntax)?;
        let span = span_from_parser(pspan);
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => return Ok(()),
            Event::DocumentStart(_) => {
                b.doc_start = span;
                b.root = None;
                b.anchors.clear();
            }
            Event::DocumentEnd => {
                let root = b.root.take();
                let doc_span = match &root {
                    Some(r) => b.doc_start.to(r.span),
                    None => b.doc_start,
                };
                out.push(Document { root, span: doc_span });
            }
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(_)
                if b.skip_depth > 0 =>
            {
                match event {
                    Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                        if b.stack.len() + b.skip_depth >= MAX_DEPTH {
                            return Err(YamlError::TooDeep { limit: MAX_DEPTH, at: span.start });
                        }
                        b.skip_depth += 1;
                        b.skip_counts.push((anchor, 0));
                    }
                    Event::Scalar(_, _, anchor, _) => {
                        if anchor != 0 {
                            b.skipped_anchors.push((anchor, 1));
                        }
                        b.add_skipped(1);
                    }
                    Event::Alias(id) => {
                        let cost = b.skipped_anchors.iter().rev().find(|(a, _)| *a == id).map_or(1, |(_, c)| *c);
                        if cost > b.alias_budget {
                            return Err(YamlError::AliasBudget { limit: ALIAS_ALLOWANCE, at: span.start });
                        }
                        b.alias_budget -= cost;
                        b.add_skipped(cost);
                    }
                    _ => {}
                }
            }
            Event::SequenceEnd | Event::MappingEnd if b.skip_depth > 0 => {
                b.skip_depth -= 1;
                let (anchor, count) = b.skip_counts.pop().unwrap_or_default();
                if anchor != 0 {
                    b.skipped_anchors.push((anchor, count + 1));
                }
                b.add_skipped(count + 1);
                if b.skip_depth == 0 {
                    let null = Scalar { text: "".into(), plain: true };
                    let start = b.skip_start;
                    b.push_value(Node { value: Value::Scalar(null), span: start.to(span) });
                }
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if b.starts_skipped_value() => {
                b.skip_depth = 1;
                b.skip_start = span;
                b.skip_counts.push((anchor, 0));
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let plain = style == ScalarStyle::Plain && !tagged_str;
                let node = Node { value: Value::Scalar(Scalar { text: text.into_owned(), plain }), span };
                b.remember(anchor, &node);
                b.push_value(node);
            }
            Event::SequenceStart(anchor, _) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(YamlError::TooDeep { limit: MAX_DEPTH, at: span.start });
                }
                b.stack.push(Frame::Seq { items: Vec::new(), start: span, anchor });
            }
            Event::MappingStart(anchor, _) => {
                if b.stack.len() >= MAX_DEPTH {
                    return Err(YamlError::TooDeep { limit: MAX_DEPTH, at: span.start });
                }
                b.stack.push(Frame::Map { entries: Vec::new(), pending_key: None, start: span, anchor });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match b.stack.pop() {
                    Some(Frame::Seq { items, start, anchor }) => {
                        let end = items.last().map_or(span, |n| n.span);
                        let node = Node { value: Value::Seq(items), span: start.to(end) };
                        b.remember(anchor, &node);
                        node
                    }
                    Some(Frame::Map { entries, start, anchor, .. }) => {
                        b.check_keys(&entries, start);
                        let end = entries.last().map_or(span, |(_, v)| v.span);
                        let node = Node { value: Value::Map(entries), span: start.to(end) };
                        b.remember(anchor, &node);
                        node
                    }
                    None => continue,
                };
                b.push_value(node);
            }
            Event::Alias(id) => {
                let Some(target) = b.anchors.iter().rev().find(|(a, _)| *a == id).map(|(_, n)| n) else {
                    if b.skipped_anchors.iter().any(|(a, _)| *a == id) {
                        b.push_value(Node { value: Value::Scalar(Scalar { text: "".into(), plain: true }), span });
                        continue;
                    }
                    return Err(YamlError::UnknownAlias { id, at: span.start });
                };
                let cost = count_nodes(target);
                if cost > b.alias_budget {
                    return Err(YamlError::AliasBudget { limit: ALIAS_ALLOWANCE, at: span.start });
                }
                b.alias_budget -= cost;
                let mut node = target.clone();
                node.span = span;
                b.push_value(node);
            }
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
    fn aliases_resolve_to_a_copy_located_at_the_alias() {
        let n = one("base: &l {app: web}\nother: *l\n");
        let other = n.get("other").unwrap();
        assert_eq!(other.get("app").unwrap().as_str(), Some("web"));
        assert_eq!(other.span.start.line, 2);
    }
}

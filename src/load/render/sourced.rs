//! Streams whose documents name their template in a `# Source:` comment (what `helm template`
//! prints, and what users pipe into `kubereach check -`), mapped back to the templates.
//!
//! helm prints `---` and `# Source: <chart>/templates/<file>` before each document it rendered.
//! This module finds that comment for every document, asks the caller to resolve the path to a
//! file of the repository, and maps each node of the document to the template line that produced
//! it. A template is not YAML (its directives may break the syntax, and `include … | nindent` may
//! splice whole blocks in), so the template's *text* is searched: the keys of each line and their
//! indentation give a nesting of keys and list items, and a rendered field is looked up along its
//! path in that nesting. A field the template does not spell out (it came from values through
//! `toYaml`, or from a named template) maps to the closest ancestor that it does spell out, and
//! the document itself to the first line of its part of the template.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::{Rendered, SpanMap};
use crate::load::yaml::{self, Node, Value};
use crate::span::{Pos, Span};

/// The comment helm prints before each rendered document.
const SOURCE_PREFIX: &str = "# Source: ";

/// Parses `text` and maps every document that carries a resolvable `# Source:` comment to its
/// template. `resolve` turns the comment's path (`chart/templates/x.yaml`) into a file of the
/// repository, or `None`; documents without a resolvable source get no entry in the map (they
/// are then located in the stream itself).
pub fn map_sourced(text: String, resolve: &dyn Fn(&str) -> Option<PathBuf>) -> Rendered {
    let stream = yaml::parse_stream(&text);
    let sources = source_comments(&text);
    let mut map = SpanMap::default();
    let mut read = std::collections::BTreeSet::new();
    // Templates read so far, by their resolved path: `None` when the file cannot be read.
    let mut templates: HashMap<PathBuf, Option<Template>> = HashMap::new();
    // How many documents of each template (and of each kind in it) were met so far.
    let mut seen: HashMap<(PathBuf, Option<String>), usize> = HashMap::new();
    let mut resolved: HashMap<String, Option<PathBuf>> = HashMap::new();
    let mut previous_start = 0u32;
    for document in &stream.documents {
        let Some(root) = &document.root else { continue };
        let start = root.span.start.line;
        // The last comment after the previous document's first line and before this one's (a
        // document without a comment must not inherit the previous one's).
        let after = previous_start.saturating_add(1).min(start);
        let source = sources.range(after..start).next_back().map(|(_, path)| path.as_str());
        previous_start = start;
        let Some(source) = source else { continue };
        let path = resolved.entry(source.to_string()).or_insert_with(|| resolve(source)).clone();
        let Some(path) = path else { continue };
        let template = templates.entry(path.clone()).or_insert_with(|| Template::read(&path));
        let Some(template) = template else { continue };
        read.insert(path.clone());
        let kind = root.get("kind").and_then(Node::as_str).map(str::to_string);
        let part = template.part_for(kind.as_deref(), &mut seen, &path);
        let Some(part) = template.parts.get(part) else { continue };
        let spot = part.first.unwrap_or(Span { start: Pos { line: 1, col: 1 }, end: Pos { line: 1, col: 1 } });
        map_node(root, &part.entries, Some((0, part.entries.len())), spot, &path, &mut map);
    }
    map.finish();
    Rendered { text, stream, map, read }
}

/// The resolver for `text`, a stream read from standard input: a `# Source:` path names a file
/// relative to the working directory (`helm template ./deploy/chart` prints the chart's name
/// first, which is also its folder's when the command ran from the chart's parent), else a file
/// of a chart below the working directory whose `Chart.yaml` gives that name. When several charts
/// have that name (copies, test fixtures), the one that holds the most of the stream's sources is
/// taken, so that one stream maps into one chart. Charts are looked for only when needed.
pub fn working_directory_resolver(text: &str) -> impl Fn(&str) -> Option<PathBuf> {
    let sources: Vec<String> = source_comments(text).into_values().collect();
    let charts: std::sync::OnceLock<HashMap<String, PathBuf>> = std::sync::OnceLock::new();
    move |source: &str| {
        let direct = Path::new(source);
        let climbs = direct.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if !climbs && direct.is_file() {
            return Some(direct.to_path_buf());
        }
        let first = source.split('/').next()?;
        let chart = charts.get_or_init(|| best_charts(&sources)).get(first)?;
        resolve_source(chart, Some(first), source)
    }
}

/// For each chart name, the chart below the working directory with that name that holds the
/// most of `sources` (the first in path order on a tie).
fn best_charts(sources: &[String]) -> HashMap<String, PathBuf> {
    let mut best: HashMap<String, (usize, PathBuf)> = HashMap::new();
    for (name, dir) in charts_below_working_directory() {
        let held = sources.iter().filter(|s| resolve_source(&dir, Some(&name), s).is_some()).count();
        match best.get(&name) {
            Some((most, _)) if *most >= held => {}
            _ => {
                best.insert(name, (held, dir));
            }
        }
    }
    best.into_iter().map(|(name, (_, dir))| (name, dir)).collect()
}

/// The file of `chart` that a `# Source:` path names: `<name>/templates/x.yaml` is
/// `chart/templates/x.yaml`, `<name>/charts/<sub>/templates/x.yaml` a subchart's template.
pub(crate) fn resolve_source(chart: &Path, name: Option<&str>, source: &str) -> Option<PathBuf> {
    let (first, rest) = source.split_once('/')?;
    if name.is_some_and(|n| n != first) {
        return None;
    }
    let path = chart.join(rest);
    // A path that climbs out of the chart is none of its files.
    let climbs = Path::new(rest).components().any(|c| matches!(c, std::path::Component::ParentDir));
    (!climbs && path.is_file()).then_some(path)
}

/// The chart's name, as its `Chart.yaml` gives it (what `# Source:` paths start with).
pub(crate) fn chart_name(chart: &Path) -> Option<String> {
    chart_field(chart, "name")
}

/// A top-level string field of the chart's `Chart.yaml`.
pub(crate) fn chart_field(chart: &Path, field: &str) -> Option<String> {
    let bytes = std::fs::read(chart.join("Chart.yaml")).ok()?;
    let text = crate::load::decode(bytes).ok()?;
    let stream = yaml::parse_stream(&text);
    let root = stream.documents.first()?.root.as_ref()?;
    root.get(field).and_then(Node::as_str).map(str::to_string)
}

/// How deep below the working directory charts are looked for.
const CHART_SEARCH_DEPTH: usize = 8;

/// Every chart below the working directory (`.gitignore` respected), with its name.
fn charts_below_working_directory() -> Vec<(String, PathBuf)> {
    let mut charts = Vec::new();
    let walk = ignore::WalkBuilder::new(".").max_depth(Some(CHART_SEARCH_DEPTH)).require_git(false).build();
    for entry in walk.flatten() {
        if entry.file_name() != "Chart.yaml" || !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(dir) = entry.path().parent() else { continue };
        let dir = dir.strip_prefix(".").unwrap_or(dir).to_path_buf();
        if let Some(name) = chart_name(&dir) {
            charts.push((name, dir));
        }
    }
    charts.sort();
    charts
}

/// A copy of `node` whose spans are those of the source it maps to (its own entry, else the
/// closest one around it, else `fallback`): a document of the stream read as if it were written
/// in its template.
pub fn remapped(node: &Node, map: &SpanMap, fallback: Span) -> Node {
    let span = map.resolve(node.span).map_or(fallback, |(_, span)| span);
    let value = match &node.value {
        Value::Scalar(s) => Value::Scalar(s.clone()),
        Value::Seq(items) => Value::Seq(items.iter().map(|i| remapped(i, map, span)).collect()),
        Value::Map(pairs) => {
            Value::Map(pairs.iter().map(|(k, v)| (remapped(k, map, span), remapped(v, map, span))).collect())
        }
    };
    Node { value, span }
}

/// Every `# Source:` comment of the text, by line, with the path it names.
fn source_comments(text: &str) -> BTreeMap<u32, String> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let path = line.trim_end().strip_prefix(SOURCE_PREFIX)?.trim();
            let line = u32::try_from(i + 1).ok()?;
            (!path.is_empty()).then(|| (line, path.to_string()))
        })
        .collect()
}

/// What one line of a template holds at one column: a list item's dash, a key, or anything else.
#[derive(Debug, Clone)]
struct Entry {
    /// The 1-based character column where the dash or key starts.
    col: u32,
    kind: EntryKind,
}

#[derive(Debug, Clone)]
enum EntryKind {
    /// `- `: the span of what follows the dash on its line (the item's own text), if anything.
    Dash(Option<Span>),
    /// `key:`: the key's span and the span of the value written on the same line, if any.
    Key { name: String, key: Span, value: Option<Span> },
    /// Other content (a scalar continued on its own line, a block scalar's text, a flow
    /// collection): it only ends blocks.
    Other,
}

/// One `---`-separated part of a template.
#[derive(Debug, Default)]
struct Part {
    entries: Vec<Entry>,
    /// The first line of content (what a document maps to when nothing closer is found).
    first: Option<Span>,
    /// The kinds (`kind: X` at the part's top level) the part declares.
    kinds: Vec<String>,
}

#[derive(Debug)]
struct Template {
    parts: Vec<Part>,
}

impl Template {
    fn read(path: &Path) -> Option<Template> {
        let bytes = std::fs::read(path).ok()?;
        let text = crate::load::decode(bytes).ok()?;
        Some(Template::parse(&text))
    }

    fn parse(text: &str) -> Template {
        let mut parts = vec![Part::default()];
        for (i, raw) in text.lines().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let raw = raw.trim_end();
            if raw == "---" || raw.starts_with("--- ") {
                parts.push(Part::default());
                continue;
            }
            let Some(part) = parts.last_mut() else { continue };
            let entries = line_entries(raw, line);
            if part.first.is_none() {
                if let Some(first) = entries.first() {
                    part.first = Some(rest_of_line(raw, line, first.col));
                }
            }
            for entry in &entries {
                if let EntryKind::Key { name, value: Some(value), .. } = &entry.kind {
                    if entry.col == 1 && name == "kind" {
                        part.kinds.push(slice_cols(raw, value.start.col, value.end.col).to_string());
                    }
                }
            }
            part.entries.extend(entries);
        }
        // Parts with nothing in them (a leading `---`, a part that is all directives) are not
        // documents of the output.
        parts.retain(|p| p.first.is_some());
        Template { parts }
    }

    /// Which part the next rendered document of `kind` from this template comes from: the n-th
    /// part that declares that kind (helm sorts a template's documents by kind, so counting per
    /// kind survives the reordering), else the n-th part, the last one past the end.
    fn part_for(&self, kind: Option<&str>, seen: &mut HashMap<(PathBuf, Option<String>), usize>, path: &Path) -> usize {
        let last = self.parts.len().saturating_sub(1);
        let overall = seen.entry((path.to_path_buf(), None)).or_default();
        let nth = *overall;
        *overall += 1;
        if let Some(kind) = kind {
            let declaring: Vec<usize> =
                (0..self.parts.len()).filter(|i| self.parts[*i].kinds.iter().any(|k| k == kind)).collect();
            let counter = seen.entry((path.to_path_buf(), Some(kind.to_string()))).or_default();
            let nth_of_kind = *counter;
            *counter += 1;
            if let Some(last_declaring) = declaring.last() {
                return declaring.get(nth_of_kind).copied().unwrap_or(*last_declaring);
            }
        }
        nth.min(last)
    }
}

/// The part of `line` from character column `from` (1-based) to its end.
fn slice_cols(line: &str, from: u32, to: u32) -> &str {
    let mut chars = line.char_indices().map(|(i, _)| i).chain(std::iter::once(line.len()));
    let start = chars.clone().nth(from.saturating_sub(1) as usize).unwrap_or(line.len());
    let end = chars.nth(to.saturating_sub(1) as usize).unwrap_or(line.len());
    line.get(start..end.max(start)).unwrap_or("")
}

/// The span from column `col` to the end of the (trimmed) line.
fn rest_of_line(raw: &str, line: u32, col: u32) -> Span {
    let end = u32::try_from(raw.chars().count()).unwrap_or(u32::MAX) + 1;
    Span { start: Pos { line, col }, end: Pos { line, col: end.max(col) } }
}

/// The dashes and the key of one template line. Lines that hold only a template directive
/// (`{{- if … }}`, `{{- include … | nindent 4 }}`), comments and blank lines hold nothing.
fn line_entries(raw: &str, line: u32) -> Vec<Entry> {
    let trimmed = raw.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') || (trimmed.starts_with("{{") && trimmed.ends_with("}}")) {
        return Vec::new();
    }
    let chars: Vec<char> = raw.chars().collect();
    let width = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let end = width(chars.len()) + 1;
    let mut entries = Vec::new();
    let mut at = chars.len() - trimmed.chars().count();
    // Dashes of list items, possibly several on one line (`- - a`).
    while chars.get(at) == Some(&'-') && chars.get(at + 1).is_none_or(|c| *c == ' ') {
        let mut next = at + 1;
        while chars.get(next) == Some(&' ') {
            next += 1;
        }
        let rest = (next < chars.len())
            .then(|| Span { start: Pos { line, col: width(next) + 1 }, end: Pos { line, col: end } });
        entries.push(Entry { col: width(at) + 1, kind: EntryKind::Dash(rest) });
        at = next;
    }
    if at >= chars.len() {
        return entries;
    }
    let rest: String = chars[at..].iter().collect();
    match key_of(&rest) {
        Some((name, key_len, value_offset)) => {
            let key = Span { start: Pos { line, col: width(at) + 1 }, end: Pos { line, col: width(at + key_len) + 1 } };
            let value =
                value_offset.map(|o| Span { start: Pos { line, col: width(at + o) + 1 }, end: Pos { line, col: end } });
            entries.push(Entry { col: width(at) + 1, kind: EntryKind::Key { name, key, value } });
        }
        None => entries.push(Entry { col: width(at) + 1, kind: EntryKind::Other }),
    }
    entries
}

/// A `key:` at the start of `rest`: the key's text, its length in characters, and where the
/// value written after it starts (in characters), if there is one. Quoted keys are unquoted;
/// a key made by a directive (`{{ .Values.k }}: v`) is no key this search can follow.
fn key_of(rest: &str) -> Option<(String, usize, Option<usize>)> {
    let chars: Vec<char> = rest.chars().collect();
    let (name, colon) = match chars.first() {
        Some(q @ ('"' | '\'')) => {
            let close = chars.iter().skip(1).position(|c| c == q)? + 1;
            (chars[1..close].iter().collect::<String>(), close + 1)
        }
        Some('{' | '[' | '&' | '*' | '!' | '|' | '>') => return None,
        _ => {
            let colon = (0..chars.len())
                .find(|i| chars[*i] == ':' && chars.get(i + 1).is_none_or(|c| *c == ' ' || *c == '\t'))?;
            (chars[..colon].iter().collect::<String>().trim_end().to_string(), colon)
        }
    };
    if chars.get(colon) != Some(&':') || name.contains("{{") || name.is_empty() {
        return None;
    }
    let mut value = colon + 1;
    while chars.get(value).is_some_and(|c| *c == ' ' || *c == '\t') {
        value += 1;
    }
    let value = (value < chars.len() && chars[value] != '#').then_some(value);
    Some((name, colon, value))
}

/// Maps `node` (found in the template at `spot`) and everything under it. `range` is the slice of
/// `entries` that holds the node's content in the template; `None` when the template does not
/// spell it out, and everything below then maps to `spot`.
fn map_node(node: &Node, entries: &[Entry], range: Option<(usize, usize)>, spot: Span, file: &Path, map: &mut SpanMap) {
    map.push(node.span, file, spot);
    match &node.value {
        Value::Scalar(_) => {}
        Value::Map(pairs) => {
            let keys = range.map(|range| keys_in(entries, range)).unwrap_or_default();
            for (key, value) in pairs.iter() {
                let found = key.as_scalar().and_then(|name| keys.get(&*name.text).copied());
                match found.and_then(|i| Some((i, entries.get(i)?))) {
                    Some((i, Entry { kind: EntryKind::Key { key: key_span, value: value_span, .. }, .. })) => {
                        map.push(key.span, file, *key_span);
                        let value_spot = value_span.unwrap_or(*key_span);
                        map_node(
                            value,
                            entries,
                            Some(block_of(entries, i, range.map_or(entries.len(), |r| r.1))),
                            value_spot,
                            file,
                            map,
                        );
                    }
                    _ => {
                        map.push(key.span, file, spot);
                        map_node(value, entries, None, spot, file, map);
                    }
                }
            }
        }
        Value::Seq(items) => {
            let dashes: Vec<usize> = match range {
                Some(range) => dashes_in(entries, range),
                None => Vec::new(),
            };
            for (n, item) in items.iter().enumerate() {
                // An item beyond the template's dashes comes from a loop (`range`) over its last one.
                match n.min(dashes.len().saturating_sub(1)) {
                    d if d < dashes.len() => {
                        let i = dashes[d];
                        let item_spot = match entries.get(i).map(|e| &e.kind) {
                            Some(EntryKind::Dash(Some(rest))) => *rest,
                            _ => spot,
                        };
                        let (_, end) = range.unwrap_or((i, entries.len()));
                        let block = item_block(entries, i, end);
                        map_node(item, entries, Some(block), item_spot, file, map);
                    }
                    _ => map_node(item, entries, None, spot, file, map),
                }
            }
        }
    }
}

/// The keys at the shallowest column of `range` that holds a key, by name (the first of a name
/// that the template repeats, in two branches of an `if`, say), each found once per mapping
/// rather than once per rendered key.
fn keys_in(entries: &[Entry], (start, end): (usize, usize)) -> HashMap<&str, usize> {
    let mut keys = HashMap::new();
    let Some(slice) = entries.get(start..end) else { return keys };
    let Some(col) = slice.iter().filter(|e| matches!(e.kind, EntryKind::Key { .. })).map(|e| e.col).min() else {
        return keys;
    };
    for (i, entry) in slice.iter().enumerate() {
        if let EntryKind::Key { name, .. } = &entry.kind {
            if entry.col == col {
                keys.entry(name.as_str()).or_insert(start + i);
            }
        }
    }
    keys
}

/// The dashes at the shallowest column of `range` that holds a dash.
fn dashes_in(entries: &[Entry], (start, end): (usize, usize)) -> Vec<usize> {
    let Some(slice) = entries.get(start..end) else { return Vec::new() };
    let Some(col) = slice.iter().filter(|e| matches!(e.kind, EntryKind::Dash(_))).map(|e| e.col).min() else {
        return Vec::new();
    };
    (start..end).filter(|i| entries[*i].col == col && matches!(entries[*i].kind, EntryKind::Dash(_))).collect()
}

/// The entries that hold the value of the key at `i`: those after it that are deeper, and list
/// items at the key's own column (`containers:` followed by `- name:` at the same indentation).
fn block_of(entries: &[Entry], i: usize, end: usize) -> (usize, usize) {
    let col = entries[i].col;
    let stop = (i + 1..end)
        .find(|j| {
            let e = &entries[*j];
            e.col < col || (e.col == col && !matches!(e.kind, EntryKind::Dash(_)))
        })
        .unwrap_or(end);
    (i + 1, stop)
}

/// The entries of the list item whose dash is at `i`: those after it, deeper than the dash.
fn item_block(entries: &[Entry], i: usize, end: usize) -> (usize, usize) {
    let col = entries[i].col;
    let stop = (i + 1..end).find(|j| entries[*j].col <= col).unwrap_or(end);
    (i + 1, stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` (path relative to a fresh folder, text) and returns the folder.
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temporary folder");
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("folder");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    /// The line and column in the template that the rendered node at `line:col` maps to.
    fn mapped(rendered: &Rendered, line: u32, col: u32) -> Option<(String, u32, u32)> {
        let node = find_node(&rendered.stream, Pos { line, col })?;
        let (file, span) = rendered.map.resolve(node)?;
        let name = file.file_name()?.to_string_lossy().to_string();
        Some((name, span.start.line, span.start.col))
    }

    /// The span of the innermost node that starts at `at`.
    fn find_node(stream: &yaml::Stream, at: Pos) -> Option<Span> {
        fn walk(node: &Node, at: Pos, found: &mut Option<Span>) {
            if node.span.start == at {
                *found = Some(node.span);
            }
            match &node.value {
                Value::Scalar(_) => {}
                Value::Seq(items) => items.iter().for_each(|i| walk(i, at, found)),
                Value::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                    walk(k, at, found);
                    walk(v, at, found);
                }),
            }
        }
        let mut found = None;
        for doc in &stream.documents {
            if let Some(root) = &doc.root {
                walk(root, at, &mut found);
            }
        }
        found
    }

    const SERVICE_TEMPLATE: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: {{ include \"web.fullname\" . }}
  labels:
    {{- include \"web.labels\" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
  selector:
    {{- include \"web.selectorLabels\" . | nindent 4 }}
";

    const RENDERED: &str = "\
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop-web
  labels:
    app.kubernetes.io/name: web
spec:
  type: LoadBalancer
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
  selector:
    app.kubernetes.io/name: web
";

    fn resolver(dir: &Path) -> impl Fn(&str) -> Option<PathBuf> + '_ {
        move |source: &str| {
            let rest = source.split_once('/')?.1;
            let path = dir.join(rest);
            path.exists().then_some(path)
        }
    }

    #[test]
    fn a_field_maps_to_its_key_at_the_right_depth_in_the_template() {
        let dir = folder(&[("templates/service.yaml", SERVICE_TEMPLATE)]);
        let rendered = map_sourced(RENDERED.to_string(), &resolver(dir.path()));
        // `type: LoadBalancer` (line 10) is `type: {{ .Values.service.type }}` on line 8.
        assert_eq!(mapped(&rendered, 10, 3), Some(("service.yaml".into(), 8, 3)));
        assert_eq!(mapped(&rendered, 10, 9), Some(("service.yaml".into(), 8, 9)));
        // The list item's key `port` (line 12) is on the template's `- port:` line 10.
        assert_eq!(mapped(&rendered, 12, 7), Some(("service.yaml".into(), 10, 7)));
        assert_eq!(mapped(&rendered, 13, 7), Some(("service.yaml".into(), 11, 7)));
        // A label spliced in by `include` maps to the `labels:` key that receives it.
        assert_eq!(mapped(&rendered, 8, 5), Some(("service.yaml".into(), 5, 3)));
        // `name` under `metadata`, not any other `name`.
        assert_eq!(mapped(&rendered, 6, 3), Some(("service.yaml".into(), 4, 3)));
        assert_eq!(rendered.read.len(), 1);
    }

    #[test]
    fn a_template_with_windows_line_ends_maps_alike() {
        let dir = folder(&[("templates/service.yaml", &SERVICE_TEMPLATE.replace('\n', "\r\n"))]);
        let rendered = map_sourced(RENDERED.to_string(), &resolver(dir.path()));
        assert_eq!(mapped(&rendered, 10, 9), Some(("service.yaml".into(), 8, 9)));
        assert_eq!(mapped(&rendered, 12, 7), Some(("service.yaml".into(), 10, 7)));
    }

    #[test]
    fn documents_map_to_their_part_of_a_template_by_kind_then_order() {
        let template = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
---
{{- if .Values.expose }}
apiVersion: v1
kind: Service
metadata:
  name: api
{{- end }}
";
        // helm prints a template's Service before its Deployment (it sorts by kind).
        let rendered_text = "\
---
# Source: api/templates/api.yaml
apiVersion: v1
kind: Service
metadata:
  name: api
---
# Source: api/templates/api.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
";
        let dir = folder(&[("templates/api.yaml", template)]);
        let rendered = map_sourced(rendered_text.to_string(), &resolver(dir.path()));
        assert_eq!(mapped(&rendered, 6, 3), Some(("api.yaml".into(), 10, 3)));
        assert_eq!(mapped(&rendered, 12, 3), Some(("api.yaml".into(), 4, 3)));
        // The documents themselves map to the first line of their part.
        assert_eq!(mapped(&rendered, 3, 1), Some(("api.yaml".into(), 7, 1)));
    }

    #[test]
    fn list_items_beyond_the_template_come_from_its_last_item() {
        let template = "\
kind: NetworkPolicy
spec:
  ingress:
    {{- range .Values.sources }}
    - from:
        - podSelector: {}
    {{- end }}
";
        let rendered_text = "\
# Source: c/templates/np.yaml
kind: NetworkPolicy
spec:
  ingress:
    - from:
        - podSelector: {}
    - from:
        - podSelector: {}
";
        let dir = folder(&[("templates/np.yaml", template)]);
        let rendered = map_sourced(rendered_text.to_string(), &resolver(dir.path()));
        assert_eq!(mapped(&rendered, 7, 7), Some(("np.yaml".into(), 5, 7)));
        assert_eq!(mapped(&rendered, 8, 11), Some(("np.yaml".into(), 6, 11)));
    }

    #[test]
    fn documents_without_a_resolvable_source_get_no_entry() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n# Source: gone/templates/x.yaml\nkind: Service\n";
        let rendered = map_sourced(text.to_string(), &|_| None);
        assert!(rendered.map.entries.is_empty());
        assert!(rendered.read.is_empty());
        assert_eq!(rendered.stream.documents.len(), 2);
    }

    #[test]
    fn template_lines_yield_dashes_and_keys() {
        let entries = line_entries("  - - name: \"x\" # c", 1);
        assert!(matches!(entries[0].kind, EntryKind::Dash(_)) && entries[0].col == 3);
        assert!(matches!(entries[1].kind, EntryKind::Dash(_)) && entries[1].col == 5);
        assert!(matches!(&entries[2].kind, EntryKind::Key { name, .. } if name == "name"));
        assert!(line_entries("    {{- toYaml .Values.x | nindent 4 }}", 1).is_empty());
        assert!(matches!(line_entries("  \"a:b\": 1", 1)[0].kind, EntryKind::Key { ref name, .. } if name == "a:b"));
        assert!(matches!(line_entries("  image: x:1", 1)[0].kind, EntryKind::Key { ref name, .. } if name == "image"));
        assert!(matches!(line_entries("  {{ .Values.k }}: v", 1)[0].kind, EntryKind::Other));
    }
}

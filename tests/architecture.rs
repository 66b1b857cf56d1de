#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The pipeline is the architecture: this test holds the code to the stage order written in the
//! codemap of `src/lib.rs`, and forbids import cycles between modules.
//!
//! It reads the sources as text: every `crate::a::b` path (in `use` items and in code), every
//! `super::` path and every `mod` declaration. A path is resolved to the longest prefix that is a
//! module file. Two checks:
//! * a file of one stage never names a module of a later stage;
//! * there is no cycle between module files, leaving aside the edge from a module to the modules
//!   it declares (a parent owns its children; a child naming its parent's types is the dependency
//!   that counts).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages in pipeline order, as `src/lib.rs` lists them.
const STAGES: &[&str] =
    &["span", "load", "model", "profile", "graph", "finding", "rules", "config", "result", "suggest", "report", "cli"];

/// A module path (`["graph", "exposure"]`) for every file under `src/`.
fn module_files(root: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap();
            let mut parts: Vec<String> =
                rel.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                parts.clear();
                if path.ends_with("main.rs") {
                    continue;
                }
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The source without comments and string literals, so that a path in a doc comment or a message
/// is not taken for a dependency.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '/' && bytes.get(i + 1) == Some(&'/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && bytes.get(i + 1) == Some(&'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == '*' && bytes.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            continue;
        }
        if c == 'r'
            && (bytes.get(i + 1) == Some(&'#') || bytes.get(i + 1) == Some(&'"'))
            && (i == 0 || !bytes[i - 1].is_alphanumeric() && bytes[i - 1] != '_')
        {
            let mut hashes = 0;
            let mut j = i + 1;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) == Some(&'"') {
                j += 1;
                loop {
                    if j >= bytes.len() {
                        break;
                    }
                    if bytes[j] == '"' && (0..hashes).all(|k| bytes.get(j + 1 + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                i = j;
                out.push_str("\"\"");
                continue;
            }
        }
        if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
            continue;
        }
        if c == '\'' {
            // A char literal ('x', '\n', '\''), not a lifetime ('a).
            if bytes.get(i + 2) == Some(&'\'') {
                i += 3;
                continue;
            }
            if bytes.get(i + 1) == Some(&'\\') {
                let mut j = i + 2;
                while j < bytes.len() && bytes[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The module paths a file names: `crate::a::b::{c, d::e}` gives `a::b::c`, `a::b::d::e`;
/// `super::x` is resolved against the file's own module path.
fn named_paths(module: &[String], is_mod_file: bool, code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let starts = |word: &str| {
            let w: Vec<char> = word.chars().collect();
            chars[i..].starts_with(&w) && (i == 0 || !ident(chars[i - 1]))
        };
        let (base, skip): (Vec<String>, usize) = if starts("crate::") {
            (Vec::new(), 7)
        } else if starts("super::") {
            // `super` of a `mod.rs` or of `a.rs` is the parent of the module itself.
            let mut base = module.to_vec();
            base.pop();
            let mut skip = 7;
            while chars[i + skip..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                base.pop();
                skip += 7;
            }
            let _ = is_mod_file;
            (base, skip)
        } else {
            i += 1;
            continue;
        };
        i += skip;
        parse_tree(&chars, &mut i, base, &mut out);
    }
    out
}

/// Parses `a::b::{c, d::{e}}` from `chars[*i..]`, pushing each leaf path onto `out`.
fn parse_tree(chars: &[char], i: &mut usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    loop {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
        if *i < chars.len() && chars[*i] == '{' {
            *i += 1;
            loop {
                while *i < chars.len() && (chars[*i].is_whitespace() || chars[*i] == ',') {
                    *i += 1;
                }
                if *i >= chars.len() || chars[*i] == '}' {
                    *i += 1;
                    return;
                }
                parse_tree(chars, i, prefix.clone(), out);
                // Skip an `as name`.
                while *i < chars.len() && chars[*i] != ',' && chars[*i] != '}' {
                    *i += 1;
                }
            }
        }
        let start = *i;
        while *i < chars.len() && ident(chars[*i]) {
            *i += 1;
        }
        if start == *i {
            out.push(prefix);
            return;
        }
        prefix.push(chars[start..*i].iter().collect());
        if chars[*i..].starts_with(&[':', ':']) {
            *i += 2;
            continue;
        }
        out.push(prefix);
        return;
    }
}

/// The module file a path names: its longest prefix that is a module.
fn resolve<'a>(path: &[String], modules: &'a BTreeMap<Vec<String>, PathBuf>) -> Option<&'a Vec<String>> {
    (1..=path.len()).rev().find_map(|n| modules.get_key_value(&path[..n]).map(|(k, _)| k))
}

fn stage_of(module: &[String]) -> Option<usize> {
    module.first().and_then(|top| STAGES.iter().position(|s| s == top))
}

struct Deps {
    modules: BTreeMap<Vec<String>, PathBuf>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn dependencies() -> Deps {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = module_files(&root);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, path) in &modules {
        let text = std::fs::read_to_string(path).unwrap();
        let code = code_only(&text);
        let is_mod = path.ends_with("mod.rs") || path.ends_with("lib.rs");
        let mut targets = BTreeSet::new();
        for named in named_paths(module, is_mod, &code) {
            if let Some(target) = resolve(&named, &modules) {
                if target != module {
                    targets.insert(target.clone());
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    Deps { modules, edges }
}

#[test]
fn every_stage_is_in_the_codemap() {
    let deps = dependencies();
    let tops: BTreeSet<&String> = deps.modules.keys().filter_map(|m| m.first()).collect();
    for top in tops {
        assert!(STAGES.contains(&top.as_str()), "module `{top}` is not a stage of the codemap (src/lib.rs)");
    }
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut last = 0;
    for stage in STAGES {
        let at = lib.find(&format!("[`{stage}`]")).unwrap_or_else(|| panic!("the codemap does not name `{stage}`"));
        assert!(at >= last, "the codemap lists `{stage}` out of order");
        last = at;
    }
}

#[test]
fn no_module_uses_a_later_stage() {
    let deps = dependencies();
    let mut violations = Vec::new();
    for (module, targets) in &deps.edges {
        let Some(own) = stage_of(module) else { continue };
        for target in targets {
            if let Some(theirs) = stage_of(target) {
                let line = format!("{} uses {}", module.join("::"), target.join("::"));
                if theirs > own {
                    violations.push(line);
                }
            }
        }
    }
    assert!(violations.is_empty(), "modules that use a later stage:\n{}", violations.join("\n"));
}

#[test]
fn no_import_cycles() {
    let deps = dependencies();
    // Leave aside a parent's edges to its own descendants.
    let graph: BTreeMap<&Vec<String>, Vec<&Vec<String>>> =
        deps.edges.iter().map(|(m, ts)| (m, ts.iter().filter(|t| !t.starts_with(m)).collect())).collect();
    // Tarjan's strongly connected components.
    struct State<'a> {
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        next: usize,
        cycles: Vec<Vec<String>>,
    }
    fn visit<'a>(v: &'a Vec<String>, g: &BTreeMap<&'a Vec<String>, Vec<&'a Vec<String>>>, s: &mut State<'a>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for &w in g.get(v).map(Vec::as_slice).unwrap_or(&[]) {
            if !s.index.contains_key(w) {
                visit(w, g, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                component.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.cycles.push(component);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(*v) {
            visit(v, &graph, &mut state);
        }
    }
    let listed: Vec<String> = state.cycles.iter().map(|c| c.join(" ↔ ")).collect();
    assert!(listed.is_empty(), "import cycles between modules:\n{}", listed.join("\n"));
}

#[test]
fn the_reader_sees_paths_in_use_trees_and_code_only() {
    let code = code_only("use crate::a::{b, c::{d, e as f}};\n// crate::z\nlet s = \"crate::y\"; super::g::h();");
    let paths = named_paths(&["m".to_string(), "n".to_string()], false, &code);
    let text: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(text, ["a::b", "a::c::d", "a::c::e", "m::g::h"]);
}

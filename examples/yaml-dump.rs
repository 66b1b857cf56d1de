//! Prints what kubereach reads from YAML files, for `scripts/yaml-differential.py`, which holds it
//! to what libyaml (kubectl's reader) reads from the same files.
//!
//! Paths come one a line on stdin; for each, one JSON line on stdout: `{"path", "ok", "docs",
//! "error"}`. `ok` is false when the file cannot be read as text or has a YAML error (the documents
//! before the error are still listed). A scalar is `["=", text]` when written plain (YAML 1.1 may
//! type it) and `["'", text]` otherwise; a list is a JSON array; a mapping is `{"M": [[key,
//! value], …]}` in the order read, merge keys applied; aliases are written out in full.

use std::io::{BufRead, Write};

use kubereach::load::yaml::{Node, Value};
use serde_json::{json, Value as Json};

fn tree(node: &Node) -> Json {
    match &node.value {
        Value::Scalar(s) => json!([if s.plain { "=" } else { "'" }, &*s.text]),
        Value::Seq(items) => Json::Array(items.iter().map(tree).collect()),
        Value::Map(entries) => {
            json!({ "M": entries.iter().map(|(k, v)| json!([tree(k), tree(v)])).collect::<Vec<_>>() })
        }
    }
}

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for path in std::io::stdin().lock().lines() {
        let path = path?;
        if path.is_empty() {
            continue;
        }
        let record = match std::fs::read(&path) {
            Err(e) => json!({ "path": path, "ok": false, "docs": [], "error": { "message": e.to_string() } }),
            Ok(bytes) => match kubereach::load::read_for_comparison(bytes) {
                Err(reason) => json!({ "path": path, "ok": false, "docs": [], "error": { "message": reason } }),
                Ok(stream) => {
                    let docs: Vec<Json> =
                        stream.documents.iter().map(|d| d.root.as_ref().map_or(Json::Null, tree)).collect();
                    let error = stream.errors.first().map(|e| {
                        let at = e.pos();
                        json!({ "line": at.line, "col": at.col, "message": e.to_string() })
                    });
                    json!({ "path": path, "ok": error.is_none(), "docs": docs, "error": error })
                }
            },
        };
        writeln!(out, "{record}")?;
    }
    out.flush()
}

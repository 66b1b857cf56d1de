//! The reachability graph as text (the connectivity list) and as JSON.

use std::io::{self, Write};

use serde::Serialize;

use crate::graph::{Conns, Endpoint, Graph, INGRESS_CONTROLLER};
use crate::model::net::Family;
use crate::model::Model;

/// The connectivity list: `SRC => DST : CONNS`, one line per ordered pair, in graph order.
/// Returns the number of lines.
pub fn write_txt(graph: &Graph, out: &mut dyn Write) -> io::Result<usize> {
    let mut names = Names::default();
    graph.for_each_edge(|src, dst, conns| {
        let (src, dst) = (names.get(graph, src), names.get(graph, dst));
        writeln!(out, "{src} => {dst} : {conns}")
    })
}

/// Connections a change adds (`+ SRC => DST : CONNS`) and removes (`- …`), sorted by source and
/// destination, removed before added.
pub fn write_changes_txt(changes: &[crate::graph::diff::EdgeChange], out: &mut dyn Write) -> io::Result<()> {
    for c in changes {
        writeln!(out, "{} {} => {} : {}", if c.added { '+' } else { '-' }, c.src, c.dst, c.conns)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonChange<'a> {
    src: &'a str,
    dst: &'a str,
    summary: &'a str,
}

/// The same as JSON: `{"base": REV, "added": [...], "removed": [...]}`.
pub fn write_changes_json(
    changes: &[crate::graph::diff::EdgeChange],
    base: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let pick = |added: bool| -> Vec<JsonChange> {
        changes
            .iter()
            .filter(|c| c.added == added)
            .map(|c| JsonChange { src: &c.src, dst: &c.dst, summary: &c.conns })
            .collect()
    };
    let value = serde_json::json!({"base": base, "added": pick(true), "removed": pick(false)});
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)
}

/// Endpoint names for output: peers borrow theirs, the others are formatted once each.
#[derive(Default)]
struct Names {
    cache: std::collections::HashMap<Endpoint, std::rc::Rc<str>>,
}

impl Names {
    fn get(&mut self, graph: &Graph, e: &Endpoint) -> std::rc::Rc<str> {
        self.cache.entry(*e).or_insert_with(|| graph.endpoint_name(e).into()).clone()
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum JsonEndpoint<'a> {
    Workload { id: &'a str, namespace: &'a str, name: &'a str, kind: &'a str },
    External { id: String, family: &'static str, first: String, last: String },
    IngressController { id: &'static str },
    Gateway { id: String, namespace: &'a str, name: &'a str },
}

#[derive(Serialize)]
struct JsonWorkload<'a> {
    kind: &'a str,
    name: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct JsonPeer<'a> {
    id: &'a str,
    namespace: &'a str,
    /// The objects (workloads, or Pods of one owner) the peer stands for.
    objects: Vec<JsonWorkload<'a>>,
}

/// The graph as JSON: `{"version": 1, "peers": [...], "connections": [...]}`. Written edge by edge
/// so that a large graph is never held twice in memory.
///
/// A large graph is mostly connections that repeat their parts: each endpoint is named by every
/// edge from or to it, and a few connection sets recur across hundreds of thousands of edges.
/// Those parts are written once as JSON and copied after that (what an edge costs is then mostly
/// the copy). The bytes are the same as serializing each edge on its own.
pub fn write_json(graph: &Graph, model: &Model, files: &crate::load::Files, out: &mut dyn Write) -> io::Result<usize> {
    out.write_all(b"{\n  \"version\": 1,\n  \"peers\": [")?;
    write_json_peers(graph, model, files, out)?;
    out.write_all(if graph.peers.is_empty() { b"],\n  \"connections\": [" } else { b"\n  ],\n  \"connections\": [" })?;
    let mut first = true;
    let mut parts = EdgeParts::new(graph);
    let mut line = Vec::with_capacity(1024);
    let count = graph.for_each_edge(|src, dst, conns| -> io::Result<()> {
        line.clear();
        line.extend_from_slice(if first { b"\n    {\"src\":" } else { b",\n    {\"src\":" });
        first = false;
        parts.endpoint(graph, src, &mut line)?;
        line.extend_from_slice(b",\"dst\":");
        parts.endpoint(graph, dst, &mut line)?;
        parts.conns(conns, &mut line)?;
        out.write_all(&line)
    })?;
    out.write_all(if count == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" })?;
    Ok(count)
}

/// The `peers` array's items, each as `serde_json` writes a [`JsonPeer`].
fn write_json_peers(graph: &Graph, model: &Model, files: &crate::load::Files, out: &mut dyn Write) -> io::Result<()> {
    for (i, peer) in graph.peers.iter().enumerate() {
        out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *out, &json_peer(peer, model, files))?;
    }
    Ok(())
}

fn json_peer<'a>(peer: &'a crate::graph::Peer, model: &'a Model, files: &'a crate::load::Files) -> JsonPeer<'a> {
    let objects = peer
        .workloads
        .iter()
        .map(|&w| {
            let w = &model.workloads[w];
            // A rendered object's place is where it was rendered from.
            let at = files.resolve(w.meta.at(w.meta.name_span));
            JsonWorkload {
                kind: &w.meta.kind,
                name: &w.meta.name,
                file: files.display(at.file),
                line: at.span.start.line,
                column: at.span.start.col,
            }
        })
        .collect();
    JsonPeer { id: &peer.name, namespace: &peer.namespace, objects }
}

/// The end of an edge's JSON object after `dst`: `,"all":…,"protocols":…,"summary":…}`.
#[derive(Serialize)]
struct JsonEdgeTail<'a> {
    /// Every port of TCP, UDP and SCTP.
    all: bool,
    /// Allowed destination ports per protocol, as inclusive `[first, last]` ranges.
    protocols: &'a Conns,
    /// The same, as in the connectivity list.
    summary: String,
}

/// At most this many connection sets and endpoints are kept as text; past that, the rest are
/// serialized each time (a graph with that many distinct sets is not one of repeated parts).
const PARTS_CACHED: usize = 1 << 16;

/// The JSON of the repeated parts of edges, each serialized once: the connection sets (with
/// their summary) and the endpoints, peers by their index (each is the source or the
/// destination of many edges), the others by value.
struct EdgeParts {
    tails: rustc_hash::FxHashMap<Conns, Box<[u8]>>,
    peers: Vec<Option<Box<[u8]>>>,
    others: rustc_hash::FxHashMap<Endpoint, Box<[u8]>>,
}

impl EdgeParts {
    fn new(graph: &Graph) -> EdgeParts {
        EdgeParts { tails: Default::default(), peers: vec![None; graph.peers.len()], others: Default::default() }
    }

    fn endpoint(&mut self, graph: &Graph, e: &Endpoint, line: &mut Vec<u8>) -> io::Result<()> {
        if let Endpoint::Peer(p) = e {
            if let Some(slot) = self.peers.get_mut(p.index()) {
                let text = match slot {
                    Some(text) => text,
                    None => slot.insert(serde_json::to_vec(&json_endpoint(graph, e))?.into_boxed_slice()),
                };
                line.extend_from_slice(text);
                return Ok(());
            }
        }
        if let Some(text) = self.others.get(e) {
            line.extend_from_slice(text);
            return Ok(());
        }
        let text = serde_json::to_vec(&json_endpoint(graph, e))?;
        line.extend_from_slice(&text);
        if self.others.len() < PARTS_CACHED {
            self.others.insert(*e, text.into_boxed_slice());
        }
        Ok(())
    }

    fn conns(&mut self, conns: &Conns, line: &mut Vec<u8>) -> io::Result<()> {
        if let Some(text) = self.tails.get(conns) {
            line.extend_from_slice(text);
            return Ok(());
        }
        let tail = JsonEdgeTail { all: conns.is_all(), protocols: conns, summary: conns.to_string() };
        let mut text = serde_json::to_vec(&tail)?;
        // `{"all":…}` as the continuation of the edge's object: `,"all":…}`.
        if let Some(open) = text.first_mut() {
            *open = b',';
        }
        line.extend_from_slice(&text);
        if self.tails.len() < PARTS_CACHED {
            self.tails.insert(conns.clone(), text.into_boxed_slice());
        }
        Ok(())
    }
}

fn json_endpoint<'a>(graph: &'a Graph, e: &Endpoint) -> JsonEndpoint<'a> {
    match e {
        Endpoint::Peer(p) => {
            let peer = &graph.peers[p.index()];
            let (ns_name, kind) = peer.name.rsplit_once('[').unwrap_or((&peer.name, "]"));
            let name = ns_name.split_once('/').map_or(ns_name, |(_, n)| n);
            JsonEndpoint::Workload {
                id: &peer.name,
                namespace: &peer.namespace,
                name,
                kind: kind.trim_end_matches(']'),
            }
        }
        Endpoint::External(range) => JsonEndpoint::External {
            id: graph.endpoint_name(e),
            family: match range.family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            },
            first: crate::model::net::format_addr(range.family, range.first),
            last: crate::model::net::format_addr(range.family, range.last),
        },
        Endpoint::IngressController => JsonEndpoint::IngressController { id: INGRESS_CONTROLLER },
        Endpoint::Gateway(gi) => {
            let gateway = graph.gateway_meta(*gi);
            JsonEndpoint::Gateway {
                id: graph.endpoint_name(e),
                namespace: gateway.map_or("", |(ns, _)| ns),
                name: gateway.map_or("", |(_, n)| n),
            }
        }
    }
}

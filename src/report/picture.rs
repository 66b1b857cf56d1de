//! Pictures of the reachability graph: Graphviz DOT, Mermaid flowcharts, and one self-contained
//! HTML page that draws the graph and lets a reader explore it.
//!
//! The three writers draw the same thing: namespaces as boxes holding their workloads, the
//! endpoints outside namespaces (address ranges, `{ingress-controller}`) as nodes of their own,
//! every allowed connection as an edge labelled with its ports, and, when the caller passes
//! [`InternetEntry`]s, an `{internet}` node with highlighted edges to the exposed workloads.
//!
//! Node ids are generated (`n0`, `n1`, …) and never derived from names, so no name, however odd,
//! can break a format's syntax: names only ever appear inside labels, escaped for that format.
//! Workloads are numbered by namespace, then name; the other endpoints in the order the edges
//! first name them, `{internet}` last. Edges come straight from [`Graph::for_each_edge`] and are
//! written as they come: the writers hold the nodes, never the edges, so a graph with many
//! thousands of connections costs no more memory than its workloads. (Such a picture is not
//! readable, but writing it must not fail.)
//!
//! The HTML page (markup here, style and script beside this file) is written by hand rather than
//! with a drawing library: it has to work offline from a single file, so nothing may be fetched.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Level;
use crate::graph::{Endpoint, Graph, Peer, PeerId, INGRESS_CONTROLLER};

/// The pseudo-peer that stands for any client on the internet.
pub const INTERNET: &str = "{internet}";

/// An entry from the internet to a workload, to highlight (computed elsewhere: LoadBalancer,
/// NodePort, Ingress…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternetEntry {
    pub peer: PeerId,
    /// What opens the way, shown on the edge: `LoadBalancer shop-web/promo 80/TCP`.
    pub label: String,
    pub level: Level,
}

/// Node ids shared by the writers: see the module documentation for the numbering.
struct Nodes<'g> {
    graph: &'g Graph,
    /// Workloads in drawing order: by namespace, then name.
    order: Vec<PeerId>,
    /// Per peer, its node id.
    peer_node: Vec<u32>,
    outside: BTreeMap<Endpoint, u32>,
    next: u32,
}

impl<'g> Nodes<'g> {
    fn new(graph: &'g Graph) -> Nodes<'g> {
        let mut order: Vec<PeerId> = (0..graph.peers.len()).map(PeerId::new).collect();
        // By namespace first: sorting by the whole name would interleave `a-b/…` with `a/…`.
        order.sort_by(|&a, &b| {
            let (a, b) = (&graph.peers[a.index()], &graph.peers[b.index()]);
            (&*a.namespace, &a.name).cmp(&(&*b.namespace, &b.name))
        });
        let mut peer_node = vec![0; graph.peers.len()];
        for (node, &p) in order.iter().enumerate() {
            peer_node[p.index()] = node as u32;
        }
        Nodes { graph, next: order.len() as u32, order, peer_node, outside: BTreeMap::new() }
    }

    /// The workloads grouped by namespace, in drawing order, with their node ids.
    fn namespaces(&self) -> Vec<(&'g str, Vec<(u32, &'g Peer)>)> {
        let mut groups: Vec<(&'g str, Vec<(u32, &'g Peer)>)> = Vec::new();
        for (node, &p) in self.order.iter().enumerate() {
            let peer = &self.graph.peers[p.index()];
            match groups.last_mut() {
                Some((ns, members)) if *ns == &*peer.namespace => members.push((node as u32, peer)),
                _ => groups.push((&peer.namespace, vec![(node as u32, peer)])),
            }
        }
        groups
    }

    /// The node id of an endpoint, and whether this is the first time it is named (an endpoint
    /// outside namespaces is declared where it first appears).
    fn id(&mut self, e: &Endpoint) -> (u32, bool) {
        match e {
            Endpoint::Peer(p) => (self.peer_node[p.index()], false),
            _ => match self.outside.get(e) {
                Some(&id) => (id, false),
                None => {
                    let id = self.next;
                    self.next += 1;
                    self.outside.insert(*e, id);
                    (id, true)
                }
            },
        }
    }

    /// The id `{internet}` gets once every edge has been written.
    fn internet(&self) -> u32 {
        self.next
    }
}

/// A workload's name and kind, from its peer name `namespace/name[Kind]`.
fn workload_parts(peer: &Peer) -> (&str, &str) {
    let (ns_name, kind) = match peer.name.rsplit_once('[') {
        Some((ns_name, kind)) => (ns_name, kind.strip_suffix(']').unwrap_or(kind)),
        None => (peer.name.as_str(), ""),
    };
    (ns_name.split_once('/').map_or(ns_name, |(_, name)| name), kind)
}

/// Label, kind and type of an endpoint outside namespaces.
fn outside_parts(graph: &Graph, e: &Endpoint) -> (String, &'static str, &'static str) {
    match e {
        Endpoint::External(range) => (range.to_string(), "External", "external"),
        Endpoint::IngressController => (INGRESS_CONTROLLER.to_string(), "", "ingress-controller"),
        Endpoint::Gateway(_) => (graph.endpoint_name(e), "Gateway", "gateway"),
        Endpoint::Peer(_) => (graph.endpoint_name(e), "", "workload"),
    }
}

/// The entries that name an existing peer, in the caller's order.
fn valid_entries<'e>(graph: &Graph, entries: &'e [InternetEntry]) -> Vec<&'e InternetEntry> {
    entries.iter().filter(|e| e.peer.index() < graph.peers.len()).collect()
}

fn level_colour(level: Level) -> &'static str {
    match level {
        Level::Error => "#c62828",
        Level::Warning => "#e65100",
        Level::Note => "#1565c0",
    }
}

// ---------------------------------------------------------------------------------------------
// DOT
// ---------------------------------------------------------------------------------------------

/// Text inside a quoted DOT string. A backslash is doubled: alone it would escape a closing quote,
/// and in labels start an escape sequence (`\N`, `\l`). Labels decode HTML entities, so `&` is
/// escaped as one.
struct DotText<'a>(&'a str);

impl fmt::Display for DotText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '&' => f.write_str("&amp;")?,
                c if c.is_control() => f.write_str(" ")?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

const DOT_HEAD: &str = "digraph kubereach {
  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.25, ranksep=1.2, labelloc=t];
  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#5b6b7f\", fontname=\"Helvetica\", fontsize=11];
  edge [fontname=\"Helvetica\", fontsize=9, color=\"#6b7280\", fontcolor=\"#374151\", arrowsize=0.7];
";

/// The graph in the DOT language: render with `dot -Tsvg`. Returns the number of edges drawn
/// (connections and internet entries).
pub fn write_dot(graph: &Graph, entries: &[InternetEntry], out: &mut dyn Write) -> io::Result<usize> {
    let mut nodes = Nodes::new(graph);
    out.write_all(b"// kubereach reachability graph\n")?;
    out.write_all(DOT_HEAD.as_bytes())?;
    for (i, (namespace, members)) in nodes.namespaces().into_iter().enumerate() {
        writeln!(out, "  subgraph cluster_{i} {{")?;
        writeln!(
            out,
            "    label=\"{}\"; style=\"rounded,filled\"; fillcolor=\"#f3f5f8\"; color=\"#aab4c3\";",
            DotText(namespace)
        )?;
        for (node, peer) in members {
            let (name, kind) = workload_parts(peer);
            writeln!(
                out,
                "    n{node} [label=\"{}\\n{}\", tooltip=\"{}\"];",
                DotText(name),
                DotText(kind),
                DotText(&peer.name)
            )?;
        }
        out.write_all(b"  }\n")?;
    }
    let count = graph.for_each_edge(|src, dst, conns| -> io::Result<()> {
        let s = dot_node(graph, &mut nodes, src, out)?;
        let d = dot_node(graph, &mut nodes, dst, out)?;
        writeln!(out, "  n{s} -> n{d} [label=\"{}\"];", DotText(&conns.to_string()))
    })?;
    let entries = valid_entries(graph, entries);
    if !entries.is_empty() {
        let internet = nodes.internet();
        writeln!(
            out,
            "  n{internet} [label=\"{0}\", shape=doubleoctagon, style=\"filled,bold\", fillcolor=\"#fdecea\", color=\"#c62828\", fontcolor=\"#c62828\", tooltip=\"{0}\"];",
            DotText(INTERNET)
        )?;
        for entry in &entries {
            let colour = level_colour(entry.level);
            writeln!(
                out,
                "  n{internet} -> n{} [label=\"{}\", color=\"{colour}\", fontcolor=\"{colour}\", penwidth=2.5, style=bold];",
                nodes.peer_node[entry.peer.index()],
                DotText(&entry.label)
            )?;
        }
        // A workload with several entries is outlined in the colour of the most severe.
        let mut exposed: BTreeMap<u32, Level> = BTreeMap::new();
        for entry in &entries {
            let level = exposed.entry(nodes.peer_node[entry.peer.index()]).or_insert(entry.level);
            *level = (*level).max(entry.level);
        }
        for (node, level) in exposed {
            writeln!(out, "  n{node} [color=\"{}\", penwidth=2.5];", level_colour(level))?;
        }
    }
    out.write_all(b"}\n")?;
    Ok(count + entries.len())
}

/// The id of an edge's endpoint, declaring it first when it lies outside namespaces.
fn dot_node(graph: &Graph, nodes: &mut Nodes<'_>, e: &Endpoint, out: &mut dyn Write) -> io::Result<u32> {
    let (id, new) = nodes.id(e);
    if new {
        let (label, kind, _) = outside_parts(graph, e);
        match e {
            Endpoint::IngressController | Endpoint::Gateway(_) => writeln!(
                out,
                "  n{id} [label=\"{0}\", shape=hexagon, style=filled, fillcolor=\"#eef2ff\", color=\"#4f46e5\", tooltip=\"{0}\"];",
                DotText(&label)
            )?,
            _ => writeln!(
                out,
                "  n{id} [label=\"{}\\n{}\", shape=ellipse, style=\"filled,dashed\", fillcolor=\"#f5f5f5\", color=\"#8a8a8a\", tooltip=\"{}\"];",
                DotText(&label),
                DotText(kind),
                DotText(&graph.endpoint_name(e))
            )?,
        }
    }
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// Mermaid
// ---------------------------------------------------------------------------------------------

/// Text inside a quoted Mermaid label: characters the parser or the HTML renderer would take for
/// syntax become Mermaid's `#…;` entity codes.
struct MermaidText<'a>(&'a str);

impl fmt::Display for MermaidText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("#quot;")?,
                '#' => f.write_str("#35;")?,
                '&' => f.write_str("#amp;")?,
                '<' => f.write_str("#lt;")?,
                '>' => f.write_str("#gt;")?,
                '`' => f.write_str("#96;")?,
                '|' => f.write_str("#124;")?,
                '\\' => f.write_str("#92;")?,
                c if c.is_control() => f.write_str(" ")?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        Ok(())
    }
}

const MERMAID_HEAD: &str = "flowchart LR
  classDef workload fill:#ffffff,stroke:#5b6b7f,color:#1f2937
  classDef outside fill:#f5f5f5,stroke:#8a8a8a,stroke-dasharray:4 3,color:#1f2937
  classDef controller fill:#eef2ff,stroke:#4f46e5,color:#1f2937
  classDef internet fill:#fdecea,stroke:#c62828,stroke-width:2px,color:#c62828
  classDef exposed stroke:#c62828,stroke-width:3px
";

/// The graph as a Mermaid flowchart (for Markdown pages that render Mermaid). Returns the number
/// of edges drawn (connections and internet entries).
pub fn write_mermaid(graph: &Graph, entries: &[InternetEntry], out: &mut dyn Write) -> io::Result<usize> {
    let mut nodes = Nodes::new(graph);
    out.write_all(b"%% kubereach reachability graph\n")?;
    out.write_all(MERMAID_HEAD.as_bytes())?;
    for (i, (namespace, members)) in nodes.namespaces().into_iter().enumerate() {
        writeln!(out, "  subgraph ns{i}[\"{}\"]", MermaidText(namespace))?;
        for (node, peer) in members {
            let (name, kind) = workload_parts(peer);
            writeln!(out, "    n{node}[\"{}<br/>{}\"]:::workload", MermaidText(name), MermaidText(kind))?;
        }
        out.write_all(b"  end\n")?;
        writeln!(out, "  style ns{i} fill:#f3f5f8,stroke:#aab4c3")?;
    }
    let count = graph.for_each_edge(|src, dst, conns| -> io::Result<()> {
        let s = mermaid_node(graph, &mut nodes, src, out)?;
        let d = mermaid_node(graph, &mut nodes, dst, out)?;
        writeln!(out, "  n{s} -->|\"{}\"| n{d}", MermaidText(&conns.to_string()))
    })?;
    let entries = valid_entries(graph, entries);
    if !entries.is_empty() {
        let internet = nodes.internet();
        writeln!(out, "  n{internet}((\"{}\")):::internet", MermaidText(INTERNET))?;
        for entry in &entries {
            writeln!(
                out,
                "  n{internet} ==>|\"{}\"| n{}",
                MermaidText(&entry.label),
                nodes.peer_node[entry.peer.index()]
            )?;
        }
        // Links are styled by their position among all links, counted from 0 in writing order.
        for (i, entry) in entries.iter().enumerate() {
            let colour = level_colour(entry.level);
            writeln!(out, "  linkStyle {} stroke:{colour},stroke-width:3px,color:{colour}", count + i)?;
        }
        let mut exposed: Vec<u32> = entries.iter().map(|e| nodes.peer_node[e.peer.index()]).collect();
        exposed.sort_unstable();
        exposed.dedup();
        for node in exposed {
            writeln!(out, "  class n{node} exposed")?;
        }
    }
    Ok(count + entries.len())
}

fn mermaid_node(graph: &Graph, nodes: &mut Nodes<'_>, e: &Endpoint, out: &mut dyn Write) -> io::Result<u32> {
    let (id, new) = nodes.id(e);
    if new {
        let (label, kind, _) = outside_parts(graph, e);
        match e {
            Endpoint::IngressController | Endpoint::Gateway(_) => {
                writeln!(out, "  n{id}{{{{\"{}\"}}}}:::controller", MermaidText(&label))?;
            }
            _ => writeln!(out, "  n{id}([\"{}<br/>{}\"]):::outside", MermaidText(&label), MermaidText(kind))?,
        }
    }
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

/// JSON inside an HTML `<script>` element. `<`, `>` and `&` only ever occur inside JSON strings,
/// where `\u003c`, `\u003e` and `\u0026` read back the same; so no name can close the element
/// (`</script>`) or open a comment in it.
struct ScriptJson<'a>(&'a mut dyn Write);

impl Write for ScriptJson<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, b) in buf.iter().enumerate() {
            let escaped: &[u8] = match b {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                b'&' => b"\\u0026",
                _ => continue,
            };
            self.0.write_all(&buf[start..i])?;
            self.0.write_all(escaped)?;
            start = i + 1;
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[derive(Serialize)]
struct HtmlWorkload<'a> {
    name: &'a str,
    label: &'a str,
    kind: &'a str,
    namespace: &'a str,
}

#[derive(Serialize)]
struct HtmlOutside {
    id: u32,
    name: String,
    label: String,
    kind: &'static str,
    #[serde(rename = "type")]
    node_type: &'static str,
}

const HTML_HEAD: &str = concat!(
    r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kubereach">
<title>kubereach: reachability graph</title>
<style>
"##,
    include_str!("picture.css"),
    r##"</style>
</head>
<body>
<header>
  <h1>kubereach <span>reachability graph</span></h1>
  <span id="counts"></span>
  <input id="search" type="search" placeholder="Search workloads" autocomplete="off" spellcheck="false" aria-label="Search workloads by name">
  <span id="matches"></span>
  <span class="zoom"><button id="zoom-out" title="Zoom out">&minus;</button><button id="zoom-fit" title="Fit to window">Fit</button><button id="zoom-in" title="Zoom in">+</button></span>
</header>
<main>
  <div id="canvas">
    <svg id="graph" role="img" aria-label="reachability graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#9aa3af"/></marker>
        <marker id="arrow-out" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#2563eb"/></marker>
        <marker id="arrow-in" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#059669"/></marker>
        <marker id="arrow-error" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#c62828"/></marker>
        <marker id="arrow-warning" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#e65100"/></marker>
        <marker id="arrow-note" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#1565c0"/></marker>
      </defs>
      <g id="layer-boxes"></g><g id="layer-edges"></g><g id="layer-nodes"></g><g id="layer-labels"></g>
    </svg>
  </div>
  <aside id="panel" aria-live="polite"></aside>
</main>
<noscript><p class="noscript">This page draws the graph with JavaScript, which is turned off.</p></noscript>
<script type="application/json" id="kubereach-data">
"##
);

const HTML_TAIL: &str = concat!("\n</script>\n<script>\n", include_str!("picture.js"), "</script>\n</body>\n</html>\n");

/// One self-contained HTML page that draws the graph (namespaces as boxes, workloads inside) and
/// lets a reader search workloads and select one to see its connections. Nothing is fetched: the
/// data is embedded as JSON, the script and style are inline, and a Content-Security-Policy
/// forbids any request. Returns the number of edges drawn (connections and internet entries).
///
/// The embedded data, read by the script: `{"version": 1, "workloads": [{"name", "label", "kind",
/// "namespace"}], "edges": [[src, dst, "TCP 80"]], "outside": [{"id", "name", "label", "kind",
/// "type"}], "entries": [[node, "label", "error"]]}`, where a node is an index into the workloads
/// followed by the outside endpoints (each of which carries its index as `id`).
pub fn write_html(graph: &Graph, entries: &[InternetEntry], out: &mut dyn Write) -> io::Result<usize> {
    let mut nodes = Nodes::new(graph);
    out.write_all(HTML_HEAD.as_bytes())?;
    out.write_all(b"{\"version\":1,\n\"workloads\":[")?;
    for (i, &p) in nodes.order.iter().enumerate() {
        let peer = &graph.peers[p.index()];
        let (label, kind) = workload_parts(peer);
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let w = HtmlWorkload { name: &peer.name, label, kind, namespace: &peer.namespace };
        serde_json::to_writer(ScriptJson(out), &w)?;
    }
    out.write_all(b"],\n\"edges\":[")?;
    let mut outside: Vec<HtmlOutside> = Vec::new();
    let mut first = true;
    let count = graph.for_each_edge(|src, dst, conns| -> io::Result<()> {
        let mut id = |e: &Endpoint| {
            let (id, new) = nodes.id(e);
            if new {
                let (label, kind, node_type) = outside_parts(graph, e);
                outside.push(HtmlOutside { id, name: graph.endpoint_name(e), label, kind, node_type });
            }
            id
        };
        let (s, d) = (id(src), id(dst));
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(ScriptJson(out), &(s, d, conns.to_string())).map_err(io::Error::from)
    })?;
    out.write_all(b"],\n\"outside\":[")?;
    for (i, o) in outside.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(ScriptJson(out), o)?;
    }
    out.write_all(b"],\n\"entries\":[")?;
    let entries = valid_entries(graph, entries);
    for (i, entry) in entries.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let e = (nodes.peer_node[entry.peer.index()], &entry.label, entry.level.as_str());
        serde_json::to_writer(ScriptJson(out), &e)?;
    }
    out.write_all(b"]}")?;
    out.write_all(HTML_TAIL.as_bytes())?;
    Ok(count + entries.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn dot_text_escapes_what_would_end_or_alter_a_string() {
        let s = DotText("a\"b\\c&d\ne").to_string();
        assert_eq!(s, "a\\\"b\\\\c&amp;d e");
        // A backslash last must not escape the closing quote.
        assert_eq!(format!("\"{}\"", DotText("x\\")), "\"x\\\\\"");
    }

    #[test]
    fn mermaid_text_leaves_no_syntax_behind() {
        let s = MermaidText("p[1]\"<b>&#`|\\{x}").to_string();
        assert_eq!(s, "p[1]#quot;#lt;b#gt;#amp;#35;#96;#124;#92;{x}");
        for c in ['"', '<', '>', '&', '`', '|', '\\'] {
            assert!(!s.contains(c), "{c} left in {s}");
        }
    }

    #[test]
    fn script_json_cannot_close_the_script_element_and_reads_back_the_same() {
        let value = ("</script><!-- a&b >", 1);
        let mut buf = Vec::new();
        serde_json::to_writer(ScriptJson(&mut buf), &value).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'), "{text}");
        let back: (String, u32) = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ("</script><!-- a&b >".to_string(), 1));
    }

    #[test]
    fn page_assets_neither_close_the_script_early_nor_load_anything() {
        let script = include_str!("picture.js");
        assert!(!script.to_ascii_lowercase().contains("</script"));
        assert!(!script.contains("<!--"));
        // The SVG namespace is a name, not a resource; no other URL may appear.
        let page = format!("{HTML_HEAD}{HTML_TAIL}");
        assert_eq!(page.matches("http://").count(), page.matches("http://www.w3.org/2000/svg").count());
        assert!(!page.contains("https://"));
        assert_eq!(page.matches("</script>").count(), 2, "the data element and the script");
    }

    #[test]
    fn an_empty_graph_gives_well_formed_pictures_and_unknown_peers_are_ignored() {
        let graph = Graph::default();
        let entries =
            [InternetEntry { peer: PeerId::new(7), label: "LoadBalancer x".to_string(), level: Level::Error }];
        let mut dot = Vec::new();
        assert_eq!(write_dot(&graph, &entries, &mut dot).unwrap(), 0);
        let dot = String::from_utf8(dot).unwrap();
        assert!(dot.contains("digraph kubereach {") && dot.ends_with("}\n"), "{dot}");
        assert!(!dot.contains(INTERNET));
        let mut mermaid = Vec::new();
        assert_eq!(write_mermaid(&graph, &entries, &mut mermaid).unwrap(), 0);
        assert!(String::from_utf8(mermaid).unwrap().contains("flowchart LR"));
        let mut html = Vec::new();
        assert_eq!(write_html(&graph, &entries, &mut html).unwrap(), 0);
        let html = String::from_utf8(html).unwrap();
        let data = html.split("id=\"kubereach-data\">").nth(1).unwrap().split("</script>").next().unwrap();
        let value: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(value["workloads"], serde_json::json!([]));
        assert_eq!(value["edges"], serde_json::json!([]));
        assert_eq!(value["entries"], serde_json::json!([]));
    }
}

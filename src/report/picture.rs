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
//! Where the repository declares the controller workload behind every `{ingress-controller}`
//! edge (its pods carry the labels the graph placed the controller by, in its namespace), that
//! workload stands for it: the routed edges are drawn from it, and no `{ingress-controller}` node
//! is drawn beside it ([`StandIn`]). Such a workload is marked as the ingress controller.
//!
//! `--group namespace` ([`write_dot_by_namespace`], [`write_mermaid_by_namespace`]) draws one node
//! per namespace instead of its workloads: an edge between two namespaces counts the connections
//! between their workloads, an edge from `{internet}` the entries into the namespace. These writers
//! hold one aggregate per pair of nodes, never the edges.
//!
//! The HTML page (markup here, style and script beside this file) is written by hand rather than
//! with a drawing library: it has to work offline from a single file, so nothing may be fetched.
//! It opens on the namespace overview (a reachability matrix), from which a namespace opens to its
//! workloads and a workload to its connections; the data it embeds is the same at every size.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use crate::finding::Level;
use crate::graph::routes::Source;
use crate::graph::{Conns, Endpoint, Graph, Peer, PeerId, INGRESS_CONTROLLER};

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

/// A workload drawn in its namespace: its node id, its peer.
type Member<'g> = (u32, PeerId, &'g Peer);

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
    fn namespaces(&self) -> Vec<(&'g str, Vec<Member<'g>>)> {
        let mut groups: Vec<(&'g str, Vec<Member<'g>>)> = Vec::new();
        for (node, &p) in self.order.iter().enumerate() {
            let peer = &self.graph.peers[p.index()];
            let member = (node as u32, p, peer);
            match groups.last_mut() {
                Some((ns, members)) if *ns == &*peer.namespace => members.push(member),
                _ => groups.push((&peer.namespace, vec![member])),
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
// The declared ingress controller
// ---------------------------------------------------------------------------------------------

/// The declared workloads that `{ingress-controller}` stands for, when the repository declares
/// the controller behind every way in through Ingresses and Routes. The graph places a controller
/// at a namespace and pod labels (a pseudo class); a declared controller's workload is the class
/// of the same namespace and labels. `{ingress-controller}` stays drawn as it is when some way in
/// goes through a controller the repository does not declare.
struct StandIn {
    /// The declared controller peers, sorted.
    peers: Vec<PeerId>,
    /// Per destination peer: the routed connections from each declared controller that serves it.
    routed: BTreeMap<PeerId, Vec<(PeerId, Conns)>>,
}

impl StandIn {
    fn of(graph: &Graph) -> Option<StandIn> {
        let mut peers: Vec<PeerId> = Vec::new();
        let mut routed: BTreeMap<PeerId, Vec<(PeerId, Conns)>> = BTreeMap::new();
        // Per controller class, its declared twin: a few controllers serve many Ingresses, and the
        // classes are searched once for each.
        let mut twins: BTreeMap<crate::graph::ClassId, Option<usize>> = BTreeMap::new();
        for x in &graph.exposures {
            let Some(entry) = graph.entries.get(x.entry) else { continue };
            // Gateway API routes have endpoints of their own (the Gateway), not this one.
            if entry.via.is_some() || !entry.kind.through_controller() {
                continue;
            }
            let Source::Class(c) = entry.source else { return None };
            if c == graph.ingress_controller {
                return None;
            }
            let twin = *twins.entry(c).or_insert_with(|| {
                let placed = graph.classes.get(c.index())?;
                graph.classes.iter().position(|d| {
                    !d.pseudo && !d.peers.is_empty() && d.namespace == placed.namespace && d.labels == placed.labels
                })
            });
            let declared = &graph.classes[twin?];
            for &t in &declared.peers {
                if !peers.contains(&t) {
                    peers.push(t);
                }
            }
            if x.admitted.is_empty() {
                continue;
            }
            for &dst in &graph.classes[x.class.index()].peers {
                for &t in &declared.peers {
                    if t == dst {
                        continue;
                    }
                    let list = routed.entry(dst).or_default();
                    match list.iter_mut().find(|(p, _)| *p == t) {
                        Some((_, conns)) => conns.union_with(&x.admitted),
                        None => list.push((t, x.admitted.clone())),
                    }
                }
            }
        }
        if peers.is_empty() {
            return None;
        }
        peers.sort_unstable();
        for list in routed.values_mut() {
            list.sort_by_key(|(p, _)| *p);
        }
        Some(StandIn { peers, routed })
    }

    fn is_controller(&self, peer: PeerId) -> bool {
        self.peers.binary_search(&peer).is_ok()
    }
}

/// Whether the graph has an edge from peer `src` to peer `dst`: some class of one allows
/// something to some class of the other.
fn peer_reaches(graph: &Graph, src: PeerId, dst: PeerId) -> bool {
    let (s, d) = (&graph.peers[src.index()], &graph.peers[dst.index()]);
    s.classes.iter().any(|&a| d.classes.iter().any(|&b| !graph.allowed(a, b).is_empty()))
}

/// The edges a picture draws: the connectivity list, in its order, except that an
/// `{ingress-controller}` edge is drawn from the declared controllers that stand for it (once
/// only: where the controller's own edge to the destination is in the list, that edge is drawn).
/// Returns the number of edges emitted.
fn for_each_drawn_edge<E>(
    graph: &Graph,
    stand_in: Option<&StandIn>,
    mut emit: impl FnMut(&Endpoint, &Endpoint, &Conns) -> Result<(), E>,
) -> Result<usize, E> {
    let mut count = 0;
    graph.for_each_edge(|src, dst, conns| {
        if let (Endpoint::IngressController, Endpoint::Peer(d), Some(s)) = (src, dst, stand_in) {
            if let Some(list) = s.routed.get(d) {
                for (t, routed) in list {
                    if !peer_reaches(graph, *t, *d) {
                        emit(&Endpoint::Peer(*t), dst, routed)?;
                        count += 1;
                    }
                }
                return Ok(());
            }
        }
        count += 1;
        emit(src, dst, conns)
    })?;
    Ok(count)
}

/// A workload's kind as drawn: `Deployment`, or `Deployment, ingress controller`.
fn drawn_kind<'k>(kind: &'k str, controller: bool) -> std::borrow::Cow<'k, str> {
    if controller {
        format!("{kind}, ingress controller").into()
    } else {
        kind.into()
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
    let stand_in = StandIn::of(graph);
    out.write_all(b"// kubereach reachability graph\n")?;
    out.write_all(DOT_HEAD.as_bytes())?;
    for (i, (namespace, members)) in nodes.namespaces().into_iter().enumerate() {
        writeln!(out, "  subgraph cluster_{i} {{")?;
        writeln!(
            out,
            "    label=\"{}\"; style=\"rounded,filled\"; fillcolor=\"#f3f5f8\"; color=\"#aab4c3\";",
            DotText(namespace)
        )?;
        for (node, p, peer) in members {
            let (name, kind) = workload_parts(peer);
            let kind = drawn_kind(kind, stand_in.as_ref().is_some_and(|s| s.is_controller(p)));
            writeln!(
                out,
                "    n{node} [label=\"{}\\n{}\", tooltip=\"{}\"];",
                DotText(name),
                DotText(&kind),
                DotText(&peer.name)
            )?;
        }
        out.write_all(b"  }\n")?;
    }
    let count = for_each_drawn_edge(graph, stand_in.as_ref(), |src, dst, conns| -> io::Result<()> {
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

/// The DOT declaration of a node outside namespaces: a controller or Gateway as a hexagon, an
/// address range or the internet as a dashed ellipse.
fn write_dot_outside_node(
    graph: &Graph,
    id: impl std::fmt::Display,
    e: &Endpoint,
    out: &mut dyn Write,
) -> io::Result<()> {
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
    Ok(())
}

/// The id of an edge's endpoint, declaring it first when it lies outside namespaces.
fn dot_node(graph: &Graph, nodes: &mut Nodes<'_>, e: &Endpoint, out: &mut dyn Write) -> io::Result<u32> {
    let (id, new) = nodes.id(e);
    if new {
        write_dot_outside_node(graph, id, e, out)?;
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
    let stand_in = StandIn::of(graph);
    out.write_all(b"%% kubereach reachability graph\n")?;
    out.write_all(MERMAID_HEAD.as_bytes())?;
    for (i, (namespace, members)) in nodes.namespaces().into_iter().enumerate() {
        writeln!(out, "  subgraph ns{i}[\"{}\"]", MermaidText(namespace))?;
        for (node, p, peer) in members {
            let (name, kind) = workload_parts(peer);
            let kind = drawn_kind(kind, stand_in.as_ref().is_some_and(|s| s.is_controller(p)));
            writeln!(out, "    n{node}[\"{}<br/>{}\"]:::workload", MermaidText(name), MermaidText(&kind))?;
        }
        out.write_all(b"  end\n")?;
        writeln!(out, "  style ns{i} fill:#f3f5f8,stroke:#aab4c3")?;
    }
    let count = for_each_drawn_edge(graph, stand_in.as_ref(), |src, dst, conns| -> io::Result<()> {
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
// Grouped by namespace (DOT and Mermaid)
// ---------------------------------------------------------------------------------------------

/// The graph folded by namespace: node ids `0..namespaces` are the namespaces in name order, then
/// the endpoints outside namespaces in the order the edges first name them, `{internet}` last.
struct Grouped<'g> {
    /// Name and number of workloads of each namespace.
    namespaces: Vec<(&'g str, usize)>,
    /// Per peer, its namespace's node id.
    group_of: Vec<u32>,
    outside: Vec<Endpoint>,
    outside_id: BTreeMap<Endpoint, u32>,
    /// Per pair of nodes: how many connections, and the union of their ports.
    edges: BTreeMap<(u32, u32), (usize, Conns)>,
    /// Per namespace node: the entries from the internet into it and the most severe level.
    entries: BTreeMap<u32, (usize, Level)>,
    /// Per namespace node: the number of its workloads the internet reaches.
    exposed: BTreeMap<u32, usize>,
}

impl<'g> Grouped<'g> {
    fn of(graph: &'g Graph, entries: &[InternetEntry]) -> Grouped<'g> {
        let nodes = Nodes::new(graph);
        let mut namespaces = Vec::new();
        let mut group_of = vec![0; graph.peers.len()];
        for (i, (namespace, members)) in nodes.namespaces().into_iter().enumerate() {
            for &(_, p, _) in &members {
                group_of[p.index()] = i as u32;
            }
            namespaces.push((namespace, members.len()));
        }
        let mut g = Grouped {
            namespaces,
            group_of,
            outside: Vec::new(),
            outside_id: BTreeMap::new(),
            edges: BTreeMap::new(),
            entries: BTreeMap::new(),
            exposed: BTreeMap::new(),
        };
        let stand_in = StandIn::of(graph);
        let _ = for_each_drawn_edge(graph, stand_in.as_ref(), |src, dst, conns| -> Result<(), ()> {
            let key = (g.node(src), g.node(dst));
            let slot = g.edges.entry(key).or_default();
            slot.0 += 1;
            slot.1.union_with(conns);
            Ok(())
        });
        let mut seen: Vec<PeerId> = Vec::new();
        for entry in valid_entries(graph, entries) {
            let ns = g.group_of[entry.peer.index()];
            let slot = g.entries.entry(ns).or_insert((0, entry.level));
            slot.0 += 1;
            slot.1 = slot.1.max(entry.level);
            if !seen.contains(&entry.peer) {
                seen.push(entry.peer);
                *g.exposed.entry(ns).or_default() += 1;
            }
        }
        g
    }

    fn node(&mut self, e: &Endpoint) -> u32 {
        match e {
            Endpoint::Peer(p) => self.group_of[p.index()],
            _ => {
                let next = (self.namespaces.len() + self.outside.len()) as u32;
                *self.outside_id.entry(*e).or_insert_with(|| {
                    self.outside.push(*e);
                    next
                })
            }
        }
    }

    fn internet(&self) -> u32 {
        (self.namespaces.len() + self.outside.len()) as u32
    }

    /// An edge's label: the number of connections, and their ports when that is short (the
    /// writer puts them on a line of their own).
    fn label(count: usize, conns: &Conns) -> (String, Option<String>) {
        let ports = conns.to_string();
        let noun = if count == 1 { "connection" } else { "connections" };
        (format!("{count} {noun}"), (ports.len() <= 40).then_some(ports))
    }

    fn workloads(count: usize) -> String {
        format!("{count} {}", if count == 1 { "workload" } else { "workloads" })
    }

    fn entries_label(count: usize) -> String {
        format!("{count} {}", if count == 1 { "entry" } else { "entries" })
    }
}

/// The graph in the DOT language with one node per namespace (`graph --format dot --group
/// namespace`). Returns the number of edges drawn.
pub fn write_dot_by_namespace(graph: &Graph, entries: &[InternetEntry], out: &mut dyn Write) -> io::Result<usize> {
    let g = Grouped::of(graph, entries);
    out.write_all(b"// kubereach reachability graph, by namespace\n")?;
    out.write_all(DOT_HEAD.as_bytes())?;
    for (i, (namespace, workloads)) in g.namespaces.iter().enumerate() {
        let mut tooltip = format!("namespace {namespace}: {}", Grouped::workloads(*workloads));
        let mut outline = String::new();
        if let (Some(exposed), Some((_, level))) = (g.exposed.get(&(i as u32)), g.entries.get(&(i as u32))) {
            tooltip.push_str(&format!(", {exposed} reachable from the internet"));
            outline = format!(", color=\"{}\", penwidth=2.5", level_colour(*level));
        }
        writeln!(
            out,
            "  n{i} [label=\"{}\\n{}\", fillcolor=\"#f3f5f8\", tooltip=\"{}\"{outline}];",
            DotText(namespace),
            Grouped::workloads(*workloads),
            DotText(&tooltip)
        )?;
    }
    for (k, e) in g.outside.iter().enumerate() {
        let id = g.namespaces.len() + k;
        write_dot_outside_node(graph, id, e, out)?;
    }
    for (&(s, d), (count, conns)) in &g.edges {
        let (first, ports) = Grouped::label(*count, conns);
        match ports {
            Some(ports) => writeln!(out, "  n{s} -> n{d} [label=\"{}\\n{}\"];", DotText(&first), DotText(&ports))?,
            None => writeln!(out, "  n{s} -> n{d} [label=\"{}\"];", DotText(&first))?,
        }
    }
    if !g.entries.is_empty() {
        let internet = g.internet();
        writeln!(
            out,
            "  n{internet} [label=\"{0}\", shape=doubleoctagon, style=\"filled,bold\", fillcolor=\"#fdecea\", color=\"#c62828\", fontcolor=\"#c62828\", tooltip=\"{0}\"];",
            DotText(INTERNET)
        )?;
        for (ns, (count, level)) in &g.entries {
            let colour = level_colour(*level);
            writeln!(
                out,
                "  n{internet} -> n{ns} [label=\"{}\", color=\"{colour}\", fontcolor=\"{colour}\", penwidth=2.5, style=bold];",
                Grouped::entries_label(*count)
            )?;
        }
    }
    out.write_all(b"}\n")?;
    Ok(g.edges.len() + g.entries.len())
}

/// The graph as a Mermaid flowchart with one node per namespace (`graph --format mermaid --group
/// namespace`). Returns the number of edges drawn.
pub fn write_mermaid_by_namespace(graph: &Graph, entries: &[InternetEntry], out: &mut dyn Write) -> io::Result<usize> {
    let g = Grouped::of(graph, entries);
    out.write_all(b"%% kubereach reachability graph, by namespace\n")?;
    out.write_all(MERMAID_HEAD.as_bytes())?;
    out.write_all(b"  classDef namespace fill:#f3f5f8,stroke:#5b6b7f,color:#1f2937\n")?;
    for (i, (namespace, workloads)) in g.namespaces.iter().enumerate() {
        writeln!(out, "  n{i}[\"{}<br/>{}\"]:::namespace", MermaidText(namespace), Grouped::workloads(*workloads))?;
    }
    for (k, e) in g.outside.iter().enumerate() {
        let id = g.namespaces.len() + k;
        let (label, kind, _) = outside_parts(graph, e);
        match e {
            Endpoint::IngressController | Endpoint::Gateway(_) => {
                writeln!(out, "  n{id}{{{{\"{}\"}}}}:::controller", MermaidText(&label))?;
            }
            _ => writeln!(out, "  n{id}([\"{}<br/>{}\"]):::outside", MermaidText(&label), MermaidText(kind))?,
        }
    }
    for (&(s, d), (count, conns)) in &g.edges {
        let (first, ports) = Grouped::label(*count, conns);
        match ports {
            Some(ports) => writeln!(out, "  n{s} -->|\"{}<br/>{}\"| n{d}", MermaidText(&first), MermaidText(&ports))?,
            None => writeln!(out, "  n{s} -->|\"{}\"| n{d}", MermaidText(&first))?,
        }
    }
    if !g.entries.is_empty() {
        let internet = g.internet();
        writeln!(out, "  n{internet}((\"{}\")):::internet", MermaidText(INTERNET))?;
        for (ns, (count, _)) in &g.entries {
            writeln!(out, "  n{internet} ==>|\"{}\"| n{ns}", Grouped::entries_label(*count))?;
        }
        // Links are styled by their position among all links, counted from 0 in writing order.
        for (i, (_, (_, level))) in g.entries.iter().enumerate() {
            let colour = level_colour(*level);
            writeln!(out, "  linkStyle {} stroke:{colour},stroke-width:3px,color:{colour}", g.edges.len() + i)?;
        }
        for ns in g.entries.keys() {
            writeln!(out, "  class n{ns} exposed")?;
        }
    }
    Ok(g.edges.len() + g.entries.len())
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
    /// The declared ingress controller, which `{ingress-controller}` stands for.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    controller: bool,
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
<body data-view="overview">
<header>
  <h1>kubereach <span>reachability graph</span></h1>
  <span id="counts"></span>
  <nav><button id="view-overview" type="button" data-view="overview">Namespaces</button><button id="view-all" type="button" data-view="all">All workloads</button></nav>
  <span id="where"></span>
  <input id="search" type="search" placeholder="Search workloads" autocomplete="off" spellcheck="false" aria-label="Search workloads by name">
  <span id="matches"></span>
  <span class="zoom"><button id="zoom-out" title="Zoom out">&minus;</button><button id="zoom-fit" title="Fit to window">Fit</button><button id="zoom-in" title="Zoom in">+</button></span>
</header>
<main>
  <div id="canvas">
    <div id="matrix"></div>
    <svg id="ego" role="img" aria-label="a workload and its connections"></svg>
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
/// "namespace", "controller"?}], "edges": [[src, dst, "TCP 80"]], "outside": [{"id", "name", "label", "kind",
/// "type"}], "entries": [[node, "label", "error"]]}`, where a node is an index into the workloads
/// followed by the outside endpoints (each of which carries its index as `id`).
pub fn write_html(graph: &Graph, entries: &[InternetEntry], out: &mut dyn Write) -> io::Result<usize> {
    let mut nodes = Nodes::new(graph);
    let stand_in = StandIn::of(graph);
    out.write_all(HTML_HEAD.as_bytes())?;
    out.write_all(b"{\"version\":1,\n\"workloads\":[")?;
    for (i, &p) in nodes.order.iter().enumerate() {
        let peer = &graph.peers[p.index()];
        let (label, kind) = workload_parts(peer);
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let controller = stand_in.as_ref().is_some_and(|s| s.is_controller(p));
        let w = HtmlWorkload { name: &peer.name, label, kind, namespace: &peer.namespace, controller };
        serde_json::to_writer(ScriptJson(out), &w)?;
    }
    out.write_all(b"],\n\"edges\":[")?;
    let mut outside: Vec<HtmlOutside> = Vec::new();
    let mut first = true;
    let count = for_each_drawn_edge(graph, stand_in.as_ref(), |src, dst, conns| -> io::Result<()> {
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
        for write in [write_dot_by_namespace, write_mermaid_by_namespace] {
            let mut grouped = Vec::new();
            assert_eq!(write(&graph, &entries, &mut grouped).unwrap(), 0);
            let grouped = String::from_utf8(grouped).unwrap();
            assert!(grouped.contains("by namespace") && !grouped.contains(INTERNET), "{grouped}");
        }
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

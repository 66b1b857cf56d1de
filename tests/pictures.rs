//! The pictures of the graph (`graph --format dot|mermaid|html`): snapshots of the example, the
//! same edges as the connectivity list, internet entries, escaping of odd names, and the HTML page
//! rendered by a headless browser (Chromium), offline. Without Chromium or Graphviz's `dot` the
//! tests that need them skip outside CI and fail with CI set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubereach::finding::Level;
use kubereach::graph::{self, Graph};
use kubereach::model::build::{self as analysis, LoadOptions};
use kubereach::report::picture::{write_dot, write_html, write_mermaid, InternetEntry};

mod common;
use common::{kubereach_in_crate, require_tool, wait_within, RunExt as _};

/// Only a hang should reach it.
const BROWSER_TIME_LIMIT: Duration = Duration::from_secs(60);

fn kubereach(args: &[&str]) -> String {
    kubereach_in_crate(args).run().ok()
}

fn example(format: &str) -> String {
    kubereach(&["graph", "examples/shop", "--format", format, "-j", "2"])
}

/// Writes `files` to a temporary folder and builds its graph through the library.
fn library_graph(files: &[(&str, &str)]) -> Graph {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write manifest");
    }
    let options = LoadOptions { keep_text: kubereach::load::KeepText::None, ..LoadOptions::default() };
    let loaded = analysis::load(&[dir.path().to_path_buf()], &options).expect("load");
    graph::build(&loaded.single().model)
}

fn peer(graph: &Graph, name: &str) -> graph::PeerId {
    graph::PeerId::new(graph.peers.iter().position(|p| p.name == name).unwrap_or_else(|| panic!("no peer {name}")))
}

fn render(
    write: fn(&Graph, &[InternetEntry], &mut dyn Write) -> std::io::Result<usize>,
    graph: &Graph,
    entries: &[InternetEntry],
) -> (String, usize) {
    let mut out = Vec::new();
    let n = write(graph, entries, &mut out).expect("write");
    (String::from_utf8(out).expect("utf-8"), n)
}

/// The DOT node ids and the full names their tooltips carry.
fn dot_names(dot: &str) -> BTreeMap<String, String> {
    dot.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (id, rest) = l.split_once(" [")?;
            let tooltip = rest.split_once("tooltip=\"")?.1.rsplit_once("\"]")?.0;
            Some((id.to_string(), tooltip.to_string()))
        })
        .collect()
}

/// `SRC => DST : LABEL` for every DOT edge, in writing order.
fn dot_edges(dot: &str) -> Vec<String> {
    let names = dot_names(dot);
    dot.lines()
        .filter_map(|l| {
            let (ends, rest) = l.trim_start().split_once(" [label=\"")?;
            let (src, dst) = ends.split_once(" -> ")?;
            let label = rest.split_once('"')?.0;
            Some(format!("{} => {} : {label}", names[src], names[dst]))
        })
        .collect()
}

const TWO_NAMESPACES: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: front}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: data}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: x, ports: [{containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: data}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: front}}}]
    ports: [{port: 5432}]
";

// ---------------------------------------------------------------------------------------------
// DOT and Mermaid
// ---------------------------------------------------------------------------------------------

#[test]
fn example_dot() {
    insta::assert_snapshot!(example("dot"));
}

#[test]
fn example_mermaid() {
    insta::assert_snapshot!(example("mermaid"));
}

#[test]
fn example_dot_by_namespace() {
    insta::assert_snapshot!(kubereach(&["graph", "examples/shop", "--format", "dot", "--group", "namespace"]));
}

#[test]
fn example_mermaid_by_namespace() {
    insta::assert_snapshot!(kubereach(&["graph", "examples/shop", "--format", "mermaid", "--group", "namespace"]));
}

/// Grouped by namespace, an edge counts the lines of the connectivity list between its two ends,
/// and every line is counted once; `--group` applies to DOT and Mermaid only.
#[test]
fn grouped_pictures_count_every_connection_once() {
    let txt = example("txt");
    let namespace_of = |end: &str| -> String {
        if end.starts_with('{') || end.ends_with("[External]") {
            end.to_string()
        } else {
            end.split_once('/').unwrap().0.to_string()
        }
    };
    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in txt.lines() {
        let (src, rest) = line.split_once(" => ").unwrap();
        let dst = rest.split_once(" : ").unwrap().0;
        *expected.entry((namespace_of(src), namespace_of(dst))).or_default() += 1;
    }
    let dot = kubereach(&["graph", "examples/shop", "--format", "dot", "--group", "namespace"]);
    // Node ids to names: a namespace's label starts with its name; the others are named in full
    // by their tooltips.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for l in dot.lines() {
        let Some((id, rest)) = l.trim_start().split_once(" [label=\"") else { continue };
        if id.contains(' ') {
            continue;
        }
        let tooltip = rest.split_once("tooltip=\"").unwrap().1.split_once('"').unwrap().0;
        let name = match tooltip.strip_prefix("namespace ") {
            Some(t) => t.split_once(':').unwrap().0.to_string(),
            None => tooltip.to_string(),
        };
        names.insert(id.to_string(), name);
    }
    let mut drawn: BTreeMap<(String, String), usize> = BTreeMap::new();
    for l in dot.lines() {
        let Some((ends, rest)) = l.trim_start().split_once(" [label=\"") else { continue };
        let Some((s, d)) = ends.split_once(" -> ") else { continue };
        if names[s] == "{internet}" {
            continue;
        }
        let count: usize = rest.split_once(' ').unwrap().0.parse().unwrap();
        drawn.insert((names[s].clone(), names[d].clone()), count);
    }
    assert_eq!(drawn, expected);
    assert!(dot.contains("-> n0 [label=\"1 entry\", color=\"#c62828\""), "{dot}");
    if let Some(graphviz) = require_tool("dot", GRAPHVIZ) {
        graphviz_svg(&graphviz, &dot);
    }
    let mermaid = kubereach(&["graph", "examples/shop", "--format", "mermaid", "--group", "namespace"]);
    assert_eq!(mermaid.lines().filter(|l| l.contains(" -->|")).count(), expected.len());
    for format in ["txt", "json", "html"] {
        let out = kubereach_in_crate(["graph", "examples/shop", "--format", format, "--group", "namespace"]).run();
        assert_eq!(out.code, Some(2), "{format}: {}", out.stderr);
        assert!(out.stderr.contains("--group draws `dot` and `mermaid` pictures"), "{}", out.stderr);
    }
}

/// A declared ingress-nginx controller in `edge` and an Ingress of its class to `shop/web`.
fn declared_controller(controller_egress_denied: bool) -> String {
    let mut text = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: edge-controller, namespace: edge}\n\
         spec:\n  selector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}\n  template:\n\
         \x20   metadata: {labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller}}\n\
         \x20   spec: {containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n\
         spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n\
         \x20   spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}\n---\n\
         apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n\
         spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n---\n\
         apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\n\
         spec: {ingressClassName: nginx, rules: [{host: shop.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}\n",
    );
    if controller_egress_denied {
        text.push_str(
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: edge}\n\
             spec: {podSelector: {}, policyTypes: [Egress]}\n",
        );
    }
    text
}

/// `{ingress-controller}` is not drawn beside the declared controller it stands for: its edges
/// are the controller workload's (drawn once where the workload's own edge is in the list, else
/// from the workload with the routed ports), and the workload is marked as the controller.
#[test]
fn a_declared_controller_stands_for_the_ingress_controller() {
    for denied in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.yaml"), declared_controller(denied)).unwrap();
        let path = dir.path().to_str().unwrap();
        let txt = kubereach(&["graph", path]);
        assert!(txt.contains("{ingress-controller} => shop/web[Deployment] : TCP 8080\n"), "{txt}");
        let own = "edge/edge-controller[Deployment] => shop/web[Deployment] : All Connections";
        assert_eq!(txt.contains(own), !denied, "{txt}");
        let dot = kubereach(&["graph", path, "--format", "dot"]);
        assert!(!dot.contains("{ingress-controller}"), "{dot}");
        assert!(dot.contains("label=\"edge-controller\\nDeployment, ingress controller\""), "{dot}");
        let edges = dot_edges(&dot);
        let from_controller: Vec<&String> =
            edges.iter().filter(|e| e.starts_with("edge/edge-controller[Deployment] => shop/web")).collect();
        let expected = if denied { "edge/edge-controller[Deployment] => shop/web[Deployment] : TCP 8080" } else { own };
        assert_eq!(from_controller, [expected], "{dot}");
        let mermaid = kubereach(&["graph", path, "--format", "mermaid"]);
        assert!(!mermaid.contains("#123;ingress-controller") && !mermaid.contains("{ingress-controller}"), "{mermaid}");
        let grouped = kubereach(&["graph", path, "--format", "dot", "--group", "namespace"]);
        assert!(!grouped.contains("{ingress-controller}"), "{grouped}");
        let data = html_data(&kubereach(&["graph", path, "--format", "html"]));
        assert!(data["outside"].as_array().unwrap().iter().all(|o| o["type"] != "ingress-controller"), "{data}");
        assert_eq!(data["workloads"][0]["controller"], true, "{data}");
        assert!(data["workloads"][1].get("controller").is_none(), "{data}");
    }
    // An Ingress whose controller the repository does not declare keeps `{ingress-controller}`.
    let dot = kubereach(&["graph", "examples/shop", "--format", "dot"]);
    assert!(dot.contains("[label=\"{ingress-controller}\""), "{dot}");
}

#[test]
fn dot_draws_exactly_the_connectivity_list_and_the_internet_paths() {
    let txt: Vec<String> = example("txt").lines().map(str::to_owned).collect();
    assert!(!txt.is_empty());
    let (internet, connections): (Vec<String>, Vec<String>) =
        dot_edges(&example("dot")).into_iter().partition(|e| e.starts_with("{internet} => "));
    assert_eq!(connections, txt);
    // The three paths `internet-exposed-workload` reports on the example, labelled by entry.
    assert_eq!(
        internet,
        [
            "{internet} => shop-web/promo[Deployment] : LoadBalancer Service/shop-web/promo",
            "{internet} => billing/billing-portal[Deployment] : Ingress/billing/billing-portal",
            "{internet} => shop-web/frontend[Deployment] : Ingress/shop-web/frontend",
        ]
    );
}

#[test]
fn mermaid_draws_one_link_per_connection_inside_namespace_subgraphs() {
    let txt = example("txt");
    let mermaid = example("mermaid");
    assert_eq!(mermaid.lines().filter(|l| l.contains(" -->|")).count(), txt.lines().count());
    for namespace in ["billing", "shop-api", "shop-data", "shop-web"] {
        assert_eq!(mermaid.matches(&format!("[\"{namespace}\"]\n")).count(), 1, "subgraph {namespace}");
    }
    assert_eq!(mermaid.matches("\n  end\n").count(), 4);
}

#[test]
fn pictures_are_byte_identical_across_runs_and_thread_counts() {
    for format in ["dot", "mermaid", "html"] {
        let one = kubereach(&["graph", "examples/shop", "--format", format, "-j", "1"]);
        let four = kubereach(&["graph", "examples/shop", "--format", format, "-j", "4"]);
        assert_eq!(one, four, "{format}");
        assert_eq!(one, example(format), "{format}");
    }
}

#[test]
fn internet_entries_are_drawn_as_highlighted_edges_from_one_internet_node() {
    let graph = library_graph(&[("app.yaml", TWO_NAMESPACES)]);
    let web = peer(&graph, "front/web[Deployment]");
    let db = peer(&graph, "data/db[Deployment]");
    let entries = [
        InternetEntry { peer: web, label: "LoadBalancer front/web 80/TCP".to_string(), level: Level::Error },
        InternetEntry { peer: db, label: "NodePort data/db 30432/TCP".to_string(), level: Level::Warning },
    ];
    let (plain, connections) = render(write_dot, &graph, &[]);
    assert!(!plain.contains("{internet}"), "no entries, no internet node");
    let plain_edges = dot_edges(&plain);
    assert_eq!(plain_edges.len(), connections);
    assert!(plain_edges.contains(&"front/web[Deployment] => data/db[Deployment] : TCP 5432".to_string()));

    let (dot, drawn) = render(write_dot, &graph, &entries);
    assert_eq!(drawn, connections + 2);
    let names = dot_names(&dot);
    let id = |name: &str| names.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| id.clone()).unwrap();
    let (internet, web_id, db_id) = (id("{internet}"), id("front/web[Deployment]"), id("data/db[Deployment]"));
    assert!(dot.contains(&format!("  {internet} [label=\"{{internet}}\", shape=doubleoctagon")), "{dot}");
    assert!(
        dot.contains(&format!(
            "  {internet} -> {web_id} [label=\"LoadBalancer front/web 80/TCP\", color=\"#c62828\", fontcolor=\"#c62828\", penwidth=2.5, style=bold];"
        )),
        "{dot}"
    );
    assert!(dot.contains(&format!("  {internet} -> {db_id} [label=\"NodePort data/db 30432/TCP\", color=\"#e65100\"")));
    assert!(dot.contains(&format!("  {web_id} [color=\"#c62828\", penwidth=2.5];")), "exposed node outlined");
    assert!(
        dot_edges(&dot).contains(&"{internet} => front/web[Deployment] : LoadBalancer front/web 80/TCP".to_string())
    );

    // Without Graphviz (outside CI), only this part is skipped.
    if let Some(graphviz) = require_tool("dot", GRAPHVIZ) {
        let svg = graphviz_svg(&graphviz, &dot);
        assert!(svg.contains(">{internet}</text>"), "{svg}");
        assert!(svg.contains(">LoadBalancer front/web 80/TCP</text>"), "{svg}");
    }

    let (mermaid, drawn) = render(write_mermaid, &graph, &entries);
    assert_eq!(drawn, connections + 2);
    let node_of = |label: &str| {
        let line = mermaid.lines().find(|l| l.contains(&format!("[\"{label}<br/>Deployment\"]"))).unwrap();
        line.trim_start().split_once('[').unwrap().0.to_string()
    };
    let web_m = node_of("web");
    let internet_m = mermaid
        .lines()
        .find(|l| l.ends_with("((\"{internet}\")):::internet"))
        .map(|l| l.trim_start().split_once('(').unwrap().0.to_string())
        .expect("internet node");
    assert!(mermaid.contains(&format!("  {internet_m} ==>|\"LoadBalancer front/web 80/TCP\"| {web_m}\n")));
    // Links are styled by index: the first entry comes right after the connections.
    assert!(mermaid.contains(&format!("  linkStyle {connections} stroke:#c62828,stroke-width:3px,color:#c62828\n")));
    assert!(mermaid.contains(&format!("  linkStyle {} stroke:#e65100", connections + 1)));
    assert!(mermaid.contains(&format!("  class {web_m} exposed\n")));

    let (html, drawn) = render(write_html, &graph, &entries);
    assert_eq!(drawn, connections + 2);
    let data = html_data(&html);
    let workloads: Vec<&str> =
        data["workloads"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    let web_h = workloads.iter().position(|w| *w == "front/web[Deployment]").unwrap();
    assert_eq!(data["entries"][0], serde_json::json!([web_h, "LoadBalancer front/web 80/TCP", "error"]));
    assert_eq!(data["edges"].as_array().unwrap().len(), connections);
}

#[test]
fn odd_names_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("odd.yaml"), ODD_NAMES).unwrap();
    let path = dir.path().to_str().unwrap();
    let txt = kubereach(&["graph", path]);
    assert_eq!(txt.lines().count(), 2, "{txt}");

    let dot = kubereach(&["graph", path, "--format", "dot"]);
    assert!(dot.contains("    label=\"n<s>&amp;\\\"x\\\\\"; style="), "{dot}");
    assert!(
        dot.contains(
            "[label=\"we\\\"ird\\\\\\nDeployment\", tooltip=\"n<s>&amp;\\\"x\\\\/we\\\"ird\\\\[Deployment]\"]"
        ),
        "{dot}"
    );
    for line in dot.lines() {
        // Escaped pairs removed, every remaining quote must open or close a string.
        let bare = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(bare.matches('"').count() % 2, 0, "unbalanced quotes: {line}");
    }
    // Without Graphviz (outside CI), only this half is skipped.
    if let Some(graphviz) = require_tool("dot", GRAPHVIZ) {
        let svg = graphviz_svg(&graphviz, &dot);
        assert!(svg.contains(">n&lt;s&gt;&amp;&quot;x\\</text>"), "{svg}");
        assert!(svg.contains(">we&quot;ird\\</text>"), "{svg}");
        assert!(svg.contains(">p[1]&lt;/script&gt;&lt;!&#45;&#45;#`|{x}</text>"), "{svg}");
    }

    let mermaid = kubereach(&["graph", path, "--format", "mermaid"]);
    assert!(mermaid.contains("  subgraph ns0[\"n#lt;s#gt;#amp;#quot;x#92;\"]\n"), "{mermaid}");
    assert!(mermaid.contains("[\"p[1]#lt;/script#gt;#lt;!--#35;#96;#124;{x}<br/>Pod\"]:::workload\n"), "{mermaid}");
    for line in mermaid.lines().filter(|l| l.contains("[\"")) {
        let inner = line.split_once("[\"").unwrap().1.rsplit_once("\"]").unwrap().0;
        assert!(!inner.contains('"'), "quote inside a label: {line}");
    }

    let html = kubereach(&["graph", path, "--format", "html"]);
    assert_eq!(html.to_ascii_lowercase().matches("</script").count(), 2, "only the two closing tags");
    assert!(!html.contains("<!--"));
    let data = html_data(&html);
    assert_eq!(data["workloads"][0]["name"], "n<s>&\"x\\/p[1]</script><!--#`|{x}[Pod]");
    assert_eq!(data["workloads"][0]["label"], "p[1]</script><!--#`|{x}");
}

const ODD_NAMES: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: 'we"ird\'
  namespace: 'n<s>&"x\'
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: "p[1]</script><!--#`|{x}"
  namespace: 'n<s>&"x\'
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: 'n<s>&"x\'}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]
"#;

/// What [`require_tool`] says of Graphviz's `dot` when it is missing.
const GRAPHVIZ: &str = "Graphviz; Debian package `graphviz`";

/// The SVG that Graphviz's `dot` (at `graphviz`) makes of `dot`.
fn graphviz_svg(graphviz: &Path, dot: &str) -> String {
    let mut child = Command::new(graphviz)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dot");
    child.stdin.take().unwrap().write_all(dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot rejected the picture: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "dot warned: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn example_dot_parses_with_graphviz() {
    let Some(graphviz) = require_tool("dot", GRAPHVIZ) else { return };
    let svg = graphviz_svg(&graphviz, &example("dot"));
    // The connections and the three paths from the internet.
    assert_eq!(svg.matches("<g id=\"edge").count(), example("txt").lines().count() + 3);
    for namespace in ["billing", "shop-api", "shop-data", "shop-web"] {
        // Graphviz writes a hyphen as an entity.
        let text = namespace.replace('-', "&#45;");
        assert!(svg.contains(&format!(">{text}</text>")), "cluster {namespace}");
    }
}

/// `per_namespace` Deployments in each of namespaces `a` and `b`, and no policy: every ordered
/// pair connects, and each workload talks to and from any address.
fn open_repository(per_namespace: usize) -> String {
    let mut text = String::new();
    for namespace in ["a", "b"] {
        for i in 0..per_namespace {
            text.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i:03}, namespace: {namespace}}}\n\
                 spec:\n  selector: {{matchLabels: {{app: w{i:03}}}}}\n  template:\n    metadata: {{labels: {{app: w{i:03}}}}}\n\
                 \x20   spec: {{containers: [{{name: c, image: x}}]}}\n---\n"
            ));
        }
    }
    text
}

#[test]
fn a_large_graph_is_drawn_whole() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("open.yaml"), open_repository(40)).unwrap();
    let path = dir.path().to_str().unwrap();
    let txt: Vec<String> = kubereach(&["graph", path]).lines().map(str::to_owned).collect();
    // 80 workloads: every ordered pair, plus one edge each way to any address.
    assert_eq!(txt.len(), 80 * 79 + 2 * 80);
    assert_eq!(dot_edges(&kubereach(&["graph", path, "--format", "dot"])), txt);
    let mermaid = kubereach(&["graph", path, "--format", "mermaid"]);
    assert_eq!(mermaid.lines().filter(|l| l.contains(" -->|")).count(), txt.len());
    let data = html_data(&kubereach(&["graph", path, "--format", "html"]));
    assert_eq!(data["edges"].as_array().unwrap().len(), txt.len());
    assert_eq!(data["workloads"].as_array().unwrap().len(), 80);
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

fn html_data(html: &str) -> serde_json::Value {
    let data = html.split("<script type=\"application/json\" id=\"kubereach-data\">").nth(1).unwrap();
    serde_json::from_str(data.split("</script>").next().unwrap()).expect("embedded JSON")
}

/// Values of `attribute` in serialised markup, entities decoded.
fn attribute_values(markup: &str, attribute: &str) -> Vec<String> {
    let key = format!(" {attribute}=\"");
    markup
        .split(&key)
        .skip(1)
        .map(|rest| {
            let raw = rest.split('"').next().unwrap();
            raw.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        })
        .collect()
}

#[test]
fn html_is_one_offline_file() {
    let html = example("html");
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
    ));
    assert!(html.contains("<title>kubereach: reachability graph</title>"));
    for attribute in ["src", "href"] {
        for value in attribute_values(&html, attribute) {
            assert!(!value.contains("//"), "{attribute}=\"{value}\" points at the network");
        }
    }
    // The only URL is the SVG namespace, which names elements and is never fetched.
    assert_eq!(html.matches("http://").count(), html.matches("http://www.w3.org/2000/svg").count());
    assert!(!html.contains("https://"));
    assert!(!html.contains("url(http") && !html.contains("@import"));
    // The analysed path stays out of the page.
    assert!(!html.contains("examples/shop") && !html.contains(common::MANIFEST_DIR));
    let data = html_data(&html);
    assert_eq!(data["edges"].as_array().unwrap().len(), example("txt").lines().count());
}

/// A stand-in proxy on the loopback interface: it records the request line of every connection
/// the browser opens and answers each with a refusal, so that a request fails fast instead of
/// hanging.
struct Proxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, done) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => seen.lock().unwrap().push(refuse(stream)),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
            // A connection that arrived after the last poll still counts.
            while let Ok((stream, _)) = listener.accept() {
                seen.lock().unwrap().push(refuse(stream));
            }
        });
        Proxy { port, requests, stop, thread: Some(thread) }
    }

    /// The request lines seen, once the proxy has stopped.
    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

/// Answers a connection with a refusal; returns its request line.
fn refuse(mut stream: TcpStream) -> String {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).unwrap_or(0);
    let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let request = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("(no request line)").to_string();
    if request.is_empty() {
        "(empty request)".to_string()
    } else {
        request
    }
}

/// Types `shop-d` (in capitals) into the search box and records the matches, clears it, clicks
/// `shop-data/redis[Deployment]` and records what the panel lists and what is highlighted.
const DRIVER: &str = r#"
(function () {
  const search = document.getElementById('search');
  search.value = 'SHOP-D';
  search.dispatchEvent(new Event('input'));
  const names = (selector) => Array.from(document.querySelectorAll(selector), (e) => e.getAttribute('data-node'));
  const matches = names('.node.match').sort();
  search.value = '';
  search.dispatchEvent(new Event('input'));
  const target = document.querySelector('[data-node="shop-data/redis[Deployment]"] rect');
  target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  const rows = (cls) => Array.from(document.querySelectorAll('#panel ul.' + cls + ' li'))
    .filter((li) => li.querySelector('.peer'))
    .map((li) => [li.querySelector('.peer').textContent, li.querySelector('.ports').textContent]);
  document.body.setAttribute('data-test-report', JSON.stringify({
    matches,
    selected: names('.node.selected')[0],
    neighbours: names('.node.hi'),
    edges: Array.from(document.querySelectorAll('.edge.hi'), (e) => e.getAttribute('data-conn')),
    in: rows('in'),
    out: rows('out'),
  }));
})();
"#;

/// Chromium's own traffic, silenced so that whatever reaches the proxy comes from the page: the
/// network clock, the search engine preconnects and the AI-mode eligibility check are features to
/// turn off, and the account list and the component updater's check (which newer Chromium makes
/// despite `--disable-component-update`) are asked of a closed port on the loopback interface
/// (kept off the proxy), where they are refused at once.
const BROWSER_QUIET: &[&str] = &[
    "--disable-features=NetworkTimeServiceQuerying,PreconnectToSearch,AimEnabled,AimServerRequestOnStartupEnabled",
    "--gaia-url=http://127.0.0.1:9/",
    "--component-updater=url-source=http://127.0.0.1:9/",
    "--proxy-bypass-list=<-loopback>;127.0.0.1:9",
];

/// Runs headless Chromium (at `browser`) on `page` with every request sent to `proxy`; returns
/// standard output.
fn chromium(browser: &Path, page: &Path, fragment: &str, proxy: &Proxy, extra: &[&str]) -> String {
    let work = tempfile::tempdir().unwrap();
    let stdout_path = work.path().join("stdout");
    let stderr_path = work.path().join("stderr");
    let profile = work.path().join("profile");
    let url = format!("file://{}{fragment}", page.display());
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=http://127.0.0.1:{}", proxy.port))
        .args(BROWSER_QUIET)
        .args(extra)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start chromium");
    let status = wait_within(&mut child, BROWSER_TIME_LIMIT, Duration::from_millis(50))
        .unwrap_or_else(|| panic!("chromium did not finish within {BROWSER_TIME_LIMIT:?} on {url}"));
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    std::fs::read_to_string(&stdout_path).unwrap()
}

/// The start tag of the element whose `data-node` is `name`.
fn element_of<'d>(dom: &'d str, name: &str) -> &'d str {
    let at = dom.find(&format!(" data-node=\"{name}\"")).unwrap_or_else(|| panic!("no node {name}"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

const NONE: Vec<String> = Vec::new();

fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{} is not a PNG", path.display());
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

/// The page as a browser renders it: after its script ran, the DOM holds a box per namespace, a
/// node per workload and endpoint, and one curve per line of the connectivity list (read back
/// from the `data-conn` attributes the script sets). A stand-in proxy on the loopback interface
/// sees every request the browser makes; a probe page that does load an image proves that it
/// would see one, and the graph page must make none.
#[test]
fn html_renders_in_a_headless_browser_without_network() {
    let Some(browser) = require_tool("chromium", "headless Chromium; Debian package `chromium`") else { return };
    let work = tempfile::tempdir().unwrap();

    // The probe: a page that fetches an image must be seen by the proxy.
    let probe = work.path().join("probe.html");
    std::fs::write(&probe, "<!DOCTYPE html><img src=\"http://kubereach-probe.invalid/x.png\">").unwrap();
    let proxy = Proxy::start();
    chromium(&browser, &probe, "", &proxy, &["--dump-dom"]);
    let seen = proxy.finish();
    assert!(
        seen.iter().any(|r| r.contains("kubereach-probe.invalid")),
        "the proxy did not see the probe page's request ({seen:?}): the checks below would prove nothing"
    );

    // The example, rendered.
    let page = work.path().join("graph.html");
    let html = example("html");
    std::fs::write(&page, &html).unwrap();
    assert!(!html.contains("data-node=\""), "nodes must come from the script, not from the file");
    // The first paint is the namespace overview: a matrix, no curve.
    let proxy = Proxy::start();
    let dom = chromium(&browser, &page, "", &proxy, &["--dump-dom"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    assert!(dom.contains("<body data-view=\"overview\""), "opens on the overview");
    assert!(dom.contains("<table class=\"matrix\">"));
    assert_eq!(dom.matches(" data-edge=\"").count(), 0);
    assert!(dom.contains("<h2>Overview</h2>"), "the side panel was filled");
    // The whole picture, one link away.
    let proxy = Proxy::start();
    let dom = chromium(&browser, &page, "#~all", &proxy, &["--dump-dom"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");

    let txt: Vec<String> = example("txt").lines().map(str::to_owned).collect();
    assert_eq!(attribute_values(&dom, "data-conn"), txt, "one drawn edge per connection, in order");
    assert_eq!(dom.matches(" data-edge=\"").count(), txt.len());
    let rendered_nodes = attribute_values(&dom, "data-node");
    let json: serde_json::Value = serde_json::from_str(&example("json")).unwrap();
    for p in json["peers"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        assert_eq!(rendered_nodes.iter().filter(|n| *n == id).count(), 1, "workload {id} drawn once");
        let namespace = p["namespace"].as_str().unwrap();
        assert!(attribute_values(&dom, "data-namespace").iter().any(|n| n == namespace), "namespace {namespace}");
    }
    for line in &txt {
        let (src, rest) = line.split_once(" => ").unwrap();
        let dst = rest.split_once(" : ").unwrap().0;
        for endpoint in [src, dst] {
            assert!(rendered_nodes.iter().any(|n| n == endpoint), "endpoint {endpoint} drawn");
        }
    }
    assert_eq!(attribute_values(&dom, "data-namespace").len(), 4);
    assert!(dom.contains("<h2>All workloads</h2>"), "the side panel was filled");

    // A reader's gestures, played by a script added to a copy of the page: typing in the search
    // box, then clicking a workload. What the page shows is read back from the DOM.
    let driven = work.path().join("driven.html");
    std::fs::write(&driven, html.replace("</body>", &format!("<script>{DRIVER}</script>\n</body>"))).unwrap();
    let proxy = Proxy::start();
    let dom = chromium(&browser, &driven, "#~all", &proxy, &["--dump-dom"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    let report: serde_json::Value = serde_json::from_str(&attribute_values(&dom, "data-test-report")[0]).unwrap();
    let mut expected_matches: Vec<&str> = json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .filter(|id| id.to_lowercase().contains("shop-d"))
        .collect();
    expected_matches.sort_unstable();
    assert_eq!(expected_matches.len(), 2);
    assert_eq!(report["matches"], serde_json::json!(expected_matches), "search is case-insensitive, on names");
    let redis = "shop-data/redis[Deployment]";
    let incoming: Vec<serde_json::Value> = txt
        .iter()
        .filter_map(|l| {
            let (src, rest) = l.split_once(" => ")?;
            let (dst, conns) = rest.split_once(" : ")?;
            (dst == redis).then(|| serde_json::json!([src, conns]))
        })
        .collect();
    assert_eq!(incoming.len(), 4);
    assert_eq!(report["in"], serde_json::json!(incoming), "the panel lists what reaches the workload, with ports");
    assert_eq!(report["out"], serde_json::json!([]), "redis may open nothing");
    let touching: Vec<&String> = txt.iter().filter(|l| l.contains(&format!(" => {redis} : "))).collect();
    assert_eq!(report["edges"], serde_json::json!(touching), "exactly its edges are highlighted");
    let mut neighbours: Vec<&str> = touching.iter().map(|l| l.split_once(" => ").unwrap().0).collect();
    neighbours.sort_unstable();
    let mut highlighted: Vec<String> = serde_json::from_value(report["neighbours"].clone()).unwrap();
    highlighted.sort_unstable();
    assert_eq!(highlighted, neighbours);
    assert_eq!(report["selected"], redis);

    // Internet entries, through the library: a red curve from `{internet}` to the exposed node.
    let graph = library_graph(&[("app.yaml", TWO_NAMESPACES)]);
    let web = peer(&graph, "front/web[Deployment]");
    let entries =
        [InternetEntry { peer: web, label: "LoadBalancer front/web 80/TCP".to_string(), level: Level::Error }];
    let (entry_html, _) = render(write_html, &graph, &entries);
    let entry_page = work.path().join("entries.html");
    std::fs::write(&entry_page, entry_html).unwrap();
    let proxy = Proxy::start();
    // The fragment opens a workload's connections, as a link to it would.
    let dom = chromium(&browser, &entry_page, "#front%2Fweb%5BDeployment%5D", &proxy, &["--dump-dom"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    assert!(dom.contains("class=\"edge entry error"), "entry edge drawn");
    assert_eq!(attribute_values(&dom, "data-entry"), ["LoadBalancer front/web 80/TCP"]);
    assert!(attribute_values(&dom, "data-node").iter().any(|n| n == "{internet}"));
    assert!(element_of(&dom, "front/web[Deployment]").contains(" class=\"node workload exposed selected\""), "{dom}");
    assert!(dom.contains("<h3>Reachable from the internet</h3>"), "the panel lists the entry");

    // Too many connections to draw at once: the whole picture draws none until a workload is
    // selected, and a workload's page exactly its own (35 workloads a namespace: 70 * 69 pairs and
    // 140 to or from any address).
    let big = tempfile::tempdir().unwrap();
    std::fs::write(big.path().join("open.yaml"), open_repository(35)).unwrap();
    let big_html = kubereach(&["graph", big.path().to_str().unwrap(), "--format", "html"]);
    assert_eq!(html_data(&big_html)["edges"].as_array().unwrap().len(), 70 * 69 + 140);
    let big_page = work.path().join("big.html");
    std::fs::write(&big_page, big_html).unwrap();
    let proxy = Proxy::start();
    let dom = chromium(&browser, &big_page, "#~all", &proxy, &["--dump-dom"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    assert_eq!(dom.matches(" data-edge=\"").count(), 0);
    assert!(dom.contains("4970 connections are too many to draw at once"), "the panel says why");
    assert_eq!(attribute_values(&dom, "data-node").len(), 70 + 1);
    let proxy = Proxy::start();
    let dom = chromium(&browser, &big_page, "#a%2Fw000%5BDeployment%5D", &proxy, &["--dump-dom"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    let drawn = attribute_values(&dom, "data-conn");
    assert_eq!(drawn.len(), 2 * (69 + 1));
    assert!(drawn.iter().all(|c| c.starts_with("a/w000[Deployment] => ") || c.contains(" => a/w000[Deployment] : ")));

    // The picture people look at, with a workload selected to show its connections: `promo`, which
    // the internet reaches through its public load balancer.
    let target = Path::new(common::BIN).parent().and_then(Path::parent).unwrap();
    let artifacts: PathBuf = target.join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("graph-example.png");
    let _ = std::fs::remove_file(&shot);
    let proxy = Proxy::start();
    chromium(
        &browser,
        &page,
        "#shop-web%2Fpromo%5BDeployment%5D",
        &proxy,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1400,900", "--hide-scrollbars"],
    );
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    assert_eq!(png_size(&shot), (1400, 900));
    eprintln!("screenshot: {}", shot.display());
}

/// Namespaces of kubeflow's shape (78 workloads, the largest namespace 37), with long names, no
/// policy (every ordered pair connects: more edges than kubeflow's 4,821) and one public load
/// balancer, so that the overview has an `{internet}` row.
const KUBEFLOW_SHAPE: &[(&str, usize)] = &[
    ("default", 37),
    ("knative-eventing", 11),
    ("kubeflow", 11),
    ("knative-serving", 7),
    ("kserve", 5),
    ("cert-manager", 3),
    ("monitoring-and-observability-system", 3),
    ("system", 1),
];

fn kubeflow_shaped_repository() -> String {
    let mut text = String::new();
    for (namespace, count) in KUBEFLOW_SHAPE {
        for i in 0..*count {
            text.push_str(&format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {namespace}-workload-{i:02}, namespace: {namespace}}}\n\
                 spec:\n  selector: {{matchLabels: {{app: w{i:02}}}}}\n  template:\n    metadata: {{labels: {{app: w{i:02}}}}}\n\
                 \x20   spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: 8080}}]}}]}}\n---\n"
            ));
        }
    }
    text.push_str(
        "apiVersion: v1\nkind: Service\nmetadata: {name: front, namespace: kserve}\n\
         spec: {type: LoadBalancer, selector: {app: w00}, ports: [{port: 80, targetPort: 8080}]}\n",
    );
    text
}

/// Reads the overview as the reader sees it: every label of the matrix (headers and cells) with
/// its box on the screen, what overlaps, what is clipped or off the screen, and the cells' values.
const READABILITY: &str = r#"
(function () {
  const labels = Array.from(document.querySelectorAll('#matrix th .text, #matrix td'));
  const boxes = labels.map((e) => {
    const r = e.getBoundingClientRect();
    return { text: e.textContent, x: r.left, y: r.top, w: r.width, h: r.height, font: parseFloat(getComputedStyle(e).fontSize) };
  });
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.x + a.w > b.x + 0.5 && b.x + b.w > a.x + 0.5 && a.y + a.h > b.y + 0.5 && b.y + b.h > a.y + 0.5) overlaps.push([a.text, b.text]);
    }
  }
  const clipped = Array.from(document.querySelectorAll('#matrix td, #matrix th .text'))
    .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
    .map((e) => e.textContent);
  const offscreen = boxes.filter((b) => b.x < 0 || b.y < 0 || b.x + b.w > innerWidth || b.y + b.h > innerHeight).map((b) => b.text);
  const cells = {};
  for (const td of document.querySelectorAll('#matrix td[data-cell]')) cells[td.getAttribute('data-cell')] = td.textContent;
  document.body.setAttribute('data-test-report', JSON.stringify({
    view: document.body.getAttribute('data-view'),
    overlaps, clipped, offscreen, cells,
    rows: Array.from(document.querySelectorAll('#matrix th.row'), (e) => e.textContent),
    cols: Array.from(document.querySelectorAll('#matrix th.col'), (e) => e.textContent),
    smallest: Math.min(...boxes.map((b) => b.font)),
    labels: boxes.length,
    edges: document.querySelectorAll('[data-edge]').length,
  }));
})();
"#;

/// The first paint at kubeflow's size, without any click: the namespace matrix, every namespace
/// labelled as a row and a column, every cell counted, no label over another, none clipped, all
/// of it on a 1400x900 screen, and no curve drawn. A screenshot is kept beside the test binary.
#[test]
fn html_first_paint_is_readable_at_kubeflow_size() {
    let Some(browser) = require_tool("chromium", "headless Chromium; Debian package `chromium`") else { return };
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("cluster.yaml"), kubeflow_shaped_repository()).unwrap();
    let html = kubereach(&["graph", repo.path().to_str().unwrap(), "--format", "html"]);
    let data = html_data(&html);
    let workloads: usize = KUBEFLOW_SHAPE.iter().map(|(_, n)| n).sum();
    assert_eq!(workloads, 78);
    assert_eq!(data["edges"].as_array().unwrap().len(), workloads * (workloads - 1) + 2 * workloads);
    assert_eq!(data["entries"].as_array().unwrap().len(), 1);

    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("driven.html");
    std::fs::write(&page, html.replace("</body>", &format!("<script>{READABILITY}</script>\n</body>"))).unwrap();
    let proxy = Proxy::start();
    let dom = chromium(&browser, &page, "", &proxy, &["--dump-dom", "--window-size=1400,900"]);
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    let report: serde_json::Value = serde_json::from_str(&attribute_values(&dom, "data-test-report")[0]).unwrap();
    assert_eq!(report["view"], "overview");
    assert_eq!(report["edges"], 0, "no curve on the first paint");
    assert_eq!(report["overlaps"], serde_json::json!([]), "labels over labels");
    assert_eq!(report["clipped"], serde_json::json!([]), "labels cut");
    assert_eq!(report["offscreen"], serde_json::json!([]), "labels off a 1400x900 screen");
    assert!(report["smallest"].as_f64().unwrap() >= 11.0, "{}", report["smallest"]);

    let mut sorted: Vec<(&str, usize)> = KUBEFLOW_SHAPE.to_vec();
    sorted.sort();
    let rows: Vec<String> = serde_json::from_value(report["rows"].clone()).unwrap();
    let cols: Vec<String> = serde_json::from_value(report["cols"].clone()).unwrap();
    let mut expected_rows = vec!["{internet}".to_string(), "0.0.0.0-255.255.255.255".to_string()];
    expected_rows.extend(sorted.iter().map(|(ns, n)| format!("\u{25b8} {ns} ({n})")));
    assert_eq!(rows, expected_rows, "sources: the internet, the addresses, then the namespaces");
    // A column's label, written upwards, keeps a namespace's name to 32 characters, and its count
    // (the header's title has it whole).
    let upwards = |s: &str| {
        if s.chars().count() > 32 {
            format!("{}\u{2026}", s.chars().take(31).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let mut expected_cols: Vec<String> =
        sorted.iter().map(|(ns, n)| format!("\u{25b8} {} ({n})", upwards(ns))).collect();
    expected_cols.push("0.0.0.0-255.255.255.255".to_string());
    assert_eq!(cols, expected_cols, "destinations: the namespaces, then the addresses");
    // Every pair of distinct workloads connects: a cell counts the pairs between its namespaces.
    let cells = &report["cells"];
    for (a, m) in &sorted {
        for (b, n) in &sorted {
            let pairs = if a == b { m * (m - 1) } else { m * n };
            let key = format!("s{a}|s{b}");
            if pairs == 0 {
                assert!(cells.get(&key).is_none(), "{key}");
            } else {
                assert_eq!(cells[&key], pairs.to_string(), "{key}");
            }
        }
    }
    let internet = data["workloads"].as_array().unwrap().len() + data["outside"].as_array().unwrap().len();
    assert_eq!(cells[format!("n{internet}|skserve")], "1", "the internet's entry into kserve");
    // Each header's label and each cell were measured.
    assert_eq!(report["labels"].as_u64().unwrap() as usize, rows.len() + cols.len() + rows.len() * cols.len());

    let target = Path::new(common::BIN).parent().and_then(Path::parent).unwrap();
    let shot = target.join("artifacts").join("graph-overview-78.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let plain = work.path().join("graph.html");
    std::fs::write(&plain, &html).unwrap();
    let proxy = Proxy::start();
    chromium(
        &browser,
        &plain,
        "",
        &proxy,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1400,900", "--hide-scrollbars"],
    );
    assert_eq!(proxy.finish(), NONE, "requests reached the proxy");
    assert_eq!(png_size(&shot), (1400, 900));
}

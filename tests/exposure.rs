//! Exposure paths, profiles and `explain` (DESIGN §4 "Internet exposure", §6, §7).
//!
//! The expectations are reasoned from the semantics: which source a pod's ingress policy sees for
//! each entry (client, node, controller), what each profile enforces, and that `explain` cites
//! exactly the rules whose sum is the graph's verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kubereach::graph::explain::Party;
use kubereach::graph::{self, Conns, Endpoint};
use kubereach::model::build::{self as analysis, LoadOptions};
use kubereach::profile::Profile;
use serde_json::Value;

mod common;
use common::{kubereach, kubereach_in_crate, repo_with, rule_findings, RunExt as _, MANIFEST_DIR};

fn root() -> PathBuf {
    PathBuf::from(MANIFEST_DIR)
}

/// A temporary repository with `files` and the configuration `config`.
fn repo(files: &[(&str, &str)], config: &str) -> tempfile::TempDir {
    let dir = repo_with(files);
    std::fs::write(dir.path().join(".kubereach.yaml"), config).expect("write configuration");
    dir
}

fn graph_txt(dir: &Path, extra: &[&str]) -> String {
    let out = kubereach(["graph"]).arg(dir).args(extra).run();
    assert!(out.success(), "{}", out.stderr);
    out.stdout
}

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: web:1.0
          ports:
            - containerPort: 8080
"#;

const CLIENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: client
  namespace: shop
spec:
  selector:
    matchLabels:
      app: client
  template:
    metadata:
      labels:
        app: client
    spec:
      containers:
        - name: client
          image: client:1.0
"#;

const DENY: &str = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
"#;

fn service(kind: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  type: {kind}\n{extra}  selector:\n    app: web\n  ports:\n    - port: 80\n      targetPort: 8080\n"
    )
}

fn allow_from_block(cidr: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-block\n  namespace: shop\nspec:\n  podSelector:\n    matchLabels:\n      app: web\n  ingress:\n    - from:\n        - ipBlock:\n            cidr: {cidr}\n      ports:\n        - port: 8080\n"
    )
}

#[test]
fn node_ports_follow_the_profile() {
    let svc = service("NodePort", "");
    let files = [("web.yaml", WEB), ("svc.yaml", svc.as_str())];
    for profile in ["generic", "aks-azure-cni", "aks-kubenet", "aks-calico", "aks-cilium"] {
        // Nodes private (every built-in profile): a note, and no path from the internet.
        let dir = repo(&files, &format!("profile: {profile}\n"));
        let hits = rule_findings(dir.path(), "nodeport-service", &[]);
        assert_eq!(hits.len(), 1, "{profile}: {hits:?}");
        assert_eq!(hits[0].1, "note", "{profile}");
        assert!(hits[0].2.contains("nodes are private"), "{profile}: {}", hits[0].2);
        assert!(rule_findings(dir.path(), "internet-exposed-workload", &[]).is_empty(), "{profile}");
        // Public nodes: a warning, and the NodePorts are an entry from the internet.
        let dir = repo(&files, &format!("profile: {profile}\ncluster:\n  nodes-public: true\n"));
        let hits = rule_findings(dir.path(), "nodeport-service", &[]);
        assert_eq!(hits.iter().map(|h| h.1.as_str()).collect::<Vec<_>>(), ["warning"], "{profile}");
        let exposed = rule_findings(dir.path(), "internet-exposed-workload", &[]);
        assert_eq!(exposed.len(), 1, "{profile}: {exposed:?}");
        assert!(exposed[0].2.contains("the NodePorts of Service `web`"), "{}", exposed[0].2);
        assert_eq!(exposed[0].0, 7, "at `spec.type`");
        assert_eq!(exposed[0].1, "error", "nothing isolates `web`");
    }
}

#[test]
fn external_traffic_policy_decides_which_ip_block_admits_load_balancer_traffic() {
    // A rule for one client range: with `Local` the pods see clients, so it admits them; with
    // `Cluster` they see a node's address, which the client range does not hold.
    let client_rule = allow_from_block("203.0.113.0/24");
    let node_rule = allow_from_block("10.0.0.0/8");
    let local = service("LoadBalancer", "  externalTrafficPolicy: Local\n");
    let cluster = service("LoadBalancer", "");
    let cases = [
        (&local, &client_rule, Some("note")),
        (&cluster, &client_rule, None),
        (&cluster, &node_rule, Some("warning")),
        // Internet clients have public addresses: a rule for the private network admits none.
        (&local, &node_rule, None),
    ];
    for (svc, rule, want) in cases {
        let files = [("web.yaml", WEB), ("svc.yaml", svc.as_str()), ("deny.yaml", DENY), ("allow.yaml", rule.as_str())];
        let dir = repo(&files, "profile: generic\n");
        let hits = rule_findings(dir.path(), "internet-exposed-workload", &[]);
        let levels: Vec<&str> = hits.iter().map(|h| h.1.as_str()).collect();
        assert_eq!(levels, want.into_iter().collect::<Vec<_>>(), "{svc}\n{rule}\n{hits:?}");
    }
    // The node ranges are configurable: a rule for the real node subnet admits the traffic.
    let narrow = allow_from_block("10.224.0.0/16");
    let files =
        [("web.yaml", WEB), ("svc.yaml", cluster.as_str()), ("deny.yaml", DENY), ("allow.yaml", narrow.as_str())];
    let dir = repo(&files, "cluster:\n  node-cidrs: [10.224.0.0/16]\n");
    assert_eq!(rule_findings(dir.path(), "internet-exposed-workload", &[]).len(), 1);
    let dir = repo(&files, "cluster:\n  node-cidrs: [10.30.0.0/16]\n");
    assert!(rule_findings(dir.path(), "internet-exposed-workload", &[]).is_empty());
}

#[test]
fn without_a_policy_engine_policies_are_inert_and_said_so_once() {
    let files = [("web.yaml", WEB), ("client.yaml", CLIENT), ("deny.yaml", DENY)];
    let dir = repo(&files, "profile: aks-kubenet\n");
    let enforced = graph_txt(dir.path(), &["--profile", "generic"]);
    let inert = graph_txt(dir.path(), &[]);
    assert!(!enforced.contains("shop/client[Deployment] => shop/web[Deployment]"), "{enforced}");
    assert!(inert.contains("shop/client[Deployment] => shop/web[Deployment] : All Connections"), "{inert}");
    // The same as a repository without the policy.
    let open = repo(&[("web.yaml", WEB), ("client.yaml", CLIENT)], "{}\n");
    assert_eq!(inert, graph_txt(open.path(), &[]));
    let hits = rule_findings(dir.path(), "network-policy-not-enforced", &[]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].2.contains("profile `aks-kubenet` has no NetworkPolicy engine"), "{}", hits[0].2);
    assert!(rule_findings(dir.path(), "network-policy-not-enforced", &["--profile", "aks-calico"]).is_empty());
}

#[test]
fn windows_pods_are_unprotected_where_the_profile_says_so() {
    let windows_web = WEB.replace(
        "    spec:\n      containers:",
        "    spec:\n      nodeSelector:\n        kubernetes.io/os: windows\n      containers:",
    );
    let files = [("web.yaml", windows_web.as_str()), ("client.yaml", CLIENT), ("deny.yaml", DENY)];
    let dir = repo(&files, "{}\n");
    let edge = "shop/client[Deployment] => shop/web[Deployment]";
    assert!(!graph_txt(dir.path(), &[]).contains(edge), "generic enforces on Windows");
    for profile in ["aks-azure-cni", "aks-cilium"] {
        assert!(graph_txt(dir.path(), &["--profile", profile]).contains(edge), "{profile}");
    }
    // Calico enforces on Windows Server 2019 and 2022 nodes (AKS documentation).
    assert!(!graph_txt(dir.path(), &["--profile", "aks-calico"]).contains(edge), "aks-calico enforces on Windows");
    let dir = repo(&files, "profile: aks-azure-cni\ncluster:\n  windows-enforced: true\n");
    assert!(!graph_txt(dir.path(), &[]).contains(edge), "the configuration can say Windows is enforced");
}

#[test]
fn ingress_paths_through_known_and_declared_controllers() {
    let ingress = |class: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ingressClassName: {class}\n  rules:\n    - http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: web\n                port:\n                  number: 80\n"
        )
    };
    let allow_edge = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-edge\n  namespace: shop\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: edge\n          podSelector:\n            matchLabels:\n              app: proxy\n";
    let svc = service("ClusterIP", "");
    let edge_ingress = ingress("edge");
    let files = [
        ("web.yaml", WEB),
        ("svc.yaml", svc.as_str()),
        ("deny.yaml", DENY),
        ("allow.yaml", allow_edge),
        ("ing.yaml", edge_ingress.as_str()),
    ];
    // Unknown class `edge`: an unknown controller, which the rule could be (it names another
    // namespace): not blocked, and the path from the internet is reported through it.
    let dir = repo(&files, "{}\n");
    assert!(rule_findings(dir.path(), "ingress-backend-blocked", &[]).is_empty());
    assert_eq!(rule_findings(dir.path(), "internet-exposed-workload", &[]).len(), 1);
    // The connectivity list keeps its unlabelled `{ingress-controller}` pod, which that rule does
    // not admit.
    assert!(!graph_txt(dir.path(), &[]).contains("{ingress-controller} =>"));
    // Declared: the path exists, through the controller's real identity.
    let declared = "ingress-controllers:\n  - class: edge\n    namespace: edge\n    pod-labels: {app: proxy}\n";
    let dir = repo(&files, declared);
    let hits = rule_findings(dir.path(), "internet-exposed-workload", &[]);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].1, "warning");
    // Declared with other labels: blocked.
    let dir =
        repo(&files, "ingress-controllers:\n  - class: edge\n    namespace: edge\n    pod-labels: {app: envoy}\n");
    assert_eq!(rule_findings(dir.path(), "ingress-backend-blocked", &[]).len(), 1);
    // Declared private: no path from the internet, though the route works.
    let dir = repo(&files, &format!("{declared}    public: false\n"));
    assert!(rule_findings(dir.path(), "internet-exposed-workload", &[]).is_empty());
    assert!(rule_findings(dir.path(), "ingress-backend-blocked", &[]).is_empty());
}

#[test]
fn exposure_paths_are_sarif_code_flows_with_every_step_located() {
    let out = kubereach_in_crate([
        "check",
        "examples/shop",
        "--format",
        "sarif",
        "--select",
        "internet-exposed-workload",
        "--fail-on",
        "never",
    ])
    .run();
    let sarif: Value = serde_json::from_str(&out.stdout).expect("sarif");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "promo, frontend, billing-portal");
    for r in results {
        let steps = r["codeFlows"][0]["threadFlows"][0]["locations"].as_array().unwrap();
        assert!(steps.len() >= 4, "entry, Service port, workload, admission: {steps:?}");
        for s in steps {
            let region = &s["location"]["physicalLocation"]["region"];
            assert!(region["startLine"].as_u64().unwrap() > 1, "a step at line 1: {s}");
            assert!(s["location"]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with("examples/shop/"));
        }
        // The first step is the result's own location: the entry.
        assert_eq!(
            steps[0]["location"]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
        );
    }
    let promo = results.iter().find(|r| r["message"]["text"].as_str().unwrap().contains("shop-web/promo")).unwrap();
    let last = promo["codeFlows"][0]["threadFlows"][0]["locations"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["location"]["physicalLocation"]["artifactLocation"]["uri"],
        "examples/shop/shop-web/network-policies.yaml"
    );
    assert!(last["location"]["message"]["text"].as_str().unwrap().contains("allow-promo-from-internet"), "{last}");
}

/// Loads a repository with its own configuration's profile, as the command line does.
fn load_with_profile(dir: &Path) -> (analysis::Loaded, graph::Graph) {
    let config = kubereach::config::discover(dir).map(|p| kubereach::config::load(&p).unwrap()).unwrap_or_default();
    let profile: Profile = config.resolve_profile(None).unwrap();
    let loaded = analysis::load(&[dir.to_path_buf()], &LoadOptions::default()).expect("load");
    let g = graph::build_with(&loaded.single().model, &profile);
    (loaded, g)
}

#[test]
fn explain_agrees_with_the_graph_on_every_pair_of_the_example() {
    let (loaded, g) = load_with_profile(&root().join("examples/shop"));
    // Every edge the graph prints, by endpoint names.
    let mut edges = std::collections::BTreeMap::new();
    g.for_each_edge(|src, dst, conns| {
        edges.insert((g.endpoint_name(src), g.endpoint_name(dst)), conns.clone());
        Ok::<(), ()>(())
    })
    .unwrap();
    let mut checked = 0;
    for s in (0..g.peers.len()).map(graph::PeerId::new) {
        for d in (0..g.peers.len()).map(graph::PeerId::new) {
            if s == d {
                continue;
            }
            let e = g.explain(&loaded.single().model, &Party::Peer(s), &Party::Peer(d));
            let want = edges
                .get(&(g.endpoint_name(&Endpoint::Peer(s)), g.endpoint_name(&Endpoint::Peer(d))))
                .cloned()
                .unwrap_or_else(Conns::none);
            assert_eq!(e.allowed, want, "{} => {}", g.peers[s.index()].name, g.peers[d.index()].name);
            // The cited rules add up to each side's verdict.
            for pair in &e.pairs {
                for side in pair.egress.iter().chain(pair.ingress.iter()) {
                    if side.isolating.is_empty() {
                        assert!(side.allows.is_all());
                        continue;
                    }
                    let mut sum = Conns::none();
                    side.admitting.iter().for_each(|a| sum.union_with(&a.conns));
                    assert_eq!(sum, side.allows);
                }
            }
            checked += 1;
        }
        // The controller's edges, from the Ingresses and Routes that lead to each peer.
        let e = g.explain(&loaded.single().model, &Party::IngressController, &Party::Peer(s));
        let want = edges
            .get(&(kubereach::graph::INGRESS_CONTROLLER.to_string(), g.endpoint_name(&Endpoint::Peer(s))))
            .cloned()
            .unwrap_or_else(Conns::none);
        assert_eq!(e.allowed, want, "{{ingress-controller}} => {}", g.peers[s.index()].name);
    }
    assert_eq!(checked, g.peers.len() * (g.peers.len() - 1));
    assert!(checked >= 56, "the example has at least 8 workloads");
}

#[test]
fn explain_on_the_command_line() {
    let run = |args: &[&str]| {
        let out = kubereach_in_crate(["explain", "examples/shop"]).args(args).run();
        (out.code, out.stdout, out.stderr)
    };
    let (code, out, _) =
        run(&["--from", "shop-web/frontend", "--to", "shop-api/api[Deployment]", "--port", "8080/TCP"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("shop-web/frontend[Deployment] => shop-api/api[Deployment]: allowed on TCP 8080"), "{out}");
    assert!(out.contains("admitted by NetworkPolicy `allow-frontend-to-api` ingress rule 1 (examples/shop/shop-api/network-policies.yaml:"), "{out}");
    let (code, out, _) = run(&["--from", "shop-api/orders-worker", "--to", "shop-data/postgres", "--port", "5432"]);
    assert_eq!(code, Some(1), "denied: {out}");
    assert!(out.contains("no ingress rule of these policies admits the other side"), "{out}");
    let (code, out, _) = run(&["--from", "{internet}", "--to", "shop-web/promo"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("through public LoadBalancer Service `promo`"), "{out}");
    assert!(out.contains("a node's address (externalTrafficPolicy: Cluster)"), "{out}");
    let (code, _, err) = run(&["--from", "shop-web/nope", "--to", "shop-web/promo"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no workload `shop-web/nope`"), "{err}");
    // A name is a container port's (`--port http` is promo's 8080, tests/ux.rs); a number past
    // 65535 is no port.
    let (code, _, err) = run(&["--from", "shop-web/frontend", "--to", "shop-web/promo", "--port", "99999"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--port 99999"), "{err}");
    let (code, out, _) = run(&["--from", "shop-api/api", "--to", "10.0.0.0/8", "--port", "443/TCP"]);
    assert_eq!(code, Some(0), "{out}");
    // Pseudo-peers are sources only; an address pair has no workload.
    for (from, to) in
        [("shop-web/frontend", "{internet}"), ("1.2.3.4", "5.6.7.8"), ("shop-web/frontend", "{ingress-controller}")]
    {
        let (code, _, err) = run(&["--from", from, "--to", to]);
        assert_eq!(code, Some(2), "{from} => {to}");
        assert!(err.contains("cannot explain"), "{err}");
    }
    // Both directions ask whether the rules cover the whole range: `promo` admits every address
    // on 8080, so any range is admitted; `api` sends only to 0.0.0.0/0 on 443.
    let (code, out, _) = run(&["--from", "0.0.0.0/0", "--to", "shop-web/promo", "--port", "8080"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = run(&["--from", "shop-api/api", "--to", "0.0.0.0/0", "--port", "443"]);
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn external_namespaces_are_never_called_dangling() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: grafana\n  namespace: monitoring\nspec:\n  selector:\n    app: grafana\n  ports:\n    - port: 80\n";
    let other = WEB.replace("namespace: shop", "namespace: monitoring");
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: scrape\n  namespace: shop\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n          podSelector:\n            matchLabels:\n              app: prometheus\n";
    let files = [("svc.yaml", svc), ("web.yaml", WEB), ("other.yaml", other.as_str()), ("policy.yaml", policy)];
    let dir = repo(&files, "{}\n");
    assert_eq!(rule_findings(dir.path(), "dangling-service", &[]).len(), 1);
    assert_eq!(rule_findings(dir.path(), "policy-peer-matches-nothing", &[]).len(), 1);
    let dir = repo(&files, "external-namespaces: [monitoring]\n");
    assert!(rule_findings(dir.path(), "dangling-service", &[]).is_empty());
    assert!(rule_findings(dir.path(), "policy-peer-matches-nothing", &[]).is_empty());
}

#[test]
fn the_example_walkthrough_shows_what_kubereach_prints() {
    let readme = std::fs::read_to_string(root().join("examples/shop/README.md")).unwrap();
    let walkthrough = readme.split("## Walkthrough").nth(1).expect("a walkthrough section");
    let blocks: Vec<&str> = walkthrough.split("```text\n").skip(1).map(|b| b.split("\n```").next().unwrap()).collect();
    assert_eq!(blocks.len(), 2, "the check excerpt and the explain session");
    let run = |args: &[&str]| kubereach_in_crate(args).run().stdout;
    let human = run(&["check", "examples/shop", "--select", "internet-exposed-workload"]);
    assert!(human.contains(blocks[0]), "the check excerpt is not in the output:\n{human}");
    let (command, shown) = blocks[1].split_once('\n').unwrap();
    assert_eq!(command, "$ kubereach explain examples/shop --from '{internet}' --to shop-web/promo");
    let explained = run(&["explain", "examples/shop", "--from", "{internet}", "--to", "shop-web/promo"]);
    assert_eq!(explained.trim_end(), shown.trim_end());
}

#[test]
fn rules_that_admit_every_internet_client_guard_nothing() {
    let local = service("LoadBalancer", "  externalTrafficPolicy: Local\n");
    let rule = |peers: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow\n  namespace: shop\nspec:\n  podSelector:\n    matchLabels:\n      app: web\n  ingress:\n    - from:\n{peers}      ports:\n        - port: 8080\n"
        )
    };
    let cases = [
        ("        - ipBlock:\n            cidr: 203.0.113.0/24\n", "note"),
        ("        - ipBlock:\n            cidr: 0.0.0.0/0\n            except: [10.0.0.0/8]\n", "warning"),
        (
            "        - ipBlock:\n            cidr: 203.0.113.0/24\n        - ipBlock:\n            cidr: ::/0\n",
            "warning",
        ),
    ];
    for (peers, level) in cases {
        let allow = rule(peers);
        let files =
            [("web.yaml", WEB), ("svc.yaml", local.as_str()), ("deny.yaml", DENY), ("allow.yaml", allow.as_str())];
        let dir = repo(&files, "{}\n");
        let hits = rule_findings(dir.path(), "internet-exposed-workload", &[]);
        assert_eq!(hits.iter().map(|h| h.1.as_str()).collect::<Vec<_>>(), [level], "{peers}");
    }
}

#[test]
fn a_route_that_also_serves_plain_http_is_not_guarded_by_tls() {
    let route = |tls: &str| {
        format!("apiVersion: route.openshift.io/v1\nkind: Route\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  to:\n    kind: Service\n    name: web\n{tls}")
    };
    let allow_all = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow\n  namespace: shop\nspec:\n  podSelector: {}\n  ingress:\n    - ports: [{port: 8080}]\n";
    let svc = service("ClusterIP", "");
    for (tls, level) in [
        ("  tls:\n    termination: edge\n", "note"),
        ("  tls:\n    termination: edge\n    insecureEdgeTerminationPolicy: Redirect\n", "note"),
        ("  tls:\n    termination: edge\n    insecureEdgeTerminationPolicy: Allow\n", "warning"),
        ("", "warning"),
    ] {
        let r = route(tls);
        let files = [
            ("web.yaml", WEB),
            ("svc.yaml", svc.as_str()),
            ("deny.yaml", DENY),
            ("allow.yaml", allow_all),
            ("route.yaml", r.as_str()),
        ];
        let dir = repo(&files, "{}\n");
        let hits = rule_findings(dir.path(), "internet-exposed-workload", &[]);
        assert_eq!(hits.iter().map(|h| h.1.as_str()).collect::<Vec<_>>(), [level], "{tls}");
    }
}

/// `kubereach explain DIR ARGS…`: exit code and standard output.
fn explain(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = kubereach(["explain"]).arg(dir).args(args).run();
    (out.code, out.stdout)
}

#[test]
fn explain_says_which_model_of_an_unknown_controller_it_answers_with() {
    // No class: the controller is unknown. The rule admits pods of some `team: edge` namespace,
    // which an unknown controller could be, but not the connectivity list's unlabelled pod.
    let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  rules:\n    - http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: web\n                port:\n                  number: 80\n";
    let allow = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-edge\n  namespace: shop\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              team: edge\n      ports:\n        - port: 8080\n";
    let svc = service("ClusterIP", "");
    let files = [
        ("web.yaml", WEB),
        ("svc.yaml", svc.as_str()),
        ("deny.yaml", DENY),
        ("allow.yaml", allow),
        ("ing.yaml", ingress),
    ];
    let dir = repo(&files, "{}\n");
    let (code, out) = explain(dir.path(), &["--from", "{internet}", "--to", "shop/web", "--port", "8080"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("which is not known: admitted where a rule could match some controller"), "{out}");
    let (code, out) = explain(dir.path(), &["--from", "{ingress-controller}", "--to", "shop/web", "--port", "8080"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("as in the connectivity list: one unlabelled pod in namespace `ingress-controller-ns`"),
        "{out}"
    );
    assert!(!graph_txt(dir.path(), &[]).contains("{ingress-controller} => shop/web"));
    // The exposure follows the first model, as `explain --from {internet}` does.
    assert_eq!(rule_findings(dir.path(), "internet-exposed-workload", &[]).len(), 1);
}

#[test]
fn explain_refuses_a_port_the_entry_does_not_forward_before_any_policy() {
    let svc = service("LoadBalancer", "");
    let dir = repo(&[("web.yaml", WEB), ("svc.yaml", svc.as_str())], "{}\n");
    let (code, out) = explain(dir.path(), &["--from", "{internet}", "--to", "shop/web", "--port", "9090/TCP"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("does not forward TCP 9090"), "{out}");
    assert!(!out.contains("not isolated"), "no policy is asked about a port nothing forwards: {out}");
    let (code, out) = explain(dir.path(), &["--from", "{internet}", "--to", "shop/web", "--port", "8080/TCP"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("not isolated"), "{out}");
}

#[test]
fn explain_names_the_broken_input_on_standard_error_and_still_answers() {
    let svc = service("LoadBalancer", "");
    let broken = "apiVersion: v1\nkind: Service\nmetadata:\n\tname: broken\n";
    let dir = repo(&[("web.yaml", WEB), ("svc.yaml", svc.as_str()), ("broken.yaml", broken)], "{}\n");
    let out = kubereach(["explain"]).arg(dir.path()).args(["--from", "{internet}", "--to", "shop/web"]).run();
    let stderr = &out.stderr;
    assert!(stderr.contains("broken.yaml:4:") && stderr.contains("error[invalid-manifest]"), "{stderr}");
    assert_eq!(out.code, Some(0), "the rest is still analysed: {stderr}");
}

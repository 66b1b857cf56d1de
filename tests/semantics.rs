//! Truth tables for the reachability semantics of DESIGN §4 (Kubernetes NetworkPolicy,
//! `networking.k8s.io/v1`), one test per rule.
//!
//! Every scenario is a small hand-written repository; the expected connectivity list is reasoned
//! from the API semantics, not recorded from the tool. The built binary runs on a temporary
//! folder and its whole `graph --format txt` output is compared with the expectation.
//!
//! Expectations are written as a [`Table`]: usually "the open cluster" (every ordered pair of
//! distinct peers on every port, which is what a namespace without policies gives) and then, per
//! isolated peer, exactly what it admits (`ingress_only`) or may send (`egress_only`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

mod common;
use common::{kubereach, repo_with, RunExt as _};

/// Any IPv4 address outside the cluster.
const ANY4: &str = "0.0.0.0-255.255.255.255[External]";
const ALL: &str = "All Connections";
const IC: &str = "{ingress-controller}";

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Runs `kubereach graph DIR --format txt EXTRA...` on a temporary folder holding `files`.
fn graph_with(files: &[(&str, &str)], extra: &[&str]) -> Vec<String> {
    let dir = repo_with(files);
    let out = kubereach(["graph"]).arg(dir.path()).args(["--format", "txt"]).args(extra).run();
    // The scenarios are valid manifests: a diagnostic about them would be a mistake in the test
    // or in the loader, either way worth seeing.
    assert!(!out.stderr.contains("invalid-manifest"), "unexpected diagnostics: {}", out.stderr);
    out.ok().lines().map(str::to_owned).collect()
}

fn graph(files: &[(&str, &str)]) -> Vec<String> {
    graph_with(files, &[])
}

/// Compares the whole output with the expected lines, which must also come out sorted bytewise
/// (by SRC then DST, which for these peers is the order of the whole lines).
fn assert_lines(actual: &[String], expected: &[String]) {
    let mut want = expected.to_vec();
    want.sort();
    want.dedup();
    if actual != want.as_slice() {
        let missing: Vec<_> = want.iter().filter(|l| !actual.contains(l)).collect();
        let extra: Vec<_> = actual.iter().filter(|l| !want.contains(l)).collect();
        panic!(
            "connectivity differs\n--- missing (expected, not printed):\n{}\n--- unexpected (printed, not expected):\n{}\n--- actual output:\n{}",
            missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
            extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
            actual.join("\n"),
        );
    }
}

/// The expected connectivity: `(src, dst) -> CONNS`.
#[derive(Clone, Default)]
struct Table(BTreeMap<(String, String), String>);

impl Table {
    /// Every ordered pair of distinct peers, on every port (no policy anywhere). External ranges
    /// do not talk to each other through the cluster.
    fn open(peers: &[&str]) -> Self {
        let mut t = Table::default();
        for src in peers {
            for dst in peers {
                if src != dst && !(is_external(src) && is_external(dst)) {
                    t.0.insert((src.to_string(), dst.to_string()), ALL.to_string());
                }
            }
        }
        t
    }

    /// Exactly these sources reach `dst`, with these connections.
    fn ingress_only(mut self, dst: &str, allowed: &[(&str, &str)]) -> Self {
        self.0.retain(|(_, d), _| d != dst);
        for (src, conns) in allowed {
            self.0.insert((src.to_string(), dst.to_string()), conns.to_string());
        }
        self
    }

    /// `src` reaches exactly these destinations, with these connections.
    fn egress_only(mut self, src: &str, allowed: &[(&str, &str)]) -> Self {
        self.0.retain(|(s, _), _| s != src);
        for (dst, conns) in allowed {
            self.0.insert((src.to_string(), dst.to_string()), conns.to_string());
        }
        self
    }

    fn set(mut self, src: &str, dst: &str, conns: &str) -> Self {
        self.0.insert((src.to_string(), dst.to_string()), conns.to_string());
        self
    }

    fn lines(&self) -> Vec<String> {
        self.0.iter().map(|((s, d), c)| format!("{s} => {d} : {c}")).collect()
    }
}

fn is_external(peer: &str) -> bool {
    peer.ends_with("[External]")
}

/// A Pod manifest; `labels` is the inside of a flow mapping, `ports` a flow sequence of
/// container ports (or empty).
fn pod(ns: &str, name: &str, labels: &str, ports: &str) -> String {
    let ports = if ports.is_empty() { String::new() } else { format!("\n    ports: {ports}") };
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {ns}
  labels: {{{labels}}}
spec:
  containers:
  - name: main
    image: registry.example/app:1{ports}
"
    )
}

/// Joins documents into one multi-document YAML file.
fn docs(parts: &[String]) -> String {
    parts.join("---\n")
}

fn p(ns: &str, name: &str) -> String {
    format!("{ns}/{name}[Pod]")
}

// ---------------------------------------------------------------------------------------------
// Isolation and policyTypes
// ---------------------------------------------------------------------------------------------

/// No policy: every pod reaches every pod and every address, both ways. A workload with several
/// replicas is one peer and never appears as its own source and destination.
#[test]
fn no_policy_everything_is_open_and_self_pairs_are_not_printed() {
    let deployment = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: x
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
        ports: [{containerPort: 8080}]
"#;
    let manifests = docs(&[pod("x", "a", "app: a", ""), pod("x", "b", "app: b", ""), deployment.to_string()]);
    let out = graph(&[("app.yaml", &manifests)]);
    let (a, b) = (p("x", "a"), p("x", "b"));
    let want = Table::open(&[ANY4, &a, &b, "x/web[Deployment]"]);
    assert_lines(&out, &want.lines());
    for line in &out {
        let (src, rest) = line.split_once(" => ").unwrap();
        let dst = rest.split_once(" : ").unwrap().0;
        assert_ne!(src, dst, "self pair printed: {line}");
    }
}

/// A policy that isolates a pod for ingress does not touch its egress.
#[test]
fn ingress_isolation_leaves_egress_open() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-in-a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress]
  ingress: []
"#
        .to_string(),
    ]);
    let (a, b, c) = (p("x", "a"), p("x", "b"), p("x", "c"));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&a, &[]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A policy that isolates a pod for egress does not touch its ingress.
#[test]
fn egress_isolation_leaves_ingress_open() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-out-a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress: []
"#
        .to_string(),
    ]);
    let (a, b, c) = (p("x", "a"), p("x", "b"), p("x", "c"));
    let want = Table::open(&[ANY4, &a, &b, &c]).egress_only(&a, &[]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Without `policyTypes`, the API server defaults to `[Ingress]` and adds `Egress` only when
/// `spec.egress` has a rule: `egress: []` isolates nothing for egress, but the policy still
/// isolates the pod for ingress (with no ingress rule: nothing in).
#[test]
fn absent_policy_types_with_empty_egress_list_does_not_isolate_egress() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-egress-list-a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  egress: []
"#
        .to_string(),
        // Ingress allowed from everything, `egress: []` again: b stays open both ways.
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-in-b, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{}]
  egress: []
"#
        .to_string(),
    ]);
    let (a, b, c) = (p("x", "a"), p("x", "b"), p("x", "c"));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&a, &[]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Without `policyTypes` (absent, or an empty list), an egress rule makes the policy an egress
/// policy too: the pod may then send only what its egress rules allow.
#[test]
fn absent_or_empty_policy_types_with_egress_rules_isolates_egress() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        // policyTypes absent -> [Ingress, Egress]: nothing in, out only to b.
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-to-b, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
"#
        .to_string(),
        // policyTypes: [] -> same defaulting: everything in, out only on UDP 53.
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-dns, namespace: x}
spec:
  podSelector: {matchLabels: {app: c}}
  policyTypes: []
  ingress: [{}]
  egress:
  - ports: [{protocol: UDP, port: 53}]
"#
        .to_string(),
    ]);
    let (a, b, c) = (p("x", "a"), p("x", "b"), p("x", "c"));
    let want = Table::open(&[ANY4, &a, &b, &c])
        .ingress_only(&a, &[])
        .egress_only(&a, &[(&b, ALL)])
        // c -> a is refused by a's ingress isolation.
        .egress_only(&c, &[(ANY4, "UDP 53"), (&b, "UDP 53")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// `ingress: []` and `policyTypes: [Ingress]` without an `ingress` key allow nothing;
/// `ingress: [{}]` allows everything; a rule with `from: []` matches every peer (pods and
/// addresses), here on TCP 80 only; `egress: [{}]` allows every destination.
#[test]
fn empty_rule_lists_versus_empty_rules() {
    let policy = |name: &str, app: &str, body: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: {app}}}}}
{body}"
        )
    };
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        pod("x", "d", "app: d", ""),
        pod("x", "e", "app: e", ""),
        policy("empty-list", "a", "  policyTypes: [Ingress]\n  ingress: []\n"),
        policy("list-of-empty-rule", "b", "  policyTypes: [Ingress]\n  ingress: [{}]\n"),
        policy("no-ingress-key", "c", "  policyTypes: [Ingress]\n"),
        policy("from-empty-list", "d", "  policyTypes: [Ingress]\n  ingress:\n  - from: []\n    ports: [{port: 80}]\n"),
        policy("egress-empty-rule", "e", "  policyTypes: [Egress]\n  egress: [{}]\n"),
    ]);
    let [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &a, &b, &c, &d, &e])
        .ingress_only(&a, &[])
        .ingress_only(&c, &[])
        .ingress_only(&d, &[(ANY4, "TCP 80"), (&a, "TCP 80"), (&b, "TCP 80"), (&c, "TCP 80"), (&e, "TCP 80")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Rules of a direction that `policyTypes` does not list are ignored: egress rules of an
/// Ingress-only policy neither isolate nor allow, and ingress rules of an Egress-only policy
/// do not isolate the pod for ingress.
#[test]
fn rules_of_an_undeclared_direction_are_ignored() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-ingress-only, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: b}}}]
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
"#
        .to_string(),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-egress-only, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Egress]
  egress: [{}]
  ingress:
  - from: [{podSelector: {matchLabels: {app: c}}}]
"#
        .to_string(),
    ]);
    let (a, b, c) = (p("x", "a"), p("x", "b"), p("x", "c"));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&a, &[(&b, ALL)]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Policies are additive: what several policies selecting the same pod allow is the union of
/// their rules, for ingress and for egress.
#[test]
fn policies_are_additive() {
    let manifests = docs(&[
        pod("x", "t", "app: t, tier: backend", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        pod("x", "d", "app: d", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: t-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {app: t}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{port: 80}]
"#
        .to_string(),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: t-from-c, namespace: x}
spec:
  podSelector: {matchLabels: {app: t}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: c}}}]
    ports: [{port: 443}]
"#
        .to_string(),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-dns-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {tier: backend}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{protocol: UDP, port: 53}]
"#
        .to_string(),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: t-to-d, namespace: x}
spec:
  podSelector: {matchLabels: {app: t}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: d}}}]
"#
        .to_string(),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: t-to-https, namespace: x}
spec:
  podSelector: {matchLabels: {tier: backend}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 443}]
"#
        .to_string(),
    ]);
    let [t, b, c, d] = ["t", "b", "c", "d"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &t, &b, &c, &d])
        .ingress_only(&t, &[(&b, "TCP 80,UDP 53"), (&c, "TCP 443")])
        .egress_only(&t, &[(&d, ALL), (ANY4, "TCP 443")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// Peers and selectors
// ---------------------------------------------------------------------------------------------

/// `podSelector` alone: pods of the policy's namespace. `namespaceSelector` alone: every pod of
/// the matching namespaces. Both in one element: matching pods in matching namespaces. Two
/// elements: either. `namespaceSelector: {}`: every pod of the cluster; `podSelector: {}`: every
/// pod of the policy's namespace. None of them matches an external address.
#[test]
fn pod_and_namespace_selectors_alone_together_and_apart() {
    let ns = |name: &str, labels: &str| {
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels: {{{labels}}}\n")
    };
    let policy = |target: &str, from: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {target}, namespace: x}}
spec:
  podSelector: {{matchLabels: {{target: {target}}}}}
  policyTypes: [Ingress]
  ingress:
  - from: {from}
"
        )
    };
    let manifests = docs(&[
        ns("x", "team: home"),
        ns("yy", "team: blue"),
        ns("z", "team: red"),
        pod("x", "t1", "target: t1", ""),
        pod("x", "t2", "target: t2", ""),
        pod("x", "t3", "target: t3", ""),
        pod("x", "t4", "target: t4", ""),
        pod("x", "t5", "target: t5", ""),
        pod("x", "t6", "target: t6", ""),
        pod("x", "web", "app: web", ""),
        pod("yy", "web", "app: web", ""),
        pod("yy", "db", "app: db", ""),
        pod("z", "web", "app: web", ""),
        policy("t1", "[{podSelector: {matchLabels: {app: web}}}]"),
        policy("t2", "[{namespaceSelector: {matchLabels: {team: blue}}}]"),
        policy("t3", "[{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: web}}}]"),
        policy("t4", "[{namespaceSelector: {matchLabels: {team: blue}}}, {podSelector: {matchLabels: {app: web}}}]"),
        policy("t5", "[{namespaceSelector: {}}]"),
        policy("t6", "[{podSelector: {}}]"),
    ]);
    let [t1, t2, t3, t4, t5, t6, xweb] = ["t1", "t2", "t3", "t4", "t5", "t6", "web"].map(|n| p("x", n));
    let (yweb, ydb, zweb) = (p("yy", "web"), p("yy", "db"), p("z", "web"));
    let all_pods = [&t1, &t2, &t3, &t4, &t5, &t6, &xweb, &yweb, &ydb, &zweb];
    // t5 admits every other pod of the cluster, t6 every other pod of x.
    let t5_from: Vec<(&str, &str)> = all_pods.iter().filter(|q| **q != &t5).map(|q| (q.as_str(), ALL)).collect();
    let t6_from: Vec<(&str, &str)> = all_pods[..7].iter().filter(|q| **q != &t6).map(|q| (q.as_str(), ALL)).collect();
    let want = Table::open(&[ANY4, &t1, &t2, &t3, &t4, &t5, &t6, &xweb, &yweb, &ydb, &zweb])
        .ingress_only(&t1, &[(&xweb, ALL)])
        .ingress_only(&t2, &[(&yweb, ALL), (&ydb, ALL)])
        .ingress_only(&t3, &[(&yweb, ALL)])
        .ingress_only(&t4, &[(&yweb, ALL), (&ydb, ALL), (&xweb, ALL)])
        .ingress_only(&t5, &t5_from)
        .ingress_only(&t6, &t6_from);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Every namespace carries `kubernetes.io/metadata.name`, whether or not a Namespace object
/// declares it; a namespace that no manifest defines has that label and no other.
#[test]
fn namespace_selector_on_the_automatic_name_label() {
    let policy = |target: &str, ns_selector: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {target}, namespace: x}}
spec:
  podSelector: {{matchLabels: {{target: {target}}}}}
  policyTypes: [Ingress]
  ingress:
  - from: [{{namespaceSelector: {ns_selector}}}]
"
        )
    };
    let manifests = docs(&[
        // x: a Namespace object without labels; z: with a label; yy: no Namespace object.
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n".to_string(),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: z\n  labels: {team: red}\n".to_string(),
        pod("x", "t1", "target: t1", ""),
        pod("x", "t2", "target: t2", ""),
        pod("x", "t3", "target: t3", ""),
        pod("x", "t4", "target: t4", ""),
        pod("x", "local", "app: local", ""),
        pod("yy", "p", "app: p", ""),
        pod("z", "q", "app: q", ""),
        policy("t1", "{matchLabels: {kubernetes.io/metadata.name: yy}}"),
        policy("t2", "{matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [z, nowhere]}]}"),
        policy("t3", "{matchExpressions: [{key: team, operator: DoesNotExist}]}"),
        policy("t4", "{matchExpressions: [{key: team, operator: Exists}]}"),
    ]);
    let [t1, t2, t3, t4, local] = ["t1", "t2", "t3", "t4", "local"].map(|n| p("x", n));
    let (yp, zq) = (p("yy", "p"), p("z", "q"));
    let want = Table::open(&[ANY4, &t1, &t2, &t3, &t4, &local, &yp, &zq])
        .ingress_only(&t1, &[(&yp, ALL)])
        .ingress_only(&t2, &[(&zq, ALL)])
        .ingress_only(&t3, &[(&t1, ALL), (&t2, ALL), (&t4, ALL), (&local, ALL), (&yp, ALL)])
        .ingress_only(&t4, &[(&zq, ALL)]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// `In`, `NotIn` (which also matches pods without the key), `Exists`, `DoesNotExist`; all
/// requirements ANDed, several on one key included, and with `matchLabels`.
#[test]
fn label_selector_operators() {
    let policy = |target: &str, pod_selector: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {target}, namespace: x}}
spec:
  podSelector: {{matchLabels: {{target: {target}}}}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: src}}}}
      podSelector: {pod_selector}
"
        )
    };
    let targets = ["in", "notin", "exists", "dne", "multi", "mixed", "none"];
    let mut parts: Vec<String> = targets.iter().map(|t| pod("x", t, &format!("target: {t}"), "")).collect();
    parts.extend([
        pod("src", "s1", "tier: web", ""),
        pod("src", "s2", "tier: db", ""),
        pod("src", "s3", "tier: cache, env: prod", ""),
        pod("src", "s4", "env: dev", ""),
        policy(
            "in",
            "{matchExpressions: [{key: tier, operator: In, values: [web, db]}]}",
        ),
        policy(
            "notin",
            "{matchExpressions: [{key: tier, operator: NotIn, values: [web, db]}]}",
        ),
        policy("exists", "{matchExpressions: [{key: tier, operator: Exists}]}"),
        policy("dne", "{matchExpressions: [{key: tier, operator: DoesNotExist}]}"),
        policy(
            "multi",
            "{matchExpressions: [{key: tier, operator: In, values: [web, db, cache]}, {key: tier, operator: NotIn, values: [db]}]}",
        ),
        policy(
            "mixed",
            "{matchLabels: {env: prod}, matchExpressions: [{key: tier, operator: Exists}]}",
        ),
        policy(
            "none",
            "{matchLabels: {tier: db}, matchExpressions: [{key: tier, operator: In, values: [web]}]}",
        ),
    ]);
    let manifests = docs(&parts);
    let [s1, s2, s3, s4] = ["s1", "s2", "s3", "s4"].map(|n| p("src", n));
    let t: Vec<String> = targets.iter().map(|n| p("x", n)).collect();
    let mut peers: Vec<&str> = vec![ANY4, &s1, &s2, &s3, &s4];
    peers.extend(t.iter().map(String::as_str));
    let want = Table::open(&peers)
        .ingress_only(&t[0], &[(&s1, ALL), (&s2, ALL)])
        .ingress_only(&t[1], &[(&s3, ALL), (&s4, ALL)])
        .ingress_only(&t[2], &[(&s1, ALL), (&s2, ALL), (&s3, ALL)])
        .ingress_only(&t[3], &[(&s4, ALL)])
        .ingress_only(&t[4], &[(&s1, ALL), (&s3, ALL)])
        .ingress_only(&t[5], &[(&s3, ALL)])
        .ingress_only(&t[6], &[]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

/// Numeric ports with the TCP default, UDP and SCTP, protocol-only entries (every port of that
/// protocol), `endPort` ranges (merged when they overlap or touch), absent and empty `ports`.
#[test]
fn ports_protocols_and_ranges() {
    let rule =
        |client: &str, ports: &str| format!("  - from: [{{podSelector: {{matchLabels: {{app: {client}}}}}}}]\n{ports}");
    let ingress = [
        rule(
            "c1",
            "    ports: [{port: 80}, {protocol: UDP, port: 53}, {protocol: SCTP, port: 9003}, {port: 443, endPort: 450}]\n",
        ),
        rule("c2", "    ports: [{protocol: UDP}]\n"),
        rule(
            "c3",
            "    ports: [{protocol: TCP}, {protocol: UDP}, {protocol: SCTP}]\n",
        ),
        rule(
            "c4",
            "    ports: [{protocol: TCP, port: 1000, endPort: 2000}, {port: 1500, endPort: 3000}, {port: 3001}]\n",
        ),
        rule("c5", "    ports: [{protocol: TCP}]\n"),
        rule("c6", ""),
        rule("c7", "    ports: []\n"),
        rule("c8", "    ports: [{port: 80}]\n"),
        rule("c8", "    ports: [{port: 81, protocol: TCP}]\n"),
        rule("c10", "    ports: [{protocol: SCTP, port: 9000, endPort: 9010}, {protocol: UDP, port: 1, endPort: 65535}]\n"),
        rule("c11", "    ports: [{protocol: TCP}, {protocol: UDP}]\n"),
    ]
    .concat();
    let clients = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11"];
    let mut parts: Vec<String> = clients.iter().map(|c| pod("x", c, &format!("app: {c}"), "")).collect();
    parts.push(pod("x", "srv", "app: srv", ""));
    parts.push(format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: srv, namespace: x}}
spec:
  podSelector: {{matchLabels: {{app: srv}}}}
  policyTypes: [Ingress]
  ingress:
{ingress}"
    ));
    parts.push(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c9-dns, namespace: x}
spec:
  podSelector: {matchLabels: {app: c9}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"#
        .to_string(),
    );
    let manifests = docs(&parts);
    let c: Vec<String> = clients.iter().map(|n| p("x", n)).collect();
    let srv = p("x", "srv");
    let mut peers: Vec<&str> = vec![ANY4, &srv];
    peers.extend(c.iter().map(String::as_str));
    let want = Table::open(&peers)
        .ingress_only(
            &srv,
            &[
                (&c[0], "SCTP 9003,TCP 80,443-450,UDP 53"),
                (&c[1], "UDP 1-65535"),
                (&c[2], ALL),
                (&c[3], "TCP 1000-3001"),
                (&c[4], "TCP 1-65535"),
                (&c[5], ALL),
                (&c[6], ALL),
                (&c[7], "TCP 80-81"),
                (&c[9], "SCTP 9000-9010,UDP 1-65535"),
                (&c[10], "TCP 1-65535,UDP 1-65535"),
            ],
        )
        .egress_only(&c[8], &[(ANY4, "TCP 53,UDP 53")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A named port in an ingress rule is resolved on the destination pod, by name and protocol;
/// no container port with that name and protocol: the entry allows nothing. From an address
/// outside the cluster to a pod, the name still resolves on that pod.
#[test]
fn named_ports_in_ingress_rules() {
    let manifests = docs(&[
        pod(
            "x",
            "srv",
            "app: srv",
            "[{name: http, containerPort: 8080}, {name: dns, containerPort: 5353, protocol: UDP}]",
        ),
        pod("x", "c1", "app: c1", ""),
        pod("x", "c2", "app: c2", ""),
        pod("x", "c3", "app: c3", ""),
        pod("x", "c4", "app: c4", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: srv, namespace: x}
spec:
  podSelector: {matchLabels: {app: srv}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: c1}}}]
    ports: [{port: http}]
  - from: [{podSelector: {matchLabels: {app: c2}}}]
    ports: [{port: dns, protocol: UDP}]
  - from: [{podSelector: {matchLabels: {app: c3}}}]
    ports: [{port: dns}]
  - from: [{podSelector: {matchLabels: {app: c4}}}]
    ports: [{port: missing}, {port: http, protocol: UDP}]
  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: http}]
"#
        .to_string(),
    ]);
    let [srv, c1, c2, c3, c4] = ["srv", "c1", "c2", "c3", "c4"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &srv, &c1, &c2, &c3, &c4])
        .ingress_only(&srv, &[(&c1, "TCP 8080"), (&c2, "UDP 5353"), (ANY4, "TCP 8080")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A named port in an egress rule is resolved on each destination pod (name and protocol), so
/// one entry can mean different numbers on different pods; towards an ipBlock, or a rule
/// without `to` reaching outside addresses, a named port matches nothing.
#[test]
fn named_ports_in_egress_rules_and_towards_ip_blocks() {
    let manifests = docs(&[
        pod(
            "x",
            "srv1",
            "role: server",
            "[{name: http, containerPort: 8080}, {name: dns, containerPort: 5353, protocol: UDP}]",
        ),
        pod("x", "srv2", "role: server", "[{name: http, containerPort: 9000}]"),
        pod("x", "other", "role: other", "[{containerPort: 8080}]"),
        pod("x", "cli", "app: cli", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cli-out, namespace: x}
spec:
  podSelector: {matchLabels: {app: cli}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {role: server}}}]
    ports: [{port: http}]
  - ports: [{port: dns, protocol: UDP}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: http}, {port: 443}]
"#
        .to_string(),
    ]);
    let [srv1, srv2, other, cli] = ["srv1", "srv2", "other", "cli"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &srv1, &srv2, &other, &cli])
        .egress_only(&cli, &[(&srv1, "TCP 8080,UDP 5353"), (&srv2, "TCP 9000"), (ANY4, "TCP 443")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// ipBlock
// ---------------------------------------------------------------------------------------------

/// `cidr` minus `except` (IPv4), printed as maximal ranges; a block inside an excepted range
/// with other ports shows on its own; an ipBlock never matches a pod, even one whose address
/// could fall in the block.
#[test]
fn ip_block_with_except_never_matches_pods() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{ipBlock: {cidr: 192.168.0.0/16}}]
    ports: [{port: 443}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.200.0.0/16]}}]
  - to: [{ipBlock: {cidr: 10.1.2.0/24}}]
    ports: [{port: 5432}]
"#
        .to_string(),
    ]);
    let (a, b) = (p("x", "a"), p("x", "b"));
    let want = Table::open(&[ANY4, &a, &b])
        .ingress_only(&a, &[("192.168.0.0-192.168.255.255[External]", "TCP 443")])
        .egress_only(
            &a,
            &[
                ("10.0.0.0-10.0.255.255[External]", ALL),
                ("10.1.2.0-10.1.2.255[External]", "TCP 5432"),
                ("10.2.0.0-10.199.255.255[External]", ALL),
                ("10.201.0.0-10.255.255.255[External]", ALL),
            ],
        );
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// `0.0.0.0/0` is every IPv4 address outside the cluster (one line), and no pod; no IPv6 line
/// appears when no policy names an IPv6 block.
#[test]
fn ip_block_of_all_ipv4_addresses() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
  egress:
  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 443}]
"#
        .to_string(),
    ]);
    let (a, b) = (p("x", "a"), p("x", "b"));
    let want = Table::open(&[ANY4, &a, &b]).ingress_only(&a, &[(ANY4, ALL)]).egress_only(&a, &[(ANY4, "TCP 443")]);
    let out = graph(&[("m.yaml", &manifests)]);
    assert_lines(&out, &want.lines());
    assert!(out.iter().all(|l| !l.contains("::")), "IPv6 line: {out:?}");
}

/// IPv6 blocks (with except) appear as IPv6 ranges; `::/0` is every IPv6 address. Every pod is
/// isolated both ways here, so nothing else is printed.
#[test]
fn ipv6_blocks() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-out, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}}]
    ports: [{port: 443}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-in, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: "::/0"}}]
    ports: [{port: 80}]
"#
        .to_string(),
    ]);
    let (a, b) = (p("x", "a"), p("x", "b"));
    let want = Table::default()
        .set("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]", &b, "TCP 80")
        .set(&a, "2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff[External]", "TCP 443")
        .set(&a, "2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff[External]", "TCP 443");
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A connection needs both sides: the source's egress and the destination's ingress. What is
/// printed is the intersection.
#[test]
fn egress_and_ingress_must_both_allow() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        pod("x", "d", "app: d", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-out, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{port: 80}, {port: 443}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-out, namespace: x}
spec:
  podSelector: {matchLabels: {app: c}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-in, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: 443}, {port: 8080}]
  - from: [{podSelector: {matchLabels: {app: d}}}]
    ports: [{protocol: UDP, port: 53}]
"#
        .to_string(),
    ]);
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &a, &b, &c, &d])
        .egress_only(&a, &[(&b, "TCP 443")])
        .egress_only(&c, &[])
        .ingress_only(&b, &[(&a, "TCP 443"), (&d, "UDP 53")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// Workloads and owners
// ---------------------------------------------------------------------------------------------

fn owned_pod(name: &str, labels: &str, owner: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: x
  labels: {{{labels}}}
  ownerReferences:
  - {owner}
spec:
  containers:
  - name: main
    image: registry.example/app:1
"
    )
}

/// A Pod with a controlling ownerReference is shown under its owner, and is one peer with the
/// owner's manifest and with its sibling Pods; an owner without a kind is shown as `[Pod]`; a
/// Pod owned by a Node (a static pod's mirror) is its own peer. Policies apply to the pods.
#[test]
fn pods_are_shown_under_their_owner() {
    let statefulset = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: x}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: registry.example/db:1}]
"#;
    let manifests = docs(&[
        owned_pod(
            "web-5d8f-abcde",
            "app: web",
            "{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8f, uid: u1, controller: true}",
        ),
        owned_pod("db-0", "app: db", "{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u2, controller: true}"),
        owned_pod("db-1", "app: db", "{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u2, controller: true}"),
        statefulset.to_string(),
        owned_pod(
            "agent-k2x7p",
            "app: agent",
            "{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: u3, controller: true}",
        ),
        owned_pod(
            "backup-28000-q9z",
            "app: backup",
            "{apiVersion: batch/v1, kind: Job, name: backup-28000, uid: u4, controller: true}",
        ),
        owned_pod("legacy-1", "app: legacy", "{name: legacy, controller: true}"),
        owned_pod("etcd-node1", "app: etcd", "{apiVersion: v1, kind: Node, name: node1, uid: u5, controller: true}"),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
"#
        .to_string(),
    ]);
    let web = "x/web-5d8f[ReplicaSet]";
    let db = "x/db[StatefulSet]";
    let want = Table::open(&[
        ANY4,
        web,
        db,
        "x/agent[DaemonSet]",
        "x/backup-28000[Job]",
        "x/legacy[Pod]",
        "x/etcd-node1[Pod]",
    ])
    .ingress_only(db, &[(web, "TCP 5432")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Every workload kind is named `ns/name[Kind]` and selected by its pod template's labels
/// (CronJob: `jobTemplate.spec.template`; ReplicationController: `template`).
#[test]
fn workload_kinds_are_named_and_selected_by_template_labels() {
    let template = "    metadata: {labels: {locked: \"true\"}}\n    spec:\n      containers: [{name: main, image: registry.example/app:1}]\n";
    let workload = |api: &str, kind: &str, name: &str, extra: &str| {
        format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}, namespace: w}}\nspec:\n{extra}  template:\n{template}"
        )
    };
    let selector = "  selector: {matchLabels: {locked: \"true\"}}\n";
    let cronjob = r#"apiVersion: batch/v1
kind: CronJob
metadata: {name: cron, namespace: w}
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {locked: "true"}}
        spec:
          restartPolicy: OnFailure
          containers: [{name: main, image: registry.example/app:1}]
"#
    .to_string();
    let manifests = docs(&[
        workload("apps/v1", "Deployment", "dep", selector),
        workload("apps/v1", "ReplicaSet", "rs", selector),
        workload(
            "apps/v1",
            "StatefulSet",
            "sts",
            &format!("  serviceName: sts\n{selector}"),
        ),
        workload("apps/v1", "DaemonSet", "ds", selector),
        workload("batch/v1", "Job", "job", ""),
        cronjob,
        workload(
            "v1",
            "ReplicationController",
            "rc",
            "  selector: {locked: \"true\"}\n",
        ),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: pod\n  namespace: w\n  labels: {locked: \"true\"}\nspec:\n  containers: [{name: main, image: registry.example/app:1}]\n".to_string(),
        pod("w", "free", "app: free", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: lock, namespace: w}
spec:
  podSelector: {matchLabels: {locked: "true"}}
  policyTypes: [Ingress]
"#
        .to_string(),
    ]);
    let locked = [
        "w/dep[Deployment]",
        "w/rs[ReplicaSet]",
        "w/sts[StatefulSet]",
        "w/ds[DaemonSet]",
        "w/job[Job]",
        "w/cron[CronJob]",
        "w/rc[ReplicationController]",
        "w/pod[Pod]",
    ];
    let mut peers = vec![ANY4, "w/free[Pod]"];
    peers.extend(locked);
    let mut want = Table::open(&peers);
    for w in locked {
        want = want.ingress_only(w, &[]);
    }
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Services are not a filter between pods: a pod reaches another on any port its policies
/// allow, whatever ports a Service exposes.
#[test]
fn services_do_not_filter_pod_to_pod() {
    let manifests = docs(&[
        pod("x", "a", "app: a", "[{containerPort: 8080}]"),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        r#"apiVersion: v1
kind: Service
metadata: {name: a, namespace: x}
spec:
  selector: {app: a}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: c, namespace: x}
spec:
  selector: {app: c}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: b}}}]
    ports: [{port: 9000}]
"#
        .to_string(),
    ]);
    let (a, b, c) = (p("x", "a"), p("x", "b"), p("x", "c"));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&a, &[(&b, "TCP 9000")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// Ingress and Route
// ---------------------------------------------------------------------------------------------

fn deployment(ns: &str, name: &str, ports: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: main
        image: registry.example/{name}:1
        ports: {ports}
"
    )
}

fn service(ns: &str, name: &str, app: &str, ports: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{app: {app}}}
  ports: {ports}
"
    )
}

/// `networking.k8s.io/v1` backends by Service port number and by Service port name, the
/// Service's targetPort by number and by container-port name; the legacy
/// `extensions/v1beta1` and `networking.k8s.io/v1beta1` backends (`serviceName`/`servicePort`,
/// by number and by name). The controller reaches the backend on the target port.
#[test]
fn ingress_v1_and_legacy_backends() {
    let manifests = docs(&[
        deployment("shop", "web", "[{containerPort: 8080}, {name: admin-port, containerPort: 9443}]"),
        service(
            "shop",
            "web-svc",
            "web",
            "[{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9000, targetPort: admin-port}]",
        ),
        deployment("shop", "api", "[{containerPort: 3000}]"),
        service("shop", "api-svc", "api", "[{port: 8000, targetPort: 3000}]"),
        deployment("shop", "docs", "[{name: docs-http, containerPort: 8088}]"),
        service("shop", "docs-svc", "docs", "[{name: http, port: 80, targetPort: docs-http}]"),
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web-svc, port: {number: 80}}}
      - path: /admin
        pathType: Prefix
        backend: {service: {name: web-svc, port: {name: admin}}}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: api, namespace: shop}
spec:
  rules:
  - host: api.example.com
    http:
      paths:
      - path: /
        backend: {serviceName: api-svc, servicePort: 8000}
---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: {name: docs, namespace: shop}
spec:
  rules:
  - host: docs.example.com
    http:
      paths:
      - path: /
        backend: {serviceName: docs-svc, servicePort: http}
"#
        .to_string(),
    ]);
    let (web, api, docs_) = ("shop/web[Deployment]", "shop/api[Deployment]", "shop/docs[Deployment]");
    let want = Table::open(&[ANY4, web, api, docs_])
        .set(IC, web, "TCP 8080,9443")
        .set(IC, api, "TCP 3000")
        .set(IC, docs_, "TCP 8088");
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A default backend (`spec.defaultBackend` in v1, `spec.backend` in the legacy APIs) is a
/// backend like any other.
#[test]
fn ingress_default_backends() {
    let manifests = docs(&[
        deployment("shop", "fallback", "[{containerPort: 8081}]"),
        service("shop", "fallback-svc", "fallback", "[{port: 80, targetPort: 8081}]"),
        deployment("shop", "old", "[{containerPort: 8082}]"),
        service("shop", "old-svc", "old", "[{port: 80, targetPort: 8082}]"),
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: fallback, namespace: shop}
spec:
  defaultBackend: {service: {name: fallback-svc, port: {number: 80}}}
---
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old, namespace: shop}
spec:
  backend: {serviceName: old-svc, servicePort: 80}
"#
        .to_string(),
    ]);
    let (fallback, old) = ("shop/fallback[Deployment]", "shop/old[Deployment]");
    let want = Table::open(&[ANY4, fallback, old]).set(IC, fallback, "TCP 8081").set(IC, old, "TCP 8082");
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// The unknown ingress controller is a pod with no labels in a namespace of its own: a backend
/// whose policies admit it on the target port gets a line, any other gets none.
#[test]
fn ingress_backend_blocked_by_policy() {
    let mut parts = Vec::new();
    let mut paths = String::new();
    for name in ["locked", "samens", "anyns", "narrow"] {
        parts.push(deployment("shop", name, "[{containerPort: 8080}]"));
        parts.push(service("shop", &format!("{name}-svc"), name, "[{port: 80, targetPort: 8080}]"));
        paths.push_str(&format!(
            "      - path: /{name}\n        pathType: Prefix\n        backend: {{service: {{name: {name}-svc, port: {{number: 80}}}}}}\n"
        ));
    }
    parts.push(format!(
        "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: shop, namespace: shop}}
spec:
  rules:
  - http:
      paths:
{paths}"
    ));
    parts.push(
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: locked, namespace: shop}
spec:
  podSelector: {matchLabels: {app: locked}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: samens, namespace: shop}
spec:
  podSelector: {matchLabels: {app: samens}}
  ingress:
  - from: [{podSelector: {}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: anyns, namespace: shop}
spec:
  podSelector: {matchLabels: {app: anyns}}
  ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: narrow, namespace: shop}
spec:
  podSelector: {matchLabels: {app: narrow}}
  ingress:
  - ports: [{port: 8443}]
"#
        .to_string(),
    );
    let manifests = docs(&parts);
    let [locked, samens, anyns, narrow] =
        ["locked", "samens", "anyns", "narrow"].map(|n| format!("shop/{n}[Deployment]"));
    let want = Table::open(&[ANY4, &locked, &samens, &anyns, &narrow])
        .ingress_only(&locked, &[])
        .ingress_only(&samens, &[(&locked, ALL), (&anyns, ALL), (&narrow, ALL)])
        .ingress_only(&anyns, &[(&locked, "TCP 8080"), (&samens, "TCP 8080"), (&narrow, "TCP 8080"), (IC, "TCP 8080")])
        .ingress_only(
            &narrow,
            &[(ANY4, "TCP 8443"), (&locked, "TCP 8443"), (&samens, "TCP 8443"), (&anyns, "TCP 8443")],
        );
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// An OpenShift Route: `port.targetPort` as a string names a Service port (the endpoints' port
/// name), whose targetPort may itself be a container-port name; as a number it is the pod's
/// port.
#[test]
fn openshift_route_target_port() {
    let manifests = docs(&[
        deployment("r", "app", "[{name: http, containerPort: 8080}, {containerPort: 9100}]"),
        service(
            "r",
            "app-svc",
            "app",
            "[{name: web, port: 80, targetPort: http}, {name: metrics, port: 81, targetPort: 9100}]",
        ),
        deployment("r", "other", "[{containerPort: 5000}]"),
        service("r", "other-svc", "other", "[{name: main, port: 5001, targetPort: 5000}]"),
        r#"apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: app, namespace: r}
spec:
  host: app.apps.example.com
  to: {kind: Service, name: app-svc, weight: 100}
  port: {targetPort: web}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: other, namespace: r}
spec:
  to: {kind: Service, name: other-svc}
  port: {targetPort: 5000}
"#
        .to_string(),
    ]);
    let (app, other) = ("r/app[Deployment]", "r/other[Deployment]");
    let want = Table::open(&[ANY4, app, other]).set(IC, app, "TCP 8080").set(IC, other, "TCP 5000");
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// Namespaces and pod kinds
// ---------------------------------------------------------------------------------------------

/// Objects without a namespace (pods and policies alike) go to `default`, or to
/// `--default-namespace`; an explicit namespace stays where it is.
#[test]
fn objects_without_namespace_get_the_default_namespace() {
    let bare_pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: {name}}}\nspec:\n  containers: [{{name: main, image: registry.example/app:1}}]\n"
        )
    };
    let manifests = docs(&[
        bare_pod("a"),
        bare_pod("b"),
        pod("default", "c", "app: c", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-a}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-c}
spec:
  podSelector: {matchLabels: {app: c}}
  policyTypes: [Ingress]
"#
        .to_string(),
    ]);
    let files = [("m.yaml", manifests.as_str())];

    let [a, b, c] = ["a", "b", "c"].map(|n| p("default", n));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&a, &[]).ingress_only(&c, &[]);
    assert_lines(&graph(&files), &want.lines());

    // With `--default-namespace other`: a, b and both policies move to `other`; c stays in
    // `default`, where no policy selects it any more.
    let (oa, ob) = (p("other", "a"), p("other", "b"));
    let want = Table::open(&[ANY4, &oa, &ob, &c]).ingress_only(&oa, &[]);
    assert_lines(&graph_with(&files, &["--default-namespace", "other"]), &want.lines());
}

/// `hostNetwork: true` pods are treated as ordinary pods: selected by their labels, isolated by
/// their policies, matched by peers' selectors.
#[test]
fn host_network_pods_are_ordinary_pods() {
    let host = r#"apiVersion: v1
kind: Pod
metadata:
  name: h
  namespace: x
  labels: {app: h}
spec:
  hostNetwork: true
  containers: [{name: main, image: registry.example/agent:1, ports: [{containerPort: 80}]}]
"#;
    let manifests = docs(&[
        host.to_string(),
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: h, namespace: x}
spec:
  podSelector: {matchLabels: {app: h}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{port: 80}]
  egress:
  - to: [{podSelector: {matchLabels: {app: b}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: h}}}]
"#
        .to_string(),
    ]);
    let [h, a, b] = ["h", "a", "b"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &h, &a, &b])
        .ingress_only(&h, &[(&a, "TCP 80")])
        .egress_only(&h, &[(&b, ALL)])
        .ingress_only(&b, &[(&h, ALL)]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

// ---------------------------------------------------------------------------------------------
// Further edge cases
// ---------------------------------------------------------------------------------------------

/// A policy's own `podSelector` may use expressions too: `NotIn` selects the pods without the
/// key as well.
#[test]
fn policy_pod_selector_with_expressions() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "role: none", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all-but-a, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [a]}]}
  policyTypes: [Ingress]
"#
        .to_string(),
    ]);
    let [a, b, c] = ["a", "b", "c"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&b, &[]).ingress_only(&c, &[]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// The API server sets `kubernetes.io/metadata.name` to the namespace's name whatever the
/// manifest says: a Namespace object cannot make itself look like another namespace.
#[test]
fn namespace_name_label_is_always_the_name() {
    let manifests = docs(&[
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n  labels: {kubernetes.io/metadata.name: fake, team: home}\n"
            .to_string(),
        pod("x", "src", "app: src", ""),
        pod("w", "t1", "target: t1", ""),
        pod("w", "t2", "target: t2", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: t1, namespace: w}
spec:
  podSelector: {matchLabels: {target: t1}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: t2, namespace: w}
spec:
  podSelector: {matchLabels: {target: t2}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: fake}}}]
"#
        .to_string(),
    ]);
    let (src, t1, t2) = (p("x", "src"), p("w", "t1"), p("w", "t2"));
    let want = Table::open(&[ANY4, &src, &t1, &t2]).ingress_only(&t1, &[(&src, ALL)]).ingress_only(&t2, &[]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// External ranges are split where connections differ and merged where they agree: adjacent
/// blocks with the same connections become one range; a single address is `a-a`.
#[test]
fn external_ranges_are_split_and_merged_maximally() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/8}}]
    ports: [{port: 80}]
  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: 443}]
  egress:
  - to: [{ipBlock: {cidr: 8.8.8.8/32}}]
    ports: [{protocol: UDP, port: 53}]
  - to: [{ipBlock: {cidr: 169.254.169.254/32}}, {ipBlock: {cidr: 169.254.169.255/32}}]
  - to: [{ipBlock: {cidr: 192.168.1.0/25}}]
    ports: [{port: 53}]
  - to: [{ipBlock: {cidr: 192.168.1.128/25}}]
    ports: [{port: 53}]
"#
        .to_string(),
    ]);
    let (a, b) = (p("x", "a"), p("x", "b"));
    let want = Table::open(&[ANY4, &a, &b])
        .ingress_only(
            &a,
            &[
                ("0.0.0.0-9.255.255.255[External]", "TCP 443"),
                ("10.0.0.0-10.255.255.255[External]", "TCP 80,443"),
                ("11.0.0.0-255.255.255.255[External]", "TCP 443"),
            ],
        )
        .egress_only(
            &a,
            &[
                ("8.8.8.8-8.8.8.8[External]", "UDP 53"),
                ("169.254.169.254-169.254.169.255[External]", ALL),
                ("192.168.1.0-192.168.1.255[External]", "TCP 53"),
            ],
        );
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// The unknown controller is one pod without labels in `ingress-controller-ns`: peers that
/// match such a pod admit it (any namespace, a `NotIn` on the backend's namespace, a
/// `DoesNotExist` on a label), peers that need a label do not; a named port in the policy is
/// resolved on the backend; a Service port without targetPort targets the same number; an
/// ipBlock, which never matches a pod, does not admit it.
#[test]
fn ingress_controller_is_an_unlabelled_pod_in_its_own_namespace() {
    let names = ["named", "notshop", "nolabel", "labelled", "defport", "ipblock"];
    let mut parts = Vec::new();
    let mut paths = String::new();
    for name in names {
        parts.push(deployment("shop", name, "[{name: http, containerPort: 8080}]"));
        let (svc_ports, port) =
            if name == "defport" { ("[{port: 8080}]", 8080) } else { ("[{port: 80, targetPort: http}]", 80) };
        parts.push(service("shop", &format!("{name}-svc"), name, svc_ports));
        paths.push_str(&format!(
            "      - path: /{name}\n        pathType: Prefix\n        backend: {{service: {{name: {name}-svc, port: {{number: {port}}}}}}}\n"
        ));
    }
    parts.push(format!(
        "apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: shop, namespace: shop}}
spec:
  ingressClassName: mystery
  rules:
  - http:
      paths:
{paths}"
    ));
    let policy = |name: &str, rule: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: shop}}
spec:
  podSelector: {{matchLabels: {{app: {name}}}}}
  policyTypes: [Ingress]
  ingress:
{rule}"
        )
    };
    parts.push(policy("named", "  - from: [{namespaceSelector: {}}]\n    ports: [{port: http}]\n"));
    parts.push(policy(
        "notshop",
        "  - from: [{namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [shop]}]}}]\n",
    ));
    parts.push(policy(
        "nolabel",
        "  - from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}]\n",
    ));
    parts.push(policy(
        "labelled",
        "  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {app.kubernetes.io/name: ingress-nginx}}}]\n",
    ));
    parts.push(policy("ipblock", "  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]\n"));
    let manifests = docs(&parts);
    let [named, notshop, nolabel, labelled, defport, ipblock] = names.map(|n| format!("shop/{n}[Deployment]"));
    let want = Table::open(&[ANY4, &named, &notshop, &nolabel, &labelled, &defport, &ipblock])
        .ingress_only(
            &named,
            &[
                (&notshop, "TCP 8080"),
                (&nolabel, "TCP 8080"),
                (&labelled, "TCP 8080"),
                (&defport, "TCP 8080"),
                (&ipblock, "TCP 8080"),
                (IC, "TCP 8080"),
            ],
        )
        .ingress_only(&notshop, &[(IC, "TCP 8080")])
        .ingress_only(&nolabel, &[(IC, "TCP 8080")])
        .ingress_only(&labelled, &[])
        .ingress_only(&ipblock, &[(ANY4, ALL)])
        .set(IC, &defport, "TCP 8080");
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A Route's `alternateBackends` are backends too (the same `port` applies to each Service),
/// and a Route without `port` reaches every port of its Service.
#[test]
fn openshift_route_alternate_backends_and_no_port() {
    let manifests = docs(&[
        deployment("r", "stable", "[{name: http, containerPort: 8080}]"),
        service("r", "stable-svc", "stable", "[{name: web, port: 80, targetPort: http}]"),
        deployment("r", "canary", "[{name: http, containerPort: 8081}]"),
        service("r", "canary-svc", "canary", "[{name: web, port: 80, targetPort: http}]"),
        deployment("r", "multi", "[{containerPort: 8080}, {containerPort: 9090}]"),
        service(
            "r",
            "multi-svc",
            "multi",
            "[{name: a, port: 80, targetPort: 8080}, {name: b, port: 90, targetPort: 9090}]",
        ),
        r#"apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: ab, namespace: r}
spec:
  to: {kind: Service, name: stable-svc, weight: 90}
  alternateBackends:
  - {kind: Service, name: canary-svc, weight: 10}
  port: {targetPort: web}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: multi, namespace: r}
spec:
  to: {kind: Service, name: multi-svc}
"#
        .to_string(),
    ]);
    let (stable, canary, multi) = ("r/stable[Deployment]", "r/canary[Deployment]", "r/multi[Deployment]");
    let want = Table::open(&[ANY4, stable, canary, multi]).set(IC, stable, "TCP 8080").set(IC, canary, "TCP 8081").set(
        IC,
        multi,
        "TCP 8080,9090",
    );
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// Workloads with the same labels but different numbers behind a port name: a named port
/// resolves on each destination separately, in ingress and in egress rules.
#[test]
fn named_port_resolves_per_workload_with_the_same_labels() {
    let manifests = docs(&[
        deployment("x", "v1", "[{name: http, containerPort: 8080}]").replace("app: v1", "app: api"),
        deployment("x", "v2", "[{name: http, containerPort: 9090}]").replace("app: v2", "app: api"),
        pod("x", "cli", "app: cli", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: x}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: cli, namespace: x}
spec:
  podSelector: {matchLabels: {app: cli}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: http}]
"#
        .to_string(),
    ]);
    let (v1, v2, cli) = ("x/v1[Deployment]", "x/v2[Deployment]", p("x", "cli"));
    let want = Table::default()
        .set(ANY4, v1, "TCP 8080")
        .set(ANY4, v2, "TCP 9090")
        .set(&cli, v1, "TCP 8080")
        .set(&cli, v2, "TCP 9090")
        .set(v1, v2, "TCP 9090")
        .set(v2, v1, "TCP 8080")
        .set(v1, ANY4, ALL)
        .set(v2, ANY4, ALL)
        .set(v1, &cli, ALL)
        .set(v2, &cli, ALL)
        .set(ANY4, &cli, ALL);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A Service's named targetPort resolves on each selected pod: different workloads behind one
/// Service get their own number, a pod without that port name gets no line. A Service selects
/// only pods of its own namespace.
#[test]
fn service_named_target_port_resolves_per_backend() {
    let web = |ns: &str, name: &str, ports: &str| {
        deployment(ns, name, ports)
            .replace(&format!("{{app: {name}}}}}\n    spec"), &format!("{{app: {name}, tier: web}}}}\n    spec"))
    };
    let manifests = docs(&[
        web("shop", "a", "[{name: http, containerPort: 8080}]"),
        web("shop", "b", "[{name: http, containerPort: 9090}]"),
        web("shop", "c", "[{name: metrics, containerPort: 9100}]"),
        web("elsewhere", "d", "[{name: http, containerPort: 8080}]"),
        "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {tier: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
"
        .to_string(),
    ]);
    let [a, b, c] = ["a", "b", "c"].map(|n| format!("shop/{n}[Deployment]"));
    let d = "elsewhere/d[Deployment]";
    let want = Table::open(&[ANY4, &a, &b, &c, d]).set(IC, &a, "TCP 8080").set(IC, &b, "TCP 9090");
    let out = graph(&[("m.yaml", &manifests)]);
    // The template labels really carry `tier: web` (else the test proves nothing).
    assert!(manifests.contains("{app: a, tier: web}"), "{manifests}");
    assert_lines(&out, &want.lines());
}

/// `List` and `*List` documents are expanded, and JSON manifests are read like YAML.
#[test]
fn lists_and_json_manifests_are_read() {
    let list = format!(
        "apiVersion: v1
kind: List
items:
- {}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {{name: a, namespace: x}}
  spec:
    podSelector: {{matchLabels: {{app: a}}}}
    ingress:
    - from: [{{podSelector: {{matchLabels: {{app: b}}}}}}]
      ports: [{{port: 80}}]
",
        "{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: x, labels: {app: a}}, spec: {containers: [{name: main, image: registry.example/app:1}]}}"
    );
    let pod_list = r#"{
  "apiVersion": "v1",
  "kind": "PodList",
  "items": [
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "b", "namespace": "x", "labels": {"app": "b"}},
     "spec": {"containers": [{"name": "main", "image": "registry.example/app:1"}]}},
    {"apiVersion": "v1", "kind": "Pod",
     "metadata": {"name": "c", "namespace": "x", "labels": {"app": "c"}},
     "spec": {"containers": [{"name": "main", "image": "registry.example/app:1"}]}}
  ]
}
"#;
    let [a, b, c] = ["a", "b", "c"].map(|n| p("x", n));
    let want = Table::open(&[ANY4, &a, &b, &c]).ingress_only(&a, &[(&b, "TCP 80")]);
    assert_lines(&graph(&[("list.yaml", &list), ("pods.json", pod_list)]), &want.lines());
}

/// Pod and namespace selectors in egress rules reach pods only, never outside addresses;
/// `podSelector: {}` stays in the policy's namespace.
#[test]
fn egress_selectors_never_reach_external_addresses() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        pod("x", "c", "app: c", ""),
        pod("other", "d", "app: d", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {}}]
"#
        .to_string(),
    ]);
    let [a, b, c] = ["a", "b", "c"].map(|n| p("x", n));
    let d = p("other", "d");
    let want = Table::open(&[ANY4, &a, &b, &c, &d])
        .egress_only(&a, &[(&b, ALL), (&c, ALL), (&d, ALL)])
        .egress_only(&b, &[(&a, ALL), (&c, ALL)]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// A Service with an empty or absent selector selects no pod (its endpoints are managed
/// elsewhere): an Ingress to it reaches no workload. A pod without any label is matched by
/// `podSelector: {}` and by `DoesNotExist`.
#[test]
fn service_without_selector_has_no_backend_and_unlabelled_pods_match_empty_selectors() {
    let manifests = docs(&[
        deployment("shop", "web", "[{containerPort: 8080}]"),
        "apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: shop}
spec:
  containers: [{name: main, image: registry.example/app:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: empty, namespace: shop}
spec:
  selector: {}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: external-db, namespace: shop}
spec:
  ports: [{port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: empty, port: {number: 80}}}}
      - {path: /db, pathType: Prefix, backend: {service: {name: external-db, port: {number: 5432}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchExpressions: [{key: app, operator: DoesNotExist}]}}]
"
        .to_string(),
    ]);
    let (web, bare) = ("shop/web[Deployment]", p("shop", "bare"));
    let want = Table::open(&[ANY4, web, &bare]).ingress_only(web, &[(&bare, ALL)]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

/// `0.0.0.0/0` covers no IPv6 address and `::/0` no IPv4 address. Once a policy names an IPv6
/// block, IPv6 space is part of the analysis: a pod that nothing isolates is reachable from,
/// and reaches, all of it.
#[test]
fn ipv4_and_ipv6_blocks_do_not_overlap() {
    let manifests = docs(&[
        pod("x", "a", "app: a", ""),
        pod("x", "b", "app: b", ""),
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
  egress:
  - to: [{ipBlock: {cidr: "::/0"}}]
    ports: [{port: 443}]
"#
        .to_string(),
    ]);
    let any6 = "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]";
    let (a, b) = (p("x", "a"), p("x", "b"));
    let want =
        Table::open(&[ANY4, any6, &a, &b]).ingress_only(&a, &[(ANY4, ALL)]).egress_only(&a, &[(any6, "TCP 443")]);
    assert_lines(&graph(&[("m.yaml", &manifests)]), &want.lines());
}

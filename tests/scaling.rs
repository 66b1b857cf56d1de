//! The engine's cost grows with what is distinct, never with copies: a cluster-wide peer written
//! in every namespace is matched and stored once, and an allowance holds one grant per set its
//! rules name, not one entry per pod those rules admit. Checked on the sizes of the graph's
//! tables, so that a regression to per-copy work fails here rather than only in a benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kubereach::graph::{self, Sizes};
use kubereach::model::build::{self as analysis, LoadOptions};

/// `namespaces` namespaces of `apps` apps each, every namespace with a default deny, DNS egress,
/// and ingress from the monitoring namespace and from every namespace (the shapes a real
/// cluster repeats in each namespace), and one tier-to-tier rule.
fn cluster(namespaces: usize, apps: usize) -> String {
    let mut out = String::new();
    for n in 0..namespaces {
        let ns = format!("team-{n}");
        out.push_str(&format!(
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    env: prod\n"
        ));
        for a in 0..apps {
            out.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{a}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: app-{a}\n  template:\n    metadata:\n      labels:\n        app: app-{a}\n        tier: t{}\n    spec:\n      containers:\n        - name: c\n          image: x\n          ports:\n            - name: metrics\n              containerPort: 9090\n",
                a % 2
            ));
        }
        let policy = |name: &str, spec: &str| {
            format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}")
        };
        out.push_str(&policy("deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"));
        out.push_str(&policy(
            "dns",
            "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n    - to:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: kube-system\n      ports:\n        - port: 53\n          protocol: UDP\n",
        ));
        out.push_str(&policy(
            "scrape",
            "  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              kubernetes.io/metadata.name: monitoring\n      ports:\n        - port: metrics\n",
        ));
        out.push_str(&policy(
            "everyone",
            "  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector: {}\n      ports:\n        - port: 9090\n",
        ));
        out.push_str(&policy(
            "tiers",
            "  podSelector:\n    matchLabels:\n      tier: t1\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              tier: t0\n",
        ));
    }
    out.push_str("---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: prometheus\n  namespace: monitoring\nspec:\n  selector:\n    matchLabels:\n      app: prometheus\n  template:\n    metadata:\n      labels:\n        app: prometheus\n    spec:\n      containers:\n        - name: c\n          image: x\n");
    out
}

fn sizes(namespaces: usize, apps: usize) -> (Sizes, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cluster.yaml"), cluster(namespaces, apps)).unwrap();
    let loaded = analysis::load(&[dir.path().to_path_buf()], &LoadOptions::default()).unwrap();
    let g = graph::build(&loaded.single().model);
    let mut edges = Vec::new();
    g.for_each_edge(|s, d, c| {
        edges.push(format!("{} => {} : {c}", g.endpoint_name(s), g.endpoint_name(d)));
        Ok::<(), ()>(())
    })
    .unwrap();
    (g.sizes(), edges)
}

#[test]
fn a_cluster_wide_peer_repeated_in_every_namespace_is_one_set() {
    let (small, _) = sizes(10, 4);
    let (large, _) = sizes(80, 4);
    assert_eq!(large.classes, 80 * 4 + 1 + 1, "{large:?}");
    // Sets: monitoring, every pod, (kube-system holds no pod: empty sets are not granted) and the
    // t0 pods of each namespace: the cluster-wide ones do not multiply with the namespaces.
    assert_eq!(small.class_sets - 10, large.class_sets - 80, "{small:?} {large:?}");
    // The members of the sets: every pod once for `namespaceSelector: {}`, the monitoring pod,
    // and the t0 pods of each namespace; linear in the pods, not in copies times pods.
    assert!(large.class_set_members <= 2 * large.classes + 1, "{large:?}");
    // Grants: at most one per rule that selects a class, never one per admitted pod.
    let pods = 80 * 4;
    assert!(large.grants <= pods * 3, "{large:?}");
}

#[test]
fn the_grants_of_a_repeated_rule_still_give_every_connection() {
    // Every pod admits 9090 from every pod (`namespaceSelector: {}`) and `metrics` (9090) from
    // monitoring, but every pod's egress is denied except DNS: no app reaches another, whatever
    // the number of namespaces. Prometheus is not isolated: it reaches every app on 9090, and
    // addresses outside the cluster reach it and are reached.
    let (_, edges) = sizes(6, 3);
    let (apps, others): (Vec<&String>, Vec<&String>) = edges.iter().partition(|e| e.contains("team-"));
    assert_eq!(apps.len(), 6 * 3, "{edges:#?}");
    assert!(
        apps.iter().all(|e| e.starts_with("monitoring/prometheus[Deployment] => team-") && e.ends_with(": TCP 9090")),
        "{apps:#?}"
    );
    assert_eq!(others.len(), 2, "{others:#?}");
}

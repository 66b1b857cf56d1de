//! The rules that see the cluster tiers, end to end: tenants kept apart by a tier policy are not
//! open to each other, a Baseline default deny covers a namespace, and a profile that does not
//! enforce the tiers says so once and leaves them out of the graph.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kubereach, repo_with, rule_findings, RunExt as _};

const TENANTS: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: red
  labels:
    tenant: red
---
apiVersion: v1
kind: Namespace
metadata:
  name: blue
  labels:
    tenant: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: red
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: api:1
          ports:
            - containerPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: blue
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
          image: web:1
";

/// Each tenant's pods admit nothing from another tenant's namespaces: one policy per tenant.
const ISOLATION: &str = "\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: red-apart
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces:
      matchLabels:
        tenant: red
  ingress:
    - name: only-from-red
      action: Deny
      from:
        - namespaces:
            matchExpressions:
              - {key: tenant, operator: NotIn, values: [red]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: blue-apart
spec:
  priority: 11
  subject:
    namespaces:
      matchLabels:
        tenant: blue
  ingress:
    - name: only-from-blue
      action: Deny
      from:
        - namespaces:
            matchExpressions:
              - {key: tenant, operator: NotIn, values: [blue]}
";

const CONFIG: &str = "tenants:\n  label: tenant\n";

#[test]
fn tenants_kept_apart_by_a_tier_policy_are_not_open_to_each_other() {
    // Without the tier policy, each tenant's workloads are open to the other.
    let open = repo_with(&[("cluster.yaml", TENANTS), (".kubereach.yaml", CONFIG)]);
    let found = rule_findings(open.path(), "cross-namespace-exposure", &[]);
    assert_eq!(found.len(), 2, "{found:?}");
    // The tier policies deny red's pods everything from other tenants, and blue's likewise.
    let apart = repo_with(&[("cluster.yaml", TENANTS), ("tiers.yaml", ISOLATION), (".kubereach.yaml", CONFIG)]);
    let found = rule_findings(apart.path(), "cross-namespace-exposure", &[]);
    assert!(found.is_empty(), "{found:?}");
    // With only red's policy, blue stays open to red.
    let half = ISOLATION.split("---").next().unwrap();
    let half = repo_with(&[("cluster.yaml", TENANTS), ("tiers.yaml", half), (".kubereach.yaml", CONFIG)]);
    let found = rule_findings(half.path(), "cross-namespace-exposure", &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].2.contains("namespace `blue`"), "{found:?}");
    let graph = kubereach(["graph"]).arg(apart.path()).run().ok();
    assert!(!graph.contains("blue/web[Deployment] => red/api[Deployment]"), "{graph}");
    assert!(!graph.contains("red/api[Deployment] => blue/web[Deployment]"), "{graph}");
}

#[test]
fn a_baseline_default_deny_covers_the_namespaces_it_applies_to() {
    let baseline = "\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces: {}
  ingress:
    - action: Deny
      from:
        - namespaces: {}
  egress:
    - action: Deny
      to:
        - networks: [0.0.0.0/0, '::/0']
";
    let open = repo_with(&[("cluster.yaml", TENANTS)]);
    assert_eq!(rule_findings(open.path(), "namespace-without-default-deny", &[]).len(), 2);
    let covered = repo_with(&[("cluster.yaml", TENANTS), ("baseline.yaml", baseline)]);
    let found = rule_findings(covered.path(), "namespace-without-default-deny", &[]);
    assert!(found.is_empty(), "{found:?}");
    // The same under a profile whose dataplane does not implement the tiers: inert, said once.
    let found = rule_findings(covered.path(), "namespace-without-default-deny", &["--profile", "aks-azure-cni"]);
    assert_eq!(found.len(), 2, "{found:?}");
    let said = rule_findings(covered.path(), "network-policy-not-enforced", &["--profile", "aks-azure-cni"]);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].2.contains("BaselineAdminNetworkPolicy `default`"), "{said:?}");
    assert!(said[0].2.contains("does not implement the cluster tiers"), "{said:?}");
    // And the configuration can say this cluster does enforce them.
    let enforced = repo_with(&[
        ("cluster.yaml", TENANTS),
        ("baseline.yaml", baseline),
        (".kubereach.yaml", "cluster:\n  tiers-enforced: true\n"),
    ]);
    let found = rule_findings(enforced.path(), "namespace-without-default-deny", &["--profile", "aks-azure-cni"]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn explain_names_the_tier_policies_a_profile_leaves_unenforced() {
    let apart = repo_with(&[("cluster.yaml", TENANTS), ("tiers.yaml", ISOLATION)]);
    let args = ["explain", "--from", "blue/web", "--to", "red/api"];
    // Enforced: the Admin tier denies, and says so.
    let out = kubereach(args).arg(apart.path()).run();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("ClusterNetworkPolicy `red-apart` ingress rule 1 `only-from-red`"), "{out}");
    // Unenforced: allowed, and the policy that would have decided is named as not enforced, on
    // the side it applies to only (blue's policy has no egress rules for the source).
    let out = kubereach(args).arg(apart.path()).args(["--profile", "aks-cilium"]).run();
    assert_eq!(out.code, Some(0), "{out}");
    let ingress = out.stdout.split("ingress of red/api").nth(1).unwrap_or_default();
    assert!(
        ingress.contains("ClusterNetworkPolicy `red-apart` (")
            && ingress.contains("tiers.yaml:4:9)")
            && ingress.contains("the profile's dataplane does not enforce the cluster tiers"),
        "{out}"
    );
    assert!(!out.stdout.contains("blue-apart"), "{out}");
}

#[test]
fn a_null_list_of_ports_is_every_port() {
    // Go marshals a nil list as `null`; the API server drops it before validating.
    let seal = "\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: seal-red
spec:
  priority: 5
  subject:
    namespaces:
      matchLabels:
        tenant: red
  ingress:
    - name: deny-all
      action: Deny
      ports: null
      from:
        - namespaces: {}
";
    let repo = repo_with(&[("cluster.yaml", TENANTS), ("seal.yaml", seal)]);
    assert!(rule_findings(repo.path(), "invalid-manifest", &[]).is_empty());
    let out = kubereach(["explain", "--from", "blue/web", "--to", "red/api"]).arg(repo.path()).run();
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("`deny-all`") && out.stdout.contains("denied on every port"), "{out}");
}

#[test]
fn invalid_tier_manifests_are_located_and_the_rest_is_analysed() {
    let bad = "\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: bad
spec:
  tier: Admin
  priority: 1001
  subject:
    namespaces: {}
  ingress:
    - action: Allow
      from:
        - namespaces: {}
    - action: Deny
      from:
        - namespaces: {}
          pods:
            podSelector: {}
      protocols:
        - tcp:
            destinationPort:
              range: {start: 90, end: 80}
";
    let dir = repo_with(&[("cluster.yaml", TENANTS), ("bad.yaml", bad)]);
    let found = rule_findings(dir.path(), "invalid-manifest", &[]);
    let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("spec.priority") && m.contains("1001")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("`Allow`") && m.contains("Accept, Deny or Pass")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("exactly one of")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("`start` must be less than `end`")), "{messages:?}");
    // The workloads are still analysed.
    let graph = kubereach(["graph"]).arg(dir.path()).run().ok();
    assert!(graph.contains("blue/web[Deployment] => red/api[Deployment]"), "{graph}");
}

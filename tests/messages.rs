//! Messages that say only what is true (issue 11, items 5 and 7): each test builds the situation
//! in which an earlier wording said something false, and checks the facts the message now states
//! (and that the false words are gone). The snapshots of `tests/rules.rs` pin the full texts of
//! the fixtures; these tests name the fact each wording rests on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kubereach, repo_with, rule_findings, RunExt as _};

/// A Deployment `name` in `namespace` whose pods carry `app: name` and `extra` labels, and
/// `spec` lines for the pod (indented for `template.spec`).
fn deployment(namespace: &str, name: &str, extra_labels: &str, pod_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n{extra_labels}    spec:\n{pod_spec}      containers:\n        - name: {name}\n          image: registry.example.com/{name}:1.0\n---\n"
    )
}

/// A NetworkPolicy `name` of `namespace` with the `spec` lines given (indented by two).
fn policy(namespace: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n{spec}---\n"
    )
}

#[test]
fn a_namespace_whose_every_pod_is_selected_is_not_said_to_have_unselected_pods() {
    // Each workload picked by its own deny policy: no pod is unselected, only later ones would be.
    let mut text = deployment("search", "search", "", "");
    text += &deployment("search", "indexer", "", "");
    for app in ["search", "indexer"] {
        text += &policy(
            "search",
            &format!("deny-{app}"),
            &format!("  podSelector:\n    matchLabels:\n      app: {app}\n  policyTypes: [Ingress, Egress]\n"),
        );
    }
    let dir = repo_with(&[("search.yaml", &text)]);
    let hits = rule_findings(dir.path(), "namespace-without-default-deny", &[]);
    let [(_, level, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert_eq!(level, "warning");
    assert!(!message.contains("a pod that no policy selects"), "{message}");
    assert!(message.contains("each of its workloads is selected for ingress and egress"), "{message}");
    assert!(message.contains("a workload added later, or whose labels change"), "{message}");

    // Some selected: the open ones are counted.
    let mut text = deployment("inventory", "inventory", "", "");
    text += &deployment("inventory", "importer", "", "");
    text += &deployment("inventory", "exporter", "", "");
    text += &policy("inventory", "inventory", "  podSelector:\n    matchLabels:\n      app: inventory\n");
    let dir = repo_with(&[("inventory.yaml", &text)]);
    let hits = rule_findings(dir.path(), "namespace-without-default-deny", &[]);
    let [(_, _, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert!(
        message.contains("2 of its 3 workloads are selected by no policy for ingress: they accept every connection"),
        "{message}"
    );
}

#[test]
fn an_ingress_allow_list_without_egress_isolation_says_both_facts_as_a_note() {
    // Every pod isolated for ingress by a policy that selects every pod with rules (the shape of a
    // tutorial's "deny from other namespaces"), egress not isolated at all.
    let mut text = deployment("tenant-a", "portal", "", "");
    text += &policy(
        "tenant-a",
        "same-tenant-only",
        "  podSelector: {}\n  ingress:\n    - from:\n        - podSelector: {}\n",
    );
    let dir = repo_with(&[("tenant-a.yaml", &text)]);
    let hits = rule_findings(dir.path(), "namespace-without-default-deny", &[]);
    let [(_, level, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert_eq!(level, "note", "{message}");
    assert!(!message.contains("a pod that no policy selects"), "{message}");
    assert!(message.contains("every pod is isolated for ingress by `same-tenant-only`"), "{message}");
    assert!(
        message.contains("no policy selects its workloads for egress: every pod may connect anywhere"),
        "{message}"
    );
}

#[test]
fn workload_not_isolated_counts_instead_of_saying_most() {
    // 2 of 4 isolated for egress: exactly half, which "most" misstated.
    let mut text = String::new();
    for (name, group) in [("api", "iso"), ("worker", "iso"), ("seed", ""), ("backfill", "")] {
        let labels = if group.is_empty() { String::new() } else { format!("        grp: {group}\n") };
        text += &deployment("ui", name, &labels, "");
    }
    text += &policy("ui", "egress", "  podSelector:\n    matchLabels:\n      grp: iso\n  policyTypes: [Egress]\n");
    let dir = repo_with(&[("ui.yaml", &text)]);
    let hits = rule_findings(dir.path(), "workload-not-isolated", &[]);
    assert_eq!(hits.len(), 2, "{hits:?}");
    for (_, _, message) in &hits {
        assert!(!message.contains("most"), "{message}");
        assert!(message.ends_with("though namespace `ui` isolates 2 of its 4 workloads for egress"), "{message}");
    }
}

#[test]
fn windows_pods_that_policies_select_are_not_called_unselected() {
    let windows = "      nodeSelector:\n        kubernetes.io/os: windows\n";
    let mut text = deployment("legacy", "api", "", "");
    text += &deployment("legacy", "web", "", "");
    text += &deployment("legacy", "reports", "", windows);
    text += &policy("legacy", "default-deny", "  podSelector: {}\n  policyTypes: [Ingress]\n");
    // One Linux workload that no ingress policy selects keeps the rule looking at the namespace.
    text += &deployment("legacy", "batch", "", "");
    text = text.replace(
        "  podSelector: {}\n  policyTypes: [Ingress]\n",
        "  podSelector:\n    matchExpressions:\n      - {key: app, operator: NotIn, values: [batch]}\n  policyTypes: [Ingress]\n",
    );
    let dir = repo_with(&[("legacy.yaml", &text)]);
    let hits = rule_findings(dir.path(), "workload-not-isolated", &["--profile", "aks-azure-cni"]);
    // `batch` is open and said so; `reports` is selected, so that is not said of it.
    assert!(hits.iter().all(|(_, _, m)| !m.contains("`reports`")), "{hits:?}");
    assert!(
        hits.iter().any(|(_, _, m)| m.starts_with("Deployment `batch` is open: no NetworkPolicy selects it")),
        "{hits:?}"
    );
    // What is true of `reports` is said by the rule about enforcement.
    let hits = rule_findings(dir.path(), "network-policy-not-enforced", &["--profile", "aks-azure-cni"]);
    let [(_, _, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert!(message.starts_with("Deployment `reports` runs on Windows nodes"), "{message}");
    assert!(message.contains("`default-deny` does not protect it"), "{message}");
    // Calico enforces on Windows nodes (AKS documentation): nothing to say there.
    assert!(rule_findings(dir.path(), "network-policy-not-enforced", &["--profile", "aks-calico"]).is_empty());
}

const AZURE_TRUE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    service.beta.kubernetes.io/azure-load-balancer-internal: "True"
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
    - port: 80
"#;

#[test]
fn an_internal_annotation_with_a_value_the_cloud_does_not_read_is_named() {
    let dir = repo_with(&[("svc.yaml", AZURE_TRUE)]);
    let hits = rule_findings(dir.path(), "public-load-balancer", &["--profile", "aks-azure-cni"]);
    let [(_, level, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert_eq!(level, "warning");
    assert!(!message.contains("no internal-load-balancer annotation"), "{message}");
    assert!(
        message.contains(
            "its annotation `service.beta.kubernetes.io/azure-load-balancer-internal` is `True`, a value the cloud does not read as internal (it takes `true`)"
        ),
        "{message}"
    );
    // With the value Azure reads, nothing at all.
    let dir = repo_with(&[("svc.yaml", &AZURE_TRUE.replace("\"True\"", "\"true\""))]);
    assert!(rule_findings(dir.path(), "public-load-balancer", &[]).is_empty());
}

#[test]
fn an_exposure_that_is_an_error_despite_a_guard_names_the_guard() {
    // An ingress controller's public load balancer limited to one range, its pods not isolated:
    // an error (DESIGN §6), and the range is part of what the message says, as `explain` does.
    let mut text = deployment("ingress-nginx", "controller", "", "");
    text += "apiVersion: v1\nkind: Service\nmetadata:\n  name: controller\n  namespace: ingress-nginx\nspec:\n  type: LoadBalancer\n  loadBalancerSourceRanges: [203.0.113.0/24]\n  selector:\n    app: controller\n  ports:\n    - port: 443\n";
    let dir = repo_with(&[("controller.yaml", &text)]);
    let hits = rule_findings(dir.path(), "internet-exposed-workload", &[]);
    let [(_, level, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert_eq!(level, "error");
    assert!(message.ends_with("no NetworkPolicy isolates its pods for ingress, though the entry is guarded by source ranges 203.0.113.0/24"), "{message}");
    let explained = kubereach(["explain"])
        .arg(dir.path())
        .args(["--from", "{internet}", "--to", "ingress-nginx/controller"])
        .run()
        .stdout;
    assert!(explained.contains("guarded by source ranges 203.0.113.0/24"), "{explained}");
}

#[test]
fn tenants_on_a_cluster_that_enforces_nothing_get_one_finding() {
    let tenant = |ns: &str| {
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    tenant: {ns}\n---\n")
            + &deployment(ns, "app", "", "")
    };
    let files = [("a.yaml", tenant("team-a")), ("b.yaml", tenant("team-b"))];
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let dir = repo_with(&files);
    std::fs::write(dir.path().join(".kubereach.yaml"), "profile: aks-kubenet\ntenants:\n  label: tenant\n").unwrap();
    // No policy at all: today's single finding says that nothing can separate the tenants.
    let hits = rule_findings(dir.path(), "network-policy-not-enforced", &[]);
    let [(line, level, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert_eq!((*line, level.as_str()), (4, "warning"), "{message}");
    assert!(message.contains("NetworkPolicy cannot separate the tenants of this repository"), "{message}");
    assert!(
        message.contains("tenants `team-a` (namespace `team-a`), `team-b` (namespace `team-b`) reach each other"),
        "{message}"
    );
    assert!(message.contains("its profile is `aks-calico`"), "{message}");
    // cross-namespace-exposure leaves it to that one finding.
    assert!(rule_findings(dir.path(), "cross-namespace-exposure", &[]).is_empty());
    // With a policy: still one finding, naming the tenants, and the policies it makes inert.
    let deny = policy("team-a", "deny", "  podSelector: {}\n");
    std::fs::write(dir.path().join("deny.yaml"), &deny).unwrap();
    let hits = rule_findings(dir.path(), "network-policy-not-enforced", &[]);
    let [(_, _, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert!(message.contains("the 1 NetworkPolicy of this repository filters nothing"), "{message}");
    assert!(message.contains("reach each other"), "{message}");
    // An engine that enforces: the tenant gap is cross-namespace-exposure's, as before.
    assert!(rule_findings(dir.path(), "network-policy-not-enforced", &["--profile", "aks-calico"]).is_empty());
    assert!(!rule_findings(dir.path(), "cross-namespace-exposure", &["--profile", "aks-calico"]).is_empty());
    // One namespace without a policy: nothing to separate, nothing said.
    let single = repo_with(&[("a.yaml", &tenant("team-a"))]);
    assert!(rule_findings(single.path(), "network-policy-not-enforced", &["--profile", "aks-kubenet"]).is_empty());
}

#[test]
fn findings_that_arise_from_a_cidr_with_host_bits_name_it() {
    let mut text = deployment("payments", "billing", "", "");
    text += &policy(
        "payments",
        "billing",
        "  podSelector:\n    matchLabels:\n      app: billing\n  policyTypes: [Ingress, Egress]\n  ingress:\n    - from:\n        - ipBlock:\n            cidr: 198.51.100.7/0\n  egress:\n    - to:\n        - ipBlock:\n            cidr: 52.207.37.75/0\n",
    );
    let dir = repo_with(&[("billing.yaml", &text)]);
    let typo = |cidr: &str| format!("through `{cidr}`, which has host bits set (see `cidr-with-host-bits`)");
    let hits = rule_findings(dir.path(), "cidr-with-host-bits", &[]);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits[1].2.contains("`52.207.37.75/0` covers every IPv4 address (`0.0.0.0/0`): the bits after the prefix are ignored; did you mean `52.207.37.75/32`?"), "{hits:?}");
    let metadata = rule_findings(dir.path(), "egress-to-metadata-endpoint", &[]);
    let [(_, _, message)] = metadata.as_slice() else { panic!("{metadata:?}") };
    assert!(message.contains(&typo("52.207.37.75/0")) && message.ends_with("correct the CIDR"), "{message}");
    assert!(!message.contains("except"), "the typo is the cause, not a missing except: {message}");
    let all = rule_findings(dir.path(), "policy-allows-all", &[]);
    let [(_, _, message)] = all.as_slice() else { panic!("{all:?}") };
    assert!(message.contains(&typo("198.51.100.7/0")), "{message}");
    let egress = rule_findings(dir.path(), "unrestricted-egress", &[]);
    let [(_, _, message)] = egress.as_slice() else { panic!("{egress:?}") };
    assert!(message.contains(&typo("52.207.37.75/0")), "{message}");

    // A load balancer's source range meant for one address: there is a range, and it is the typo.
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: admin\n  namespace: payments\nspec:\n  type: LoadBalancer\n  loadBalancerSourceRanges: [203.0.113.9/0]\n  selector:\n    app: billing\n  ports:\n    - port: 443\n";
    let dir = repo_with(&[("admin.yaml", service)]);
    let public = rule_findings(dir.path(), "public-load-balancer", &[]);
    let [(_, _, message)] = public.as_slice() else { panic!("{public:?}") };
    assert!(!message.contains("no source ranges"), "{message}");
    assert!(
        message.ends_with(&format!("its source ranges admit every address {}", typo("203.0.113.9/0"))),
        "{message}"
    );
}

#[test]
fn a_calico_network_policy_is_not_called_a_kind_kubereach_does_not_evaluate_without_its_owner() {
    // Kubernetes' own NetworkPolicy is evaluated; the one kubereach does not evaluate is Calico's.
    let mut text = deployment("shop", "web", "", "");
    text += "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: shop\nspec:\n  selector: all()\n  types: [Ingress]\n";
    let dir = repo_with(&[("shop.yaml", &text)]);
    let hits = rule_findings(dir.path(), "namespace-without-default-deny", &[]);
    let [(_, level, message)] = hits.as_slice() else { panic!("{hits:?}") };
    assert_eq!(level, "note");
    assert!(
        message.ends_with("policies of kinds kubereach does not evaluate (Calico NetworkPolicy) may deny instead"),
        "{message}"
    );
}

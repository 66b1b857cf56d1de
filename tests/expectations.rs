//! Reachability expectations (`expect:` in `.kubereach.yaml`) end to end: SARIF locations in the
//! configuration file with the offending path as a code flow, the scopes an expectation is
//! judged over, configuration errors with their location, `explain --expect`, the library's
//! evaluation, and `--baseline` by logical key. Each rule's fixtures and rendered output are
//! `tests/rules.rs`'s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;

mod common;
use common::{kubereach, repo_with, schema_errors, shared_sarif_schema, RunExt as _, MANIFEST_DIR};

fn fixture(rule: &str) -> PathBuf {
    PathBuf::from(MANIFEST_DIR).join("fixtures").join(rule)
}

/// `check fire --format sarif` in `fixtures/expectation-violated`, with its configuration.
fn fire_sarif() -> Value {
    let dir = fixture("expectation-violated");
    let out =
        kubereach(["check", "fire", "--config", "fire/.kubereach.yaml", "--format", "sarif", "--fail-on", "never"])
            .current_dir(&dir)
            .run();
    assert!(out.success(), "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("sarif")
}

#[test]
fn violations_are_located_in_the_configuration_with_the_path_as_a_code_flow() {
    let log = fire_sarif();
    let results: Vec<&Value> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "expectation-violated")
        .collect();
    assert_eq!(results.len(), 14, "one per expectation of fire/.kubereach.yaml");
    for r in &results {
        let physical = &r["locations"][0]["physicalLocation"];
        // Relative to the repository root, as GitHub code scanning reads it.
        assert_eq!(physical["artifactLocation"]["uri"], "fixtures/expectation-violated/fire/.kubereach.yaml", "{r}");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startColumn"], 5, "at the `allow` or `deny` key: {r}");
        let steps = r["codeFlows"][0]["threadFlows"][0]["locations"].as_array().expect("a code flow");
        assert!(!steps.is_empty(), "{r}");
        for step in steps {
            let uri = step["location"]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
            assert!(uri.starts_with("fixtures/expectation-violated/fire/") && uri.ends_with(".yaml"), "{uri}");
        }
    }
    // A deny broken by a policy rule: the flow names the rules that admit the connection.
    let data = results.iter().find(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] == 6).unwrap();
    let text = data["codeFlows"].to_string();
    assert!(text.contains("NetworkPolicy `api` egress rule 1 admits it on TCP 5432"), "{text}");
    assert!(text.contains("NetworkPolicy `postgres-from-api` ingress rule 1 admits it on TCP 5432"), "{text}");
    // An allow blocked by isolation: the flow names the isolating policy.
    let front = results.iter().find(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"] == 16).unwrap();
    let text = front["codeFlows"].to_string();
    assert!(
        text.contains("NetworkPolicy `api` isolates `api/api[Deployment]` for ingress and admits none of TCP 9090"),
        "{text}"
    );
}

#[test]
fn the_sarif_log_is_valid_against_the_oasis_schema() {
    let Some(schema) = shared_sarif_schema("sarif-schema-2.1.0.json") else { return };
    let errors = schema_errors(&schema, &fire_sarif());
    assert!(errors.is_empty(), "OASIS schema errors:\n{}", errors.join("\n"));
}

const WEB_AND_DB: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  containers:
    - name: web
      image: registry.example.com/web:1
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: data
  labels: {app: db}
spec:
  containers:
    - name: db
      image: registry.example.com/db:1
      ports:
        - containerPort: 5432
";

#[test]
fn a_peer_named_in_one_scope_only_is_no_finding_and_one_named_in_none_is_one_finding_naming_them() {
    let repo = repo_with(&[
        (
            ".kubereach.yaml",
            "scopes:\n  - {name: prod, paths: [prod/]}\n  - {name: dev, paths: [dev/]}\nexpect:\n  - deny: {from: shop, to: data}\n  - deny: {from: staging, to: data}\n",
        ),
        ("prod/app.yaml", WEB_AND_DB),
        ("dev/app.yaml", &WEB_AND_DB.replace("namespace: shop", "namespace: shop-dev")),
    ]);
    let out = kubereach(["check", ".", "--format", "json", "--fail-on", "never"]).current_dir(repo.path()).run();
    assert!(out.success(), "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("expectation-")))
        .collect();
    let summary: Vec<(String, u64, Value)> = findings
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap(), f["scopes"].clone()))
        .collect();
    // `shop` is prod's only: dev holds it vacuously, prod breaks it; `staging` is nowhere.
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert_eq!((summary[0].0.as_str(), summary[0].1), ("expectation-violated", 5), "{summary:?}");
    assert_eq!((summary[1].0.as_str(), summary[1].1), ("expectation-matches-nothing", 6), "{summary:?}");
    assert_eq!(findings[1]["file"], ".kubereach.yaml");
    let scopes = summary[1].2.to_string();
    assert!(scopes.contains("prod") && scopes.contains("dev"), "one finding naming both scopes: {scopes}");
}

#[test]
fn a_malformed_expectation_is_a_configuration_error_with_its_location() {
    let repo = repo_with(&[
        (".kubereach.yaml", "expect:\n  - deny: {from: shop, to: data, ports: [80/ICMP]}\n"),
        ("app.yaml", WEB_AND_DB),
    ]);
    let out = kubereach(["check", "."]).current_dir(repo.path()).run();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains(".kubereach.yaml:2:42: `80/ICMP`: protocol `ICMP`"), "{}", out.stderr);
}

#[test]
fn explain_checks_one_expectation_by_position_or_name() {
    let repo = repo_with(&[
        (
            ".kubereach.yaml",
            "expect:\n  - name: web-not-db\n    deny: {from: shop, to: data, ports: [5432]}\n  - allow: {from: shop/web, to: data/db}\n",
        ),
        ("app.yaml", WEB_AND_DB),
    ]);
    let run = |which: &str| kubereach(["explain", ".", "--expect", which]).current_dir(repo.path()).run();
    let broken = run("web-not-db");
    assert_eq!(broken.code, Some(1), "{}", broken.stderr);
    insta::assert_snapshot!("explain_expect_broken", broken.stdout);
    let holds = run("2");
    assert_eq!(holds.code, Some(0), "{}", holds.stderr);
    assert!(holds.stdout.contains("holds: 1 pair checked"), "{}", holds.stdout);
    let unknown = run("3");
    assert_eq!(unknown.code, Some(2));
    assert!(unknown.stderr.contains("there are: web-not-db, 2"), "{}", unknown.stderr);
    let both = kubereach(["explain", ".", "--expect", "2", "--from", "shop/web"]).current_dir(repo.path()).run();
    assert_eq!(both.code, Some(2), "--expect and --from exclude each other");
}

#[test]
fn a_baseline_keeps_a_violation_by_its_logical_key() {
    let repo = repo_with(&[
        (".kubereach.yaml", "expect:\n  - name: web-not-db\n    deny: {from: shop, to: data}\n"),
        ("app.yaml", WEB_AND_DB),
    ]);
    let first = kubereach(["check", ".", "--format", "json", "--fail-on", "never", "--select", "expectation-violated"])
        .current_dir(repo.path())
        .run();
    assert!(first.stdout.contains("expectation-violated"), "{}", first.stdout);
    std::fs::write(repo.path().join("base.json"), &first.stdout).unwrap();
    // A comment above moves the expectation: its key does not depend on the line.
    std::fs::write(
        repo.path().join(".kubereach.yaml"),
        "# what must never happen\nexpect:\n  - name: web-not-db\n    deny: {from: shop, to: data}\n",
    )
    .unwrap();
    let again = kubereach(["check", ".", "--baseline", "base.json", "--select", "expectation-violated"])
        .current_dir(repo.path())
        .run();
    assert_eq!(again.code, Some(0), "{}{}", again.stdout, again.stderr);
}

/// The library call a caller that changes policies (`suggest`) re-checks expectations with.
#[test]
fn the_library_evaluates_expectations_against_a_graph() {
    use kubereach::graph::expect::{evaluate, Status};
    let repo = repo_with(&[
        (
            ".kubereach.yaml",
            "expect:\n  - deny: {from: shop, to: data}\n  - allow: {from: shop/web, to: data/db, ports: [5432]}\n",
        ),
        ("app.yaml", WEB_AND_DB),
    ]);
    let config = kubereach::config::load(&repo.path().join(".kubereach.yaml")).unwrap();
    let loaded = kubereach::model::build::load(&[repo.path().to_path_buf()], &Default::default()).unwrap();
    let model = &loaded.single().model;
    let graph = kubereach::graph::build(model);
    let outcomes = evaluate(&graph, model, &config.expect);
    assert!(matches!(outcomes[0].status, Status::Violated { count: 1, .. }), "{:?}", outcomes[0].status);
    assert!(matches!(outcomes[1].status, Status::Holds { pairs: 1 }), "{:?}", outcomes[1].status);
}

#[test]
fn a_comment_in_the_configuration_suppresses_a_violation() {
    let repo = repo_with(&[
        (
            ".kubereach.yaml",
            "expect:\n  # kubereach:ignore expectation-violated -- until the data tier moves\n  - deny: {from: shop, to: data}\n",
        ),
        ("app.yaml", WEB_AND_DB),
    ]);
    let out = kubereach(["check", ".", "--format", "json"]).current_dir(repo.path()).run();
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let rules: Vec<&str> = report["findings"].as_array().unwrap().iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(!rules.contains(&"expectation-violated") && !rules.contains(&"unused-suppression"), "{rules:?}");
    assert_eq!(report["summary"]["suppressed"], 1, "{}", report["summary"]);
}

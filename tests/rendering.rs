#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Kustomizations end to end: what the cluster receives is analysed, one scope per leaf, and
//! every finding points into the repository.
//!
//! The repository under test is `tests/data/kustomize-envs`: a `base` (a Deployment, a ClusterIP
//! Service, a NodePort debugging Service, a default-deny and an allow policy) and two overlays,
//! `dev` and `prod`, each with `namespace:` and `namePrefix:`; `prod` adds a strategic-merge patch
//! that makes the web Service a `LoadBalancer` and a JSON 6902 patch that opens the allow policy
//! to every address. These tests run the real kustomize (kubectl's): under CI they fail when it
//! is missing, elsewhere they skip.

use std::path::{Path, PathBuf};

mod common;
use common::{kubereach, repo_with, require_tool, run_with_input, Run, RunExt as _, MANIFEST_DIR};

const ENVS: &str = "tests/data/kustomize-envs";

fn envs() -> PathBuf {
    Path::new(MANIFEST_DIR).join(ENVS)
}

fn kubectl() -> Option<PathBuf> {
    require_tool("kubectl", "its built-in kustomize renders the kustomizations")
}

/// `(rule, file, line, column, scopes)` of each finding of a JSON report.
fn findings(run: &Run) -> Vec<(String, String, u64, u64, Vec<String>)> {
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            let scopes = f["scopes"]
                .as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (text("rule"), text("file"), f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap(), scopes)
        })
        .collect()
}

fn check_json(dir: &Path, paths: &[&str]) -> Run {
    let mut command = kubereach(["check", "--format", "json", "--fail-on", "never"]);
    command.args(paths).current_dir(dir);
    command.run()
}

/// The line and column (1-based) of the first occurrence of `needle` in a file.
fn position_of(file: &Path, needle: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(file).unwrap();
    for (i, line) in text.lines().enumerate() {
        if let Some(col) = line.find(needle) {
            return (i as u64 + 1, line[..col].chars().count() as u64 + 1);
        }
    }
    panic!("`{needle}` is not in {}", file.display());
}

#[test]
fn the_prod_load_balancer_is_reported_at_the_patch_line_and_dev_has_none() {
    if kubectl().is_none() {
        return;
    }
    let run = check_json(&envs(), &["."]);
    assert!(run.success(), "{}", run.stderr);
    let found = findings(&run);
    let patch = "overlays/prod/service-public.yaml";
    let (line, col) = position_of(&envs().join(patch), "LoadBalancer");
    let public: Vec<_> = found.iter().filter(|f| f.0 == "public-load-balancer").collect();
    assert_eq!(public.len(), 1, "{found:#?}");
    assert_eq!((public[0].1.as_str(), public[0].2, public[0].3), (patch, line, col), "{found:#?}");
    assert_eq!(public[0].4, vec!["overlays/prod".to_string()]);
    // The internet reaches prod's web pods through that patch; nothing of the kind in dev.
    let exposed: Vec<_> = found.iter().filter(|f| f.0 == "internet-exposed-workload").collect();
    assert_eq!(exposed.len(), 1, "{found:#?}");
    assert_eq!(exposed[0].1, patch);
    assert!(!found.iter().any(|f| f.4.contains(&"overlays/dev".to_string())
        && matches!(f.0.as_str(), "public-load-balancer" | "internet-exposed-workload")));
    // The JSON 6902 patch's value is where the policy opens to every address.
    let allows = found.iter().find(|f| f.0 == "policy-allows-all").expect("policy-allows-all");
    let (line, col) = position_of(&envs().join("overlays/prod/allow-from-anywhere.yaml"), "ipBlock");
    assert_eq!((allows.1.as_str(), allows.2, allows.3), ("overlays/prod/allow-from-anywhere.yaml", line, col));
    // Namespaces come from each overlay's `namespace:` line; no finding points outside the
    // repository, and nothing is read as plain files (no `default` namespace, no duplicates).
    for f in &found {
        assert!(envs().join(&f.1).is_file(), "{f:?} points outside the repository");
        assert_ne!(f.0, "duplicate-object", "{f:?}");
    }
    assert!(!run.stdout.contains("`default`"), "{}", run.stdout);
}

#[test]
fn a_gap_in_the_shared_base_is_reported_once_naming_both_overlays() {
    if kubectl().is_none() {
        return;
    }
    let run = check_json(&envs(), &["."]);
    let found = findings(&run);
    let node_ports: Vec<_> = found.iter().filter(|f| f.0 == "nodeport-service").collect();
    assert_eq!(node_ports.len(), 1, "{found:#?}");
    let (line, col) = position_of(&envs().join("base/debug.yaml"), "NodePort");
    assert_eq!((node_ports[0].1.as_str(), node_ports[0].2, node_ports[0].3), ("base/debug.yaml", line, col));
    assert_eq!(node_ports[0].4, vec!["overlays/dev".to_string(), "overlays/prod".to_string()]);
    // The message names the scopes in every report; the logical key does not change with them.
    let human = kubereach(["check", ".", "--fail-on", "never"]).current_dir(envs()).run();
    assert!(human.stdout.contains("(scopes: overlays/dev, overlays/prod)"), "{}", human.stdout);
    // The files objects come from are the manifests (the overlays' kustomizations are not).
    assert!(human.stdout.contains("10 objects in 5 manifests analysed in 2 scopes (2 rendered)"), "{}", human.stdout);
    let key = run.json()["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "nodeport-service").unwrap()
        ["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!key.contains("overlays"), "{key}");
    // SARIF carries the scopes as a property of the result.
    let sarif = kubereach(["check", ".", "--format", "sarif", "--fail-on", "never"]).current_dir(envs()).run();
    let sarif = sarif.json();
    let result = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "nodeport-service");
    assert_eq!(result.unwrap()["properties"]["scopes"], serde_json::json!(["overlays/dev", "overlays/prod"]));
}

#[test]
fn each_overlay_graphs_as_its_kustomize_output_saved_as_a_file() {
    let Some(kubectl) = kubectl() else { return };
    let saved = tempfile::tempdir().unwrap();
    for overlay in ["overlays/dev", "overlays/prod"] {
        let rendered =
            std::process::Command::new(&kubectl).arg("kustomize").arg(envs().join(overlay)).output().unwrap();
        assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
        let file = saved.path().join(format!("{}.yaml", overlay.replace('/', "-")));
        std::fs::write(&file, &rendered.stdout).unwrap();
        for format in ["txt", "dot"] {
            let of_overlay = kubereach(["graph", overlay, "--format", format]).current_dir(envs()).run();
            let of_file = kubereach(["graph", "--format", format]).arg(&file).run();
            assert!(of_overlay.success(), "{}", of_overlay.stderr);
            assert!(!of_overlay.stdout.trim().is_empty());
            assert_eq!(of_overlay.stdout, of_file.stdout, "{overlay} as {format}");
        }
    }
}

#[test]
fn graph_and_explain_ask_for_a_scope_when_there_are_several() {
    if kubectl().is_none() {
        return;
    }
    let run = kubereach(["graph", "."]).current_dir(envs()).run();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--scope") && run.stderr.contains("overlays/dev, overlays/prod"), "{}", run.stderr);
    let prod = kubereach(["graph", ".", "--scope", "overlays/prod"]).current_dir(envs()).run();
    assert!(prod.success(), "{}", prod.stderr);
    assert!(prod.stdout.contains("prod/prod-web[Deployment]"), "{}", prod.stdout);
    assert!(!prod.stdout.contains("dev/"), "{}", prod.stdout);
    let unknown = kubereach(["graph", ".", "--scope", "staging"]).current_dir(envs()).run();
    assert_eq!(unknown.code, Some(2));
    assert!(unknown.stderr.contains("no scope is named `staging`"), "{}", unknown.stderr);
    let explain = kubereach([
        "explain",
        ".",
        "--scope",
        "overlays/prod",
        "--from",
        "{internet}",
        "--to",
        "prod/prod-web[Deployment]",
    ])
    .current_dir(envs())
    .run();
    assert!(explain.stdout.contains("prod-web"), "{}\n{}", explain.stdout, explain.stderr);
    // What `explain` cites is located in the repository, never in kustomize's output.
    assert!(explain.stdout.contains("(base/policies.yaml:21:7)"), "{}", explain.stdout);
    assert!(!explain.stdout.contains("overlays/prod:"), "{}", explain.stdout);
    // `check --scope` reports that scope alone; an unknown name is an error there too.
    let prod = check_json(&envs(), &[".", "--scope", "overlays/prod"]);
    let found = findings(&prod);
    assert!(!found.is_empty() && found.iter().all(|f| f.4 == vec!["overlays/prod".to_string()]), "{found:#?}");
    let unknown = kubereach(["check", ".", "--scope", "staging"]).current_dir(envs()).run();
    assert_eq!(unknown.code, Some(2), "{}", unknown.stderr);
}

#[test]
fn kustomize_output_piped_in_is_analysed_at_its_own_lines() {
    let Some(kubectl) = kubectl() else { return };
    let rendered =
        std::process::Command::new(kubectl).arg("kustomize").arg(envs().join("overlays/prod")).output().unwrap();
    let stream = String::from_utf8(rendered.stdout).unwrap();
    let run = run_with_input(
        kubereach(["check", "-", "--format", "json", "--fail-on", "never"]).current_dir(envs()),
        &stream,
    );
    let found = findings(&run);
    let public = found.iter().find(|f| f.0 == "public-load-balancer").expect("public-load-balancer");
    assert_eq!(public.1, "<stdin>");
    let line = stream.lines().position(|l| l.contains("type: LoadBalancer")).unwrap() as u64 + 1;
    assert_eq!(public.2, line);
}

#[test]
fn a_kustomization_that_fails_is_one_finding_and_the_rest_is_analysed() {
    if kubectl().is_none() {
        return;
    }
    let repo = repo_with(&[
        ("broken/kustomization.yaml", "resources:\n  - service.yaml\n  - gone.yaml\n"),
        ("broken/service.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  type: NodePort\n  ports:\n    - port: 80\n"),
        ("plain/lb.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  namespace: web\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n"),
    ]);
    let run = check_json(repo.path(), &["."]);
    let found = findings(&run);
    let failed: Vec<_> = found.iter().filter(|f| f.0 == "render-failed").collect();
    assert_eq!(failed.len(), 1, "{found:#?}");
    assert_eq!(failed[0].1, "broken/kustomization.yaml");
    assert_eq!(failed[0].2, 3, "at the entry kustomize names: {found:#?}");
    let report = run.json();
    let failure = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "render-failed").unwrap();
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("gone.yaml"), "{message}");
    assert!(!message.contains(&std::env::temp_dir().display().to_string()), "a temporary path: {message}");
    // The plain file is analysed, and the broken kustomization's files are read as plain files,
    // as without kustomize (what the failure costs is its namespace and names, not its objects).
    assert!(found.iter().any(|f| f.0 == "public-load-balancer" && f.1 == "plain/lb.yaml"), "{found:#?}");
    assert!(found.iter().any(|f| f.0 == "nodeport-service" && f.1 == "broken/service.yaml"), "{found:#?}");
}

#[test]
fn without_kustomize_each_leaf_is_noted_and_read_as_plain_files() {
    // No kubectl nor kustomize on this PATH.
    let empty = tempfile::tempdir().unwrap();
    let run = kubereach(["check", ".", "--format", "json", "--fail-on", "never"])
        .current_dir(envs())
        .env("PATH", empty.path())
        .run();
    let found = findings(&run);
    let notes: Vec<_> = found.iter().filter(|f| f.0 == "unrendered-template").map(|f| f.1.as_str()).collect();
    assert_eq!(notes, vec!["overlays/dev/kustomization.yaml", "overlays/prod/kustomization.yaml"], "{found:#?}");
    // Read as before: the base in the default namespace, the patches left out.
    assert!(found.iter().all(|f| !f.1.starts_with("overlays/prod/service-public")), "{found:#?}");
    assert!(found.iter().any(|f| f.1.starts_with("base/")), "{found:#?}");
    // `--no-render` reads the same files and says nothing of it.
    let off =
        kubereach(["check", ".", "--format", "json", "--fail-on", "never", "--no-render"]).current_dir(envs()).run();
    let off = findings(&off);
    assert!(!off.iter().any(|f| f.0 == "unrendered-template"), "{off:#?}");
    let without_notes: Vec<_> = found.iter().filter(|f| f.0 != "unrendered-template").cloned().collect();
    assert_eq!(off, without_notes);
}

/// Copies the kustomize repository into a new git repository with one commit.
fn envs_in_git() -> Option<tempfile::TempDir> {
    require_tool("git", "--diff-base reads the base revision")?;
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&envs(), dir.path());
    for args in
        [&["init", "-q"][..], &["add", "-A"], &["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base"]]
    {
        let status = std::process::Command::new("git").args(args).current_dir(dir.path()).status().unwrap();
        assert!(status.success(), "git {args:?}");
    }
    Some(dir)
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn diff_base_renders_the_base_revision_too() {
    if kubectl().is_none() {
        return;
    }
    let Some(repo) = envs_in_git() else { return };
    // Nothing changed: nothing is new, although every overlay is rendered on both sides.
    let same = check_json(repo.path(), &[".", "--diff-base", "HEAD"]);
    assert!(same.success(), "{}", same.stderr);
    assert_eq!(findings(&same), vec![], "{}", same.stdout);
    // The dev overlay gets the same public patch as prod: only dev's exposure is new, at dev's
    // own patch entry.
    let dev = repo.path().join("overlays/dev/kustomization.yaml");
    let text = std::fs::read_to_string(&dev).unwrap();
    std::fs::write(&dev, format!("{text}patches:\n  - path: service-public.yaml\n")).unwrap();
    std::fs::copy(
        repo.path().join("overlays/prod/service-public.yaml"),
        repo.path().join("overlays/dev/service-public.yaml"),
    )
    .unwrap();
    let changed = check_json(repo.path(), &[".", "--diff-base", "HEAD"]);
    let found = findings(&changed);
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert!(rules.contains(&"public-load-balancer"), "{found:#?}");
    for f in &found {
        assert_eq!(f.4, vec!["overlays/dev".to_string()], "{found:#?}");
        assert_eq!(f.1, "overlays/dev/service-public.yaml", "{found:#?}");
    }
    let listing = std::fs::read_dir(std::env::temp_dir()).unwrap().flatten();
    let left: Vec<_> = listing.filter(|e| e.file_name().to_string_lossy().starts_with("kubereach-base-")).collect();
    assert!(left.is_empty(), "exports left behind: {left:?}");
}

#[test]
fn two_copies_of_a_tree_sharing_the_cache_each_point_into_their_own_files() {
    if kubectl().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for _ in 0..2 {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(&envs(), copy.path());
        let run = kubereach(["check", ".", "--format", "json", "--fail-on", "never"])
            .current_dir(copy.path())
            .env("KUBEREACH_CACHE_DIR", cache.path())
            .run();
        let found = findings(&run);
        assert!(!found.is_empty());
        for f in &found {
            assert!(copy.path().join(&f.1).is_file(), "{f:?} is not a file of this copy");
        }
        reports.push(run.stdout);
        drop(copy);
    }
    // The second run read the first one's renderings from the cache only if they fit: the same
    // report either way.
    assert_eq!(reports[0], reports[1]);
    assert!(std::fs::read_dir(cache.path()).unwrap().next().is_some(), "nothing was cached");
}

#[test]
fn a_failure_cached_by_one_run_is_located_as_the_next_run_spells_the_folder() {
    if kubectl().is_none() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    // kustomize refuses a file above the kustomization's folder (its load restrictor).
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n    - port: 80\n";
    let repo = repo_with(&[("app/kustomization.yaml", "resources:\n  - ../shared.yaml\n"), ("shared.yaml", service)]);
    let run_in = |cwd: &Path, path: &str| {
        let run = kubereach(["check", path, "--format", "json", "--fail-on", "never"])
            .current_dir(cwd)
            .env("KUBEREACH_CACHE_DIR", cache.path())
            .run();
        findings(&run).into_iter().filter(|f| f.0 == "render-failed").map(|f| f.1).collect::<Vec<_>>()
    };
    // The first run meets the failure from inside the repository and caches it; the second
    // reaches the same kustomization from its parent: the finding names the file as the second
    // run spells it, not as the first did.
    assert_eq!(run_in(repo.path(), "."), ["app/kustomization.yaml"]);
    let parent = repo.path().parent().unwrap();
    let name = repo.path().file_name().unwrap().to_str().unwrap();
    assert_eq!(run_in(parent, name), [format!("{name}/app/kustomization.yaml")]);
    assert_eq!(run_in(repo.path(), "."), ["app/kustomization.yaml"], "the first spelling, from the cache");
}

#[test]
fn a_list_a_strategic_merge_patch_replaces_is_located_in_the_patch() {
    if kubectl().is_none() {
        return;
    }
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  podSelector:\n    matchLabels:\n      app: web\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels:\n              team: edge\n";
    let patch = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ingress:\n    - from:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n";
    let repo = repo_with(&[
        ("base/kustomization.yaml", "resources:\n  - policy.yaml\n"),
        ("base/policy.yaml", policy),
        ("prod/kustomization.yaml", "resources:\n  - ../base\npatches:\n  - path: open.yaml\n"),
        ("prod/open.yaml", patch),
    ]);
    let run = check_json(repo.path(), &["."]);
    let found = findings(&run);
    let allows = found.iter().find(|f| f.0 == "policy-allows-all").unwrap_or_else(|| panic!("{found:#?}"));
    let (line, col) = position_of(&repo.path().join("prod/open.yaml"), "ipBlock");
    assert_eq!((allows.1.as_str(), allows.2, allows.3), ("prod/open.yaml", line, col), "{found:#?}");
}

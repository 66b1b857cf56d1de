//! `--diff-base`: what a commit adds, read from git objects without a checkout (DESIGN §1, §6).
//!
//! Each test builds a temporary git repository: a base commit, then a change in the working tree
//! (or a second commit), and compares what `check` and `graph` report against the base.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod common;
use common::{RunExt as _, SHOP};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn kubereach(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = common::kubereach(args).current_dir(dir).run();
    (out.code, out.stdout, out.stderr)
}

/// Opens the shop to the internet: a public load balancer, and a policy that admits everyone.
const OPENING: &str = "apiVersion: v1
kind: Service
metadata:
  name: web-public
  namespace: shop
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-everyone
  namespace: shop
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: 8080}]
";

/// A repository whose base commit has a lingering finding (an Ingress without TLS), so that "only
/// what is new" is tested against something old.
fn base_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    std::fs::write(dir.path().join("deploy/app.yaml"), SHOP).unwrap();
    std::fs::write(dir.path().join(".kubereach.yaml"), "profile: generic\n").unwrap();
    let old_gap = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  ingressClassName: nginx\n  rules:\n    - host: shop.example.com\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service:\n                name: web\n                port:\n                  number: 80\n";
    std::fs::write(dir.path().join("deploy/ingress.yaml"), old_gap).unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    dir
}

fn rules_of(json: &str) -> Vec<String> {
    let report: Value = serde_json::from_str(json).unwrap();
    let mut rules: Vec<String> =
        report["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect();
    rules.sort();
    rules
}

#[test]
fn opening_a_namespace_to_the_internet_yields_exactly_the_new_findings_and_edges() {
    let dir = base_repo();
    let (_, all, _) = kubereach(dir.path(), &["check", ".", "--format", "json", "--fail-on", "never"]);
    assert!(rules_of(&all).contains(&"ingress-without-tls".to_string()), "the base has an old finding: {all}");
    // Nothing changed yet: nothing new.
    let (code, json, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "HEAD", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(rules_of(&json).is_empty(), "{json}");

    std::fs::write(dir.path().join("deploy/public.yaml"), OPENING).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "open the shop"]);
    let (code, json, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "HEAD~1", "--format", "json"]);
    assert_eq!(code, Some(1), "{err}");
    // The load balancer, the two paths the change opens (through it, and through the Ingress whose
    // controller the new rule now admits), the rule that admits everyone; not the old Ingress
    // finding.
    assert_eq!(
        rules_of(&json),
        ["internet-exposed-workload", "internet-exposed-workload", "policy-allows-all", "public-load-balancer"],
        "{json}"
    );
    let (_, changes, _) = kubereach(dir.path(), &["graph", ".", "--diff-base", "HEAD~1"]);
    assert_eq!(
        changes.lines().collect::<Vec<_>>(),
        [
            "+ 0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080",
            "+ {ingress-controller} => shop/web[Deployment] : TCP 8080"
        ],
    );
    // Reversed, the same connections are removed.
    git(dir.path(), &["branch", "opened"]);
    git(dir.path(), &["checkout", "-q", "HEAD~1"]);
    let (_, changes, _) = kubereach(dir.path(), &["graph", ".", "--diff-base", "opened"]);
    assert_eq!(
        changes.lines().collect::<Vec<_>>(),
        [
            "- 0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : TCP 8080",
            "- {ingress-controller} => shop/web[Deployment] : TCP 8080"
        ],
    );
}

#[test]
fn the_working_tree_is_compared_without_a_commit_and_markdown_lists_added_connections() {
    let dir = base_repo();
    std::fs::write(dir.path().join("deploy/public.yaml"), OPENING).unwrap();
    let (code, md, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "HEAD", "--format", "markdown"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(md.starts_with("## kubereach: 4 new findings (0 errors, 3 warnings, 1 note)"), "{md}");
    let exposure = md.find("### Exposure").unwrap();
    let connections = md.find("### Connections").unwrap();
    assert!(exposure < connections, "exposures first:\n{md}");
    assert_eq!(md[exposure..connections].matches("| `internet-exposed-workload` |").count(), 2, "{md}");
    assert!(!md.contains("ingress-without-tls"), "{md}");
    assert!(md.contains("### Connections: 2 added, 0 removed"), "{md}");
    assert!(md.contains("| + | `{ingress-controller}` | `shop/web[Deployment]` | TCP 8080 |"), "{md}");
    assert!(md.contains("already present in the base"), "the old Ingress finding is counted, not listed: {md}");
    // The working tree was read, the base from git objects: no checkout happened.
    let out = Command::new("git").current_dir(dir.path()).args(["status", "--porcelain"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "?? deploy/public.yaml");
}

#[test]
fn moving_a_file_yields_nothing() {
    let dir = base_repo();
    std::fs::create_dir_all(dir.path().join("apps/shop")).unwrap();
    git(dir.path(), &["mv", "deploy/app.yaml", "apps/shop/application.yaml"]);
    git(dir.path(), &["mv", "deploy/ingress.yaml", "apps/shop/routes.yaml"]);
    git(dir.path(), &["commit", "-qm", "move"]);
    let (code, json, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "HEAD~1", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(rules_of(&json).is_empty(), "{json}");
    let (_, changes, err) = kubereach(dir.path(), &["graph", ".", "--diff-base", "HEAD~1"]);
    assert!(changes.is_empty(), "{changes}{err}");
}

#[test]
fn a_scanned_subfolder_is_compared_with_the_same_subfolder_and_bad_revisions_are_errors() {
    let dir = base_repo();
    std::fs::write(dir.path().join("deploy/public.yaml"), OPENING).unwrap();
    let (_, changes, err) = kubereach(dir.path(), &["graph", "deploy", "--diff-base", "HEAD"]);
    assert_eq!(changes.lines().count(), 2, "{changes}{err}");
    let (_, changes, _) = kubereach(&dir.path().join("deploy"), &["graph", ".", "--diff-base", "HEAD"]);
    assert_eq!(changes.lines().count(), 2, "from inside the folder: {changes}");
    let (code, _, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "no-such-branch"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("cannot resolve `no-such-branch`"), "{err}");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("app.yaml"), SHOP).unwrap();
    let (code, _, err) = kubereach(outside.path(), &["graph", ".", "--diff-base", "HEAD"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not inside a git repository"), "{err}");
}

#[test]
fn an_unchanged_tree_adds_nothing_whatever_its_shape() {
    // Repeats resolved by path order (`a/app.yaml` before `a-b.yaml`, as the walk orders them),
    // a hidden folder the walk skips, a symbolic link to a manifest: the base must be read alike.
    let dir = tempfile::tempdir().unwrap();
    let lb = SHOP.to_string() + "---\n" + OPENING;
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join(".old")).unwrap();
    std::fs::create_dir_all(dir.path().join("envs/prod")).unwrap();
    std::fs::write(dir.path().join("a/app.yaml"), &lb).unwrap();
    std::fs::write(dir.path().join("a-b.yaml"), OPENING.replace("type: LoadBalancer", "type: ClusterIP")).unwrap();
    std::fs::write(dir.path().join(".old/web.yaml"), OPENING.replace("type: LoadBalancer", "type: ClusterIP")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("../../a/app.yaml", dir.path().join("envs/prod/app.yaml")).unwrap();
    // A tracked file that the ignore rules leave out of the walk.
    std::fs::create_dir_all(dir.path().join("_generated")).unwrap();
    std::fs::write(dir.path().join("_generated/web.yaml"), OPENING.replace("type: LoadBalancer", "type: ClusterIP"))
        .unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    std::fs::write(dir.path().join(".gitignore"), "_generated/\n").unwrap();
    git(dir.path(), &["add", ".gitignore"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    let (code, json, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "HEAD", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(rules_of(&json).is_empty(), "{json}");
    let (_, changes, err) = kubereach(dir.path(), &["graph", ".", "--diff-base", "HEAD"]);
    assert!(changes.is_empty(), "{changes}{err}");
}

#[test]
fn widening_an_exposure_is_new() {
    let dir = base_repo();
    std::fs::write(dir.path().join("deploy/public.yaml"), OPENING).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "open the shop on 8080"]);
    // Port 22 as well, through the same load balancer and policy.
    let wider = OPENING
        .replace(
            "ports: [{port: 80, targetPort: 8080}]",
            "ports: [{port: 80, targetPort: 8080}, {port: 22, targetPort: 22, name: ssh}]",
        )
        .replace("- ports: [{port: 8080}]", "- ports: [{port: 8080}, {port: 22}]");
    std::fs::write(dir.path().join("deploy/public.yaml"), wider).unwrap();
    let (code, json, err) = kubereach(
        dir.path(),
        &["check", ".", "--diff-base", "HEAD", "--format", "json", "--select", "internet-exposed-workload"],
    );
    assert_eq!(code, Some(1), "{err}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let messages: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    assert!(messages.iter().any(|m| m.contains("TCP 22,8080")), "{messages:?}");
}

#[test]
fn an_exposure_that_becomes_worse_is_new() {
    let dir = base_repo();
    std::fs::write(dir.path().join("deploy/public.yaml"), OPENING).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "open the shop, isolated"]);
    // The same path on the same port, but nothing isolates the pods any more: an error, where the
    // base had a warning.
    let app = std::fs::read_to_string(dir.path().join("deploy/app.yaml")).unwrap();
    let without_policies: Vec<&str> = app.split("---\n").filter(|d| !d.contains("kind: NetworkPolicy")).collect();
    std::fs::write(dir.path().join("deploy/app.yaml"), without_policies.join("---\n")).unwrap();
    let public = OPENING.split("---\n").next().unwrap();
    std::fs::write(dir.path().join("deploy/public.yaml"), public).unwrap();
    let (code, json, err) = kubereach(
        dir.path(),
        &["check", ".", "--diff-base", "HEAD", "--format", "json", "--select", "internet-exposed-workload"],
    );
    assert_eq!(code, Some(1), "{err}");
    let report: Value = serde_json::from_str(&json).unwrap();
    let levels: Vec<&str> =
        report["findings"].as_array().unwrap().iter().map(|f| f["level"].as_str().unwrap()).collect();
    assert!(levels.contains(&"error"), "{json}");
}

/// A clean repository of the given shape: `check --diff-base HEAD` and `graph --diff-base HEAD`
/// from `scan` must add nothing.
fn assert_unchanged_tree_adds_nothing(dir: &Path, scan: &str) {
    let (code, json, err) = kubereach(dir, &["check", scan, "--diff-base", "HEAD", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(rules_of(&json).is_empty(), "{json}");
    let (_, changes, err) = kubereach(dir, &["graph", scan, "--diff-base", "HEAD"]);
    assert!(changes.is_empty(), "{changes}{err}");
}

#[cfg(unix)]
#[test]
fn links_to_folders_links_only_and_link_loops_are_read_as_the_walk_reads_them() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("shared/shop")).unwrap();
    std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
    std::fs::create_dir_all(dir.path().join("only-links")).unwrap();
    std::fs::write(dir.path().join("shared/shop/app.yaml"), SHOP.to_string() + "---\n" + OPENING).unwrap();
    std::fs::write(dir.path().join("shared/extra.txt"), OPENING.replace("name: web", "name: extra")).unwrap();
    // A link to a folder, a link to a link, a loop back to the folder that holds it.
    symlink("../shared/shop", dir.path().join("deploy/shop")).unwrap();
    symlink("shop", dir.path().join("deploy/again")).unwrap();
    symlink("..", dir.path().join("deploy/up")).unwrap();
    // A folder whose only manifest is a link (to a file of another name).
    symlink("../shared/extra.txt", dir.path().join("only-links/extra.yaml")).unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    // The working tree does see what the links lead to, and reports the loop.
    let (_, json, _) = kubereach(dir.path(), &["check", "deploy", "--format", "json", "--fail-on", "never"]);
    assert!(rules_of(&json).contains(&"public-load-balancer".to_string()), "{json}");
    assert!(json.contains("symbolic link loop"), "{json}");
    assert_unchanged_tree_adds_nothing(dir.path(), "deploy");
    assert_unchanged_tree_adds_nothing(dir.path(), "only-links");
    assert_unchanged_tree_adds_nothing(dir.path(), ".");
}

#[test]
fn files_left_out_by_an_ignore_file_are_left_out_of_the_base() {
    let dir = base_repo();
    std::fs::create_dir_all(dir.path().join("drafts")).unwrap();
    std::fs::write(dir.path().join("drafts/public.yaml"), OPENING).unwrap();
    std::fs::write(dir.path().join(".ignore"), "drafts/\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "drafts"]);
    assert_unchanged_tree_adds_nothing(dir.path(), ".");
    // Taken back by the ignore file over git's own rule for the file: read in both trees.
    std::fs::write(dir.path().join(".ignore"), "drafts/*.yaml\n!drafts/public.yaml\n").unwrap();
    std::fs::write(dir.path().join(".gitignore"), "*.yaml\n!deploy/\n!deploy/*.yaml\n").unwrap();
    let (_, json, _) = kubereach(dir.path(), &["check", ".", "--format", "json", "--fail-on", "never"]);
    assert!(rules_of(&json).contains(&"public-load-balancer".to_string()), "{json}");
    assert_unchanged_tree_adds_nothing(dir.path(), ".");
    // A folder that git leaves out is left out whole, whatever is taken back below it.
    std::fs::write(dir.path().join(".gitignore"), "drafts/\n").unwrap();
    let (_, json, _) = kubereach(dir.path(), &["check", ".", "--format", "json", "--fail-on", "never"]);
    assert!(!rules_of(&json).contains(&"public-load-balancer".to_string()), "{json}");
    assert_unchanged_tree_adds_nothing(dir.path(), ".");
}

#[test]
fn renaming_a_broken_file_or_a_repeat_brings_nothing_back() {
    let dir = base_repo();
    std::fs::write(dir.path().join("deploy/broken.yaml"), "apiVersion: v1\nkind: Service\nmetadata:\n\tname: broken\n")
        .unwrap();
    std::fs::write(dir.path().join("deploy/zz-copy.yaml"), SHOP).unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "broken and repeated"]);
    let (_, json, _) = kubereach(dir.path(), &["check", ".", "--format", "json", "--fail-on", "never"]);
    let all = rules_of(&json);
    assert!(all.contains(&"invalid-manifest".to_string()) && all.contains(&"duplicate-object".to_string()), "{json}");
    std::fs::create_dir_all(dir.path().join("deploy/old")).unwrap();
    git(dir.path(), &["mv", "deploy/broken.yaml", "deploy/old/broken-renamed.yaml"]);
    git(dir.path(), &["mv", "deploy/zz-copy.yaml", "deploy/zz-renamed.yaml"]);
    let (code, json, err) = kubereach(dir.path(), &["check", ".", "--diff-base", "HEAD", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(rules_of(&json).is_empty(), "{json}");
}

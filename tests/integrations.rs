#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Where kubereach runs besides a terminal: `check --only-files` (the library's filter and the
//! command line), the pre-commit hook through `pre-commit try-repo` on a fresh clone, the GitHub
//! Action's check script on a sample workspace, and `--version`. What these need from outside
//! (pre-commit, git, curl, tar, sha256sum, the SARIF schemas) skips a test outside CI and fails it
//! with CI set.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kubereach::finding::Finding;
use kubereach::model::build::{self as analysis, LoadOptions, Loaded};
use kubereach::result::{self as check, FileFilter, Outcome, RuleSettings};
use serde_json::Value;

mod common;
use common::{
    dangling_service, kubereach as command, require_tool, require_var, schema_errors, shared_sarif_schema, write, Run,
    RunExt as _, BIN, MANIFEST_DIR, SHOP,
};

// ---------------------------------------------------------------------------------------------
// A small repository whose findings depend on more than one file
// ---------------------------------------------------------------------------------------------

/// Namespace `shop` with two workloads; nothing in this file isolates either of them.
const APPS: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
spec:
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: worker
          image: busybox:1.36
";

/// A policy that isolates `web` only: with it, `worker` is the workload that slipped through.
const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-only
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Ingress, Egress]
";

/// A Service that selects nothing, its `dangling-service` suppressed by a comment, and a
/// suppression that suppresses nothing (`unused-suppression`).
const STRAY: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: ghost
  namespace: shop
spec:
  selector:
    app: ghost # kubereach:ignore dangling-service -- being migrated
  ports:
    - port: 80 # kubereach:ignore policy-allows-all -- stale
";

/// `apps/apps.yaml`, `policy.yaml`, `stray.yaml` and a README, with a `.git` folder that marks the
/// repository root.
fn shop_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "apps/apps.yaml", APPS);
    write(dir.path(), "policy.yaml", POLICY);
    write(dir.path(), "stray.yaml", STRAY);
    write(dir.path(), "README.md", "# shop\n");
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn load(paths: &[PathBuf]) -> Loaded {
    analysis::load(paths, &LoadOptions::default()).unwrap()
}

fn check_files(loaded: &Loaded, only: Option<&FileFilter>) -> Outcome {
    let graph = kubereach::graph::build(&loaded.single().model);
    check::run_for_files(loaded, std::slice::from_ref(&graph), &RuleSettings::default(), None, only)
}

/// `(rule, file name)` of each finding.
fn located(outcome: &Outcome, loaded: &Loaded) -> Vec<(String, String)> {
    outcome
        .findings
        .iter()
        .map(|f: &Finding| {
            let path = &loaded.files.get(f.location.file).unwrap().path;
            (f.rule.to_string(), path.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect()
}

fn has(found: &[(String, String)], rule: &str, file: &str) -> bool {
    found.iter().any(|(r, f)| r == rule && f == file)
}

// ---------------------------------------------------------------------------------------------
// --only-files: the library
// ---------------------------------------------------------------------------------------------

#[test]
fn only_files_reports_the_findings_located_in_the_given_files() {
    let repo = shop_repository();
    let loaded = load(&[repo.path().to_path_buf()]);
    let everything = located(&check_files(&loaded, None), &loaded);
    assert!(has(&everything, "workload-not-isolated", "apps.yaml"), "{everything:?}");
    assert!(has(&everything, "unused-suppression", "stray.yaml"), "{everything:?}");

    let only_apps = FileFilter::new([repo.path().join("apps/apps.yaml")]);
    let found = located(&check_files(&loaded, Some(&only_apps)), &loaded);
    assert!(has(&found, "workload-not-isolated", "apps.yaml"), "{found:?}");
    assert!(found.iter().all(|(_, file)| file == "apps.yaml"), "{found:?}");
    let in_apps = everything.iter().filter(|(_, file)| file == "apps.yaml").count();
    assert_eq!(found.len(), in_apps, "every finding of apps.yaml, and only those: {found:?}");

    // The policy file holds no finding of its own; a README is no manifest: nothing to report.
    let quiet = FileFilter::new([repo.path().join("policy.yaml"), repo.path().join("README.md")]);
    let outcome = check_files(&loaded, Some(&quiet));
    assert!(outcome.findings.is_empty(), "{:?}", located(&outcome, &loaded));
}

#[test]
fn only_files_keeps_the_rest_of_the_repository_as_context() {
    let repo = shop_repository();
    let apps = repo.path().join("apps/apps.yaml");
    // Alone, apps.yaml has no policy: its namespace is reported, not one workload of it.
    let alone = load(std::slice::from_ref(&apps));
    let found_alone = located(&check_files(&alone, None), &alone);
    assert!(has(&found_alone, "namespace-without-default-deny", "apps.yaml"), "{found_alone:?}");
    assert!(!has(&found_alone, "workload-not-isolated", "apps.yaml"), "{found_alone:?}");

    // With the repository as context, policy.yaml isolates `web`, which leaves `worker` open.
    let whole = load(&[repo.path().to_path_buf()]);
    let outcome = check_files(&whole, Some(&FileFilter::new([&apps])));
    let open: Vec<&str> =
        outcome.findings.iter().filter(|f| f.rule == "workload-not-isolated").map(|f| f.key.object.as_str()).collect();
    assert_eq!(open, ["Deployment/shop/worker"]);
}

#[test]
fn only_files_filters_suppressions_the_same_way() {
    let repo = shop_repository();
    let loaded = load(&[repo.path().to_path_buf()]);

    let stray = check_files(&loaded, Some(&FileFilter::new([repo.path().join("stray.yaml")])));
    let found = located(&stray, &loaded);
    assert_eq!(found, [("unused-suppression".to_string(), "stray.yaml".to_string())]);
    assert_eq!(stray.suppressed, 1, "the comment suppresses `dangling-service`");

    // Another file's suppressions are neither counted nor reported as unused.
    let apps = check_files(&loaded, Some(&FileFilter::new([repo.path().join("apps/apps.yaml")])));
    assert_eq!(apps.suppressed, 0);
    assert!(apps.findings.iter().all(|f| f.rule != "unused-suppression"), "{:?}", located(&apps, &loaded));
}

#[test]
fn only_files_compares_resolved_paths() {
    let repo = shop_repository();
    let apps = repo.path().join("apps/apps.yaml");
    let filter = FileFilter::new([repo.path().join("apps/../apps/./apps.yaml")]);
    assert!(filter.contains(&apps));
    assert!(!filter.contains(&repo.path().join("policy.yaml")));
    #[cfg(unix)]
    {
        let link = repo.path().join("link.yaml");
        std::os::unix::fs::symlink(&apps, &link).unwrap();
        assert!(filter.contains(&link), "a symbolic link names its target");
    }
    // A path that does not exist selects nothing, and is no error.
    let missing = FileFilter::new([repo.path().join("gone.yaml")]);
    assert!(missing.contains(&repo.path().join("gone.yaml")));
    assert!(!missing.contains(&apps));
    let loaded = load(&[repo.path().to_path_buf()]);
    assert!(check_files(&loaded, Some(&missing)).findings.is_empty());
}

// ---------------------------------------------------------------------------------------------
// --only-files: the command line
// ---------------------------------------------------------------------------------------------

fn kubereach(dir: &Path, args: &[&str]) -> Run {
    command(args).current_dir(dir).env("NO_COLOR", "1").run()
}

fn json_rules_and_files(output: &Run) -> Vec<(String, String)> {
    let report: Value = output.json();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["file"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn check_only_files_analyses_the_repository_root_and_reports_the_files_given() {
    let repo = shop_repository();
    // From a subfolder, as an editor might: the root is found upward, the names are relative.
    let sub = repo.path().join("apps");
    let out = kubereach(&sub, &["check", "--format", "json", "--only-files", "apps.yaml", "../README.md"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let found = json_rules_and_files(&out);
    assert!(found.contains(&("workload-not-isolated".to_string(), "apps.yaml".to_string())), "{found:?}");
    assert!(found.iter().all(|(_, file)| file == "apps.yaml"), "{found:?}");

    let out = kubereach(repo.path(), &["check", "--format", "json", "--only-files", "policy.yaml", "README.md"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(json_rules_and_files(&out).is_empty());

    // Options may come first; the file names pre-commit appends all belong to --only-files.
    let out = kubereach(repo.path(), &["check", "--fail-on", "never", "--only-files", "stray.yaml", "policy.yaml"]);
    assert_eq!(out.code, Some(0));
    let human = &out.stdout;
    assert!(human.contains("unused-suppression") && human.contains("stray.yaml"), "{human}");
    assert!(!human.contains("apps.yaml"), "{human}");

    let out = kubereach(repo.path(), &["check", "--only-files"]);
    assert_eq!(out.code, Some(2), "--only-files needs at least one file");
}

#[test]
fn check_only_files_with_paths_uses_them_as_context() {
    let repo = shop_repository();
    let apps = repo.path().join("apps/apps.yaml");
    let apps = apps.to_str().unwrap();
    let out = kubereach(repo.path(), &["check", "--format", "json", "apps", "--only-files", apps]);
    let found = json_rules_and_files(&out);
    assert!(has(&found, "namespace-without-default-deny", "apps/apps.yaml"), "without policy.yaml: {found:?}");
    assert!(!has(&found, "workload-not-isolated", "apps/apps.yaml"), "{found:?}");
}

// ---------------------------------------------------------------------------------------------
// --version
// ---------------------------------------------------------------------------------------------

fn git(git: &Path, dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(git).args(args).current_dir(dir).run();
    out.success().then(|| out.stdout.trim().to_string())
}

#[test]
fn version_names_the_package_and_the_checkout() {
    let text = command(["--version"]).run().ok();
    let expected = concat!("kubereach ", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(expected), "{text}");
    let sub = command(["check", "--version"]).run().stdout;
    assert_eq!(sub.split_once(' ').map(|s| s.1), text.split_once(' ').map(|s| s.1), "subcommands: {sub}");

    // Built from this checkout, the version carries its `git describe` (what `--dirty` adds
    // depends on the working tree at build time, so only the rest is compared). CI runs on a
    // clone, so there a checkout without git is a failure, not a skip.
    let Some(git_bin) = require_tool("git", "to read the checkout's `git describe`") else { return };
    let manifest = Path::new(MANIFEST_DIR);
    let top = git(&git_bin, manifest, &["rev-parse", "--show-toplevel"]);
    let at_top = top.is_some_and(|t| Path::new(&t).canonicalize().ok() == manifest.canonicalize().ok());
    match git(&git_bin, manifest, &["describe", "--tags", "--always"]) {
        Some(described) if at_top => {
            assert!(text.contains(&format!("({described}")), "`{text}` lacks `{described}`")
        }
        _ => common::missing(format!("the git part: {MANIFEST_DIR} is not a git checkout")).unwrap_or(()),
    }
}

// ---------------------------------------------------------------------------------------------
// The GitHub Action's check script
// ---------------------------------------------------------------------------------------------

/// One run of `scripts/action-run.sh` in a GitHub-like environment.
struct ActionRun {
    code: Option<i32>,
    log: String,
    /// `$GITHUB_OUTPUT` after the run, as `name=value` lines.
    outputs: String,
    /// `$RUNNER_TEMP`, where the report is written by default; removed with the run.
    _runner: tempfile::TempDir,
}

impl ActionRun {
    fn output(&self, name: &str) -> Option<&str> {
        self.outputs.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
    }
}

/// Runs the action's check step on `workspace` with these `INPUT_*` variables, the built binary
/// first on `PATH` (so that no install happens).
fn run_action(workspace: &Path, inputs: &[(&str, &str)]) -> ActionRun {
    let runner = tempfile::tempdir().unwrap();
    let github_output = runner.path().join("github-output");
    std::fs::write(&github_output, "").unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut command = Command::new("bash");
    command
        .arg(Path::new(MANIFEST_DIR).join("scripts/action-run.sh"))
        .current_dir(runner.path())
        .env("PATH", path)
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_ACTION_PATH", MANIFEST_DIR)
        .env("GITHUB_OUTPUT", &github_output)
        .env("RUNNER_TEMP", runner.path())
        .env("NO_COLOR", "1");
    for name in ["INPUT_PATHS", "INPUT_PROFILE", "INPUT_CONFIG", "INPUT_FAIL_ON", "INPUT_CATEGORY", "INPUT_SARIF_FILE"]
    {
        command.env_remove(name);
    }
    for (name, value) in inputs {
        command.env(name, value);
    }
    let out = command.output().expect("run bash");
    let outputs = std::fs::read_to_string(&github_output).unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    ActionRun { code: out.status.code(), log, outputs, _runner: runner }
}

/// A workspace with a clean namespace under `deploy/` and, under `legacy/`, a Service that
/// selects nothing (`dangling-service`, a warning).
fn action_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "deploy/shop.yaml", SHOP);
    write(dir.path(), "legacy/ghost.yaml", dangling_service("ghost"));
    dir
}

#[test]
#[cfg(unix)]
fn action_script_writes_valid_sarif_and_fails_on_findings() {
    let workspace = action_workspace();
    let run = run_action(
        workspace.path(),
        &[("INPUT_PATHS", "."), ("INPUT_FAIL_ON", "warning"), ("INPUT_CATEGORY", "kubereach/manifests")],
    );
    assert_eq!(run.code, Some(1), "a warning fails at `warning`:\n{}", run.log);
    assert_eq!(run.output("exit-code"), Some("1"), "{}", run.outputs);
    let sarif_path = run.output("sarif-file").unwrap_or_else(|| panic!("no sarif-file output: {}", run.outputs));
    assert!(Path::new(sarif_path).is_absolute(), "{sarif_path}");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(sarif_path).unwrap()).unwrap();
    let sarif_run = &log["runs"][0];
    assert_eq!(sarif_run["automationDetails"]["id"], "kubereach/manifests/");
    let results = sarif_run["results"].as_array().unwrap();
    let ghost = results.iter().find(|r| r["ruleId"] == "dangling-service").expect("the dangling Service");
    assert_eq!(
        ghost["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "legacy/ghost.yaml",
        "URIs relative to the workspace"
    );
    // Without the schemas (outside CI), only this check is skipped.
    if let Some(schema) = shared_sarif_schema("sarif-schema-2.1.0.json") {
        let errors = schema_errors(&schema, &log);
        assert!(errors.is_empty(), "OASIS schema errors:\n{}", errors.join("\n"));
    }
}

#[test]
#[cfg(unix)]
fn action_script_exit_code_follows_fail_on() {
    let workspace = action_workspace();
    for (fail_on, code) in [("error", 0), ("never", 0), ("note", 1), ("warning", 1)] {
        let run = run_action(workspace.path(), &[("INPUT_FAIL_ON", fail_on)]);
        assert_eq!(run.code, Some(code), "fail-on {fail_on}:\n{}", run.log);
        assert_eq!(run.output("exit-code"), Some(code.to_string().as_str()));
        assert!(run.output("sarif-file").is_some(), "a report at every level: {}", run.outputs);
    }
    // Only the clean folder: nothing to fail on.
    let run = run_action(workspace.path(), &[("INPUT_PATHS", "  deploy\n")]);
    assert_eq!(run.code, Some(0), "{}", run.log);
}

#[test]
#[cfg(unix)]
fn action_script_inputs() {
    let workspace = action_workspace();
    // Paths one per line, with YAML indentation; a relative sarif-file is in the workspace; no
    // category, no automationDetails.
    let run = run_action(
        workspace.path(),
        &[("INPUT_PATHS", "  deploy\n  legacy\n\n"), ("INPUT_FAIL_ON", "never"), ("INPUT_SARIF_FILE", "out/k.sarif")],
    );
    assert_eq!(run.code, Some(0), "{}", run.log);
    let sarif = workspace.path().join("out/k.sarif");
    assert_eq!(run.output("sarif-file"), Some(sarif.to_str().unwrap()));
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert!(log["runs"][0].get("automationDetails").is_none());
    assert!(log["runs"][0]["results"].as_array().unwrap().iter().any(|r| r["ruleId"] == "dangling-service"));

    // A configuration input is passed on: this one turns the rule off.
    write(workspace.path(), "ci/kubereach.yaml", "rules:\n  ignore: [dangling-service]\n");
    let run = run_action(workspace.path(), &[("INPUT_CONFIG", "ci/kubereach.yaml")]);
    assert_eq!(run.code, Some(0), "{}", run.log);

    // A profile input is passed on: a policy under a dataplane without enforcement is reported.
    write(
        workspace.path(),
        "deploy/deny.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: shop\nspec:\n  podSelector: {}\n",
    );
    let rules_of = |run: &ActionRun| -> Vec<String> {
        let sarif = run.output("sarif-file").unwrap_or_default().to_string();
        let log: Value = serde_json::from_str(&std::fs::read_to_string(sarif).unwrap()).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap().to_string())
            .collect()
    };
    let run = run_action(workspace.path(), &[("INPUT_PROFILE", "aks-kubenet"), ("INPUT_FAIL_ON", "never")]);
    assert_eq!(run.code, Some(0), "{}", run.log);
    assert!(rules_of(&run).iter().any(|r| r == "network-policy-not-enforced"), "{}", run.log);
    let run = run_action(workspace.path(), &[("INPUT_FAIL_ON", "never")]);
    assert!(!rules_of(&run).iter().any(|r| r == "network-policy-not-enforced"), "{}", run.log);

    // A usage error: exit 2, and no report to upload.
    let run = run_action(workspace.path(), &[("INPUT_FAIL_ON", "sometimes")]);
    assert_eq!(run.code, Some(2), "{}", run.log);
    assert_eq!(run.output("exit-code"), Some("2"));
    assert_eq!(run.output("sarif-file"), None, "{}", run.outputs);

    // An input never becomes a workflow command: the echoed command line is quoted.
    let run = run_action(workspace.path(), &[("INPUT_CATEGORY", "x\n::error::forged"), ("INPUT_FAIL_ON", "never")]);
    assert!(!run.log.lines().any(|l| l.starts_with("::error::forged")), "{}", run.log);
}

/// Runs the action's install step with a release published under `server` (a `file://` URL). A
/// stand-in `cargo` first on `PATH` records its arguments in `cargo-args` and fails, so that a
/// build from source is seen and never starts.
#[cfg(unix)]
fn run_install(server: &Path, version: &str) -> (Option<i32>, String, tempfile::TempDir) {
    use std::os::unix::fs::PermissionsExt;
    let runner = tempfile::tempdir().unwrap();
    let github_path = runner.path().join("github-path");
    let fake = runner.path().join("fake-bin");
    write(
        &fake,
        "cargo",
        format!("#!/bin/sh\necho \"$@\" > '{}'\nexit 3\n", runner.path().join("cargo-args").display()),
    );
    std::fs::set_permissions(fake.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path =
        std::env::join_paths(std::iter::once(fake).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())))
            .unwrap();
    let out = Command::new("bash")
        .arg(Path::new(MANIFEST_DIR).join("scripts/action-install.sh"))
        .current_dir(runner.path())
        .env("PATH", path)
        .env("INPUT_VERSION", version)
        .env("ACTION_REPOSITORY", "owner/kubereach")
        .env("GITHUB_SERVER_URL", format!("file://{}", server.display()))
        .env("GITHUB_ACTION_PATH", MANIFEST_DIR)
        .env("GITHUB_PATH", &github_path)
        .env("RUNNER_TEMP", runner.path())
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .output()
        .expect("run bash");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), log, runner)
}

#[test]
#[cfg(unix)]
fn action_install_script_uses_the_release_archive_and_checks_it() {
    // The install script's own tools.
    for tool in ["curl", "tar", "sha256sum"] {
        if require_tool(tool, "used by the action's install script").is_none() {
            return;
        }
    }
    use std::os::unix::fs::PermissionsExt;
    // A release v9.9.9 whose binary is a stub that prints its version.
    let server = tempfile::tempdir().unwrap();
    let release = server.path().join("owner/kubereach/releases/download/v9.9.9");
    let staging = server.path().join("staging");
    write(&staging, "kubereach", "#!/bin/sh\necho kubereach 9.9.9\n");
    std::fs::set_permissions(staging.join("kubereach"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(&release).unwrap();
    let archive = release.join("kubereach-x86_64-unknown-linux-musl.tar.gz");
    run_checked(Command::new("tar").arg("-czf").arg(&archive).arg("-C").arg(&staging).arg("kubereach"));
    let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
    let sum = String::from_utf8(sum.stdout).unwrap();
    let checksum = release.join("kubereach-x86_64-unknown-linux-musl.tar.gz.sha256");
    std::fs::write(&checksum, sum.split_whitespace().next().unwrap()).unwrap();

    let (code, log, runner) = run_install(server.path(), "v9.9.9");
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("kubereach 9.9.9"), "the installed binary runs: {log}");
    let bin = runner.path().join("kubereach-install/bin");
    let github_path = std::fs::read_to_string(runner.path().join("github-path")).unwrap();
    assert_eq!(github_path.trim(), bin.to_str().unwrap(), "the binary's folder goes on PATH");
    assert!(bin.join("kubereach").exists());

    // A checksum that does not match stops the install.
    std::fs::write(&checksum, "0".repeat(64)).unwrap();
    let (code, log, _runner) = run_install(server.path(), "9.9.9");
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("checksum mismatch"), "{log}");

    // No release of that version: the action's own source is built instead.
    let (code, log, runner) = run_install(server.path(), "1.0.0");
    assert_eq!(code, Some(3), "the stand-in cargo's failure stops the step: {log}");
    assert!(log.contains("building from source"), "{log}");
    let args = std::fs::read_to_string(runner.path().join("cargo-args")).unwrap();
    let root = runner.path().join("kubereach-install");
    assert_eq!(args.trim(), format!("install --locked --path {MANIFEST_DIR} --root {}", root.display()));
    assert!(!runner.path().join("github-path").exists(), "nothing on PATH after a failed install");
}

// ---------------------------------------------------------------------------------------------
// The pre-commit hook
// ---------------------------------------------------------------------------------------------

fn run_checked(command: &mut Command) {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(out.status.success(), "{command:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A git repository (files staged, nothing committed) holding `files`.
fn staged_repository(parent: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = parent.join(name);
    for (rel, text) in files {
        write(&dir, rel, text);
    }
    run_checked(Command::new("git").args(["init", "-q"]).current_dir(&dir));
    run_checked(Command::new("git").args(["add", "-A"]).current_dir(&dir));
    dir
}

/// `pre-commit try-repo CLONE kubereach --all-files` in `repo`. try-repo installs the hook into a
/// new temporary store every time (it ignores `PRE_COMMIT_HOME`), so the hook's `cargo install`
/// builds into `target_dir`, which the runs share: the dependencies are built once.
fn try_repo(pre_commit: &Path, clone: &Path, repo: &Path, target_dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(pre_commit)
        .args(["try-repo", clone.to_str().unwrap(), "kubereach", "--all-files", "--color", "never"])
        .current_dir(repo)
        .env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("run pre-commit");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn pre_commit_try_repo_passes_a_clean_repository_and_fails_a_dirty_one() {
    let Some(pre_commit) = require_tool("pre-commit", "from PyPI; .ci/run installs it") else { return };
    if require_tool("git", "to clone this checkout and stage the sample repositories").is_none() {
        return;
    }
    // Each try-repo installs the hook with `cargo install`, a release build (about 1.5 min on two
    // cores, then 0.5 min for the crate alone): only where a folder is given for it to reuse.
    let Some(target_dir) =
        require_var("KUBEREACH_HOOK_TARGET_DIR", "a folder for the hook's release build to reuse; .ci/run sets it")
    else {
        return;
    };
    let target_dir = PathBuf::from(target_dir);
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    // try-repo installs the hook from the clone's committed HEAD, as a user's pre-commit would.
    let clone = work.path().join("kubereach");
    run_checked(Command::new("git").args(["clone", "--quiet", MANIFEST_DIR]).arg(&clone));
    assert!(
        clone.join(".pre-commit-hooks.yaml").exists(),
        "the committed HEAD has no .pre-commit-hooks.yaml: commit it before running this test"
    );
    let shop = SHOP;
    let clean =
        staged_repository(work.path(), "clean", &[("deploy/shop.yaml", shop), ("values.yaml", "replicas: 2\n")]);
    let (code, log) = try_repo(&pre_commit, &clone, &clean, &target_dir);
    assert_eq!(code, Some(0), "a clean repository passes:\n{log}");
    assert!(log.contains("kubereach") && log.contains("Passed"), "{log}");
    let first = started.elapsed();

    let ghost = &dangling_service("ghost");
    let dirty = staged_repository(work.path(), "dirty", &[("deploy/shop.yaml", shop), ("deploy/ghost.yaml", ghost)]);
    let (code, log) = try_repo(&pre_commit, &clone, &dirty, &target_dir);
    assert_eq!(code, Some(1), "a dirty repository fails:\n{log}");
    assert!(log.contains("Failed") && log.contains("dangling-service") && log.contains("deploy/ghost.yaml"), "{log}");
    println!(
        "pre-commit try-repo: {:.0} s for the clean run (the hook's build), {:.0} s in all",
        first.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

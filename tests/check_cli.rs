#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The controls of `kubereach check`, end to end: the built binary runs on small repositories
//! written to temporary folders. Exit codes and `--fail-on`, rule selection (`--select`,
//! `--ignore`, configuration), configuration discovery and `--config`, excludes, suppressions
//! (annotation and comments, unused ones), baselines (JSON and SARIF, across moved and renamed
//! files), the JSON and GitHub formats, and determinism across thread counts.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod common;
use common::{dangling_service, kubereach, kubereach_in_crate, write, Run, RunExt as _, SHOP};

// ---------------------------------------------------------------------------------------------
// Manifests (with `SHOP` and `dangling_service` from tests/common)
// ---------------------------------------------------------------------------------------------

/// A policy admitting every external address on every port (`policy-allows-all`, a warning).
const OPEN_POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-anywhere
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
    - from:
        - ipBlock:
            cidr: 0.0.0.0/0
";

/// The same, narrowed to one port (`policy-allows-all`, a note).
const NARROW_POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-http-from-anywhere
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
    - from:
        - ipBlock:
            cidr: 0.0.0.0/0
      ports:
        - port: 8080
";

/// A host-network DaemonSet in `shop`, whose default-deny selects it
/// (`host-network-bypasses-policy`, with the policy as a related location).
const NODE_EXPORTER: &str = "\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
  namespace: shop
spec:
  selector:
    matchLabels:
      app: node-exporter
  template:
    metadata:
      labels:
        app: node-exporter
    spec:
      hostNetwork: true
      containers:
        - name: node-exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
          ports:
            - name: metrics
              containerPort: 9100
";

/// A label value kubectl would read as a boolean (`invalid-manifest`, an error).
const BROKEN: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: feature-flags
  namespace: shop
  labels:
    enabled: on
data:
  checkout: \"true\"
";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A repository in a temporary folder; commands run with it as the working directory.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        Repo { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> &Repo {
        write(self.dir.path(), rel, text);
        self
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    fn rename(&self, from: &str, to: &str) {
        let to = self.path(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::rename(self.path(from), to).unwrap();
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_in(self.dir.path(), args)
    }

    fn run_in(&self, cwd: &Path, args: &[&str]) -> Run {
        let run = kubereach(args).current_dir(cwd).env("NO_COLOR", "1").run();
        assert!(run.code.is_some(), "exited normally\n{run}");
        run
    }

    /// `check --format json` with `args`; panics on exit 2.
    fn check_json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["check", "--format", "json"];
        all.extend_from_slice(args);
        let run = self.run(&all);
        let code = run.code.unwrap();
        assert!(code == 0 || code == 1, "exit {code} for {args:?}; stderr: {}", run.stderr);
        (code, run.json())
    }
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("`findings` is an array")
}

/// The rule ids of the findings, in report order.
fn rules(report: &Value) -> Vec<String> {
    findings(report).iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

fn rule_set(report: &Value) -> BTreeSet<String> {
    rules(report).into_iter().collect()
}

/// The findings of one rule.
fn of_rule<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(report).iter().filter(|f| f["rule"] == rule).collect()
}

fn messages(report: &Value) -> Vec<String> {
    findings(report)
        .iter()
        .map(|f| format!("{} {}:{} {}", f["rule"], f["file"], f["line"], f["message"]).replace('"', ""))
        .collect()
}

fn summary(report: &Value, field: &str) -> u64 {
    report["summary"][field].as_u64().unwrap_or_else(|| panic!("summary.{field} is a number: {report}"))
}

/// One line of a file, 1-based.
fn line_of(text: &str, line: u64) -> &str {
    text.lines().nth(line as usize - 1).expect("line exists")
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_containing(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).map(|i| i as u64 + 1).expect("needle present")
}

/// A repository with one finding of each level: a note, a warning and an error.
fn three_levels() -> Repo {
    let repo = Repo::new();
    repo.write("shop.yaml", SHOP)
        .write("policies/narrow.yaml", NARROW_POLICY)
        .write("services/api.yaml", &dangling_service("api"))
        .write("config/flags.yaml", BROKEN);
    repo
}

// ---------------------------------------------------------------------------------------------
// Exit codes and --fail-on
// ---------------------------------------------------------------------------------------------

#[test]
fn a_clean_repository_exits_0_at_every_threshold() {
    let repo = Repo::new();
    repo.write("shop.yaml", SHOP);
    for fail_on in ["error", "warning", "note", "never"] {
        let (code, report) = repo.check_json(&["--fail-on", fail_on]);
        assert_eq!(code, 0, "--fail-on {fail_on}: {:?}", messages(&report));
        assert!(findings(&report).is_empty(), "{:?}", messages(&report));
    }
    let run = repo.run(&["check"]);
    assert_eq!(run.code, Some(0), "default path is the working directory; stderr: {}", run.stderr);
}

#[test]
fn the_three_levels_are_found() {
    let repo = three_levels();
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    let levels: BTreeSet<(String, String)> = findings(&report)
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["level"].as_str().unwrap().to_string()))
        .collect();
    let expected: BTreeSet<(String, String)> =
        [("dangling-service", "warning"), ("invalid-manifest", "error"), ("policy-allows-all", "note")]
            .iter()
            .map(|(r, l)| (r.to_string(), l.to_string()))
            .collect();
    assert_eq!(levels, expected, "{:?}", messages(&report));
}

#[test]
fn fail_on_compares_each_level_with_the_threshold() {
    let repo = three_levels();
    // (rule selected, the level of its one finding)
    let cases = [("policy-allows-all", "note"), ("dangling-service", "warning"), ("invalid-manifest", "error")];
    for (rule, level) in cases {
        for (fail_on, fails_at) in [
            ("never", &[][..]),
            ("error", &["error"][..]),
            ("warning", &["error", "warning"][..]),
            ("note", &["error", "warning", "note"][..]),
        ] {
            let (code, report) = repo.check_json(&["--select", rule, "--fail-on", fail_on]);
            assert_eq!(rules(&report), vec![rule.to_string()], "{:?}", messages(&report));
            let expected = i32::from(fails_at.contains(&level));
            assert_eq!(code, expected, "a {level} ({rule}) with --fail-on {fail_on}");
        }
    }
}

#[test]
fn the_default_threshold_is_warning() {
    let repo = three_levels();
    assert_eq!(repo.check_json(&["--select", "policy-allows-all"]).0, 0, "a note alone passes");
    assert_eq!(repo.check_json(&["--select", "dangling-service"]).0, 1, "a warning fails");
    assert_eq!(repo.check_json(&["--select", "invalid-manifest"]).0, 1, "an error fails");
    for format in ["human", "github", "sarif"] {
        let run = repo.run(&["check", "--format", format, "--select", "dangling-service"]);
        assert_eq!(run.code, Some(1), "the exit code does not depend on the format ({format})");
    }
}

#[test]
fn fail_on_in_the_configuration_and_the_command_line_wins() {
    let repo = three_levels();
    repo.write(".kubereach.yaml", "fail-on: error\n");
    assert_eq!(repo.check_json(&["--select", "dangling-service"]).0, 0, "config: only errors fail");
    assert_eq!(repo.check_json(&["--select", "invalid-manifest"]).0, 1);
    assert_eq!(repo.check_json(&["--select", "policy-allows-all", "--fail-on", "note"]).0, 1, "the option wins");
    repo.write(".kubereach.yaml", "fail-on: never\n");
    assert_eq!(repo.check_json(&[]).0, 0);
}

#[test]
fn an_unknown_rule_is_a_usage_error() {
    let repo = three_levels();
    for args in [
        &["check", "--select", "no-such-rule"][..],
        &["check", "--select", "dangling-service,no-such-rule"][..],
        &["check", "--ignore", "dangling-servic"][..],
    ] {
        let run = repo.run(args);
        assert_eq!(run.code, Some(2), "{args:?}");
        assert!(run.stdout.is_empty(), "no report on a usage error: {}", run.stdout);
        let bad = args[2].split(',').next_back().unwrap();
        assert!(run.stderr.contains(&format!("`{bad}`")), "stderr names the rule: {}", run.stderr);
    }
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let repo = three_levels();
    let run = repo.run(&["check", "no-such-folder"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("no-such-folder"), "stderr names the path: {}", run.stderr);
    let run = repo.run(&["check", "shop.yaml", "no-such-file.yaml"]);
    assert_eq!(run.code, Some(2), "one missing path among several is still an error");
    assert!(run.stderr.contains("no-such-file.yaml"), "{}", run.stderr);
}

#[test]
fn an_unknown_configuration_key_is_an_error_at_its_location() {
    let repo = three_levels();
    repo.write(".kubereach.yaml", "rules:\n  ignore: [dangling-service]\nprofiles: aks\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, Some(2), "stdout: {}", run.stdout);
    assert!(run.stderr.contains(".kubereach.yaml:3:1"), "file:line:col of the key: {}", run.stderr);
    assert!(run.stderr.contains("profiles"), "{}", run.stderr);

    // A nested key, and a misspelt rule in `rules.levels`.
    repo.write(".kubereach.yaml", "rules:\n  ignore: [dangling-service]\n  selct: [all]\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains(".kubereach.yaml:3:3"), "{}", run.stderr);
    repo.write(".kubereach.yaml", "# levels\nrules:\n  levels:\n    dangling-servce: error\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains(".kubereach.yaml:4:5"), "{}", run.stderr);
    assert!(run.stderr.contains("dangling-servce"), "{}", run.stderr);

    // Named with --config: the error names that file.
    repo.write("ci/kubereach.yaml", "exclude: [vendor]\nfail_on: error\n");
    let run = repo.run(&["check", "--config", "ci/kubereach.yaml", "."]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("ci/kubereach.yaml:2:1"), "{}", run.stderr);
}

#[test]
fn a_bad_baseline_is_an_error() {
    let repo = three_levels();
    let outside = tempfile::tempdir().unwrap();
    let not_json = outside.path().join("not-json.json");
    std::fs::write(&not_json, "findings:\n  - key: x\n").unwrap();
    let wrong_shape = outside.path().join("wrong-shape.json");
    std::fs::write(&wrong_shape, "{\"results\": []}").unwrap();
    let missing = outside.path().join("missing.json");
    for file in [&not_json, &wrong_shape, &missing] {
        let run = repo.run(&["check", "--baseline", file.to_str().unwrap()]);
        assert_eq!(run.code, Some(2), "{}", file.display());
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(run.stderr.contains(name), "stderr names the baseline: {}", run.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// Rule selection and levels
// ---------------------------------------------------------------------------------------------

#[test]
fn select_and_ignore_choose_the_rules() {
    let repo = three_levels();
    let all = rule_set(&repo.check_json(&[]).1);
    assert_eq!(all.len(), 3);

    let one = |args: &[&str]| rule_set(&repo.check_json(args).1);
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    assert_eq!(one(&["--select", "dangling-service"]), set(&["dangling-service"]));
    assert_eq!(one(&["--select", "all"]), all);
    let two = set(&["dangling-service", "invalid-manifest"]);
    assert_eq!(one(&["--select", "dangling-service,invalid-manifest"]), two, "comma-separated");
    assert_eq!(one(&["--select", "dangling-service", "--select", "invalid-manifest"]), two, "repeated");

    assert_eq!(one(&["--ignore", "policy-allows-all"]), two);
    assert_eq!(one(&["--ignore", "policy-allows-all,invalid-manifest"]), set(&["dangling-service"]));
    assert_eq!(one(&["--ignore", "policy-allows-all", "--ignore", "invalid-manifest"]), set(&["dangling-service"]));
    assert_eq!(
        one(&["--select", "dangling-service,invalid-manifest", "--ignore", "invalid-manifest"]),
        set(&["dangling-service"])
    );
    assert!(one(&["--select", "deprecated-ingress-api"]).is_empty());

    // Ignoring the only warning lets the run pass at the default threshold... but the error stays.
    assert_eq!(repo.check_json(&["--ignore", "invalid-manifest,dangling-service"]).0, 0);
    assert_eq!(repo.check_json(&["--ignore", "dangling-service"]).0, 1);
}

#[test]
fn configuration_selects_and_ignores_rules() {
    let repo = three_levels();
    repo.write(".kubereach.yaml", "rules:\n  ignore: [dangling-service]\n");
    let (code, report) = repo.check_json(&["--fail-on", "warning", "--ignore", "invalid-manifest"]);
    assert_eq!(rules(&report), vec!["policy-allows-all"], "config and option ignores add up");
    assert_eq!(code, 0);

    repo.write(".kubereach.yaml", "rules:\n  select: [invalid-manifest, policy-allows-all]\n");
    assert_eq!(rule_set(&repo.check_json(&[]).1).len(), 2);
    let report = repo.check_json(&["--select", "dangling-service"]).1;
    assert_eq!(rules(&report), vec!["dangling-service"], "--select replaces the configured selection");
}

#[test]
fn configuration_levels_change_the_level_and_the_exit_code() {
    let repo = three_levels();
    assert_eq!(repo.check_json(&["--select", "dangling-service", "--fail-on", "error"]).0, 0);
    repo.write(".kubereach.yaml", "rules:\n  levels:\n    dangling-service: error\n    policy-allows-all: warning\n");
    let (code, report) = repo.check_json(&["--select", "dangling-service", "--fail-on", "error"]);
    assert_eq!(code, 1, "a warning made an error fails at --fail-on error");
    assert_eq!(of_rule(&report, "dangling-service")[0]["level"], "error");
    assert_eq!(summary(&report, "errors"), 1);
    assert_eq!(summary(&report, "warnings"), 0);

    let (code, report) = repo.check_json(&["--select", "policy-allows-all"]);
    assert_eq!(code, 1, "a note made a warning fails at the default threshold");
    assert_eq!(of_rule(&report, "policy-allows-all")[0]["level"], "warning");

    repo.write(".kubereach.yaml", "rules:\n  levels:\n    invalid-manifest: note\n");
    let (code, report) = repo.check_json(&["--select", "invalid-manifest"]);
    assert_eq!(of_rule(&report, "invalid-manifest")[0]["level"], "note", "a level can be lowered too");
    assert_eq!(code, 0);
}

#[test]
fn configuration_level_off_silences_a_rule() {
    let repo = three_levels();
    for config in [
        "rules:\n  levels:\n    dangling-service: off\n",
        "rules:\n  levels:\n    dangling-service: \"off\"\n",
        "rules:\n  levels: {dangling-service: off}\n",
    ] {
        repo.write(".kubereach.yaml", config);
        let (code, report) = repo.check_json(&["--fail-on", "warning", "--ignore", "invalid-manifest"]);
        assert_eq!(rules(&report), vec!["policy-allows-all"], "{config}");
        assert_eq!(code, 0, "{config}");
    }
    repo.write(".kubereach.yaml", "rules:\n  levels:\n    dangling-service: loud\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains(".kubereach.yaml:3:23"), "the bad level is located: {}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// Configuration discovery, --config, excludes, --default-namespace
// ---------------------------------------------------------------------------------------------

#[test]
fn a_configuration_in_a_parent_folder_applies() {
    let repo = Repo::new();
    repo.write(".kubereach.yaml", "rules:\n  ignore: [dangling-service]\n")
        .write("deploy/apps/shop.yaml", SHOP)
        .write("deploy/apps/api.yaml", &dangling_service("api"));
    let (code, report) = repo.check_json(&["deploy/apps"]);
    assert!(findings(&report).is_empty(), "{:?}", messages(&report));
    assert_eq!(code, 0);

    // Run from the folder itself: discovery goes upwards from `.`.
    let run = repo.run_in(&repo.path("deploy/apps"), &["check", "--format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(findings(&run.json()).is_empty());

    // The nearest configuration wins over one further up.
    repo.write("deploy/.kubereach.yaml", "rules:\n  levels:\n    dangling-service: error\n");
    let (code, report) = repo.check_json(&["deploy/apps", "--fail-on", "error"]);
    assert_eq!(code, 1);
    assert_eq!(of_rule(&report, "dangling-service")[0]["level"], "error");

    // The configuration file itself is not a manifest.
    assert!(findings(&report).iter().all(|f| !f["file"].as_str().unwrap().contains(".kubereach")));
}

#[test]
fn the_config_option_overrides_discovery() {
    let repo = Repo::new();
    repo.write(".kubereach.yaml", "rules:\n  ignore: [dangling-service]\n")
        .write("apps/shop.yaml", SHOP)
        .write("apps/api.yaml", &dangling_service("api"))
        .write("ci/strict.yaml", "rules:\n  levels:\n    dangling-service: error\nfail-on: error\n");
    assert!(findings(&repo.check_json(&["apps"]).1).is_empty());
    let (code, report) = repo.check_json(&["--config", "ci/strict.yaml", "apps"]);
    assert_eq!(code, 1, "the named file applies, not the discovered one");
    assert_eq!(rules(&report), vec!["dangling-service"]);
    assert_eq!(of_rule(&report, "dangling-service")[0]["level"], "error");

    let run = repo.run(&["check", "--config", "ci/missing.yaml", "apps"]);
    assert_eq!(run.code, Some(2), "a missing --config is an error, not a silent default");
    assert!(run.stderr.contains("ci/missing.yaml"), "{}", run.stderr);
}

#[test]
fn excludes_in_configuration_and_on_the_command_line_skip_files() {
    let repo = Repo::new();
    repo.write("shop.yaml", SHOP)
        .write("legacy/old-api.yaml", &dangling_service("old-api"))
        .write("services/api.generated.yaml", &dangling_service("generated"))
        .write("services/cart.yaml", &dangling_service("cart"));
    let files = |report: &Value| -> BTreeSet<String> {
        findings(report).iter().map(|f| f["file"].as_str().unwrap().to_string()).collect()
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let all = set(&["legacy/old-api.yaml", "services/api.generated.yaml", "services/cart.yaml"]);
    assert_eq!(files(&repo.check_json(&[]).1), all);

    assert_eq!(
        files(&repo.check_json(&["--exclude", "legacy/**"]).1),
        set(&["services/api.generated.yaml", "services/cart.yaml"])
    );
    assert_eq!(
        files(&repo.check_json(&["--exclude", "legacy/**", "--exclude", "*.generated.yaml"]).1),
        set(&["services/cart.yaml"]),
        "repeatable"
    );

    repo.write(".kubereach.yaml", "exclude: [\"*.generated.yaml\"]\n");
    assert_eq!(files(&repo.check_json(&[]).1), set(&["legacy/old-api.yaml", "services/cart.yaml"]));
    let (_, report) = repo.check_json(&["--exclude", "legacy/**"]);
    assert_eq!(files(&report), set(&["services/cart.yaml"]), "config and option excludes add up");
    assert_eq!(summary(&report, "files"), 2, "excluded files are not read at all");
}

#[test]
fn configuration_excludes_are_relative_to_the_configuration_folder() {
    // As in a .gitignore: a pattern with a slash is anchored where the file that holds it is, so the
    // same configuration holds whether the repository root or one of its folders is checked.
    let repo = Repo::new();
    repo.write(".kubereach.yaml", "exclude: [\"apps/legacy/**\"]\n")
        .write("apps/shop.yaml", SHOP)
        .write("apps/legacy/old-api.yaml", &dangling_service("old-api"));
    assert!(findings(&repo.check_json(&["."]).1).is_empty(), "from the root");
    let (code, report) = repo.check_json(&["apps"]);
    assert!(findings(&report).is_empty(), "checking a folder below the configuration: {:?}", messages(&report));
    assert_eq!(code, 0);
    let run = repo.run_in(&repo.path("apps"), &["check", "--format", "json"]);
    assert!(findings(&run.json()).is_empty(), "from the folder itself: {}", run.stdout);
}

#[test]
fn default_namespace_places_objects_without_one() {
    let repo = Repo::new();
    // A Service without a namespace, selecting the `web` pods of `shop`.
    repo.write("shop.yaml", SHOP).write(
        "web-lb.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-internal\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 8080\n",
    );
    let (_, report) = repo.check_json(&[]);
    assert_eq!(rules(&report), vec!["dangling-service"], "in `default` it selects nothing");
    let (code, report) = repo.check_json(&["--default-namespace", "shop"]);
    assert!(findings(&report).is_empty(), "{:?}", messages(&report));
    assert_eq!(code, 0);
    repo.write(".kubereach.yaml", "default-namespace: shop\n");
    assert!(findings(&repo.check_json(&[]).1).is_empty());
    assert_eq!(rules(&repo.check_json(&["--default-namespace", "other"]).1), vec!["dangling-service"]);
}

// ---------------------------------------------------------------------------------------------
// Suppressions
// ---------------------------------------------------------------------------------------------

#[test]
fn an_annotation_suppresses_only_its_object_and_the_rules_it_names() {
    let repo = Repo::new();
    let policy = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-ingress
  namespace: shop
  annotations:
    kubereach.io/ignore: policy-allows-all
    kubereach.io/ignore-reason: the web tier is public by design
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
    - from:
        - ipBlock:
            cidr: 0.0.0.0/0
    - from:
        - podSelector:
            matchLabels:
              app: ghost
";
    let services = format!(
        "{}---\n{}",
        dangling_service("api").replace(
            "  namespace: shop\n",
            "  namespace: shop\n  annotations:\n    kubereach.io/ignore: \"dangling-service\"\n"
        ),
        dangling_service("billing")
    );
    repo.write("shop.yaml", SHOP)
        .write("policy.yaml", policy)
        .write("open.yaml", OPEN_POLICY)
        .write("services.yaml", &services);
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    let got: BTreeSet<String> =
        findings(&report).iter().map(|f| format!("{} {}", f["rule"], f["object"]).replace('"', "")).collect();
    let expected: BTreeSet<String> = [
        // The annotated policy: its other rule still reports.
        "policy-peer-matches-nothing NetworkPolicy/shop/web-ingress",
        // Another policy with the same gap, unannotated.
        "policy-allows-all NetworkPolicy/shop/web-from-anywhere",
        // The unannotated Service beside the annotated one, in the same file.
        "dangling-service Service/shop/billing",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(got, expected, "{:?}", messages(&report));
    assert_eq!(summary(&report, "suppressed"), 2);
}

#[test]
fn a_comment_on_the_line_or_alone_above_suppresses() {
    let repo = Repo::new();
    let on_the_line = dangling_service("billing")
        .replace("    app: billing\n", "    app: billing # kubereach:ignore dangling-service -- ships next sprint\n");
    let above = dangling_service("search").replace(
        "    app: search\n",
        "    # kubereach:ignore dangling-service -- deployed by the search team's repository\n    app: search\n",
    );
    // A comment above a line that carries no finding of that rule does not reach further down.
    let too_far = dangling_service("orders")
        .replace("  selector:\n", "  # kubereach:ignore dangling-service -- meant for the selector\n  selector:\n");
    repo.write("shop.yaml", SHOP).write("services.yaml", &format!("{on_the_line}---\n{above}---\n{too_far}"));
    let (_, report) = repo.check_json(&[]);
    let text = repo.read("services.yaml");
    let dangling = of_rule(&report, "dangling-service");
    assert_eq!(dangling.len(), 1, "{:?}", messages(&report));
    assert_eq!(dangling[0]["object"], "Service/shop/orders");
    assert_eq!(summary(&report, "suppressed"), 2);
    // The misplaced comment is itself reported as unused, where it is written.
    let unused = of_rule(&report, "unused-suppression");
    assert_eq!(unused.len(), 1, "{:?}", messages(&report));
    assert_eq!(unused[0]["line"].as_u64().unwrap(), line_containing(&text, "meant for the selector"));
}

#[test]
fn unused_suppressions_are_reported_where_they_are_written() {
    let repo = Repo::new();
    // The Service `web` selects the `web` pods: nothing to suppress on it.
    let shop = SHOP
        .replace("    app: web\n  ports:\n", "    app: web # kubereach:ignore dangling-service -- stale\n  ports:\n")
        .replace(
            "kind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n",
            "kind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    kubereach.io/ignore: dangling-service\n",
        );
    repo.write("shop.yaml", &shop);
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1, "unused-suppression is a warning");
    assert_eq!(rules(&report), vec!["unused-suppression", "unused-suppression"], "{:?}", messages(&report));
    let lines: Vec<u64> = findings(&report).iter().map(|f| f["line"].as_u64().unwrap()).collect();
    let text = repo.read("shop.yaml");
    let annotation = line_containing(&text, "kubereach.io/ignore:");
    let comment = line_containing(&text, "# kubereach:ignore");
    assert_eq!(lines, vec![annotation, comment], "{:?}", messages(&report));
    for f in findings(&report) {
        assert_eq!(f["file"], "shop.yaml");
        assert!(f["message"].as_str().unwrap().contains("dangling-service"), "{f}");
    }
    let comment_finding = &findings(&report)[1];
    let column = comment_finding["column"].as_u64().unwrap() as usize;
    assert_eq!(line_of(&text, comment).chars().nth(column - 1), Some('#'), "points at the comment");

    // --ignore unused-suppression silences them; so does turning off the rule they name.
    assert!(findings(&repo.check_json(&["--ignore", "unused-suppression"]).1).is_empty());
    assert!(findings(&repo.check_json(&["--ignore", "dangling-service"]).1).is_empty());
    assert!(findings(&repo.check_json(&["--select", "workload-not-isolated"]).1).is_empty());
}

#[test]
fn a_suppression_naming_an_unknown_rule_is_reported() {
    let repo = Repo::new();
    let typo_comment = dangling_service("billing")
        .replace("    app: billing\n", "    app: billing # kubereach:ignore danglin-service -- typo\n");
    let typo_annotation = dangling_service("search")
        .replace("  namespace: shop\n", "  namespace: shop\n  annotations:\n    kubereach.io/ignore: dangling-svc\n");
    repo.write("shop.yaml", SHOP).write("services.yaml", &format!("{typo_comment}---\n{typo_annotation}"));
    let (_, report) = repo.check_json(&[]);
    let text = repo.read("services.yaml");
    assert_eq!(of_rule(&report, "dangling-service").len(), 2, "a misspelt rule suppresses nothing");
    let unused = of_rule(&report, "unused-suppression");
    assert_eq!(unused.len(), 2, "{:?}", messages(&report));
    let by_line = |needle: &str| {
        let line = line_containing(&text, needle);
        unused.iter().find(|f| f["line"] == line).unwrap_or_else(|| panic!("nothing at line {line}: {unused:?}"))
    };
    assert!(by_line("danglin-service")["message"].as_str().unwrap().contains("`danglin-service`"));
    assert!(by_line("dangling-svc")["message"].as_str().unwrap().contains("`dangling-svc`"));
}

#[test]
fn a_used_suppression_that_also_names_an_unknown_rule_is_reported() {
    let repo = Repo::new();
    let service = dangling_service("billing").replace(
        "    app: billing\n",
        "    app: billing # kubereach:ignore dangling-service,polcy-allows-all -- billing ships next sprint\n",
    );
    repo.write("shop.yaml", SHOP).write("billing.yaml", &service);
    let (_, report) = repo.check_json(&[]);
    assert_eq!(summary(&report, "suppressed"), 1, "the known rule is suppressed");
    assert!(of_rule(&report, "dangling-service").is_empty());
    let unused = of_rule(&report, "unused-suppression");
    assert_eq!(
        unused.len(),
        1,
        "the misspelt `polcy-allows-all` is a mistake worth a finding: {:?}",
        messages(&report)
    );
    assert!(unused[0]["message"].as_str().unwrap().contains("polcy-allows-all"), "{}", unused[0]);
}

// ---------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------

/// A repository under `repo/` with two gaps in `repo/apps/storefront.yaml`; returns it.
fn baselined_repository() -> Repo {
    let repo = Repo::new();
    repo.write("repo/apps/shop.yaml", SHOP)
        .write("repo/apps/storefront.yaml", &format!("{}---\n{OPEN_POLICY}", dangling_service("api")));
    repo
}

fn baseline_run(repo: &Repo, format: &str, baseline_file: &str) {
    let run = repo.run(&["check", "repo", "--format", format, "-o", baseline_file]);
    assert_eq!(run.code, Some(1), "the baseline run reports the gaps; stderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "-o writes the report to the file, not stdout: {}", run.stdout);

    // A new gap: only it is reported; the two old ones are counted as baselined.
    repo.write("repo/apps/orders.yaml", &dangling_service("orders"));
    let (code, report) = repo.check_json(&["repo", "--baseline", baseline_file]);
    assert_eq!(code, 1);
    assert_eq!(messages(&report).len(), 1, "{:?}", messages(&report));
    assert_eq!(of_rule(&report, "dangling-service")[0]["object"], "Service/shop/orders");
    assert_eq!(summary(&report, "baselined"), 2);
    assert_eq!(summary(&report, "warnings"), 1);

    // Move and rename the old file, with its objects unchanged but on other lines.
    let moved = format!("# Storefront, moved out of apps/\n\n{}", repo.read("repo/apps/storefront.yaml"));
    std::fs::remove_file(repo.path("repo/apps/storefront.yaml")).unwrap();
    repo.write("repo/teams/storefront/legacy-storefront.yml", &moved);
    let (code, report) = repo.check_json(&["repo", "--baseline", baseline_file]);
    assert_eq!(code, 1);
    assert_eq!(messages(&report).len(), 1, "nothing old resurrects after a move: {:?}", messages(&report));
    assert_eq!(of_rule(&report, "dangling-service")[0]["object"], "Service/shop/orders");
    assert_eq!(summary(&report, "baselined"), 2);

    // Fix the new gap: the run passes with the old ones baselined.
    std::fs::remove_file(repo.path("repo/apps/orders.yaml")).unwrap();
    let (code, report) = repo.check_json(&["repo", "--baseline", baseline_file]);
    assert!(findings(&report).is_empty(), "{:?}", messages(&report));
    assert_eq!(code, 0);
    assert_eq!(summary(&report, "baselined"), 2);

    // Without the baseline everything is back.
    assert_eq!(findings(&repo.check_json(&["repo"]).1).len(), 2);
}

#[test]
fn a_json_baseline_reports_only_new_findings_even_after_a_move() {
    let repo = baselined_repository();
    baseline_run(&repo, "json", "base.json");
    let base: Value = serde_json::from_str(&repo.read("base.json")).unwrap();
    assert_eq!(findings(&base).len(), 2);
}

#[test]
fn a_sarif_baseline_reports_only_new_findings_even_after_a_move() {
    let repo = baselined_repository();
    let run = repo.run(&["check", "repo", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("SARIF results");
    assert!(
        results.iter().all(|r| r["partialFingerprints"]["kubereach/logicalKey/v1"].is_string()),
        "every result carries its logical key: {sarif}"
    );
    baseline_run(&repo, "sarif", "base.sarif");
}

#[test]
fn a_baseline_holds_when_levels_change() {
    let repo = baselined_repository();
    let run = repo.run(&["check", "repo", "--format", "json", "-o", "base.json"]);
    assert_eq!(run.code, Some(1));
    repo.write("repo/.kubereach.yaml", "rules:\n  levels:\n    dangling-service: error\n");
    let (code, report) = repo.check_json(&["repo", "--baseline", "base.json"]);
    assert!(findings(&report).is_empty(), "the level is not part of the key: {:?}", messages(&report));
    assert_eq!(code, 0);
}

#[test]
fn a_baselined_unused_annotation_does_not_resurrect_after_a_move() {
    let repo = Repo::new();
    // The annotation names a rule that does not fire on this Service: an unused suppression.
    let service = SHOP.replace(
        "kind: Service\nmetadata:\n  name: web\n  namespace: shop\n",
        "kind: Service\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    kubereach.io/ignore: dangling-service\n",
    );
    repo.write("repo/apps/shop.yaml", &service);
    let run = repo.run(&["check", "repo", "--format", "json", "-o", "base.json"]);
    assert_eq!(run.code, Some(1));
    let base: Value = serde_json::from_str(&repo.read("base.json")).unwrap();
    assert_eq!(rules(&base), vec!["unused-suppression"]);
    repo.rename("repo/apps/shop.yaml", "repo/shop/namespace.yaml");
    let (code, report) = repo.check_json(&["repo", "--baseline", "base.json"]);
    assert!(
        findings(&report).is_empty(),
        "the annotation sits on Service/shop/web, which did not change: {:?}",
        messages(&report)
    );
    assert_eq!(code, 0);
}

// ---------------------------------------------------------------------------------------------
// Formats and determinism
// ---------------------------------------------------------------------------------------------

fn assert_location(v: &Value, what: &str, root: &Path) {
    let file = v["file"].as_str().unwrap_or_else(|| panic!("{what}: `file` is a string: {v}"));
    assert!(root.join(file).is_file(), "{what}: `{file}` is a path relative to the working directory");
    let num = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{what}: `{k}` is a number: {v}"));
    let (line, column, end_line, end_column) = (num("line"), num("column"), num("end_line"), num("end_column"));
    assert!(line >= 1 && column >= 1, "{what}: 1-based: {v}");
    assert!(end_line > line || (end_line == line && end_column >= column), "{what}: the end follows the start: {v}");
    let lines = std::fs::read_to_string(root.join(file)).unwrap().lines().count() as u64;
    assert!(line <= lines, "{what}: line {line} is in the file ({lines} lines)");
}

#[test]
fn json_findings_carry_every_field_and_the_summary_counts_them() {
    let repo = three_levels();
    repo.write("open.yaml", OPEN_POLICY).write("services/orders.yaml", &dangling_service("orders"));
    // One suppressed finding, so that `summary.suppressed` is not trivially 0.
    repo.write(
        "services/search.yaml",
        &dangling_service("search")
            .replace("    app: search\n", "    app: search # kubereach:ignore dangling-service -- external\n"),
    );
    // A finding with a related location (the policy that selects the host-network pods).
    repo.write("monitoring/node-exporter.yaml", NODE_EXPORTER);
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(report["version"], 1);
    assert_eq!(report["tool"]["name"], "kubereach");
    let all = findings(&report);
    assert!(all.len() >= 5, "{:?}", messages(&report));
    let mut counted = [0u64; 3];
    for f in all {
        for k in ["rule", "level", "message", "file", "key"] {
            assert!(f[k].as_str().is_some_and(|s| !s.is_empty()), "`{k}` is a non-empty string: {f}");
        }
        let rule = f["rule"].as_str().unwrap();
        assert!(f["key"].as_str().unwrap().starts_with(&format!("{rule}|")), "the key starts with the rule: {f}");
        match f["level"].as_str().unwrap() {
            "error" => counted[0] += 1,
            "warning" => counted[1] += 1,
            "note" => counted[2] += 1,
            other => panic!("unknown level `{other}`"),
        }
        assert_location(f, rule, repo.dir.path());
        let related = f["related"].as_array().unwrap_or_else(|| panic!("`related` is an array: {f}"));
        for r in related {
            assert_location(r, &format!("{rule} related"), repo.dir.path());
            assert!(r["message"].is_string(), "{r}");
        }
    }
    assert_eq!(
        [summary(&report, "errors"), summary(&report, "warnings"), summary(&report, "notes")],
        counted,
        "{}",
        report["summary"]
    );
    assert_eq!(summary(&report, "suppressed"), 1);
    assert_eq!(summary(&report, "baselined"), 0);
    assert_eq!(summary(&report, "files"), 8, "every manifest file read");
    let host = of_rule(&report, "host-network-bypasses-policy");
    assert_eq!(host.len(), 1, "{:?}", messages(&report));
    let related = host[0]["related"].as_array().unwrap();
    assert_eq!(related.len(), 1, "{}", host[0]);
    assert_eq!(related[0]["file"], "shop.yaml");
    assert_eq!(related[0]["line"].as_u64().unwrap(), line_containing(SHOP, "name: default-deny"));
    let keys: BTreeSet<&str> = all.iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), all.len(), "logical keys are distinct");
}

#[test]
fn github_format_writes_one_workflow_command_per_finding() {
    let repo = three_levels();
    let (_, report) = repo.check_json(&[]);
    let run = repo.run(&["check", "--format", "github"]);
    assert_eq!(run.code, Some(1));
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), findings(&report).len(), "{}", run.stdout);
    for (line, f) in lines.iter().zip(findings(&report)) {
        let command = match f["level"].as_str().unwrap() {
            "error" => "error",
            "warning" => "warning",
            _ => "notice",
        };
        let prefix = format!("::{command} file={},line={},", f["file"].as_str().unwrap(), f["line"]);
        assert!(line.starts_with(&prefix), "`{line}` starts with `{prefix}`");
        assert!(line.contains(&format!("title=kubereach {}::", f["rule"].as_str().unwrap())), "{line}");
    }
    for prefix in ["::error file=", "::warning file=", "::notice file="] {
        assert!(lines.iter().any(|l| l.starts_with(prefix)), "one of each level: {prefix}");
    }
    let run = repo.run(&["check", "--format", "github", "--select", "deprecated-ingress-api"]);
    assert_eq!((run.code, run.stdout.as_str()), (Some(0), ""));
}

#[test]
fn json_output_does_not_depend_on_the_thread_count() {
    let repo = Repo::new();
    for i in 0..12 {
        let ns = format!("team-{i:02}");
        let base = SHOP.replace("shop", &ns);
        let extra = dangling_service(&format!("api-{i}")).replace("shop", &ns);
        let open = OPEN_POLICY.replace("shop", &ns);
        repo.write(&format!("teams/{ns}/base.yaml"), &base)
            .write(&format!("teams/{ns}/api.yaml"), &extra)
            .write(&format!("teams/{ns}/z-open.yaml"), &open);
        if i % 3 == 0 {
            repo.write(&format!("teams/{ns}/flags.yaml"), &BROKEN.replace("shop", &ns));
        }
    }
    let one = repo.run(&["check", "--format", "json", "-j", "1"]);
    assert_eq!(one.code, Some(1));
    assert_eq!(findings(&one.json()).len(), 28, "12 dangling Services, 12 open policies, 4 broken ConfigMaps");
    for _ in 0..3 {
        let four = repo.run(&["check", "--format", "json", "-j", "4"]);
        assert_eq!(one.stdout, four.stdout, "byte-identical with -j 1 and -j 4");
    }
    for format in ["sarif", "github", "human"] {
        let a = repo.run(&["check", "--format", format, "-j", "1"]);
        let b = repo.run(&["check", "--format", format, "-j", "4"]);
        assert_eq!(a.stdout, b.stdout, "{format}");
    }
}

#[test]
fn output_option_writes_the_report_to_a_file() {
    let repo = three_levels();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("report.json");
    let run = repo.run(&["check", "--format", "json", "--output", target.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "the exit code is the same with -o");
    assert_eq!(run.stdout, "");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(written, repo.check_json(&[]).1);
}

/// `-o /dev/null` (as benchmarks write) once replaced the device with a regular file: a report is
/// written into what is not a regular file, never renamed over it. A named pipe stands for the
/// device here; a symbolic link stays a link to its replaced target.
#[cfg(unix)]
#[test]
fn output_into_a_pipe_or_through_a_link_keeps_what_the_path_is() {
    use std::os::unix::fs::FileTypeExt as _;
    let repo = three_levels();
    let out = tempfile::tempdir().unwrap();
    let pipe = out.path().join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&pipe).status();
    if made.is_ok_and(|s| s.success()) {
        let reader = {
            let pipe = pipe.clone();
            std::thread::spawn(move || std::fs::read_to_string(pipe).unwrap())
        };
        let run = repo.run(&["check", "--format", "json", "-o", pipe.to_str().unwrap()]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let text = reader.join().unwrap();
        assert!(text.contains("\"findings\""), "{text}");
        assert!(std::fs::symlink_metadata(&pipe).unwrap().file_type().is_fifo(), "the pipe was replaced");
    }
    let target = out.path().join("report.json");
    std::fs::write(&target, "old").unwrap();
    let link = out.path().join("latest.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    repo.run(&["check", "--format", "json", "-o", link.to_str().unwrap()]);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read_to_string(&target).unwrap().contains("\"findings\""));
}

#[test]
fn a_default_namespace_that_is_no_namespace_name_is_a_usage_error() {
    for bad in ["", "a/b", "Shop", "web[x]"] {
        let out = kubereach_in_crate(["check", "examples/shop", "--default-namespace", bad]).run();
        assert_eq!(out.code, Some(2), "{bad:?}");
        assert!(out.stderr.contains("is not a namespace name"), "{bad:?}");
    }
}

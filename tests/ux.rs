#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The first hour of a new user (issue 16, items 2 to 4), end to end on the built binary: rule ids
//! as the report prints them, hints for misspelt ids and workloads, the format inferred from
//! `-o`, `--quiet`, `--statistics`, `--color`, `rules --format json`, completions, `--help`
//! examples, `explain` with named and denied ports, GitHub annotation paths from the repository
//! root, Markdown links in Actions, and SARIF within code scanning's limits (lowered with the
//! hidden `--sarif-max-results` and `--sarif-max-gzip-bytes`; `scripts/sarif-limits.sh` checks
//! the real ones on a generated repository).

use serde_json::Value;

mod common;
use common::{kubereach, kubereach_in_crate, repo_with, schema_errors, shared_sarif_schema, RunExt as _};

const SHOP: &str = "examples/shop";

// ---------------------------------------------------------------------------------------------
// Rule ids, profiles and workloads as users write them
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_ids_take_the_prefix_the_report_prints() {
    let plain = kubereach_in_crate(["check", SHOP, "--format", "json", "--select", "workload-not-isolated"]).run();
    let prefixed =
        kubereach_in_crate(["check", SHOP, "--format", "json", "--select", "kubereach::workload-not-isolated"]).run();
    assert_eq!(plain.code, prefixed.code, "{}", prefixed.stderr);
    assert_eq!(plain.json()["findings"], prefixed.json()["findings"]);
    assert!(!plain.json()["findings"].as_array().unwrap().is_empty());
    let doc = kubereach(["rules", "kubereach::workload-not-isolated"]).run();
    assert!(doc.ok().starts_with("# workload-not-isolated"));
}

#[test]
fn a_misspelt_rule_id_gets_the_nearest_one() {
    let run = kubereach_in_crate(["check", SHOP, "--ignore", "workload-not-isolatd"]).run();
    assert_eq!(run.code, Some(2));
    insta::assert_snapshot!("misspelt_rule_id", run.stderr);
    let repo =
        repo_with(&[(".kubereach.yaml", "rules:\n  ignore: [kubereach::public-load-balancer, dangling-servce]\n")]);
    let run = kubereach(["check", "."]).current_dir(repo.path()).run();
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("did you mean `dangling-service`?"), "{}", run.stderr);
}

#[test]
fn ignore_all_ignores_every_rule() {
    let run = kubereach_in_crate(["check", SHOP, "--format", "json", "--ignore", "all"]).run();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.json()["findings"], Value::Array(Vec::new()));
}

#[test]
fn suppressions_take_the_prefix_too() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  namespace: ns\n  annotations:\n    \
                   kubereach.io/ignore: kubereach::public-load-balancer,kubereach::dangling-service\nspec:\n  \
                   type: LoadBalancer\n  selector: {app: none}\n  ports: [{port: 80}]\n";
    let repo = repo_with(&[("lb.yaml", service)]);
    let run = kubereach(["check", ".", "--format", "json"]).current_dir(repo.path()).run();
    let json = run.json();
    let rules: Vec<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(!rules.contains(&"public-load-balancer") && !rules.contains(&"unused-suppression"), "{rules:?}");
}

#[test]
fn a_wrong_profile_is_blamed_on_the_flag() {
    let repo = repo_with(&[(".kubereach.yaml", "profile: generic\n")]);
    let run = kubereach(["check", ".", "--profile", "aks-cillium"]).current_dir(repo.path()).run();
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.starts_with("kubereach: error: --profile: unknown profile `aks-cillium`"), "{}", run.stderr);
    assert!(!run.stderr.contains(".kubereach.yaml"), "{}", run.stderr);
}

#[test]
fn explain_suggests_the_nearest_workload() {
    let run = kubereach_in_crate(["explain", SHOP, "--from", "shop-web/frontnd", "--to", "shop-api/api"]).run();
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("(did you mean `shop-web/frontend[Deployment]`?)"), "{}", run.stderr);
}

#[test]
fn explain_takes_a_named_port_and_prints_ports_one_way() {
    let named =
        kubereach_in_crate(["explain", SHOP, "--from", "{internet}", "--to", "shop-web/promo", "--port", "http"]).run();
    let numbered =
        kubereach_in_crate(["explain", SHOP, "--from", "{internet}", "--to", "shop-web/promo", "--port", "8080/tcp"])
            .run();
    assert_eq!(named.code, Some(0), "{}", named.stderr);
    assert_eq!(named.stdout, numbered.stdout);
    assert!(named.stdout.starts_with("{internet} => shop-web/promo[Deployment]: allowed on TCP 8080\n"));
    let unknown =
        kubereach_in_crate(["explain", SHOP, "--from", "{internet}", "--to", "shop-web/promo", "--port", "https"])
            .run();
    assert_eq!(unknown.code, Some(2));
    assert!(unknown.stderr.contains("its named ports are `http`"), "{}", unknown.stderr);
}

#[test]
fn explain_never_says_admitted_for_a_denied_port() {
    let run = kubereach_in_crate([
        "explain",
        SHOP,
        "--from",
        "shop-web/frontend",
        "--to",
        "shop-api/api[Deployment]",
        "--port",
        "5432",
    ])
    .run();
    assert_eq!(run.code, Some(1));
    assert!(!run.stdout.contains("admitted by"), "{}", run.stdout);
    insta::assert_snapshot!("explain_denied_port", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------------------------

#[test]
fn the_output_file_names_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("new/folder/report.sarif");
    let run = kubereach_in_crate(["check", SHOP, "-o"]).arg(&sarif).run();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let dot = dir.path().join("pictures/graph.dot");
    kubereach_in_crate(["graph", SHOP, "-o"]).arg(&dot).run().ok();
    assert!(std::fs::read_to_string(&dot).unwrap().contains("\ndigraph kubereach {"));
    let json = dir.path().join("graph.json");
    kubereach_in_crate(["graph", SHOP, "-o"]).arg(&json).run().ok();
    assert!(serde_json::from_str::<Value>(&std::fs::read_to_string(&json).unwrap()).is_ok());
    // `--format` wins over the extension; another command's extension is refused.
    let txt = dir.path().join("graph.html");
    kubereach_in_crate(["graph", SHOP, "--format", "txt", "-o"]).arg(&txt).run().ok();
    assert!(std::fs::read_to_string(&txt).unwrap().contains(" => "));
    let html = dir.path().join("report.html");
    let refused = kubereach_in_crate(["check", SHOP, "-o"]).arg(&html).run();
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("`check` does not write `.html`"), "{}", refused.stderr);
}

#[test]
fn category_outside_sarif_is_a_warning() {
    let run = kubereach_in_crate(["check", SHOP, "--format", "json", "--category", "prod"]).run();
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("warning: --category is written only in SARIF"), "{}", run.stderr);
}

#[test]
fn quiet_statistics_and_colour() {
    let quiet = kubereach_in_crate(["check", SHOP, "--quiet"]).run();
    assert_eq!(quiet.code, Some(1));
    assert!(!quiet.stdout.contains("kubereach: "), "no summary line");
    assert!(quiet.stdout.contains("kubereach::workload-not-isolated"));
    let clean = kubereach_in_crate(["check", SHOP, "-q", "--ignore", "all"]).run();
    assert_eq!((clean.code, clean.stdout.as_str()), (Some(0), ""));
    let statistics = kubereach_in_crate(["check", SHOP, "--statistics"]).run();
    assert_eq!(statistics.code, Some(1));
    insta::assert_snapshot!("statistics", statistics.stdout);
    let always = kubereach_in_crate(["check", SHOP, "--color", "always"]).run();
    assert!(always.stdout.contains('\x1b'));
    let never = kubereach_in_crate(["check", SHOP, "--color", "never"]).run();
    assert!(!never.stdout.contains('\x1b'));
    let refused = kubereach_in_crate(["check", SHOP, "--statistics", "--format", "json"]).run();
    assert_eq!(refused.code, Some(2));
}

#[test]
fn rules_as_json_list_the_registry() {
    let list: Value = serde_json::from_str(&kubereach(["rules", "--format", "json"]).run().ok()).unwrap();
    let text = kubereach(["rules"]).run().ok();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), text.lines().count(), "one entry per rule the text lists");
    for rule in list {
        for key in ["id", "name", "level", "security-severity", "precision", "tags", "summary"] {
            assert!(rule.get(key).is_some(), "{key} in {rule}");
        }
    }
    let one: Value =
        serde_json::from_str(&kubereach(["rules", "internet-exposed-workload", "--format", "json"]).run().ok())
            .unwrap();
    assert!(one["documentation"].as_str().unwrap().contains("## What it finds"));
}

#[test]
fn completions_and_help_examples() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = kubereach(["completions", shell]).run().ok();
        assert!(script.contains("kubereach") && script.contains("explain"), "{shell}");
    }
    for command in [&["--help"][..], &["check", "--help"], &["graph", "--help"], &["explain", "--help"]] {
        let help = kubereach(command).run().ok();
        assert!(help.contains("Examples:\n  kubereach "), "{command:?}:\n{help}");
    }
}

#[test]
fn annotations_are_relative_to_the_repository_root() {
    let service =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: lb\n  namespace: ns\nspec:\n  type: LoadBalancer\n  \
                   selector: {app: none}\n  ports: [{port: 80}]\n";
    let repo = repo_with(&[("team/deploy/lb.yaml", service)]);
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    // A job's `working-directory: team`.
    let run = kubereach(["check", "deploy", "--format", "github"]).current_dir(repo.path().join("team")).run();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stdout.lines().all(|l| l.contains("file=team/deploy/lb.yaml,")), "{}", run.stdout);
}

#[test]
fn markdown_links_to_the_lines_in_actions() {
    let run = kubereach_in_crate(["check", SHOP, "--format", "markdown", "--select", "public-load-balancer"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "octo/shop")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .run();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    insta::assert_snapshot!("markdown_links", run.stdout);
    let plain = kubereach_in_crate(["check", SHOP, "--format", "markdown", "--select", "public-load-balancer"])
        .env_remove("GITHUB_ACTIONS")
        .run();
    assert!(!plain.stdout.contains("](https://"), "{}", plain.stdout);
}

#[test]
fn a_report_with_everything_baselined_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    kubereach_in_crate(["check", SHOP, "--fail-on", "never", "-o"]).arg(&baseline).run().ok();
    let human = kubereach_in_crate(["check", SHOP, "--baseline"]).arg(&baseline).run();
    assert_eq!(human.code, Some(0), "{}", human.stderr);
    assert!(
        human.stdout.starts_with("kubereach: nothing new: 15 findings, all already in the baseline"),
        "{}",
        human.stdout
    );
    let markdown = kubereach_in_crate(["check", SHOP, "--format", "markdown", "--baseline"]).arg(&baseline).run();
    assert!(markdown.stdout.contains("Nothing new: 15 findings, all already in the baseline."), "{}", markdown.stdout);
}

// ---------------------------------------------------------------------------------------------
// SARIF for code scanning
// ---------------------------------------------------------------------------------------------

/// `units` NodePort Services without pods (a `dangling-service` warning and a `nodeport-service`
/// note each) and `errors` unisolated workloads behind public load balancers (an error each).
fn many_findings(units: usize, errors: usize) -> tempfile::TempDir {
    let mut docs = Vec::new();
    for i in 0..units {
        docs.push(format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: np{i}, namespace: ns}}\nspec:\n  type: NodePort\n  \
             selector: {{app: none{i}}}\n  ports: [{{port: 80}}]\n"
        ));
    }
    for i in 0..errors {
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web{i}, namespace: ns}}\nspec:\n  selector: \
             {{matchLabels: {{app: web{i}}}}}\n  template:\n    metadata: {{labels: {{app: web{i}}}}}\n    spec:\n      \
             containers: [{{name: c, image: x, ports: [{{containerPort: 80}}]}}]\n---\napiVersion: v1\nkind: Service\n\
             metadata: {{name: lb{i}, namespace: ns}}\nspec:\n  type: LoadBalancer\n  selector: {{app: web{i}}}\n  \
             ports: [{{port: 80}}]\n"
        ));
    }
    repo_with(&[("deploy/all.yaml", &docs.join("---\n"))])
}

fn levels(log: &Value) -> Vec<String> {
    log["runs"][0]["results"].as_array().unwrap().iter().map(|r| r["level"].as_str().unwrap().to_string()).collect()
}

fn notifications(log: &Value) -> Vec<String> {
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .map(|n| n.iter().map(|n| n["message"]["text"].as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn sarif_past_the_results_limit_keeps_the_most_severe_and_says_so() {
    // 2 × 40 + 2 × 6 + 1 (namespace-without-default-deny) findings, 30 accepted.
    let repo = many_findings(40, 6);
    let run =
        kubereach(["check", "deploy", "--format", "sarif", "--sarif-max-results", "30"]).current_dir(repo.path()).run();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let levels = levels(&log);
    assert_eq!(levels.len(), 30);
    assert_eq!(levels.iter().filter(|l| *l == "error").count(), 6, "every error is kept");
    assert!(levels.windows(2).all(|w| rank(&w[0]) >= rank(&w[1])), "most severe first: {levels:?}");
    let said = notifications(&log);
    assert!(
        said.iter().any(|n| n.starts_with("30 of 93 results written (code scanning accepts at most 30")),
        "{said:?}"
    );
    assert!(run.stderr.contains("kubereach: warning: 30 of 93 results written"), "{}", run.stderr);
    if let Some(schema) = shared_sarif_schema("sarif-schema-2.1.0.json") {
        let errors = schema_errors(&schema, &log);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    // Within the limits nothing moves and nothing is said.
    let all = kubereach(["check", "deploy", "--format", "sarif"]).current_dir(repo.path()).run();
    let log: Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(levels_len(&log), 93);
    assert!(notifications(&log).is_empty() && !all.stderr.contains("warning"), "{}", all.stderr);
}

fn levels_len(log: &Value) -> usize {
    log["runs"][0]["results"].as_array().unwrap().len()
}

fn rank(level: &str) -> u8 {
    match level {
        "error" => 2,
        "warning" => 1,
        _ => 0,
    }
}

#[test]
fn sarif_past_the_size_limit_is_cut_to_fit() {
    // The rules' documentation alone is about 33 kB gzipped; all 603 results add about 23 kB.
    let repo = many_findings(300, 3);
    let limit: u64 = 48_000;
    let run = kubereach(["check", "deploy", "--format", "sarif", "--sarif-max-gzip-bytes", &limit.to_string()])
        .current_dir(repo.path())
        .run();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let gzipped = {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(run.stdout.as_bytes()).unwrap();
        gz.finish().unwrap().len() as u64
    };
    assert!(gzipped <= limit, "{gzipped} bytes gzipped");
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(levels(&log).iter().filter(|l| *l == "error").count(), 3, "every error is kept");
    assert!(notifications(&log).iter().any(|n| n.contains("bytes of gzipped SARIF")), "{:?}", notifications(&log));
}

#[test]
fn a_guarded_note_is_not_a_high_alert() {
    let run = kubereach_in_crate(["check", SHOP, "--format", "sarif"]).run();
    let log: Value = serde_json::from_str(&run.stdout).unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let severity = |id: &str| -> f64 {
        let rule = rules.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no rule {id}"));
        rule["properties"]["security-severity"].as_str().unwrap().parse().unwrap()
    };
    for result in log["runs"][0]["results"].as_array().unwrap() {
        let id = result["ruleId"].as_str().unwrap();
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], id, "ruleIndex points at the rule");
        // GitHub: below 4.0 is Low, below 7.0 Medium.
        match result["level"].as_str().unwrap() {
            "note" => assert!(severity(id) < 4.0, "{id}: a note shown above Low"),
            "warning" => assert!(severity(id) < 9.0, "{id}"),
            _ => {}
        }
    }
    let guarded = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "internet-exposed-workload/note")
        .expect("the TLS-guarded Ingress of the example");
    assert!(
        guarded["partialFingerprints"]["kubereach/logicalKey/v1"]
            .as_str()
            .unwrap()
            .starts_with("internet-exposed-workload|"),
        "the logical key keeps the rule's own id"
    );
}

/// HTML on a terminal is refused, in a pipe it is written: `script` (util-linux) gives the run a
/// terminal.
#[test]
fn html_needs_a_file_or_a_pipe() {
    let Some(script) = common::require_tool("script", "util-linux's `script` gives a run a terminal") else { return };
    let bin = env!("CARGO_BIN_EXE_kubereach");
    let on_terminal = std::process::Command::new(&script)
        .args(["-qec", &format!("'{bin}' graph examples/shop --format html"), "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&on_terminal.stdout);
    assert!(text.contains("the HTML page is not for a terminal"), "{text}");
    assert!(!text.contains("<!DOCTYPE html>"), "{text}");
    let piped = kubereach_in_crate(["graph", SHOP, "--format", "html"]).run();
    assert!(piped.ok().starts_with("<!DOCTYPE html>"));
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Standard input and files named on the command line, end to end: `kubereach check -` (and
//! `graph -`, `explain -`) read a document stream piped in, whose `# Source:` comments map
//! documents back to a chart's templates, and a file named explicitly is analysed whatever its
//! extension.
//!
//! The stream piped in is `tests/data/helm-chart.rendered.yaml`, recorded from a real
//! `helm template` (see `tests/render_helm.rs`); helm itself is not needed.

use std::path::Path;
use std::process::Command;

mod common;
use common::{kubereach, run_with_input, write, Run, MANIFEST_DIR};

const RECORDING: &str = "tests/data/helm-chart.rendered.yaml";

fn recording() -> String {
    std::fs::read_to_string(Path::new(MANIFEST_DIR).join(RECORDING)).unwrap()
}

/// `(rule, file, line, column)` of each finding of a JSON report.
fn locations(run: &Run) -> Vec<(String, String, u64, u64)> {
    let report = run.json();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (text("rule"), text("file"), f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap())
        })
        .collect()
}

/// A folder holding a copy of the recorded chart at `deploy/chart` (its folder is not named
/// after the chart: the chart's `name:` is what the `# Source:` paths start with).
fn repository_with_chart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let chart = Path::new(MANIFEST_DIR).join("tests/data/helm-chart");
    for file in ["Chart.yaml", "values.yaml"] {
        write(dir.path(), &format!("deploy/chart/{file}"), std::fs::read(chart.join(file)).unwrap());
    }
    for entry in std::fs::read_dir(chart.join("templates")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        write(dir.path(), &format!("deploy/chart/templates/{name}"), std::fs::read(&path).unwrap());
    }
    dir
}

#[test]
fn helm_output_piped_in_is_reported_on_the_charts_template_lines() {
    let dir = repository_with_chart();
    let run = run_with_input(
        kubereach(["check", "-", "--format", "json", "--fail-on", "never"]).current_dir(dir.path()),
        &recording(),
    );
    assert!(run.success(), "{run}");
    let found = locations(&run);
    // `type: {{ .Values.service.type }}`, line 6 column 9 of the Service's template.
    assert!(
        found.contains(&("public-load-balancer".into(), "deploy/chart/templates/service.yaml".into(), 6, 9)),
        "{found:?}"
    );
    // Both rules made by the policy's `range` land in the loop's body.
    let peers: Vec<_> = found.iter().filter(|f| f.0 == "policy-peer-matches-nothing").collect();
    assert_eq!(peers.len(), 2, "{found:?}");
    assert!(peers.iter().all(|f| f.1 == "deploy/chart/templates/networkpolicy.yaml" && f.2 == 15), "{found:?}");
    // Nothing is located in the stream itself.
    assert!(found.iter().all(|f| f.1 != "<stdin>"), "{found:?}");
}

#[test]
fn a_stream_without_source_comments_is_located_in_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let stream: String =
        recording().lines().filter(|l| !l.starts_with("# Source:")).map(|l| format!("{l}\n")).collect();
    let run = run_with_input(kubereach(["check", "-", "--format", "json"]).current_dir(dir.path()), &stream);
    assert_eq!(run.code, Some(1), "{run}");
    let found = locations(&run);
    // The Service's `type: LoadBalancer`, line 31 of the stream without its comments.
    let line = stream.lines().position(|l| l == "  type: LoadBalancer").unwrap() as u64 + 1;
    assert!(found.contains(&("public-load-balancer".into(), "<stdin>".into(), line, 9)), "{found:?}");
    assert!(found.iter().all(|f| f.1 == "<stdin>"), "{found:?}");
    // The human report shows the stream's own lines.
    let human = run_with_input(kubereach(["check", "-"]).current_dir(dir.path()), &stream);
    assert!(human.stdout.contains(&format!("<stdin>:{line}:9")), "{human}");
    assert!(human.stdout.contains("type: LoadBalancer"), "{human}");
}

#[test]
fn graph_and_explain_read_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let graph = run_with_input(kubereach(["graph", "-"]).current_dir(dir.path()), &recording());
    assert_eq!(graph.ok(), "default/shop-web-web[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n");
    let explain = run_with_input(
        kubereach(["explain", "-", "--from", "10.0.0.1", "--to", "default/shop-web-web", "--port", "8080"])
            .current_dir(dir.path()),
        &recording(),
    );
    // Only the gateway's and the monitoring's pods are admitted.
    assert_eq!(explain.code, Some(1), "{explain}");
}

#[test]
fn standard_input_and_the_paths_beside_it_are_one_cluster() {
    let dir = tempfile::tempdir().unwrap();
    // A default-deny policy beside the stream (`check - policies/`, as the README shows): the
    // same cluster, so it isolates the workload piped in.
    write(
        dir.path(),
        "policies/deny.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: default\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n",
    );
    let alone = run_with_input(kubereach(["graph", "-"]).current_dir(dir.path()), &recording());
    assert_eq!(alone.ok(), "default/shop-web-web[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n");
    let both = run_with_input(kubereach(["graph", "-", "policies"]).current_dir(dir.path()), &recording());
    assert_eq!(both.ok(), "", "the policy denies everything");
}

#[test]
fn standard_input_is_bounded_and_not_watched() {
    let dir = tempfile::tempdir().unwrap();
    let big = run_with_input(kubereach(["check", "-", "--max-file-size", "100"]).current_dir(dir.path()), &recording());
    assert_eq!(big.code, Some(2), "{big}");
    assert!(big.stderr.contains("larger than --max-file-size (100 bytes)"), "{big}");
    let watched = run_with_input(kubereach(["check", "-", "--watch"]).current_dir(dir.path()), "");
    assert_eq!(watched.code, Some(2), "{watched}");
    assert!(watched.stderr.contains("standard input (`-`) cannot be watched"), "{watched}");
}

#[test]
fn a_file_named_on_the_command_line_is_read_whatever_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let stream: String =
        recording().lines().filter(|l| !l.starts_with("# Source:")).map(|l| format!("{l}\n")).collect();
    write(dir.path(), "rendered-prod", &stream);
    // Named, it is analysed; found by a walk, a file without a manifest extension is not.
    let named = kubereach(["check", "rendered-prod", "--format", "json"]).current_dir(dir.path()).run_ok_json();
    assert!(named.iter().any(|f| f.0 == "public-load-balancer" && f.1 == "rendered-prod"), "{named:?}");
    let walked = kubereach(["check", ".", "--format", "json"]).current_dir(dir.path()).run_ok_json();
    assert!(walked.is_empty(), "{walked:?}");
}

trait RunJson {
    fn run_ok_json(&mut self) -> Vec<(String, String, u64, u64)>;
}

impl RunJson for Command {
    fn run_ok_json(&mut self) -> Vec<(String, String, u64, u64)> {
        use common::RunExt as _;
        let run = self.run();
        assert!(matches!(run.code, Some(0 | 1)), "{run}");
        locations(&run)
    }
}

#[test]
fn a_syntax_error_on_standard_input_is_reported_there() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_with_input(
        kubereach(["check", "-", "--format", "json"]).current_dir(dir.path()),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: [x\n",
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(locations(&run), vec![("invalid-manifest".to_string(), "<stdin>".to_string(), 5, 11)]);
}

//! The `human` and `github` formats of `kubereach check`: snapshots on the shared example
//! (`examples/shop`), exit codes, quiet runs, and the rendering details (labels, notes, clamped
//! spans, colour, escaping) on findings built by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use kubereach::finding::{Finding, Level};
use kubereach::load::{Files, SourceFile};
use kubereach::report::{github, human};
use kubereach::result::Outcome;
use kubereach::span::Location;
use kubereach::span::{Pos, Span};

mod common;
use common::{kubereach_in_crate, Run, RunExt as _};

fn kubereach(args: &[&str]) -> Run {
    kubereach_in_crate(args).env_remove("NO_COLOR").run()
}

#[test]
fn human_report_of_the_example() {
    let output = kubereach(&["check", "examples/shop", "--format", "human"]);
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(1), "findings at warning and above fail; stderr: {:?}", output.stderr);
    assert!(!text.contains('\x1b'), "no ANSI escapes when stdout is not a terminal");
    assert!(text.lines().last().is_some_and(|l| l.starts_with("kubereach: ")), "ends with the summary");
    insta::assert_snapshot!("human_shop", text);
}

#[test]
fn github_report_of_the_example() {
    let output = kubereach(&["check", "examples/shop", "--format", "github"]);
    let text = output.stdout.clone();
    assert_eq!(output.code, Some(1), "stderr: {:?}", output.stderr);
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(
            ["::error file=", "::warning file=", "::notice file="].iter().any(|p| line.starts_with(p)),
            "only workflow commands on stdout: {line}"
        );
    }
    insta::assert_snapshot!("github_shop", text);
}

#[test]
fn nothing_found_prints_nothing() {
    for format in ["human", "github"] {
        let output = kubereach(&["check", "examples/shop", "--select", "deprecated-ingress-api", "--format", format]);
        assert_eq!(output.code, Some(0), "{format}: stderr: {:?}", output.stderr);
        assert_eq!(output.stdout, "", "{format}");
    }
}

#[test]
fn an_isolated_namespace_is_quiet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = "\
apiVersion: v1
kind: Namespace
metadata:
  name: quiet
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: quiet
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: quiet
spec:
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
        - name: app
          image: example/app:1
";
    std::fs::write(dir.path().join("quiet.yaml"), manifest).expect("write manifest");
    let path = dir.path().to_string_lossy().into_owned();
    let output = kubereach(&["check", &path, "--format", "human"]);
    assert_eq!(output.stdout, "", "stderr: {:?}", output.stderr);
    assert_eq!(output.code, Some(0));
}

fn pos(line: u32, col: u32) -> Pos {
    Pos { line, col }
}

fn at(file: u32, start: (u32, u32), end: (u32, u32)) -> Location {
    Location { file, span: Span { start: pos(start.0, start.1), end: pos(end.0, end.1) } }
}

fn files() -> Files {
    let file = |display: &str, text: &str| SourceFile {
        path: PathBuf::from(display),
        display: display.to_string(),
        text: text.to_string(),
    };
    Files {
        entries: vec![
            file(
                "app/policy.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: café\n  namespace: app\nspec:\n  podSelector: {}\n  ingress:\n    - {}\n",
            ),
            file("app/service.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"),
            file("broken.yaml", ""),
        ],
    }
}

fn outcome() -> Outcome {
    let admits_all = Finding::new("policy-allows-all", Level::Warning, at(0, (9, 7), (9, 9)), "admits everything")
        .with_related(at(0, (7, 16), (7, 18)), "selects every pod of `app`")
        .with_related(at(1, (4, 9), (4, 12)), "Service `web` sends traffic here");
    let mut path = Finding::new(
        "workload-not-isolated",
        Level::Error,
        at(0, (4, 9), (4, 13)),
        "a column past the multi-byte `é` is counted in characters",
    );
    path.path = vec![
        kubereach::finding::Related { location: at(1, (2, 7), (2, 14)), message: "Service `web`".to_string() },
        kubereach::finding::Related { location: at(0, (9, 7), (9, 9)), message: "the rule that admits".to_string() },
    ];
    let outside =
        Finding::new("invalid-manifest", Level::Note, at(1, (40, 3), (41, 1)), "span past the end of the text");
    let unreadable = Finding::new("invalid-manifest", Level::Error, at(2, (1, 1), (1, 1)), "binary file");
    Outcome { findings: vec![path, admits_all, outside, unreadable], suppressed: 4, baselined: 1 }
}

fn render_human(outcome: &Outcome, color: bool) -> String {
    let mut out = Vec::new();
    human::write(outcome, &files(), color, &mut out).expect("render to memory");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn human_labels_notes_and_clamped_spans() {
    let text = render_human(&outcome(), false);
    assert!(!text.contains('\x1b'));
    assert!(text.ends_with("kubereach: 2 errors, 1 warning, 1 note in 3 files (4 suppressed, 1 baselined)\n"));
    insta::assert_snapshot!("human_synthetic", text);
}

#[test]
fn human_colour_only_when_asked() {
    assert!(render_human(&outcome(), true).contains("\x1b["));
    assert!(!render_human(&outcome(), false).contains('\x1b'));
}

#[test]
fn human_prints_nothing_without_findings() {
    let empty = Outcome { findings: Vec::new(), suppressed: 3, baselined: 2 };
    assert_eq!(render_human(&empty, false), "");
}

#[test]
fn github_escapes_as_the_toolkit_does() {
    assert_eq!(github::escape_data("100% sure\r\nnext: a,b"), "100%25 sure%0D%0Anext: a,b");
    assert_eq!(github::escape_property("dir,x/a:b%c\nd"), "dir%2Cx/a%3Ab%25c%0Ad");
    assert_eq!(github::escape_property("plain/path.yaml"), "plain/path.yaml");

    let finding = Finding::new("policy-allows-all", Level::Note, at(0, (9, 7), (9, 9)), "50% of\npods: admitted, all");
    assert_eq!(
        github::command(&finding, "a,b/c:d.yaml"),
        "::notice file=a%2Cb/c%3Ad.yaml,line=9,col=7,endLine=9,endColumn=9,title=kubereach policy-allows-all\
         ::50%25 of%0Apods: admitted, all"
    );
    // Columns are only given when the annotation stays on one line.
    let multi = Finding::new("policy-selects-nothing", Level::Error, at(0, (7, 3), (8, 5)), "m");
    assert_eq!(
        github::command(&multi, "p.yaml"),
        "::error file=p.yaml,line=7,endLine=8,title=kubereach policy-selects-nothing::m"
    );
}

#[test]
fn github_one_command_per_finding() {
    let mut out = Vec::new();
    github::write(&outcome(), &files(), &mut out).expect("render to memory");
    let text = String::from_utf8(out).expect("UTF-8");
    insta::assert_snapshot!("github_synthetic", text);
}

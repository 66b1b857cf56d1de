//! The `human` and `github` formats of `kubereach check`: snapshots on the shared example
//! (`examples/shop`), exit codes, quiet runs, and the rendering details (labels, notes, clamped
//! spans, colour, escaping) on findings built by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use kubereach::finding::{Finding, Level};
use kubereach::load::{Files, SourceFile};
use kubereach::report::{github, human};
use kubereach::result::{Analysed, Outcome};
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
fn nothing_found_is_one_summary_line_or_nothing_for_machines() {
    let human = kubereach(&["check", "examples/shop", "--select", "deprecated-ingress-api", "--format", "human"]);
    assert_eq!(human.code, Some(0), "stderr: {:?}", human.stderr);
    assert_eq!(human.stdout, "kubereach: no findings; 35 objects in 15 manifests analysed\n");
    let github = kubereach(&["check", "examples/shop", "--select", "deprecated-ingress-api", "--format", "github"]);
    assert_eq!(github.code, Some(0), "stderr: {:?}", github.stderr);
    assert_eq!(github.stdout, "", "workflow commands only");
    assert_eq!(github.stderr, "", "objects were analysed: no note");
}

/// An empty folder, a tree whose files `.gitignore` hides, an `--exclude` that leaves nothing and
/// a folder of Helm charts only: every one says on standard error that nothing was analysed,
/// whatever the format, and the exit code stays that of an analysis without findings.
#[test]
fn nothing_analysed_is_said_on_stderr() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {}\n";
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::create_dir_all(root.join("ignored/.git")).unwrap();
    std::fs::write(root.join("ignored/.gitignore"), "*.yaml\n").unwrap();
    std::fs::write(root.join("ignored/app.yaml"), deployment).unwrap();
    std::fs::create_dir_all(root.join("excluded")).unwrap();
    std::fs::write(root.join("excluded/app.yaml"), deployment).unwrap();
    std::fs::create_dir_all(root.join("chart/templates")).unwrap();
    std::fs::write(root.join("chart/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").unwrap();
    std::fs::write(root.join("chart/templates/d.yaml"), "kind: Deployment\nmetadata: {name: {{ .Release.Name }}}\n")
        .unwrap();
    let at = |name: &str| root.join(name).to_string_lossy().into_owned();
    let cases: [(String, Vec<&str>); 4] = [
        (at("empty"), vec![]),
        (at("ignored"), vec![]),
        (at("excluded"), vec!["--exclude", "*.yaml"]),
        (at("chart"), vec![]),
    ];
    for (path, extra) in &cases {
        for format in ["human", "json", "sarif"] {
            let mut args = vec!["check", path.as_str(), "--format", format];
            args.extend(extra);
            let output = kubereach(&args);
            assert_eq!(output.code, Some(0), "{path} {format}: {:?}", output.stderr);
            assert!(
                output.stderr.contains("kubereach: note: no ") && output.stderr.contains("to analyse"),
                "{path} {format}: {:?}",
                output.stderr
            );
        }
        let mut args = vec!["graph", path.as_str()];
        args.extend(extra);
        let graph = kubereach(&args);
        assert!(graph.stderr.contains("kubereach: note: no "), "graph {path}: {:?}", graph.stderr);
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
    assert_eq!(output.stdout, "kubereach: no findings; 3 objects in 1 manifest analysed\n", "{:?}", output.stderr);
    assert_eq!(output.code, Some(0));
}

fn pos(line: u32, col: u32) -> Pos {
    Pos { line, col }
}

fn at(file: u32, start: (u32, u32), end: (u32, u32)) -> Location {
    Location { file, span: Span { start: pos(start.0, start.1), end: pos(end.0, end.1) } }
}

fn files() -> Files {
    let file = |display: &str, text: &str| {
        SourceFile::with_text(PathBuf::from(display), display.to_string(), text.to_string())
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
    Outcome {
        findings: vec![path, admits_all, outside, unreadable],
        suppressed: 4,
        baselined: 1,
        analysed: Analysed { files: 3, manifests: 2, objects: 7, ..Analysed::default() },
    }
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
    assert!(text.ends_with(
        "kubereach: 2 errors, 1 warning, 1 note in 3 files (4 suppressed, 1 baselined); 7 objects in 2 manifests \
         analysed\n"
    ));
    insta::assert_snapshot!("human_synthetic", text);
}

#[test]
fn human_colour_only_when_asked() {
    assert!(render_human(&outcome(), true).contains("\x1b["));
    assert!(!render_human(&outcome(), false).contains('\x1b'));
}

#[test]
fn human_without_findings_is_one_summary_line_that_says_what_was_analysed() {
    let analysed = Analysed { files: 4, manifests: 3, objects: 1, ..Analysed::default() };
    let clean = Outcome { findings: Vec::new(), suppressed: 3, baselined: 2, analysed };
    assert_eq!(
        render_human(&clean, false),
        "kubereach: nothing new: 2 findings, all already in the baseline (3 suppressed); 1 object in 3 manifests analysed\n"
    );
    let nothing = Outcome {
        analysed: Analysed { files: 2, manifests: 0, objects: 0, ..Analysed::default() },
        ..Outcome::default()
    };
    assert_eq!(
        render_human(&nothing, false),
        "kubereach: no findings; no Kubernetes objects found in 2 YAML or JSON files to analyse\n"
    );
    assert_eq!(
        render_human(&Outcome::default(), false),
        "kubereach: no findings; no YAML or JSON files found to analyse\n"
    );
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
    github::write(&outcome(), &files(), std::path::Path::new("."), &mut out).expect("render to memory");
    let text = String::from_utf8(out).expect("UTF-8");
    insta::assert_snapshot!("github_synthetic", text);
}

/// `check` keeps in memory only the texts that hold a suppression comment; the others are read
/// back from disk for the findings a report shows, with the same snippets as a kept text gives.
#[test]
fn texts_left_on_disk_are_read_back_for_snippets() {
    use kubereach::load::KeepText;
    use kubereach::model::build::{self as analysis, LoadOptions};
    use kubereach::result::{self as check, suppress, RuleSettings};

    let dir = tempfile::tempdir().unwrap();
    let service = |name: &str| {
        format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  type: NodePort\n  selector: {{app: {name}}}\n  ports: [{{port: 80}}]\n")
    };
    std::fs::write(dir.path().join("plain.yaml"), service("plain")).unwrap();
    let marked = service("marked").replace("type: NodePort", "type: NodePort # kubereach:ignore nodeport-service");
    std::fs::write(dir.path().join("marked.yaml"), marked).unwrap();

    let render = |keep: KeepText| {
        let options = LoadOptions { keep_text: keep, ..LoadOptions::default() };
        let loaded = analysis::load(&[dir.path().to_path_buf()], &options).unwrap();
        let graph = kubereach::graph::build(&loaded.single().model);
        let outcome = check::run(&loaded, std::slice::from_ref(&graph), &RuleSettings::default(), None);
        let mut out = Vec::new();
        human::write(&outcome, &loaded.files, false, &mut out).unwrap();
        (loaded, String::from_utf8(out).unwrap())
    };
    let (lean, lean_report) = render(KeepText::Containing(suppress::MARKER));
    let by_name = |name: &str| lean.files.entries.iter().find(|f| f.path.ends_with(name)).unwrap();
    assert!(by_name("plain.yaml").kept_text.is_empty() && by_name("plain.yaml").text_on_disk);
    assert!(by_name("marked.yaml").kept_text.contains(suppress::MARKER) && !by_name("marked.yaml").text_on_disk);
    assert!(by_name("plain.yaml").text().contains("name: plain"), "read back from disk");

    let (_, full_report) = render(KeepText::All);
    assert_eq!(lean_report, full_report, "the same report whichever texts were kept");
    assert!(lean_report.contains("type: NodePort"), "a snippet of the file left on disk: {lean_report}");
    assert!(lean_report.contains("1 suppressed"), "the comment in the kept text still suppresses: {lean_report}");
}

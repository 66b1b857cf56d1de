#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `helm template`, through a stand-in: helm cannot be installed where these tests run, so a
//! shell script written to a temporary folder plays it, printing a recorded output.
//!
//! The recording, `tests/data/helm-chart.rendered.yaml`, is what a real helm (v3.8.1) printed for
//! `helm template shop-web tests/data/helm-chart`, `# Source:` comments included, so the mapping
//! is tested on helm's actual output format; the tests check the plumbing around it (the
//! command line kubereach builds, the mapping of fields back to the chart's templates, and how a
//! failure of helm is reported), first through the library, then end to end with the stand-in
//! as the `helm` on PATH of `kubereach check`.

use std::path::{Path, PathBuf};

use kubereach::load::render::{helm, ChartOptions, RenderOptions, Rendered};
use kubereach::load::yaml::{Node, Value};
use kubereach::span::Span;

mod common;
use common::MANIFEST_DIR;

const CHART: &str = "tests/data/helm-chart";
const RECORDING: &str = "tests/data/helm-chart.rendered.yaml";

/// A stand-in for helm: a script that records its arguments in `args.txt` beside it, prints
/// `stdout` and `stderr`, and exits with `code`.
fn stand_in(dir: &Path, stdout_file: Option<&Path>, stderr: &str, code: i32) -> PathBuf {
    let script = dir.join("helm");
    let cat = stdout_file.map(|f| format!("cat '{}'\n", f.display())).unwrap_or_default();
    let text = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n{cat}printf '%s' '{stderr}' >&2\nexit {code}\n",
        dir.join("args.txt").display()
    );
    std::fs::write(&script, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

fn options(script: &Path) -> RenderOptions {
    RenderOptions { enabled: true, helm: Some(vec![script.to_string_lossy().into_owned()]), ..RenderOptions::default() }
}

/// The span of the value of `key` in the rendered document of `kind`.
fn value_of(rendered: &Rendered, kind: &str, path: &[&str]) -> Span {
    let root = rendered
        .stream
        .documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .find(|r| matches!(entry(r, "kind").map(|n| &n.value), Some(Value::Scalar(s)) if &*s.text == kind))
        .unwrap_or_else(|| panic!("no {kind} rendered"));
    let mut node = root;
    for key in path {
        node = entry(node, key).unwrap_or_else(|| panic!("no {key} in {kind}"));
    }
    node.span
}

fn entry<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(pairs) => {
            pairs.iter().find(|(k, _)| matches!(&k.value, Value::Scalar(s) if &*s.text == key)).map(|(_, v)| v)
        }
        _ => None,
    }
}

#[test]
fn a_rendered_field_is_located_on_its_template_line() {
    std::env::set_current_dir(MANIFEST_DIR).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = stand_in(dir.path(), Some(&Path::new(MANIFEST_DIR).join(RECORDING)), "", 0);
    let command = helm::command(&options(&script)).unwrap();
    let rendered = helm::render(Path::new(CHART), &command, &options(&script)).unwrap();

    // `template <release: the folder's name> <chart>`.
    let args = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert_eq!(args, format!("template\nhelm-chart\n{CHART}\n"));

    // The Service's `type: LoadBalancer` is `type: {{ .Values.service.type }}`, line 6 column 9.
    let (file, span) = rendered.map.resolve(value_of(&rendered, "Service", &["spec", "type"])).unwrap();
    assert_eq!(file, Path::new(CHART).join("templates/service.yaml"));
    assert_eq!((span.start.line, span.start.col), (6, 9));
    // The container's image, deep in a list, is on the template's `image:` line.
    let (file, span) =
        rendered.map.resolve(value_of(&rendered, "Deployment", &["spec", "template", "spec", "containers"])).unwrap();
    assert_eq!(file, Path::new(CHART).join("templates/deployment.yaml"));
    assert_eq!(span.start.line, 15, "the `containers:` key");
    // A policy's rule made by a `range` over values maps into the loop's body.
    let (file, span) = rendered.map.resolve(value_of(&rendered, "NetworkPolicy", &["spec", "ingress"])).unwrap();
    assert_eq!(file, Path::new(CHART).join("templates/networkpolicy.yaml"));
    assert_eq!(span.start.line, 12);

    // What the rendering read: the chart's files, templates and values included.
    for read in ["Chart.yaml", "values.yaml", "templates/_helpers.tpl", "templates/service.yaml"] {
        assert!(rendered.read.contains(&Path::new(CHART).join(read)), "{read} not read: {:?}", rendered.read);
    }
}

#[test]
fn values_files_and_namespace_of_the_configuration_reach_helm() {
    std::env::set_current_dir(MANIFEST_DIR).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = stand_in(dir.path(), Some(&Path::new(MANIFEST_DIR).join(RECORDING)), "", 0);
    let mut options = options(&script);
    options.charts.push(ChartOptions {
        dir: PathBuf::from(CHART),
        values: vec![PathBuf::from("tests/data/helm-chart/values.yaml")],
        namespace: Some("shop".to_string()),
        release: None,
    });
    let rendered = helm::render(Path::new(CHART), &helm::command(&options).unwrap(), &options).unwrap();
    let args = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert_eq!(args, format!("template\nhelm-chart\n{CHART}\n--namespace\nshop\n-f\n{CHART}/values.yaml\n"));
    assert_eq!(rendered.stream.documents.len(), 3);
}

#[test]
fn a_failing_helm_is_one_failure_at_chart_yaml_with_its_message() {
    std::env::set_current_dir(MANIFEST_DIR).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // What helm 3.8.1 prints for a template that dereferences a missing value.
    let message = "Error: template: shop/templates/service.yaml:14:15: executing \"shop/templates/service.yaml\" at <.Values.nope.deeper>: nil pointer evaluating interface {}.deeper";
    let script = stand_in(dir.path(), None, message, 1);
    let failure = helm::render(Path::new(CHART), &helm::command(&options(&script)).unwrap(), &options(&script))
        .expect_err("helm failed");
    assert_eq!(failure.file, Path::new(CHART).join("Chart.yaml"));
    assert_eq!(failure.span.start.line, 1);
    assert!(failure.message.contains("nil pointer evaluating interface {}.deeper"), "{}", failure.message);
    assert!(!failure.message.contains("Error: "), "{}", failure.message);
}

// ---------------------------------------------------------------------------------------------
// End to end: `kubereach check` on a repository holding the chart, with the stand-in as `helm`
// on PATH
// ---------------------------------------------------------------------------------------------

/// A repository holding a copy of the chart at `deploy/chart`, and a library chart beside it
/// (which renders nothing by itself: never analysed, never noted).
fn repository_with_chart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::write(
        dir.path(),
        "deploy/common/Chart.yaml",
        "apiVersion: v2\nname: common\ntype: library\nversion: 0.1.0\n",
    );
    common::write(
        dir.path(),
        "deploy/common/templates/_service.yaml",
        "{{- define \"common.service\" -}}\napiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n",
    );
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    };
    let chart = Path::new(MANIFEST_DIR).join(CHART);
    for file in ["Chart.yaml", "values.yaml"] {
        copy(&chart.join(file), &dir.path().join("deploy/chart").join(file));
    }
    for entry in std::fs::read_dir(chart.join("templates")).unwrap() {
        let path = entry.unwrap().path();
        copy(&path, &dir.path().join("deploy/chart/templates").join(path.file_name().unwrap()));
    }
    dir
}

/// `kubereach check deploy --format json` in `repo` with `path_dir` first on PATH (then the
/// system's folders, for the stand-in's `cat`, unless `alone`): `(rule, file, line, column,
/// message)` of each finding.
fn check_with_path(repo: &Path, path_dir: &Path, alone: bool) -> Vec<(String, String, u64, u64, String)> {
    let path = if alone { path_dir.display().to_string() } else { format!("{}:/usr/bin:/bin", path_dir.display()) };
    use common::RunExt as _;
    let run = common::kubereach(["check", "deploy", "--format", "json", "--fail-on", "never"])
        .current_dir(repo)
        .env("PATH", path)
        .run();
    run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (text("rule"), text("file"), f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap(), text("message"))
        })
        .collect()
}

#[test]
fn check_renders_a_chart_with_the_helm_on_path() {
    let repo = repository_with_chart();
    let bin = tempfile::tempdir().unwrap();
    stand_in(bin.path(), Some(&Path::new(MANIFEST_DIR).join(RECORDING)), "", 0);
    let found = check_with_path(repo.path(), bin.path(), false);
    assert!(
        found.iter().any(|f| (f.0.as_str(), f.1.as_str(), f.2, f.3)
            == ("public-load-balancer", "deploy/chart/templates/service.yaml", 6, 9)),
        "{found:?}"
    );
    assert!(found.iter().all(|f| f.0 != "unrendered-template"), "{found:?}");
    // helm was asked for the chart's folder, released under the folder's name.
    let args = std::fs::read_to_string(bin.path().join("args.txt")).unwrap();
    assert_eq!(args, "template\nchart\ndeploy/chart\n");
}

#[test]
fn a_chart_helm_refuses_is_reported_at_its_chart_yaml() {
    let repo = repository_with_chart();
    let bin = tempfile::tempdir().unwrap();
    stand_in(bin.path(), None, "Error: template: shop/templates/service.yaml:6:9: executing \"shop/templates/service.yaml\" at <.Values.service.type>: nil pointer", 1);
    let found = check_with_path(repo.path(), bin.path(), false);
    let failed: Vec<_> = found.iter().filter(|f| f.0 == "render-failed").collect();
    assert_eq!(failed.len(), 1, "{found:?}");
    assert_eq!(failed[0].1, "deploy/chart/Chart.yaml");
    assert!(failed[0].4.contains("shop/templates/service.yaml:6:9"), "{found:?}");
    // The chart's templates are not read as plain files either.
    assert!(found.iter().all(|f| f.0 != "unrendered-template"), "{found:?}");
}

#[test]
fn without_helm_the_chart_is_noted_with_how_to_render_it() {
    let repo = repository_with_chart();
    let empty = tempfile::tempdir().unwrap();
    let found = check_with_path(repo.path(), empty.path(), true);
    let notes: Vec<_> = found.iter().filter(|f| f.0 == "unrendered-template").collect();
    assert_eq!(notes.len(), 1, "{found:?}");
    assert_eq!(notes[0].1, "deploy/chart/Chart.yaml");
    assert!(notes[0].4.contains("helm template … | kubereach check -"), "{found:?}");
    // The note's logical key names the chart, not its wording: rewording it keeps baselines.
    use common::RunExt as _;
    let run = common::kubereach(["check", "deploy", "--format", "json", "--fail-on", "never"])
        .current_dir(repo.path())
        .env("PATH", empty.path())
        .run();
    let report = run.json();
    let note = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "unrendered-template").unwrap();
    assert_eq!(note["key"], "unrendered-template|Chart/deploy/chart|templates|");
}

//! Robustness of the load stage, end to end (DESIGN §2 load, §10 robustness).
//!
//! Every test runs the built binary on a temporary folder that holds one troublesome input and one
//! ordinary manifest, and checks three things: the run neither panics nor fails (`graph` exits 0),
//! the trouble is a diagnostic on standard error that names the right file, line, column and rule,
//! and the ordinary manifest is still analysed (its workload is in the connectivity list).
//!
//! The binary runs with a time limit (the shared runner's, in tests/common) so that a hang (a
//! symbolic link loop followed for ever, an alias bomb expanded) fails the test instead of
//! stalling the suite; no test measures time.

// Integration tests: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

mod common;
use common::{write, Run, RunExt as _};

/// What these tests read from a run of `graph`.
trait GraphRun {
    fn peers(&self) -> BTreeSet<String>;
    fn has_peer(&self, peer: &str) -> bool;
    fn diagnostics(&self) -> Vec<Diag>;
    fn diag(&self, path: &str, rule: &str) -> Diag;
    fn diags_for(&self, path: &str) -> Vec<Diag>;
    fn assert_ok(&self);
    fn assert_silent(&self);
}

impl GraphRun for Run {
    /// The connectivity list's peers (both sides of every `SRC => DST : CONNS` line).
    fn peers(&self) -> BTreeSet<String> {
        let mut peers = BTreeSet::new();
        for line in self.stdout.lines() {
            let (pair, _) = line.split_once(" : ").unwrap_or_else(|| panic!("not a connectivity line: {line:?}"));
            let (src, dst) = pair.split_once(" => ").unwrap_or_else(|| panic!("not a connectivity line: {line:?}"));
            peers.insert(src.to_string());
            peers.insert(dst.to_string());
        }
        peers
    }

    fn has_peer(&self, peer: &str) -> bool {
        self.peers().contains(peer)
    }

    fn diagnostics(&self) -> Vec<Diag> {
        // The note that nothing was analysed is the one line that is about the run, not a file.
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("kubereach: note: no "))
            .map(|l| Diag::parse(l).unwrap_or_else(|| panic!("stderr line is not a diagnostic: {l:?}\n{self}")))
            .collect()
    }

    /// The only diagnostic about `path`, which must have `rule`.
    fn diag(&self, path: &str, rule: &str) -> Diag {
        let found: Vec<Diag> = self.diagnostics().into_iter().filter(|d| d.path == path).collect();
        assert!(found.len() == 1, "expected exactly one diagnostic for `{path}`\n{self}");
        let d = found.into_iter().next().unwrap();
        assert_eq!(d.rule, rule, "rule of the diagnostic for `{path}`\n{self}");
        d
    }

    fn diags_for(&self, path: &str) -> Vec<Diag> {
        self.diagnostics().into_iter().filter(|d| d.path == path).collect()
    }

    /// `graph` ran to the end: exit code 0, no panic, and standard error holds only diagnostics
    /// of level warning or error (`graph` prints no notes).
    fn assert_ok(&self) {
        assert!(!self.stderr.contains("panicked"), "kubereach panicked\n{self}");
        assert_eq!(self.code, Some(0), "exit code\n{self}");
        for d in self.diagnostics() {
            assert!(d.level == "warning" || d.level == "error", "unexpected level `{}`\n{self}", d.level);
        }
    }

    fn assert_silent(&self) {
        assert!(self.stderr.is_empty(), "expected no diagnostics\n{self}");
    }
}

/// One `path:line:col: level[rule-id]: message` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Diag {
    path: String,
    line: u32,
    col: u32,
    level: String,
    rule: String,
    message: String,
}

impl Diag {
    fn parse(line: &str) -> Option<Diag> {
        let (head, message) = line.split_once("]: ")?;
        let (location, level_rule) = head.rsplit_once(": ")?;
        let (level, rule) = level_rule.split_once('[')?;
        let mut parts = location.rsplitn(3, ':');
        let col = parts.next()?.parse().ok()?;
        let line_no = parts.next()?.parse().ok()?;
        let path = parts.next()?;
        Some(Diag {
            path: path.to_string(),
            line: line_no,
            col,
            level: level.to_string(),
            rule: rule.to_string(),
            message: message.to_string(),
        })
    }

    fn at(&self) -> (u32, u32) {
        (self.line, self.col)
    }
}

/// Runs `kubereach ARGS` in `dir` (so that paths are shown relative to it), with a time limit.
fn kubereach(dir: &Path, args: &[&str]) -> Run {
    common::kubereach(args).current_dir(dir).run()
}

fn graph(dir: &Path) -> Run {
    kubereach(dir, &["graph", "."])
}

fn tempdir() -> tempfile::TempDir {
    // Not the default `.tmpXXXX`: a hidden root must not be what makes the walk pass or fail.
    tempfile::Builder::new().prefix("kubereach-robustness-").tempdir().unwrap()
}

/// A valid Pod manifest named `name` in namespace `default`.
fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  containers:\n    - name: main\n      image: nginx\n"
    )
}

/// A folder with the ordinary manifest every test expects to survive: `good.yaml`, Pod `good`.
fn folder() -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "good.yaml", pod("good"));
    dir
}

const GOOD: &str = "default/good[Pod]";

fn assert_good_analysed(run: &Run) {
    assert!(run.has_peer(GOOD), "the valid manifest good.yaml was not analysed\n{run}");
}

// ---------------------------------------------------------------------------------------------
// Syntax errors

#[test]
fn syntax_error_in_third_document_keeps_the_documents_before_it() {
    let dir = folder();
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: first
spec:
  template:
    metadata:
      labels: {app: first}
    spec:
      containers: [{name: c, image: x}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: second
spec:
  template:
    metadata:
      labels: {app: second}
    spec:
      containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata:
  name: third: oops
spec:
  containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata:
  name: fourth
";
    write(dir.path(), "multi.yaml", text);
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("multi.yaml", "invalid-manifest");
    assert_eq!(d.level, "error", "{run}");
    // `  name: third: oops`: the second `:` (line 26, column 14) is where the YAML breaks.
    assert_eq!(d.at(), (26, 14), "{run}");
    assert!(d.message.contains("syntax"), "{run}");
    assert!(run.has_peer("default/first[Deployment]"), "{run}");
    assert!(run.has_peer("default/second[StatefulSet]"), "{run}");
    // Parsing stops at the error, as kubectl apply does: nothing from the third document on.
    assert!(!run.stdout.contains("third"), "{run}");
    assert!(!run.stdout.contains("fourth"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn json_manifest_with_syntax_error_is_reported() {
    let dir = folder();
    // A missing comma after the metadata object, line 4.
    write(
        dir.path(),
        "pretty.json",
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"pretty\"}\n  \"spec\": {}\n}\n",
    );
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("pretty.json", "invalid-manifest");
    assert_eq!(d.level, "error", "{run}");
    assert!((4..=5).contains(&d.line), "{run}");
    assert_good_analysed(&run);
}

/// A file that does not parse is a manifest file when its *text* has `apiVersion` and `kind`
/// (DESIGN §2). Minified JSON and YAML flow style put both on one line.
#[test]
fn one_line_manifest_with_syntax_error_is_reported() {
    let dir = folder();
    write(
        dir.path(),
        "minified.json",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"mini\"} \"spec\":{}}\n",
    );
    write(dir.path(), "flow.yaml", "{apiVersion: v1, kind: Pod, metadata: {name: flow]}\n");
    let run = graph(dir.path());
    run.assert_ok();
    for path in ["minified.json", "flow.yaml"] {
        let d = run.diag(path, "invalid-manifest");
        assert_eq!(d.line, 1, "{run}");
        assert!(d.col > 1, "the error has a column inside the line\n{run}");
    }
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// Files that are not text, not manifests, or not objects

#[test]
fn binary_file_with_yaml_extension_is_reported() {
    let dir = folder();
    let mut bytes = b"apiVersion: v1\nkind: Pod\n".to_vec();
    bytes.extend_from_slice(&[0, 159, 146, 150, 0, 0, 1, 2, 3, 255]);
    write(dir.path(), "blob.yaml", bytes);
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("blob.yaml", "invalid-manifest");
    assert_eq!(d.at(), (1, 1), "{run}");
    assert!(d.message.contains("binary"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn non_utf8_yaml_file_is_reported() {
    let dir = folder();
    // Latin-1 `café`: 0xE9 alone is not UTF-8.
    write(dir.path(), "latin1.yaml", b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n".as_slice());
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("latin1.yaml", "invalid-manifest");
    // At the byte that is not UTF-8: line 4, after `  name: caf`.
    assert_eq!(d.at(), (4, 12), "{run}");
    assert!(d.message.contains("UTF-8"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn empty_and_comment_only_files_are_silent() {
    let dir = folder();
    write(dir.path(), "empty.yaml", "");
    write(dir.path(), "blank.yml", "\n\n   \n");
    write(dir.path(), "comments.yaml", "# nothing here yet\n---\n# nor here\n...\n");
    write(dir.path(), "separators.yaml", "---\n---\n---\n");
    write(dir.path(), "empty.json", "");
    let run = graph(dir.path());
    run.assert_ok();
    run.assert_silent();
    assert_good_analysed(&run);
}

#[test]
fn scalar_file_is_silent() {
    let dir = folder();
    write(dir.path(), "hello.yaml", "hello\n");
    write(dir.path(), "number.yml", "42\n");
    let run = graph(dir.path());
    run.assert_ok();
    run.assert_silent();
    assert_good_analysed(&run);
}

#[test]
fn scalar_document_in_a_manifest_file_is_reported() {
    let dir = folder();
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: before}
spec: {containers: [{name: c, image: x}]}
---
hello
---
apiVersion: v1
kind: Pod
metadata: {name: after}
spec: {containers: [{name: c, image: x}]}
";
    write(dir.path(), "mixed.yaml", text);
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("mixed.yaml", "invalid-manifest");
    assert_eq!(d.at(), (6, 1), "{run}");
    assert!(d.message.contains("not a Kubernetes object"), "{run}");
    // A document that is not an object is not a syntax error: the ones after it still count.
    assert!(run.has_peer("default/before[Pod]"), "{run}");
    assert!(run.has_peer("default/after[Pod]"), "{run}");
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// Hostile YAML

/// A billion laughs: nine anchors, each a list of nine aliases of the previous one. Expanded, the
/// last holds 9^9 (387 million) strings; only the alias budget keeps this test quick.
fn alias_bomb(header: &str) -> String {
    let mut text = String::from(header);
    text.push_str("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names: Vec<char> = "abcdefghi".chars().collect();
    for pair in names.windows(2) {
        let (prev, name) = (pair[0], pair[1]);
        let items = vec![format!("*{prev}"); 9].join(",");
        writeln!(text, "  {name}: &{name} [{items}]").unwrap();
    }
    text
}

#[test]
fn alias_bomb_is_bounded_and_reported() {
    let dir = folder();
    let header = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n";
    write(dir.path(), "bomb.yaml", alias_bomb(header));
    // The same bomb in a file that is not a manifest: bounded too, and silent.
    write(dir.path(), "values.yaml", alias_bomb("lols:\n"));
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("bomb.yaml", "invalid-manifest");
    assert_eq!(d.level, "error", "{run}");
    assert!(d.message.contains("alias"), "{run}");
    // At one of the aliases (lines 7 to 14), not at the top of the file.
    assert!((7..=14).contains(&d.line), "{run}");
    assert!(run.diags_for("values.yaml").is_empty(), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn deep_nesting_is_reported() {
    let dir = folder();
    let header = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: ";
    write(dir.path(), "flow-seq.yaml", format!("{header}{}\n", "[".repeat(100_000)));
    write(dir.path(), "flow-map.yaml", format!("{header}{}\n", "{a: ".repeat(100_000)));
    let mut block = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep-block\ndata:\n");
    for depth in 1..=1000 {
        writeln!(block, "{}k:", " ".repeat(depth)).unwrap();
    }
    writeln!(block, "{}v", " ".repeat(1001)).unwrap();
    write(dir.path(), "block.yaml", block);
    // Not a manifest (no apiVersion and kind in its text): it must not crash the run; DESIGN §2
    // makes it silent.
    write(dir.path(), "brackets.yaml", "[".repeat(100_000));
    let run = graph(dir.path());
    run.assert_ok();
    for path in ["flow-seq.yaml", "flow-map.yaml"] {
        let d = run.diag(path, "invalid-manifest");
        assert_eq!(d.level, "error", "{run}");
        // On the line of the brackets, some way into it (the depth limit), not at its start.
        assert_eq!(d.line, 6, "{run}");
        assert!(d.col > 10, "{run}");
    }
    let d = run.diag("block.yaml", "invalid-manifest");
    assert!(d.line > 6, "{run}");
    assert!(run.diags_for("brackets.yaml").is_empty(), "{run}");
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// Size limits

#[test]
fn huge_sparse_file_is_reported_and_not_read() {
    let dir = folder();
    let big = std::fs::File::create(dir.path().join("big.yaml")).unwrap();
    // Sparse: a 1 GiB length without a byte written.
    big.set_len(1 << 30).unwrap();
    drop(big);
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("big.yaml", "invalid-manifest");
    assert_eq!(d.at(), (1, 1), "{run}");
    assert!(d.message.contains("1073741824"), "the message gives the size\n{run}");
    assert!(d.message.contains("limit"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn max_file_size_option_applies_to_normal_files() {
    let dir = folder();
    let larger = format!("{}  # padding, so that this file is the larger one\n", pod("larger"));
    write(dir.path(), "larger.yaml", &larger);

    let run = kubereach(dir.path(), &["graph", ".", "--max-file-size", "10"]);
    run.assert_ok();
    for path in ["good.yaml", "larger.yaml"] {
        let d = run.diag(path, "invalid-manifest");
        assert_eq!(d.at(), (1, 1), "{run}");
        assert!(d.message.contains("10-byte limit"), "{run}");
    }
    assert!(run.stdout.is_empty(), "nothing was read, so nothing is connected\n{run}");

    // A limit between the two sizes: the larger file is reported, the other one analysed.
    let limit = pod("good").len().to_string();
    let run = kubereach(dir.path(), &["graph", ".", "--max-file-size", &limit]);
    run.assert_ok();
    let d = run.diag("larger.yaml", "invalid-manifest");
    assert!(d.message.contains(&format!("{} bytes", larger.len())), "{run}");
    assert!(run.diags_for("good.yaml").is_empty(), "a file of exactly the limit is read\n{run}");
    assert!(!run.has_peer("default/larger[Pod]"), "{run}");
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// Symbolic links

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported_and_the_walk_goes_on() {
    let dir = folder();
    write(dir.path(), "dir/a.yaml", pod("inside-a"));
    std::os::unix::fs::symlink("..", dir.path().join("dir/link")).unwrap();
    write(dir.path(), "dir/z.yaml", pod("inside-z"));
    // A file link to itself: the walk cannot even tell what it is.
    std::os::unix::fs::symlink("self.yaml", dir.path().join("self.yaml")).unwrap();
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("dir/link", "invalid-manifest");
    assert_eq!(d.at(), (1, 1), "{run}");
    assert!(d.message.contains("loop"), "{run}");
    run.diag("self.yaml", "invalid-manifest");
    // Every file is found once: the loop is not followed into a second copy of the tree.
    assert!(run.has_peer("default/inside-a[Pod]"), "{run}");
    assert!(run.has_peer("default/inside-z[Pod]"), "{run}");
    assert_eq!(run.peers().iter().filter(|p| p.ends_with("[Pod]")).count(), 3, "{run}");
    assert_good_analysed(&run);
}

/// The loop message names the folder the link leads back to, also when that folder is the
/// working directory given by its absolute path.
#[cfg(unix)]
#[test]
fn symlink_loop_message_names_the_folder() {
    let dir = folder();
    std::fs::create_dir_all(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("sub/link")).unwrap();
    let root = dir.path().to_str().unwrap().to_string();
    let run = kubereach(dir.path(), &["graph", &root]);
    run.assert_ok();
    let d = run.diag("sub/link", "invalid-manifest");
    assert!(d.message.contains("loop"), "{run}");
    assert!(!d.message.contains("``"), "the message names no folder\n{run}");
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// Wrong field types and missing fields

#[test]
fn wrong_field_types_are_reported_at_the_field() {
    let dir = folder();
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        app: web
        enabled: on
    spec:
      containers:
        - name: a
          image: x
          ports: \"80\"
        - name: b
          image: x
          ports:
            - containerPort: \"8080\"
            - containerPort: 9090
";
    write(dir.path(), "types.yaml", text);
    let run = graph(dir.path());
    run.assert_ok();
    let diags = run.diags_for("types.yaml");
    let at: Vec<(u32, u32)> = diags.iter().map(Diag::at).collect();
    // `enabled: on` (YAML 1.1 boolean), `ports: "80"` (a string, not a list), `containerPort:
    // "8080"` (a string, not an integer): each at its value.
    assert_eq!(at, [(10, 18), (15, 18), (19, 30)], "{run}");
    for d in &diags {
        assert_eq!(d.rule, "invalid-manifest", "{run}");
        assert_eq!(d.level, "error", "{run}");
    }
    assert!(diags[0].message.contains("enabled"), "{run}");
    assert!(diags[1].message.contains("ports"), "{run}");
    assert!(diags[2].message.contains("containerPort"), "{run}");
    assert!(run.has_peer("default/web[Deployment]"), "one bad field does not hide the workload\n{run}");
    assert_good_analysed(&run);
}

/// The API server rejects a Deployment without `spec` (no selector, no template); DESIGN §1: a
/// broken manifest is an `invalid-manifest` finding.
#[test]
fn deployment_without_spec_is_reported() {
    let dir = folder();
    write(dir.path(), "nospec.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nospec\n");
    let run = graph(dir.path());
    run.assert_ok();
    let diags = run.diags_for("nospec.yaml");
    assert!(
        diags.iter().any(|d| d.rule == "invalid-manifest" && (1..=4).contains(&d.line)),
        "a Deployment without `spec` is not reported\n{run}"
    );
    assert_good_analysed(&run);
}

#[test]
fn pod_without_name_is_reported_and_skipped() {
    let dir = folder();
    write(
        dir.path(),
        "anonymous.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  labels: {app: anonymous}\nspec:\n  containers: [{name: c, image: x}]\n",
    );
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("anonymous.yaml", "invalid-manifest");
    // At the object (its `kind`), since the name is what is missing.
    assert_eq!(d.at(), (2, 7), "{run}");
    assert!(d.message.contains("metadata.name"), "{run}");
    assert_eq!(run.peers().iter().filter(|p| p.ends_with("[Pod]")).count(), 1, "only good.yaml's Pod\n{run}");
    assert_good_analysed(&run);
}

/// `from: [{}]` names no peer; the API server rejects it. Read as "any peer" it would open the
/// database to everyone: it must allow nothing.
#[test]
fn empty_policy_peer_is_reported_and_does_not_widen_access() {
    let dir = folder();
    let policy = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-ingress
spec:
  podSelector:
    matchLabels: {app: db}
  ingress:
    - from:
        - {}
      ports:
        - port: 5432
";
    write(dir.path(), "policy.yaml", policy);
    write(dir.path(), "db.yaml", pod("db"));
    let run = graph(dir.path());
    run.assert_ok();
    let d = run.diag("policy.yaml", "invalid-manifest");
    assert_eq!(d.level, "error", "{run}");
    assert_eq!(d.at(), (10, 11), "{run}");
    let db = "default/db[Pod]";
    assert!(run.has_peer(db), "db still reaches out\n{run}");
    let into_db: Vec<&str> = run.stdout.lines().filter(|l| l.contains(&format!("=> {db} :"))).collect();
    assert!(into_db.is_empty(), "the invalid peer admitted traffic to db: {into_db:?}\n{run}");
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// Templates

#[test]
fn helm_chart_templates_are_skipped_without_error() {
    let dir = folder();
    write(dir.path(), "chart/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n");
    write(dir.path(), "chart/values.yaml", "x: 3\nimage: {repository: nginx}\n");
    write(
        dir.path(),
        "chart/templates/deploy.yaml",
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: helmweb
  labels:
    {{- include \"shop.labels\" . | nindent 4 }}
spec:
  replicas: {{ .Values.x }}
  template:
    metadata:
      labels: {app: helmweb}
    spec:
      containers: [{name: c, image: \"{{ .Values.image.repository }}\"}]
",
    );
    // Valid YAML, but still a template of the chart: not analysed either.
    write(dir.path(), "chart/templates/plain.yaml", pod("helmplain"));
    let run = graph(dir.path());
    run.assert_ok();
    // `unrendered-template` is a note, which `graph` does not print: nothing at all on stderr.
    run.assert_silent();
    assert!(!run.stdout.contains("helm"), "a chart template was analysed\n{run}");
    assert_good_analysed(&run);
}

#[test]
fn stray_template_outside_a_chart_is_not_an_error() {
    let dir = folder();
    write(
        dir.path(),
        "stray.yaml",
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-stray
  labels:
{{ toYaml .Values.labels | indent 4 }}
spec:
  template:
    spec:
      containers: [{name: c, image: x}]
",
    );
    let run = graph(dir.path());
    run.assert_ok();
    // An `unrendered-template` note, not printed by `graph`; certainly no error.
    assert!(run.diags_for("stray.yaml").is_empty(), "{run}");
    assert!(!run.stdout.contains("stray"), "{run}");
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// JSON and lists

#[test]
fn json_manifest_and_json_list_are_analysed() {
    let dir = folder();
    write(
        dir.path(),
        "pod.json",
        r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "jsonpod", "namespace": "json", "labels": {"app": "jsonpod"}},
  "spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]}
}
"#,
    );
    write(
        dir.path(),
        "list.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "listdep"},
   "spec": {"template": {"metadata": {"labels": {"app": "listdep"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
  {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "listds", "namespace": "json"},
   "spec": {"template": {"metadata": {"labels": {"app": "listds"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
]}
"#,
    );
    let run = graph(dir.path());
    run.assert_ok();
    run.assert_silent();
    assert!(run.has_peer("json/jsonpod[Pod]"), "{run}");
    assert!(run.has_peer("default/listdep[Deployment]"), "{run}");
    assert!(run.has_peer("json/listds[DaemonSet]"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn typed_list_items_inherit_kind_and_api_version() {
    let dir = folder();
    let list = "\
apiVersion: v1
kind: PodList
items:
  - metadata:
      name: item-a
    spec:
      containers: [{name: c, image: x}]
  - metadata:
      name: item-b
      namespace: other
    spec:
      containers: [{name: c, image: x}]
";
    write(dir.path(), "pods.yaml", list);
    write(
        dir.path(),
        "deployments.json",
        r#"{"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [
  {"metadata": {"name": "item-c"}, "spec": {"template": {"metadata": {"labels": {"app": "c"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
]}"#,
    );
    let run = graph(dir.path());
    run.assert_ok();
    run.assert_silent();
    assert!(run.has_peer("default/item-a[Pod]"), "{run}");
    assert!(run.has_peer("other/item-b[Pod]"), "{run}");
    assert!(run.has_peer("default/item-c[Deployment]"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn json_files_that_are_not_manifests_are_silent() {
    let dir = folder();
    write(dir.path(), "array.json", "[1, 2, {\"a\": \"b\"}, [\"apiVersion\", \"kind\"]]\n");
    write(dir.path(), "tsconfig.json", "{\"compilerOptions\": {\"strict\": true, \"target\": \"es2022\"}}\n");
    write(dir.path(), "string.json", "\"just a string\"\n");
    let run = graph(dir.path());
    run.assert_ok();
    run.assert_silent();
    assert_good_analysed(&run);
}

// ---------------------------------------------------------------------------------------------
// What the walk leaves out

#[test]
fn gitignored_manifest_is_skipped() {
    let dir = folder();
    write(dir.path(), ".gitignore", "generated/\nsecret.yaml\n");
    write(dir.path(), "generated/out.yaml", pod("generated"));
    write(dir.path(), "secret.yaml", format!("{}: : [broken\n", pod("secret")));
    let run = graph(dir.path());
    run.assert_ok();
    run.assert_silent();
    assert!(!run.stdout.contains("generated"), "{run}");
    assert!(!run.stdout.contains("secret"), "{run}");
    assert_good_analysed(&run);
}

#[test]
fn exclude_glob_skips_a_folder() {
    let dir = folder();
    write(dir.path(), "skipme/pod.yaml", pod("skipped"));
    write(dir.path(), "skipme/deeper/broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata: [\n");
    write(dir.path(), "keep/pod.yaml", pod("kept"));
    let run = kubereach(dir.path(), &["graph", ".", "--exclude", "skipme/**"]);
    run.assert_ok();
    run.assert_silent();
    assert!(!run.stdout.contains("skipped"), "{run}");
    assert!(run.has_peer("default/kept[Pod]"), "{run}");
    assert_good_analysed(&run);

    // Without the exclude, the same folder is analysed (so the test above means something).
    let run = graph(dir.path());
    run.assert_ok();
    assert!(run.has_peer("default/skipped[Pod]"), "{run}");
    run.diag("skipme/deeper/broken.yaml", "invalid-manifest");
}

#[test]
fn nonexistent_path_exits_2() {
    let dir = folder();
    let run = kubereach(dir.path(), &["graph", "good.yaml", "no-such-dir"]);
    assert!(!run.stderr.contains("panicked"), "{run}");
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("no-such-dir"), "the message names the path\n{run}");
    assert!(run.stderr.contains("does not exist"), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
}

// ---------------------------------------------------------------------------------------------
// Order and determinism

/// Diagnostics come sorted by path, then line and column (STYLE.md, habit 5), including the
/// problems the walk meets (a symbolic link loop) among those of the files read.
#[cfg(unix)]
#[test]
fn diagnostics_are_sorted_by_path_and_position() {
    let dir = folder();
    write(
        dir.path(),
        "a.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x}]}\n---\nhello\n",
    );
    std::fs::create_dir_all(dir.path().join("m")).unwrap();
    std::os::unix::fs::symlink("..", dir.path().join("m/link")).unwrap();
    write(dir.path(), "z.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: z}\nspec: {containers: [{name: c, image: x}]}\n---\n[1]\n---\nbye\n");
    let run = graph(dir.path());
    run.assert_ok();
    let order: Vec<(String, u32, u32)> = run.diagnostics().into_iter().map(|d| (d.path, d.line, d.col)).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order.len(), 4, "{run}");
    assert_eq!(order, sorted, "diagnostics out of order\n{run}");
}

/// About thirty objects of most kinds the model reads, spread over files so that the workers
/// share them out, with a repeat across files and a broken file.
fn determinism_corpus(dir: &Path) {
    write(
        dir,
        "00-namespaces.yaml",
        "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tenant: a, team: web}}
---
apiVersion: v1
kind: Namespace
metadata: {name: data, labels: {tenant: a, team: db}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {tenant: b}}
",
    );
    for (i, ns) in ["shop", "data", "ops"].iter().enumerate() {
        let mut text = String::new();
        for j in 0..3 {
            let name = format!("svc{i}{j}");
            let port = 8000 + 10 * i + j;
            write!(
                text,
                "\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: 2
  template:
    metadata:
      labels: {{app: {name}, tier: t{j}}}
    spec:
      containers:
        - name: main
          image: x
          ports:
            - {{name: http, containerPort: {port}}}
            - {{name: dns, containerPort: 53, protocol: UDP}}
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {ns}}}
spec:
  type: {}
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: http}}]
---
",
                ["ClusterIP", "LoadBalancer", "NodePort"][j]
            )
            .unwrap();
        }
        write(dir, &format!("{ns}/workloads.yaml"), text);
    }
    write(
        dir,
        "data/stateful.yaml",
        "\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg, namespace: data}
spec:
  template:
    metadata: {labels: {app: pg}}
    spec:
      containers: [{name: pg, image: postgres, ports: [{name: sql, containerPort: 5432}, {containerPort: 9187, protocol: SCTP}]}]
---
apiVersion: v1
kind: Pod
metadata:
  name: pg-0
  namespace: data
  labels: {app: pg}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: pg, controller: true, uid: u}]
spec:
  containers: [{name: pg, image: postgres}]
",
    );
    write(
        dir,
        "policies.yaml",
        "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: data}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: pg-from-shop, namespace: data}
spec:
  podSelector: {matchLabels: {app: pg}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: web}}
          podSelector: {matchExpressions: [{key: tier, operator: In, values: [t0, t1]}]}
      ports: [{port: sql}, {port: 9000, endPort: 9200, protocol: SCTP}]
    - from:
        - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.200.0.0/24]}
        - ipBlock: {cidr: 'fd00::/8'}
      ports: [{port: 5432}]
  egress:
    - to: [{namespaceSelector: {}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{port: 53, protocol: UDP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [t2]}]}
  policyTypes: [Ingress]
  ingress:
    - from: [{namespaceSelector: {matchLabels: {tenant: a}}}, {ipBlock: {cidr: 0.0.0.0/0, except: [169.254.0.0/16]}}]
      ports: [{port: http}, {port: 443}, {protocol: UDP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ops-egress, namespace: ops}
spec:
  podSelector: {matchLabels: {tier: t1}}
  egress:
    - to: [{ipBlock: {cidr: 192.168.0.0/16}}, {podSelector: {matchLabels: {tier: t0}}}]
",
    );
    write(
        dir,
        "zz-ingress.yaml",
        "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: svc00, port: {number: 80}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: ops}
spec:
  schedule: '0 0 * * *'
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: nightly, tier: t0}}
        spec:
          containers: [{name: c, image: x}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: x, ports: [{containerPort: 9100}]}]
",
    );
    // A repeat of svc00 with other labels (as deep as the first, which wins by path order), and a
    // broken file.
    write(
        dir,
        "zz/repeat.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: svc00, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: other}}\n",
    );
    write(dir, "zz-broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken: yes\n");
    write(
        dir,
        "list.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "data"},
   "spec": {"template": {"metadata": {"labels": {"app": "migrate", "tier": "t0"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
  {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy", "namespace": "ops"},
   "spec": {"template": {"metadata": {"labels": {"app": "legacy"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
]}"#,
    );
}

#[test]
fn output_is_deterministic_across_thread_counts() {
    let dir = folder();
    determinism_corpus(dir.path());
    for format in ["txt", "json"] {
        let runs: Vec<Run> = ["1", "4", "1", "4", "16"]
            .iter()
            .map(|j| kubereach(dir.path(), &["graph", ".", "--format", format, "-j", j]))
            .collect();
        let first = &runs[0];
        first.assert_ok();
        assert!(first.stdout.lines().count() > 20, "the corpus yields a real graph\n{first}");
        // The broken file is reported; the corpus is otherwise quiet enough to compare.
        assert!(!first.diags_for("zz-broken.yaml").is_empty(), "{first}");
        if format == "txt" {
            assert!(first.has_peer("data/pg[StatefulSet]"), "{first}");
            assert!(first.has_peer("ops/nightly[CronJob]"), "{first}");
            assert_good_analysed(first);
        }
        for (i, run) in runs.iter().enumerate().skip(1) {
            run.assert_ok();
            assert!(run.stdout == first.stdout, "--format {format}: stdout of run {i} differs from run 0");
            assert!(run.stderr == first.stderr, "--format {format}: stderr of run {i} differs from run 0");
        }
    }
}

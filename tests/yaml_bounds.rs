//! Reading hostile and unusual YAML, end to end (issue 11, items 1a, 1b and 9).
//!
//! Each test writes, at run time, one large or unusual file beside an ordinary manifest, runs the
//! built binary, and checks that the file is analysed or refused with a located diagnostic, that
//! the ordinary manifest's findings are kept, and, for the large inputs, that the run stays within
//! a time and memory bound. Peak memory is the child's resident high-water mark (`VmHWM`), read
//! from `/proc` while it runs: an address-space limit (`prlimit --as`) means nothing here, since
//! mimalloc reserves a gigabyte of address space up front.

// Integration tests: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{drain, write, Run};

/// The bound on time of the issue. Test builds are not optimised (the YAML scanner is, see
/// Cargo.toml) and share two cores with the rest of the suite: they get three times as long.
const TIME_LIMIT: Duration = if cfg!(debug_assertions) { Duration::from_secs(15) } else { Duration::from_secs(5) };
/// The bound on memory of the issue, in KiB of resident memory.
const MEMORY_LIMIT_KIB: u64 = 512 * 1024;
/// A hang is killed after this long.
const KILL_AFTER: Duration = Duration::from_secs(120);

/// A finished run with its wall-clock time and peak resident memory (None where `/proc` does
/// not say, as on other systems than Linux).
struct Measured {
    run: Run,
    elapsed: Duration,
    peak_kib: Option<u64>,
}

fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `kubereach ARGS` in `dir`, watching its memory every few milliseconds.
fn measured(dir: &Path, args: &[&str]) -> Measured {
    let mut child = Command::new(common::BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let mut peak = None;
    let status = loop {
        // The high-water mark only grows: the last reading before the exit is the peak, but for
        // what the last few milliseconds add.
        if let Some(kib) = peak_kib(child.id()) {
            peak = Some(peak.unwrap_or(0).max(kib));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kubereach {args:?} did not finish within {KILL_AFTER:?}");
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    let elapsed = started.elapsed();
    // The figures, for `cargo test --test yaml_bounds -- --nocapture`.
    eprintln!("kubereach {args:?} in {}: {elapsed:?}, peak {peak:?} KiB", dir.display());
    let stdout = String::from_utf8(out.join().unwrap()).unwrap();
    let stderr = String::from_utf8(err.join().unwrap()).unwrap();
    Measured { run: Run { code: status.code(), stdout, stderr }, elapsed, peak_kib: peak }
}

impl Measured {
    fn assert_bounded(&self) {
        let run = &self.run;
        assert!(!run.stderr.contains("panicked"), "kubereach panicked\n{run}");
        assert_eq!(run.code, Some(0), "exit code\n{run}");
        assert!(self.elapsed < TIME_LIMIT, "took {:?}, over {TIME_LIMIT:?}\n{run}", self.elapsed);
        if let Some(kib) = self.peak_kib {
            assert!(kib < MEMORY_LIMIT_KIB, "peak resident memory {kib} KiB, over {MEMORY_LIMIT_KIB} KiB\n{run}");
        }
    }

    /// The diagnostics (`path:line:col: level[rule]: message`) about `file`.
    fn diagnostics(&self, file: &str) -> Vec<&str> {
        self.run.stderr.lines().filter(|l| l.starts_with(&format!("{file}:"))).collect()
    }

    fn assert_good_kept(&self) {
        assert!(self.run.stdout.contains("default/good[Pod]"), "the ordinary manifest was not analysed\n{}", self.run);
    }
}

fn folder() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("kubereach-yaml-bounds-").tempdir().unwrap();
    write(
        dir.path(),
        "good.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: good\n  labels:\n    app: good\nspec:\n  containers:\n    - name: main\n      image: nginx\n",
    );
    dir
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n";

#[test]
fn a_mapping_of_150_000_keys_is_read_in_linear_time_and_its_repeat_found() {
    let dir = folder();
    let mut text = format!("{CONFIG_MAP}  labels:\n");
    for i in 0..150_000 {
        writeln!(text, "    k{i}: v").unwrap();
    }
    // Line 5 + 150,000 + 1: the one repeated key, found through the hashed check.
    text.push_str("    k7: again\n");
    write(dir.path(), "keys.yaml", text);
    let m = measured(dir.path(), &["graph", "."]);
    m.assert_bounded();
    let diags = m.diagnostics("keys.yaml");
    assert_eq!(diags.len(), 1, "{}", m.run);
    assert!(diags[0].starts_with("keys.yaml:150006:5:") && diags[0].contains("k7"), "{}", m.run);
    m.assert_good_kept();
}

#[test]
fn anchors_150_000_then_as_many_aliases_are_read_in_linear_time() {
    let dir = folder();
    let mut text = format!("{CONFIG_MAP}  labels:\n");
    for i in 0..150_000 {
        writeln!(text, "    a{i}: &x{i} v").unwrap();
    }
    text.push_str("  annotations:\n");
    for i in 0..150_000 {
        writeln!(text, "    b{i}: *x{i}").unwrap();
    }
    write(dir.path(), "anchors.yaml", text);
    let m = measured(dir.path(), &["graph", "."]);
    m.assert_bounded();
    assert!(m.diagnostics("anchors.yaml").is_empty(), "{}", m.run);
    m.assert_good_kept();
}

/// `&n249 [&n248 [ … &n0 [100,000 items] … ]]`: every anchor shares the list (no copy), and the
/// aliases to the outermost one are charged what they stand for, so that repeating it past the
/// alias budget is refused at the alias, by its name.
#[test]
fn anchored_collections_250_deep_over_100_000_items_share_and_are_charged() {
    let dir = folder();
    let mut nested = format!("[{}]", vec!["x"; 100_000].join(", "));
    for depth in 0..250 {
        nested = format!("&n{depth} [{nested}]");
    }
    write(dir.path(), "nested.yaml", format!("{CONFIG_MAP}spec:\n  items: {nested}\n  again: *n249\n"));
    let aliases = vec!["*n249"; 50].join(", ");
    write(dir.path(), "repeated.yaml", format!("{CONFIG_MAP}spec:\n  items: {nested}\n  again: [{aliases}]\n"));
    let m = measured(dir.path(), &["graph", "."]);
    m.assert_bounded();
    assert!(m.diagnostics("nested.yaml").is_empty(), "{}", m.run);
    let diags = m.diagnostics("repeated.yaml");
    assert_eq!(diags.len(), 1, "{}", m.run);
    assert!(diags[0].starts_with("repeated.yaml:7:") && diags[0].contains("`*n249`"), "{}", m.run);
    m.assert_good_kept();
}

/// 60 MB of one-letter scalars in one flow list: past the node budget, refused where the budget
/// ran out, in bounded memory (it took 6 GB when every scalar cost about 100 bytes).
#[test]
fn a_60_mb_flow_list_is_refused_at_the_node_budget_in_bounded_memory() {
    let dir = folder();
    let mut text = format!("{CONFIG_MAP}items: [");
    text.push_str(&"a, ".repeat(20_000_000));
    text.push_str("a]\n");
    write(dir.path(), "flow.yaml", text);
    let m = measured(dir.path(), &["graph", "."]);
    m.assert_bounded();
    let diags = m.diagnostics("flow.yaml");
    assert_eq!(diags.len(), 1, "{}", m.run);
    assert!(diags[0].starts_with("flow.yaml:5:") && diags[0].contains("YAML nodes in one file"), "{}", m.run);
    m.assert_good_kept();
}

/// `<<: *spec` brings `type: LoadBalancer` into a Service, as kubectl (go-yaml) merges it; a key
/// written after the merge replaces the merged one.
#[test]
fn merge_keys_are_applied_as_kubectl_applies_them() {
    let dir = folder();
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web-a}
  spec: &spec
    type: LoadBalancer
    selector: {app: good}
    ports: [{port: 80}]
- apiVersion: v1
  kind: Service
  metadata: {name: web-b}
  spec:
    <<: *spec
    ports: [{port: 8080}]
";
    write(dir.path(), "merged.yaml", text);
    let m = measured(dir.path(), &["check", ".", "--format", "json", "--fail-on", "never"]);
    let findings = m.run.json()["findings"].as_array().unwrap().clone();
    let public: Vec<&str> = findings
        .iter()
        .filter(|f| f["rule"] == "public-load-balancer")
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(public.iter().any(|m| m.contains("`web-b`") && m.contains("8080/TCP")), "{public:?}\n{}", m.run);
    assert!(public.iter().any(|m| m.contains("`web-a`") && m.contains("80/TCP")), "{public:?}\n{}", m.run);
}

/// A manifest saved as UTF-16 (little or big endian) or UTF-32 with a byte-order mark is read,
/// with its lines and columns those of the decoded text; a suppression comment in it works.
#[test]
fn utf16_and_utf32_files_with_a_bom_are_decoded() {
    let dir = folder();
    let service = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  # kubereach:ignore public-load-balancer\n  type: LoadBalancer\n  selector: {{app: good}}\n  ports: [{{port: 80}}]\n"
        )
    };
    let utf16 = |text: &str, little: bool| -> Vec<u8> {
        let mut bytes = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
        for unit in text.encode_utf16() {
            bytes.extend(if little { unit.to_le_bytes() } else { unit.to_be_bytes() });
        }
        bytes
    };
    let mut utf32 = vec![0xFF, 0xFE, 0, 0];
    for c in service("wide-32").chars() {
        utf32.extend((c as u32).to_le_bytes());
    }
    write(dir.path(), "le.yaml", utf16(&service("wide-le"), true));
    write(dir.path(), "be.yaml", utf16(&service("wide-be"), false));
    write(dir.path(), "utf32.yaml", utf32);
    // A syntax error in a UTF-16 file is located in the decoded text: line 4, column 14.
    write(dir.path(), "broken.yaml", utf16("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a: b\n", true));
    let m = measured(dir.path(), &["check", ".", "--format", "json", "--fail-on", "never"]);
    let findings = m.run.json()["findings"].as_array().unwrap().clone();
    for (file, name) in [("le.yaml", "wide-le"), ("be.yaml", "wide-be"), ("utf32.yaml", "wide-32")] {
        let exposed = findings.iter().find(|f| {
            f["rule"] == "internet-exposed-workload" && f["message"].as_str().unwrap().contains(&format!("`{name}`"))
        });
        let exposed = exposed.unwrap_or_else(|| panic!("{file} was not read\n{}", m.run));
        assert_eq!(exposed["path"][0]["file"], file, "{}", m.run);
        assert_eq!(exposed["path"][0]["line"], 7, "{}", m.run);
        // The comment on line 6 suppressed the public-load-balancer finding of line 7.
        assert!(
            !findings.iter().any(|f| f["rule"] == "public-load-balancer"
                && f["message"].as_str().unwrap().contains(&format!("`{name}`"))),
            "{}",
            m.run
        );
    }
    let broken: Vec<_> = findings.iter().filter(|f| f["rule"] == "invalid-manifest").collect();
    assert_eq!(broken.len(), 1, "{}", m.run);
    assert_eq!((broken[0]["line"].as_u64(), broken[0]["column"].as_u64()), (Some(4), Some(10)), "{}", m.run);
}

/// Shapes seen in public repositories that kubectl applies and the previous reader refused: a
/// flow list closed left of its key (a controller's `args`), a quoted scalar whose continuation
/// lines are less indented than its key (a Job's inline JSON), a single-quoted scalar continued
/// at column 0. Each is read whole, with no diagnostic, and its workload analysed.
#[test]
fn shapes_kubectl_applies_are_read() {
    let dir = folder();
    let deployment = |name: &str, container: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n{container}"
        )
    };
    write(
        dir.path(),
        "flow-close.yaml",
        deployment(
            "controller",
            "      - name: c\n        image: x\n        ports: [\n          {containerPort: 80}\n]\n",
        ),
    );
    write(
        dir.path(),
        "loose-quoted.yaml",
        deployment("loader", "      - name: c\n        image: x\n        workingDir: '/data/[\n  \"a\"\n  ]'\n"),
    );
    write(dir.path(), "column-0.yaml", deployment("worker", "      - name: c\n        image: 'registry/\nworker:1'\n"));
    let m = measured(dir.path(), &["graph", "."]);
    m.assert_bounded();
    for (file, workload) in [
        ("flow-close.yaml", "default/controller[Deployment]"),
        ("loose-quoted.yaml", "default/loader[Deployment]"),
        ("column-0.yaml", "default/worker[Deployment]"),
    ] {
        assert!(m.diagnostics(file).is_empty(), "{}", m.run);
        assert!(m.run.stdout.contains(workload), "{file} was not analysed\n{}", m.run);
    }
}

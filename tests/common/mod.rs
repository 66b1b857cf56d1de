//! What the integration tests share (each includes it with `mod common;`): the built binary and
//! the one way to run it, temporary repositories, the small manifests several test files use, and
//! the policy for what lies outside the crate.
//!
//! The policy: a test that needs an outside tool or file (Chromium, Graphviz, pre-commit, git, the
//! SARIF schemas under `../shared/sarif/`, …) asks for it through [`require_tool`],
//! [`require_file`] or [`require_var`]. Outside CI a missing one skips the test, saying what and
//! why; with the `CI` environment variable set it fails the test, so that a green CI means every
//! such test ran. `.ci/run` installs what these tests need.
//!
//! Each test file uses part of this module, hence the `dead_code` allowance.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::fmt::Display;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The crate's folder: `examples/`, `fixtures/`, `rules/` and `scripts/` are below it.
pub const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// The `kubereach` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_kubereach");

/// Generous: only a hang should reach it (a symbolic link loop followed for ever, an alias bomb
/// expanded), and it then fails the test instead of stalling the suite.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The binary
// ---------------------------------------------------------------------------------------------

/// `kubereach ARGS`, ready for a working folder or environment, then [`RunExt::run`].
pub fn kubereach<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(BIN);
    command.args(args);
    command
}

/// `kubereach ARGS` from the crate's folder, where `examples/shop` is.
pub fn kubereach_in_crate<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = kubereach(args);
    command.current_dir(MANIFEST_DIR);
    command
}

/// A finished run of a command: its exit code and its output, both of which must be UTF-8.
pub struct Run {
    /// `None` when the process was killed by a signal (a stack overflow aborts, say).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output as JSON; panics with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Standard output, after checking that the run exited 0.
    pub fn ok(self) -> String {
        assert!(self.success(), "kubereach failed ({:?}): {}", self.code, self.stderr);
        self.stdout
    }
}

impl Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--- exit code: {:?}\n--- stderr:\n{}--- stdout:\n{}", self.code, self.stderr, self.stdout)
    }
}

/// Runs a command to its end within [`TIME_LIMIT`].
pub trait RunExt {
    /// Runs with no standard input and both outputs collected; panics when the command cannot
    /// start, outlives the time limit, or writes anything but UTF-8.
    fn run(&mut self) -> Run;
}

impl RunExt for Command {
    fn run(&mut self) -> Run {
        let mut child = self
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {self:?}: {e}"));
        // Both pipes are drained while the process runs, so that neither can fill and block it.
        let out = drain(Box::new(child.stdout.take().unwrap()));
        let err = drain(Box::new(child.stderr.take().unwrap()));
        let status = wait_within(&mut child, TIME_LIMIT, Duration::from_millis(5))
            .unwrap_or_else(|| panic!("{self:?} did not finish within {TIME_LIMIT:?} (hang?)"));
        let stdout = String::from_utf8(out.join().unwrap()).expect("stdout is UTF-8");
        let stderr = String::from_utf8(err.join().unwrap()).expect("stderr is UTF-8");
        Run { code: status.code(), stdout, stderr }
    }
}

/// `kubereach check DIR --format json --select RULE` findings, as `(line, level, message)`.
pub fn rule_findings(dir: &Path, rule: &str, extra: &[&str]) -> Vec<(u64, String, String)> {
    let out = kubereach(["check"])
        .arg(dir)
        .args(["--format", "json", "--fail-on", "never", "--select", rule])
        .args(extra)
        .run();
    assert!(out.success(), "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["level"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Reads a child's pipe to its end on a thread of its own, so that neither of a child's two pipes
/// can fill and block it while the other is read.
pub fn drain(mut pipe: Box<dyn Read + Send>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Waits for `child`, looking every `poll`, for at most `limit`; past that, kills and reaps it and
/// returns `None`.
pub fn wait_within(child: &mut Child, limit: Duration, poll: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(poll);
    }
}

// ---------------------------------------------------------------------------------------------
// Temporary repositories
// ---------------------------------------------------------------------------------------------

/// Writes `text` to `root/rel`, creating the folders on the way.
pub fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A temporary folder holding `files` (`(relative path, text)`).
pub fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    dir
}

// ---------------------------------------------------------------------------------------------
// Manifests several test files use
// ---------------------------------------------------------------------------------------------

/// Namespace `shop`, isolated both ways by a default-deny, and its workload `web` (port `http`,
/// 8080); a macro so that [`SHOP`] can add to it at compile time.
macro_rules! isolated_web {
    () => {
        "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - name: http
              containerPort: 8080
"
    };
}

/// [`SHOP`] without its Service: no finding at all.
pub const ISOLATED_WEB: &str = isolated_web!();

/// A namespace that is isolated both ways, with one workload and its Service: no finding at all.
pub const SHOP: &str = concat!(
    isolated_web!(),
    "\
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: http
"
);

/// A Service of `shop` whose selector matches no workload (`dangling-service`, a warning, at the
/// `app: <name>` line, line 8).
pub fn dangling_service(name: &str) -> String {
    format!(
        "\
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: shop
spec:
  selector:
    app: {name}
  ports:
    - port: 80
      targetPort: 8080
"
    )
}

// ---------------------------------------------------------------------------------------------
// What lies outside the crate: skipped outside CI, required in CI
// ---------------------------------------------------------------------------------------------

/// Whether this is a CI run: the `CI` environment variable is set (GitHub Actions and `.ci/run`
/// set it).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The one decision for anything a test needs from outside the crate and did not find: outside
/// CI, say so and return `None` (the caller skips); in CI, fail the test.
pub fn missing<T>(what: impl Display) -> Option<T> {
    assert!(
        !in_ci(),
        "{what}.\nCI is set, so this test may not skip: install what it needs (.ci/run does) or unset CI to skip it"
    );
    println!("skipped: {what} (with CI set, this fails the test)");
    None
}

/// The path of the program `name` (found on `PATH`, or `name` itself when it is a path), or
/// [`missing`] with `hint` (what it is, where it comes from).
pub fn require_tool(name: &str, hint: &str) -> Option<PathBuf> {
    match find_program(name) {
        Some(path) => Some(path),
        None => missing(format!("`{name}` ({hint}) is not installed")),
    }
}

/// `path`, when that file or folder exists, or [`missing`] with `hint`.
pub fn require_file(path: &Path, hint: &str) -> Option<PathBuf> {
    if path.exists() {
        Some(path.to_path_buf())
    } else {
        missing(format!("{} ({hint}) is not there", path.display()))
    }
}

/// The value of the environment variable `name`, when set, or [`missing`] with `hint`.
pub fn require_var(name: &str, hint: &str) -> Option<std::ffi::OsString> {
    match std::env::var_os(name) {
        Some(value) => Some(value),
        None => missing(format!("{name} is not set ({hint})")),
    }
}

/// A schema under `../shared/sarif/` (beside the checkout in CI), parsed, or [`missing`].
pub fn shared_sarif_schema(name: &str) -> Option<serde_json::Value> {
    let path = require_file(
        &Path::new(MANIFEST_DIR).join("../shared/sarif").join(name),
        "the SARIF schemas beside the checkout",
    )?;
    let text = std::fs::read_to_string(&path).expect("read schema");
    Some(serde_json::from_str(&text).expect("schema is JSON"))
}

/// The errors of `instance` against the JSON `schema` (formats checked too).
pub fn schema_errors(schema: &serde_json::Value, instance: &serde_json::Value) -> Vec<String> {
    let validator = jsonschema::options().should_validate_formats(true).build(schema).expect("schema compiles");
    validator.iter_errors(instance).map(|e| format!("{}: {}", e.instance_path(), e)).collect()
}

/// Where `name` runs from: the first executable file of that name on `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    let executable = |path: &Path| -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            path.is_file()
        }
    };
    if name.contains(std::path::MAIN_SEPARATOR) {
        let path = PathBuf::from(name);
        return executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| executable(candidate))
}

/// Runs `command` with `input` on its standard input.
pub fn run_with_input(command: &mut Command, input: &str) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let mut stdin = child.stdin.take().unwrap();
    // kubereach may refuse the input before reading it all: a closed pipe is no failure here.
    let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
    drop(stdin);
    let status = wait_within(&mut child, TIME_LIMIT, Duration::from_millis(5)).expect("finished in time");
    let stdout = String::from_utf8(out.join().unwrap()).unwrap();
    let stderr = String::from_utf8(err.join().unwrap()).unwrap();
    Run { code: status.code(), stdout, stderr }
}

//! `check --watch`: the process stays up, re-checks after a change, and rewrites its report.
//!
//! Each test starts the real binary on a temporary folder, with the report written outside that
//! folder (a `.json` report inside it would itself be walked), and drives it by editing files.
//! Waits are bounded polls, never fixed sleeps standing for "long enough": on a loaded machine a
//! run may take a while, so each wait allows many seconds but returns as soon as the condition
//! holds. The one deliberate pause is the negative check that an irrelevant change starts no run,
//! and it is followed by a positive change that proves the watcher was listening all along.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{kubereach, RunExt as _, ISOLATED_WEB};

/// How long any awaited condition may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

fn service(kind: &str) -> String {
    format!(
        "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  type: {kind}
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"
    )
}

/// A running `kubereach check --watch`, killed and reaped when dropped, whatever the test's
/// outcome; standard error is collected line by line as it arrives.
struct Watching {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    report: PathBuf,
}

impl Watching {
    fn start(dir: &Path, report: &Path) -> Watching {
        let mut child = kubereach(["check", ".", "--watch", "--format", "json", "-o"])
            .current_dir(dir)
            .arg(report)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubereach --watch");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let lines = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
        Watching { child, stderr, report: report.to_path_buf() }
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The status lines of completed runs, in order.
    fn runs(&self) -> Vec<String> {
        self.stderr().into_iter().filter(|l| l.starts_with("kubereach: checked in ")).collect()
    }

    fn errors(&self) -> Vec<String> {
        self.stderr().into_iter().filter(|l| l.starts_with("kubereach: error: ")).collect()
    }

    /// Waits until `done` holds, failing the test (with what was seen) after [`PATIENCE`], or at
    /// once if the process died.
    fn wait_until(&mut self, what: &str, mut done: impl FnMut(&Watching) -> bool) {
        let started = Instant::now();
        loop {
            if done(self) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("kubereach exited ({status}) while waiting for {what}; stderr:\n{}", self.stderr().join("\n"));
            }
            assert!(
                started.elapsed() < PATIENCE,
                "gave up waiting for {what} after {PATIENCE:?}; stderr:\n{}",
                self.stderr().join("\n")
            );
            std::thread::sleep(POLL);
        }
    }

    fn wait_for_runs(&mut self, count: usize) {
        self.wait_until(&format!("run {count}"), |w| w.runs().len() >= count);
    }

    /// The rules of the report's findings, or `None` while there is no report. The report is
    /// replaced by a rename, so any report that exists is a whole one.
    fn rules(&self) -> Option<Vec<String>> {
        let text = std::fs::read_to_string(&self.report).ok()?;
        let report: Value = serde_json::from_str(&text).expect("the report file is always a whole JSON document");
        let mut rules: Vec<String> =
            report["findings"].as_array()?.iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect();
        rules.sort();
        Some(rules)
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("kubereach exited ({status}); stderr:\n{}", self.stderr().join("\n"));
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replaces a file at once, as an editor's safe save does: a pause between truncating and
/// writing, on a loaded machine, would otherwise make one edit two runs and shift the counts.
fn replace(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// A folder to watch holding the app, and a separate folder for the report.
fn setup() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), ISOLATED_WEB).unwrap();
    std::fs::write(dir.path().join("service.yaml"), service("ClusterIP")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.json");
    (dir, out, report)
}

#[test]
fn a_change_is_reported_then_its_fix_and_only_the_changed_file_is_read_again() {
    let (dir, _out, report) = setup();
    let mut watching = Watching::start(dir.path(), &report);
    watching.wait_until("the first report", |w| w.rules().is_some());
    watching.wait_for_runs(1);
    assert!(watching.runs()[0].contains("(2 files read)"), "{:?}", watching.runs());
    let first = watching.rules().unwrap();
    assert!(!first.iter().any(|r| r == "public-load-balancer"), "{first:?}");

    replace(&dir.path().join("service.yaml"), &service("LoadBalancer"));
    watching.wait_until("the public load balancer in the report", |w| {
        w.rules().is_some_and(|r| r.iter().any(|r| r == "public-load-balancer"))
    });
    watching.wait_for_runs(2);
    // The report is written before the status line, so run 2 is the run that saw the change.
    assert!(watching.runs()[1].contains("(1 file read)"), "{:?}", watching.runs());

    replace(&dir.path().join("service.yaml"), &service("ClusterIP"));
    watching
        .wait_until("the fixed report", |w| w.rules().is_some_and(|r| !r.iter().any(|r| r == "public-load-balancer")));
    watching.wait_for_runs(3);
    assert!(watching.runs()[2].contains("(1 file read)"), "{:?}", watching.runs());
    assert_eq!(watching.rules().unwrap(), first, "the fix restores the first report");
    assert!(watching.errors().is_empty(), "{:?}", watching.errors());
    // Nothing is left beside the report.
    let leftovers: Vec<_> =
        std::fs::read_dir(report.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["report.json"]);
}

#[test]
fn a_change_to_a_file_that_is_not_a_manifest_starts_no_run() {
    let (dir, _out, report) = setup();
    let mut watching = Watching::start(dir.path(), &report);
    watching.wait_for_runs(1);

    std::fs::write(dir.path().join("notes.txt"), "remember the load balancer\n").unwrap();
    std::fs::write(dir.path().join("README"), "shop manifests\n").unwrap();
    // Longer than the debounce and a run on an idle machine; a slow run would still show up in
    // the count below, after the manifest change.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(watching.runs().len(), 1, "{:?}", watching.stderr());

    // The watcher was listening: a manifest change does start a run, exactly one.
    replace(&dir.path().join("service.yaml"), &service("LoadBalancer"));
    watching.wait_for_runs(2);
    watching.wait_until("the public load balancer in the report", |w| {
        w.rules().is_some_and(|r| r.iter().any(|r| r == "public-load-balancer"))
    });
    assert_eq!(watching.runs().len(), 2, "{:?}", watching.stderr());
    assert!(watching.runs()[1].contains("(1 file read)"), "{:?}", watching.runs());
}

#[test]
fn a_broken_configuration_is_reported_and_watching_goes_on_until_it_is_fixed() {
    let (dir, _out, report) = setup();
    let config = dir.path().join(".kubereach.yaml");
    std::fs::write(&config, "profile: generic\n").unwrap();
    let mut watching = Watching::start(dir.path(), &report);
    watching.wait_for_runs(1);

    replace(&config, "profile: generic\nno-such-key: 1\n");
    watching.wait_until("an error line", |w| !w.errors().is_empty());
    let error = &watching.errors()[0];
    assert!(error.contains("configuration") && error.contains("no-such-key"), "{error}");
    watching.assert_alive();
    assert_eq!(watching.runs().len(), 1, "a failed run prints no status line: {:?}", watching.stderr());

    // Fixed, and a finding turned off on the way: the next run follows the new configuration.
    replace(&config, "profile: generic\nrules:\n  ignore: [public-load-balancer]\n");
    watching.wait_for_runs(2);
    replace(&dir.path().join("service.yaml"), &service("LoadBalancer"));
    watching.wait_for_runs(3);
    let rules = watching.rules().unwrap();
    assert!(!rules.iter().any(|r| r == "public-load-balancer"), "the fixed configuration applies: {rules:?}");
    assert_eq!(watching.errors().len(), 1, "{:?}", watching.stderr());
}

#[test]
fn the_report_folder_is_created_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("svc.yaml"), "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  type: NodePort\n  ports: [{port: 80}]\n").unwrap();
    let out =
        kubereach(["check", ".", "--format", "sarif", "--output", ".sarif/kubereach.sarif", "--fail-on", "never"])
            .current_dir(dir.path())
            .run();
    assert!(out.success(), "{}", out.stderr);
    let report = std::fs::read_to_string(dir.path().join(".sarif/kubereach.sarif")).unwrap();
    assert!(report.contains("nodeport-service"), "{report}");
}

#[test]
fn a_folder_created_while_watching_is_watched_where_the_configuration_sits_in_the_scanned_folder() {
    let (dir, _out, report) = setup();
    std::fs::write(dir.path().join(".kubereach.yaml"), "profile: generic\n").unwrap();
    let mut watching = Watching::start(dir.path(), &report);
    watching.wait_for_runs(1);

    std::fs::create_dir(dir.path().join("extra")).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    replace(
        &dir.path().join("extra").join("service.yaml"),
        &service("LoadBalancer").replace("name: web", "name: promo"),
    );
    watching.wait_until("the new folder's load balancer in the report", |w| {
        w.rules().is_some_and(|r| r.iter().any(|r| r == "public-load-balancer"))
    });
    assert!(watching.errors().is_empty(), "{:?}", watching.errors());
}

#[test]
fn a_folder_configuration_is_watched_and_governs_its_folder() {
    let (dir, _out, report) = setup();
    let lb = service("LoadBalancer").replace("name: web", "name: promo");
    std::fs::create_dir(dir.path().join("team")).unwrap();
    std::fs::write(dir.path().join("team").join("lb.yaml"), &lb).unwrap();
    let mut watching = Watching::start(dir.path(), &report);
    watching.wait_until("the folder's load balancer in the report", |w| {
        w.rules().is_some_and(|r| r.iter().any(|r| r == "public-load-balancer"))
    });

    // A configuration appears in the folder: it governs the folder's files from the next run on.
    replace(&dir.path().join("team").join(".kubereach.yaml"), "rules:\n  ignore: [public-load-balancer]\n");
    watching.wait_until("the folder's rule turned off", |w| {
        w.rules().is_some_and(|r| !r.iter().any(|r| r == "public-load-balancer"))
    });
    // The root's own load balancer is still reported: the folder's file governs only the folder.
    replace(&dir.path().join("service.yaml"), &service("LoadBalancer"));
    watching.wait_until("the root's load balancer in the report", |w| {
        w.rules().is_some_and(|r| r.iter().any(|r| r == "public-load-balancer"))
    });
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "public-load-balancer")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, vec!["service.yaml"], "{report}");
    assert!(watching.errors().is_empty(), "{:?}", watching.errors());
}

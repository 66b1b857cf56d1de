#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The README's samples are true: every `$ kubereach …` command of a `text` block runs from the
//! checkout's root and prints the lines shown, in order (`…` stands for lines or text left out);
//! the JSON samples hold the example's numbers and objects; the license and the pre-commit
//! `rev:` agree with `Cargo.toml`.
//!
//! The `--diff-base` commands run where the README says: in a copy of the example in a git
//! repository (`deploy/`), with one commit that turns the API's Service into a LoadBalancer and
//! lets `0.0.0.0/0` in ([`diff_base_repository`]; they need git). A listed command that the README
//! no longer shows fails the test, so the list cannot go stale.

use serde_json::Value;

mod common;
use common::{kubereach, kubereach_in_crate, require_tool, RunExt as _};

const README: &str = include_str!("../README.md");

/// Commands run in [`diff_base_repository`] rather than in the checkout.
const IN_A_HISTORY: &[&str] =
    &["kubereach check deploy --diff-base HEAD~1", "kubereach graph deploy --diff-base HEAD~1"];

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The example as `deploy/` of a git repository, then a commit that turns the API's Service
/// into a LoadBalancer and lets `0.0.0.0/0` in; `None` without git (outside CI).
fn diff_base_repository() -> Option<tempfile::TempDir> {
    require_tool("git", "the README's --diff-base samples run in a git repository")?;
    let dir = tempfile::tempdir().unwrap();
    let deploy = dir.path().join("deploy");
    copy_tree(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop"), &deploy);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    let edit = |rel: &str, from: &str, to: &str| {
        let path = deploy.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} holds {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    edit("shop-api/api.yaml", "  type: ClusterIP\n", "  type: LoadBalancer\n");
    edit(
        "shop-api/network-policies.yaml",
        "    - from:\n",
        "    - from:\n        - ipBlock:\n            cidr: 0.0.0.0/0\n",
    );
    git(dir.path(), &["commit", "-qam", "a public API"]);
    Some(dir)
}

/// The fenced blocks of a Markdown text: (info string, lines).
fn blocks(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), Vec::new())),
            (Some(_), Some(_)) => out.push(current.take().unwrap()),
            (Some((_, lines)), None) => lines.push(line),
            (None, None) => {}
        }
    }
    out
}

/// Shell words: blanks separate, single quotes keep what they hold.
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut word, mut quoted, mut any) = (String::new(), false, false);
    for c in command.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// Whether `line` of the output is `shown`: equal, or, where `shown` has `…`, holding its parts
/// in order.
fn line_matches(shown: &str, line: &str) -> bool {
    let (shown, line) = (shown.trim_end(), line.trim_end());
    if !shown.contains('…') {
        return shown == line;
    }
    let mut rest = line;
    let parts: Vec<&str> = shown.split('…').collect();
    for (i, part) in parts.iter().enumerate() {
        let found = if i == 0 {
            rest.strip_prefix(part).map(|r| (0, r))
        } else {
            rest.find(part).map(|at| (at, &rest[at + part.len()..]))
        };
        match found {
            Some((_, after)) => rest = after,
            None => return false,
        }
    }
    parts.last().is_none_or(|last| last.is_empty() || line.ends_with(last))
}

/// Finds the shown lines in the output, in order; `…` alone skips. Returns the first line not found.
fn find_in_order<'a>(shown: &[&'a str], output: &str) -> Option<&'a str> {
    let lines: Vec<&str> = output.lines().collect();
    let mut at = 0;
    for want in shown.iter().filter(|l| l.trim() != "…") {
        match lines[at..].iter().position(|l| line_matches(want, l)) {
            Some(i) => at += i + 1,
            None => return Some(want),
        }
    }
    None
}

#[test]
fn every_command_shown_prints_what_the_readme_says() {
    let mut ran = 0;
    let mut in_history = Vec::new();
    let history = diff_base_repository();
    for (info, lines) in blocks(README) {
        if info != "text" {
            continue;
        }
        // A block may hold several commands, each followed by its output.
        let mut i = 0;
        while i < lines.len() {
            let Some(command) = lines[i].strip_prefix("$ ") else {
                i += 1;
                continue;
            };
            let end = lines[i + 1..].iter().position(|l| l.starts_with("$ ")).map_or(lines.len(), |p| i + 1 + p);
            let shown = &lines[i + 1..end];
            i = end;
            let args = words(command);
            assert_eq!(args[0], "kubereach", "a README command runs kubereach: {command}");
            let run = if IN_A_HISTORY.contains(&command) {
                in_history.push(command);
                let Some(repo) = &history else { continue };
                kubereach(&args[1..]).current_dir(repo.path()).run()
            } else {
                kubereach_in_crate(&args[1..]).run()
            };
            assert!(matches!(run.code, Some(0 | 1)), "`{command}` failed: {}", run.stderr);
            if let Some(missing) = find_in_order(shown, &run.stdout) {
                panic!(
                    "`{command}` does not print, at its place in the README's order:\n{missing}\n\nit prints:\n{}",
                    run.stdout
                );
            }
            ran += 1;
        }
    }
    assert!(ran >= 4, "the README's commands were found ({ran})");
    for command in IN_A_HISTORY {
        assert!(in_history.contains(command), "`{command}` is listed, but the README no longer shows it");
    }
}

/// The JSON block that follows a heading.
fn json_after(heading: &str) -> Value {
    let at = README.find(heading).unwrap_or_else(|| panic!("no `{heading}` in the README"));
    let (_, lines) = blocks(&README[at..]).into_iter().find(|(info, _)| info == "json").expect("a JSON block");
    serde_json::from_str(&lines.join("\n")).unwrap_or_else(|e| panic!("the sample under `{heading}` is not JSON: {e}"))
}

/// Whether every member of `shown` is in `actual` with the same value, `…` standing for any
/// string (and any object, in a list).
fn holds(shown: &Value, actual: &Value) -> bool {
    match (shown, actual) {
        (Value::String(s), _) if s == "…" => true,
        (Value::String(s), Value::String(a)) if s.contains('…') => line_matches(s, a),
        (Value::Object(s), Value::Object(a)) => s.iter().all(|(k, v)| a.get(k).is_some_and(|av| holds(v, av))),
        // A list shows a selection: each of its items is some item of the actual list.
        (Value::Array(s), Value::Array(a)) => s.iter().all(|v| a.iter().any(|av| holds(v, av))),
        (s, a) => s == a,
    }
}

#[test]
fn the_check_json_sample_is_the_examples() {
    let shown = json_after("### `check --format json`");
    let actual = kubereach_in_crate(["check", "examples/shop", "--format", "json"]).run().json();
    assert_eq!(shown["summary"], actual["summary"], "the summary's numbers are the example's");
    let finding = &shown["findings"][0];
    let same = actual["findings"].as_array().unwrap().iter().find(|f| f["key"] == finding["key"]).expect("the finding");
    for key in ["rule", "level", "file", "line", "column", "end_line", "end_column", "object", "field", "peer"] {
        assert_eq!(finding[key], same[key], "{key}");
    }
    assert!(line_matches(finding["message"].as_str().unwrap(), same["message"].as_str().unwrap()));
}

#[test]
fn the_graph_json_sample_is_the_examples() {
    let shown = json_after("### `graph --format json`");
    let actual = kubereach_in_crate(["graph", "examples/shop", "--format", "json"]).run().json();
    assert!(holds(&shown["peers"], &actual["peers"]), "peers:\n{}", shown["peers"]);
    assert!(holds(&shown["connections"], &actual["connections"]), "connections:\n{}", shown["connections"]);
    assert_eq!(shown["version"], actual["version"]);
}

#[test]
fn the_license_and_the_release_tag_agree_with_the_package() {
    let license = include_str!("../LICENSE");
    assert_eq!(env!("CARGO_PKG_LICENSE"), "Apache-2.0");
    assert!(license.trim_start().starts_with("Apache License\n                        Version 2.0, January 2004"));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    let rev = README
        .lines()
        .find_map(|l| l.trim().strip_prefix("rev: "))
        .and_then(|r| r.split_whitespace().next())
        .expect("the pre-commit sample's rev");
    assert_eq!(rev, format!("v{}", env!("CARGO_PKG_VERSION")), "the README's rev is this version's tag");
}

#[test]
fn the_matcher_does_bite() {
    assert!(line_matches("a … c", "a b c"));
    assert!(!line_matches("a … c", "a b d"));
    assert!(find_in_order(&["x", "…", "z"], "x\ny\nz\n").is_none());
    assert_eq!(find_in_order(&["z", "x"], "x\ny\nz\n"), Some("x"), "order counts");
    assert_eq!(words("explain --to 'a b[C]' x"), ["explain", "--to", "a b[C]", "x"]);
}

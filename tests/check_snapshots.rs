//! Snapshot of `check --format json` on the example repository (the human, GitHub and SARIF
//! formats have theirs in `reports.rs` and `sarif.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn example_check_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubereach"))
        .args(["check", "examples/shop", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run kubereach");
    assert_eq!(out.status.code(), Some(1), "findings at warning level fail the run");
    let mut value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    value["tool"]["version"] = serde_json::Value::from("[version]");
    insta::assert_json_snapshot!(value);
}

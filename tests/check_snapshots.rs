//! Snapshot of `check --format json` on the example repository (the human, GitHub and SARIF
//! formats have theirs in `reports.rs` and `sarif.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kubereach_in_crate, RunExt as _};

#[test]
fn example_check_json() {
    let out = kubereach_in_crate(["check", "examples/shop", "--format", "json"]).run();
    assert_eq!(out.code, Some(1), "findings at warning level fail the run");
    let mut value: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    value["tool"]["version"] = serde_json::Value::from("[version]");
    insta::assert_json_snapshot!(value);
}

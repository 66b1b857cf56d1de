//! Snapshot tests of both graph formats on the example repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kubereach_in_crate, RunExt as _};

fn graph(format: &str, threads: &str) -> String {
    let out = kubereach_in_crate(["graph", "examples/shop", "--format", format, "-j", threads]).run();
    assert!(out.stderr.is_empty(), "unexpected diagnostics: {}", out.stderr);
    out.ok()
}

#[test]
fn example_connectivity_list() {
    insta::assert_snapshot!(graph("txt", "2"));
}

#[test]
fn example_graph_json() {
    let text = graph("json", "2");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    insta::assert_json_snapshot!(value);
}

#[test]
fn json_and_txt_carry_the_same_edges() {
    let txt = graph("txt", "2");
    let value: serde_json::Value = serde_json::from_str(&graph("json", "2")).expect("valid JSON");
    let from_json: Vec<String> = value["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| {
            format!(
                "{} => {} : {}",
                c["src"]["id"].as_str().unwrap(),
                c["dst"]["id"].as_str().unwrap(),
                c["summary"].as_str().unwrap()
            )
        })
        .collect();
    let from_txt: Vec<&str> = txt.lines().collect();
    assert_eq!(from_json, from_txt);
}

#[test]
fn output_does_not_depend_on_thread_count() {
    for format in ["txt", "json"] {
        assert_eq!(graph(format, "1"), graph(format, "4"), "{format}");
    }
}

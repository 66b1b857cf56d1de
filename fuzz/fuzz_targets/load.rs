//! The loader on arbitrary bytes: decoding (byte-order marks, UTF-8), the YAML reader with its
//! budgets, and the YAML 1.1 typing of every scalar read. It must never panic, and libFuzzer's
//! `-timeout` and `-rss_limit_mb` hold it to bounded time and memory on every input.
#![no_main]

use kubereach::load::yaml::{Node, Value};
use libfuzzer_sys::fuzz_target;

/// Visits every node once per path to it (aliases included), as the model would, resolving each
/// scalar as YAML 1.1 does.
fn walk(node: &Node, seen: &mut usize) {
    *seen += 1;
    match &node.value {
        Value::Scalar(scalar) => {
            let _ = scalar.resolve();
        }
        Value::Seq(items) => items.iter().for_each(|n| walk(n, seen)),
        Value::Map(entries) => entries.iter().for_each(|(k, v)| {
            walk(k, seen);
            walk(v, seen);
        }),
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(stream) = kubereach::load::read_for_comparison(bytes.to_vec()) {
        let mut seen = 0;
        for doc in &stream.documents {
            if let Some(root) = &doc.root {
                walk(root, &mut seen);
            }
        }
    }
});

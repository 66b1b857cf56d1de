//! `expectation-matches-nothing`: a peer of a reachability expectation (`expect:`) that names no
//! workload in any scope its configuration governs: a typo, a renamed namespace or label, a
//! tenant no namespace carries. Located at the peer in the configuration file; when a whole side
//! names nothing, the expectation checks nothing and the message says so. The result stage
//! decides "in any scope" ([`super::Expectations`]); every scope reports it alike and the report
//! shows it once.

use super::ids::ExpectationMatchesNothing;
use super::{Context, Rule};
use crate::finding::Finding;
use crate::graph::expect::End;
use crate::span::Location;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(expectations) = cx.expectations else { return };
    for (i, (e, nowhere)) in expectations.list.iter().zip(&expectations.nowhere).enumerate() {
        let consequence = if expectations.side_names_nothing(i) {
            "the expectation checks nothing"
        } else {
            "the rest of its side is checked"
        };
        for &(end, k) in nowhere {
            let word = match end {
                End::From => "from",
                End::To => "to",
            };
            let set = e.side(end);
            let Some((_, span)) = set.forms.get(k) else { continue };
            let peer = if set.forms.len() == 1 { set.text.clone() } else { peer_text(&set.text, k) };
            let message = format!(
                "`{peer}` in `{word}` of expectation {} (`{}`) names no workload the repository declares; {consequence}",
                e.label(),
                e.statement(),
            );
            out.push(ExpectationMatchesNothing::finding(Location { file: e.file, span: *span }, message).with_key(
                format!("Expectation/{}", e.name.clone().unwrap_or_else(|| e.statement())),
                format!("{word}[{k}]"),
                peer,
            ));
        }
    }
}

/// The `k`-th peer of a side written as a list (`[a, b]`).
fn peer_text(list: &str, k: usize) -> String {
    let inner = list.strip_prefix('[').and_then(|l| l.strip_suffix(']')).unwrap_or(list);
    // Peers are separated by `, ` outside braces (`{app: a, tier: b}` is one peer).
    let mut depth = 0usize;
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(inner[start..].trim());
    parts.get(k).map_or_else(|| list.to_string(), |p| p.to_string())
}

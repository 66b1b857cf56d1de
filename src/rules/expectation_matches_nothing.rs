//! `expectation-matches-nothing`: a side of a reachability expectation (`expect:`) that names no
//! workload in any scope its configuration governs, so that the expectation checks nothing: a
//! typo, a renamed namespace or label, a tenant no namespace carries. Located at the side in the
//! configuration file. The result stage decides "in any scope" ([`super::Expectations`]); every
//! scope reports it alike and the report shows it once.

use super::ids::ExpectationMatchesNothing;
use super::{Context, Rule};
use crate::finding::Finding;
use crate::graph::expect::End;
use crate::span::Location;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(expectations) = cx.expectations else { return };
    for (e, nowhere) in expectations.list.iter().zip(&expectations.nowhere) {
        for end in nowhere {
            let (word, set) = match end {
                End::From => ("from", &e.from),
                End::To => ("to", &e.to),
            };
            let message = format!(
                "`{word}` of expectation {} (`{}`) names no workload the repository declares: `{}`; the expectation checks nothing",
                e.label(),
                e.statement(),
                set.text
            );
            out.push(
                ExpectationMatchesNothing::finding(Location { file: e.file, span: set.span }, message).with_key(
                    format!("Expectation/{}", e.name.clone().unwrap_or_else(|| e.statement())),
                    word,
                    "",
                ),
            );
        }
    }
}

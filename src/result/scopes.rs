//! Findings of several scopes at one place in the repository become one finding that names them.
//!
//! A base shared by a `dev` and a `prod` overlay is rendered in both, and a rule that finds a gap
//! in it finds it twice; the user fixes it once. Findings are matched by rule, place and their
//! order among that rule's findings at that place in each scope (two findings of one scope at one
//! place stay two); the first scope's finding is kept (its message and logical key), and the
//! names of every scope that produced it are recorded in [`Finding::scopes`].

use std::collections::HashMap;

use super::suppress::Tagged;
use crate::finding::Finding;
use crate::span::Location;

/// Merges the findings of every scope; `names` are the scopes' names by index. `several`: the
/// analysis has more than one scope, so findings name theirs.
pub fn merge(mut findings: Vec<Tagged>, names: &[&str], several: bool) -> Vec<Finding> {
    if !several {
        return findings.into_iter().map(|t| t.finding).collect();
    }
    // Scope order first, so that the kept finding is the first scope's.
    findings.sort_by_key(|t| t.scope);
    let mut ordinal: HashMap<(usize, &'static str, Location), usize> = HashMap::new();
    let mut index: HashMap<(&'static str, Location, usize), usize> = HashMap::new();
    let mut out: Vec<Finding> = Vec::new();
    for Tagged { scope, finding, .. } in findings {
        let n = ordinal.entry((scope, finding.rule, finding.location)).or_default();
        let key = (finding.rule, finding.location, *n);
        *n += 1;
        let name = names.get(scope).map_or_else(String::new, |s| (*s).to_string());
        match index.get(&key) {
            Some(&i) => {
                if let Some(kept) = out.get_mut(i) {
                    if !kept.scopes.contains(&name) {
                        kept.scopes.push(name);
                    }
                }
            }
            None => {
                index.insert(key, out.len());
                let mut finding = finding;
                finding.scopes = vec![name];
                out.push(finding);
            }
        }
    }
    out
}

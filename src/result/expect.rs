//! Expectations bound to the analysis: each scope gets the expectations of the configuration
//! that governs it, located in that file (registered with the load, [`Loaded::located`]), with
//! the peers that name nothing in any scope of that configuration, so that
//! `expectation-matches-nothing` judges the whole repository, not one cluster of it.

use std::collections::BTreeMap;
use std::path::Path;

use super::RuleSource;
use crate::graph::expect::End;
use crate::graph::Graph;
use crate::model::build::Loaded;
use crate::rules::Expectations;

/// Per scope (in the order of `loaded.scopes`): its expectations, when its configuration has any.
pub(crate) fn bind(loaded: &Loaded, graphs: &[Graph], rules: &dyn RuleSource) -> Vec<Option<Expectations>> {
    let mut out: Vec<Option<Expectations>> = Vec::with_capacity(loaded.scopes.len());
    // Per configuration file: the scopes it governs.
    let mut governed: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, scope) in loaded.scopes.iter().enumerate() {
        let bound = rules.expectations(&scope.settings).and_then(|(path, list)| {
            let file = loaded.located.iter().find(|(p, _)| p == path).map(|(_, id)| *id)?;
            governed.entry(path).or_default().push(i);
            let list = list.iter().cloned().map(|mut e| {
                e.file = file;
                e
            });
            Some(Expectations { list: list.collect(), nowhere: Vec::new() })
        });
        out.push(bound);
    }
    for scopes in governed.values() {
        let Some(first) = scopes.first().and_then(|i| out.get(*i)).and_then(Option::as_ref) else { continue };
        let nowhere: Vec<Vec<(End, usize)>> = first
            .list
            .iter()
            .map(|e| {
                let mut out = Vec::new();
                for end in [End::From, End::To] {
                    for (k, (form, _)) in e.side(end).forms.iter().enumerate() {
                        if !scopes.iter().any(|&i| graphs.get(i).is_some_and(|g| g.names_any(form))) {
                            out.push((end, k));
                        }
                    }
                }
                out
            })
            .collect();
        for &i in scopes {
            if let Some(Some(bound)) = out.get_mut(i) {
                bound.nowhere = nowhere.clone();
            }
        }
    }
    out
}

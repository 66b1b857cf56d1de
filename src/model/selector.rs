//! Label sets and label selectors, with the matching rules of the Kubernetes API.
//!
//! Label keys and values are shared strings ([`Str`]) taken from an [`Interner`]: a repository
//! repeats the same few hundred of them across tens of thousands of objects.

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashSet;

use crate::span::Span;

/// A shared, immutable string.
pub type Str = Arc<str>;

/// Hands out one shared copy of each distinct string, across the loader's threads.
#[derive(Debug, Default)]
pub struct Interner(Mutex<FxHashSet<Str>>);

impl Interner {
    pub(crate) fn intern(&self, s: &str) -> Str {
        let Ok(mut set) = self.0.lock() else { return s.into() };
        if let Some(hit) = set.get(s) {
            return hit.clone();
        }
        let shared: Str = s.into();
        set.insert(shared.clone());
        shared
    }
}

/// A label set, sorted by key, keys unique. Shared: cloning it (for a class of pods) copies a
/// pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(pub Arc<[(Str, Str)]>);

impl Labels {
    pub(crate) fn from_pairs(mut pairs: Vec<(Str, Str)>) -> Labels {
        pairs.sort();
        // Later keys win, as with duplicate keys in a YAML mapping read by kubectl.
        pairs.dedup_by(|later, earlier| later.0 == earlier.0);
        Labels(pairs.into())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| (**k).cmp(key)).ok().map(|i| &*self.0[i].1)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn with(&self, key: &str, value: &str) -> Labels {
        let mut pairs = self.0.to_vec();
        pairs.retain(|(k, _)| &**k != key);
        pairs.push((key.into(), value.into()));
        Labels::from_pairs(pairs)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    pub(crate) fn parse(s: &str) -> Option<Operator> {
        Some(match s {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: Box<str>,
    pub operator: Operator,
    pub values: Vec<Box<str>>,
}

impl Requirement {
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.iter().any(|x| &**x == v)),
            // NotIn also holds when the key is absent.
            Operator::NotIn => value.is_none_or(|v| self.values.iter().all(|x| &**x != v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

/// A selector's requirements without its span, borrowed: selectors with equal parts match the
/// same labels, so they key caches of what a selector matches.
pub(crate) type SelectorParts<'a> = (&'a [(Str, Str)], &'a [Requirement]);

/// A `LabelSelector`: `matchLabels` and `matchExpressions`, all ANDed. Empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    pub match_labels: Vec<(Str, Str)>,
    pub expressions: Vec<Requirement>,
    pub span: Span,
}

impl Selector {
    pub(crate) fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(&**v))
            && self.expressions.iter().all(|r| r.matches(labels))
    }

    /// The selector without its span, for grouping identical selectors.
    pub(crate) fn parts(&self) -> SelectorParts<'_> {
        (&self.match_labels, &self.expressions)
    }

    /// A short human form, e.g. `app=web,tier in (a,b)`; `{}` for the empty selector.
    pub(crate) fn describe(&self) -> String {
        if self.is_empty() {
            return "{}".to_string();
        }
        let mut parts: Vec<String> = self.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for r in &self.expressions {
            let values = r.values.iter().map(|v| &**v).collect::<Vec<_>>().join(",");
            parts.push(match r.operator {
                Operator::In => format!("{} in ({values})", r.key),
                Operator::NotIn => format!("{} notin ({values})", r.key),
                Operator::Exists => r.key.to_string(),
                Operator::DoesNotExist => format!("!{}", r.key),
            });
        }
        parts.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect())
    }

    fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement { key: key.into(), operator, values: values.iter().map(|v| (*v).into()).collect() }
    }

    #[test]
    fn operators_follow_the_api_including_absent_keys() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        let bare = labels(&[]);
        let cases = [
            (req("app", Operator::In, &["web", "api"]), true, false),
            (req("app", Operator::In, &["api"]), false, false),
            (req("app", Operator::NotIn, &["api"]), true, true),
            (req("app", Operator::NotIn, &["web"]), false, true),
            (req("app", Operator::Exists, &[]), true, false),
            (req("app", Operator::DoesNotExist, &[]), false, true),
        ];
        for (r, on_web, on_bare) in cases {
            assert_eq!(r.matches(&web), on_web, "{r:?} on web");
            assert_eq!(r.matches(&bare), on_bare, "{r:?} on no labels");
        }
    }

    #[test]
    fn requirements_are_anded_even_on_one_key() {
        let s = Selector {
            match_labels: vec![("tier".into(), "front".into())],
            expressions: vec![req("app", Operator::In, &["web", "api"]), req("app", Operator::NotIn, &["api"])],
            span: Span::default(),
        };
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "front")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("tier", "front")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        assert!(Selector::default().matches(&labels(&[])));
    }
}

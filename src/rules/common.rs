//! Facts several rules read: which namespaces hold workloads and policies, default-deny
//! policies, and where a namespace is written down.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::Context;
use crate::model::selector::{Operator, Selector, SelectorParts};
use crate::model::{Direction, Model, NetworkPolicy, NAMESPACE_NAME_LABEL};
use crate::span::Location;

/// Per namespace that holds policies: whether some policy there manages each direction.
pub(crate) fn managed_directions(model: &Model) -> BTreeMap<&str, [bool; 2]> {
    let mut out: BTreeMap<&str, [bool; 2]> = BTreeMap::new();
    for p in &model.policies {
        let entry = out.entry(&p.meta.namespace).or_default();
        entry[0] |= p.affects(Direction::Ingress);
        entry[1] |= p.affects(Direction::Egress);
    }
    out
}

pub(crate) fn direction_index(direction: Direction) -> usize {
    match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

/// Whether `policy` is a default-deny for `direction`: it selects every pod of its namespace,
/// isolates the direction and allows nothing in it, whatever form that takes (`ingress: []`, no
/// `ingress` key, `policyTypes` written or defaulted).
pub(crate) fn is_default_deny(policy: &NetworkPolicy, direction: Direction) -> bool {
    policy.pod_selector.is_empty() && policy.affects(direction) && policy.rules(direction).is_empty()
}

/// Namespaces in which the repository declares workloads, with the workloads' indexes.
pub(crate) fn workloads_by_namespace(model: &Model) -> BTreeMap<&str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, w) in model.workloads.iter().enumerate() {
        out.entry(&w.meta.namespace).or_default().push(i);
    }
    out
}

/// Where a namespace is written: its Namespace object's name, else the first workload's
/// `metadata.namespace` (or name, when the namespace is implied).
pub(crate) fn namespace_location(cx: &Context, namespace: &str, first_workload: Option<usize>) -> Option<Location> {
    if let Some(ns) = cx.namespace(namespace) {
        return Some(ns.meta.location());
    }
    let w = &cx.model.workloads[first_workload?];
    Some(w.meta.at(w.meta.namespace_span.unwrap_or(w.meta.name_span)))
}

/// A list of directions in words: `ingress`, `egress`, `ingress and egress`.
pub(crate) fn directions_text(directions: &[Direction]) -> String {
    directions.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(" and ")
}

/// The namespace names a selector pins through the automatic name label (`matchLabels` or `In`),
/// when it pins them; `None` when it may select namespaces by other labels.
fn pinned_names(sel: &Selector) -> Option<Vec<&str>> {
    let mut names: Option<Vec<&str>> = None;
    for (k, v) in &sel.match_labels {
        if &**k == NAMESPACE_NAME_LABEL {
            names = Some(vec![&**v]);
        }
    }
    for r in &sel.expressions {
        if &*r.key == NAMESPACE_NAME_LABEL && r.operator == Operator::In {
            let these: Vec<&str> = r.values.iter().map(|v| &**v).collect();
            names = Some(match names {
                None => these,
                Some(prev) => prev.into_iter().filter(|n| these.contains(n)).collect(),
            });
        }
    }
    names
}

/// Which namespaces a peer or subject reaches, when the repository shows every one of them whole:
/// each holds workloads of the repository, none is external (the configuration says so), none
/// holds custom resources (which may create pods), and none is a system namespace (the cluster
/// runs pods there that no repository declares). Only then can a rule say that a selector
/// matches no pod. Answers are kept by selector: policies repeat them.
pub(crate) struct ShownNamespaces<'a> {
    cx: &'a Context<'a>,
    with_workloads: BTreeMap<&'a str, Vec<usize>>,
    by_selector: FxHashMap<SelectorParts<'a>, Option<Vec<&'a str>>>,
}

impl<'a> ShownNamespaces<'a> {
    pub(crate) fn new(cx: &'a Context<'a>) -> Self {
        ShownNamespaces { cx, with_workloads: workloads_by_namespace(cx.model), by_selector: FxHashMap::default() }
    }

    fn whole(&self, named: &[&str]) -> bool {
        !named.is_empty()
            && named.iter().all(|ns| self.with_workloads.contains_key(ns))
            && !named.iter().any(|ns| self.cx.graph.profile.is_external_namespace(ns))
            && !named.iter().any(|ns| self.cx.model.namespaces_with_custom_resources.contains(*ns))
            && !named.iter().any(|ns| crate::model::is_system_namespace(ns))
    }

    /// The namespaces `namespaces` reaches (`None`: the namespace `own`, as a NetworkPolicy peer
    /// without `namespaceSelector`), or `None` when the repository does not show them all. A
    /// selector that also matches unlabelled namespaces (`{}`, `NotIn`, `DoesNotExist`) reaches
    /// namespaces the repository may not show (kube-system has no `team` label).
    pub(crate) fn reached(&mut self, own: &'a str, namespaces: Option<&'a Selector>) -> Option<Vec<&'a str>> {
        let Some(sel) = namespaces else {
            let own = vec![own];
            return self.whole(&own).then_some(own);
        };
        if let Some(pinned) = pinned_names(sel) {
            return self.whole(&pinned).then_some(pinned);
        }
        if sel.is_empty()
            || sel.expressions.iter().any(|r| matches!(r.operator, Operator::NotIn | Operator::DoesNotExist))
        {
            return None;
        }
        if let Some(known) = self.by_selector.get(&sel.parts()) {
            return known.clone();
        }
        let names: Vec<&'a str> =
            self.cx.graph.namespaces_selected(sel).filter(|ns| self.with_workloads.contains_key(ns)).collect();
        let shown = self.whole(&names).then_some(names);
        self.by_selector.insert(sel.parts(), shown.clone());
        shown
    }
}

/// A list of namespace names in words: `namespace \`a\``, `namespaces \`a\`, \`b\``.
pub(crate) fn namespaces_text(named: &[&str]) -> String {
    format!(
        "namespace{} {}",
        if named.len() == 1 { "" } else { "s" },
        named.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    )
}

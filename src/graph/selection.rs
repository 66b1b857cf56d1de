//! Which namespaces and classes a rule peer's selectors match, found through indexes by label:
//! a selector that requires a label value reads only the items that carry it (the rarest of its
//! required values), so matching a peer costs what it may match, not every namespace or class
//! of the repository. Built once per graph, after the classes; it decides nothing a policy says
//! (that is [`super::admissions`]).

use rustc_hash::FxHashMap;

use super::{Class, ClassId};
use crate::model::selector::{Labels, Operator, Selector, Str};

/// Items (by index) per label `(key, value)` they carry.
#[derive(Debug, Default)]
struct LabelIndex {
    by_pair: FxHashMap<(Str, Str), Vec<u32>>,
}

impl LabelIndex {
    fn new<'a>(items: impl Iterator<Item = &'a Labels>) -> Self {
        let mut by_pair: FxHashMap<(Str, Str), Vec<u32>> = FxHashMap::default();
        for (i, labels) in items.enumerate() {
            for (k, v) in labels.0.iter() {
                by_pair.entry((k.clone(), v.clone())).or_default().push(i as u32);
            }
        }
        LabelIndex { by_pair }
    }

    fn posting(&self, key: &Str, value: &Str) -> &[u32] {
        self.by_pair.get(&(key.clone(), value.clone())).map_or(&[], Vec::as_slice)
    }

    /// The postings whose union holds every item that may match `selector`: those of its rarest
    /// required label value (a `matchLabels` pair, or the values of an `In` requirement), and
    /// their total length. `None` when the selector requires no value (every item may match).
    /// Nothing is copied: a caller that finds another way cheaper pays nothing here.
    fn rarest(&self, selector: &Selector) -> Option<(Vec<&[u32]>, usize)> {
        let pairs = selector.match_labels.iter().map(|(k, v)| vec![self.posting(k, v)]);
        let ins = selector.expressions.iter().filter(|r| r.operator == Operator::In).map(|r| {
            let key: Str = (*r.key).into();
            r.values.iter().map(|v| self.posting(&key, &Str::from(&**v))).collect::<Vec<_>>()
        });
        pairs
            .chain(ins)
            .map(|lists| {
                let len = lists.iter().map(|l| l.len()).sum::<usize>();
                (lists, len)
            })
            .min_by_key(|(_, len)| *len)
    }
}

/// The items of postings, each once, in index order.
fn union(lists: &[&[u32]]) -> Vec<u32> {
    let mut out: Vec<u32> = lists.iter().flat_map(|l| l.iter().copied()).collect();
    if lists.len() > 1 {
        out.sort_unstable();
        out.dedup();
    }
    out
}

/// The namespaces of the graph (in name order) and their classes, with the indexes that narrow
/// a selector's candidates.
#[derive(Debug, Default)]
pub(super) struct Selection {
    names: FxHashMap<Str, u32>,
    /// The namespaces' names, by index (name order).
    named: Vec<Str>,
    labels: Vec<Labels>,
    classes: Vec<Vec<ClassId>>,
    /// The namespace of each class.
    class_namespace: Vec<u32>,
    namespace_index: LabelIndex,
    class_index: LabelIndex,
}

impl Selection {
    /// `namespaces`: every namespace with its labels and classes (in name order); `all`: every
    /// class, by class id.
    pub(super) fn new<'a>(
        namespaces: impl Iterator<Item = (&'a Str, &'a Labels, &'a [ClassId])>,
        all: &[Class],
    ) -> Self {
        let mut s = Selection { class_namespace: vec![0; all.len()], ..Selection::default() };
        for (i, (name, labels, classes)) in namespaces.enumerate() {
            s.names.insert(name.clone(), i as u32);
            s.named.push(name.clone());
            s.labels.push(labels.clone());
            s.classes.push(classes.to_vec());
            for c in classes {
                s.class_namespace[c.index()] = i as u32;
            }
        }
        s.namespace_index = LabelIndex::new(s.labels.iter());
        s.class_index = LabelIndex::new(all.iter().map(|c| &c.labels));
        s
    }

    /// The classes a pod peer matches (unordered): those of the namespaces `namespaces` selects
    /// (only `own` without one) whose labels `pods` selects (every one without it). It reads
    /// the indexes only, so peers can be matched on several threads at once.
    pub(super) fn classes(
        &self,
        own: &str,
        namespaces: Option<&Selector>,
        pods: Option<&Selector>,
        all: &[Class],
    ) -> Vec<ClassId> {
        // In namespace order: postings are, and so is every way of finding them below.
        let in_scope: Vec<u32> = match namespaces {
            None => self.names.get(own).copied().into_iter().collect(),
            Some(sel) => self.namespaces(sel),
        };
        let in_scope_classes: usize = in_scope.iter().map(|&n| self.classes[n as usize].len()).sum();
        let matches = |c: ClassId| pods.is_none_or(|sel| sel.matches(&all[c.index()].labels));
        // Through the class index when the pod selector's rarest value is rarer than the classes
        // of the namespaces in scope.
        let by_label = pods
            .and_then(|sel| self.class_index.rarest(sel))
            .filter(|(_, len)| *len < in_scope_classes)
            .map(|(lists, _)| union(&lists));
        let mut out = Vec::new();
        match by_label {
            Some(candidates) => {
                for c in candidates.into_iter().map(|c| ClassId::new(c as usize)) {
                    if in_scope.binary_search(&self.class_namespace[c.index()]).is_ok() && matches(c) {
                        out.push(c);
                    }
                }
            }
            None => {
                for &n in &in_scope {
                    out.extend(self.classes[n as usize].iter().copied().filter(|&c| matches(c)));
                }
            }
        }
        out
    }

    /// The namespaces (indexes, in name order) whose labels `selector` matches.
    fn namespaces(&self, selector: &Selector) -> Vec<u32> {
        let candidates = match self.namespace_index.rarest(selector) {
            Some((lists, _)) => union(&lists),
            None => (0..self.labels.len() as u32).collect(),
        };
        candidates.into_iter().filter(|&n| selector.matches(&self.labels[n as usize])).collect()
    }

    /// The names of the namespaces whose labels `selector` matches, in name order.
    pub(super) fn namespace_names(&self, selector: &Selector) -> impl Iterator<Item = &str> + '_ {
        self.namespaces(selector).into_iter().filter_map(|n| self.named.get(n as usize).map(|s| &**s))
    }

    /// The classes of namespace `namespace` whose labels hold every pair of `labels` (a
    /// Service's selector; empty: none), in class order, pseudo classes left out. Reads the
    /// namespace's classes or the posting of the selector's rarest pair, whichever is shorter.
    pub(super) fn service_classes(&self, namespace: &str, labels: &Labels, all: &[Class]) -> Vec<ClassId> {
        let Some(&n) = self.names.get(namespace) else {
            return Vec::new();
        };
        let own = &self.classes[n as usize];
        let rarest = labels.0.iter().map(|(k, v)| self.class_index.posting(k, v)).min_by_key(|p| p.len());
        let Some(rarest) = rarest else {
            return Vec::new();
        };
        let holds = |c: ClassId| {
            let class = &all[c.index()];
            !class.pseudo && labels.0.iter().all(|(k, v)| class.labels.get(k) == Some(&**v))
        };
        if rarest.len() < own.len() {
            rarest
                .iter()
                .map(|&c| ClassId::new(c as usize))
                .filter(|c| self.class_namespace[c.index()] == n && holds(*c))
                .collect()
        } else {
            own.iter().copied().filter(|&c| holds(c)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::selector::Requirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect())
    }

    fn class(namespace: &str, pairs: &[(&str, &str)]) -> Class {
        Class {
            namespace: namespace.into(),
            labels: labels(pairs),
            named_ports: Vec::new(),
            workloads: Vec::new(),
            peers: Vec::new(),
            ingress_policies: Vec::new(),
            egress_policies: Vec::new(),
            pseudo: false,
            windows: false,
            host_network: false,
        }
    }

    fn selector(pairs: &[(&str, &str)], expressions: Vec<Requirement>) -> Selector {
        Selector {
            match_labels: pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            expressions,
            span: crate::span::Span::default(),
        }
    }

    fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement { key: key.into(), operator, values: values.iter().map(|v| (*v).into()).collect() }
    }

    #[test]
    fn indexed_matching_finds_what_a_scan_of_every_class_finds() {
        // Three namespaces of two teams; many classes share `tier`, few share `app`.
        let spaces = [("a", "red"), ("b", "red"), ("c", "blue")];
        let mut all = Vec::new();
        for (ns, _) in spaces {
            for i in 0..6 {
                let app = format!("app-{i}");
                let tier = if i % 2 == 0 { "web" } else { "db" };
                all.push(class(ns, &[("app", &app), ("tier", tier)]));
            }
        }
        let names: Vec<Str> = spaces.iter().map(|(n, _)| Str::from(*n)).collect();
        let ns_labels: Vec<Labels> =
            spaces.iter().map(|(n, team)| labels(&[("team", team), ("kubernetes.io/metadata.name", n)])).collect();
        let members: Vec<Vec<ClassId>> = spaces
            .iter()
            .map(|(n, _)| (0..all.len()).filter(|&c| &*all[c].namespace == *n).map(ClassId::new).collect())
            .collect();
        let selection =
            Selection::new(names.iter().zip(&ns_labels).zip(&members).map(|((n, l), m)| (n, l, &m[..])), &all);
        let namespace_selectors = [
            None,
            Some(selector(&[], vec![])),
            Some(selector(&[("team", "red")], vec![])),
            Some(selector(&[], vec![req("team", Operator::In, &["blue", "green"])])),
            Some(selector(&[], vec![req("team", Operator::NotIn, &["red"])])),
            Some(selector(&[("kubernetes.io/metadata.name", "b")], vec![])),
        ];
        let pod_selectors = [
            None,
            Some(selector(&[("tier", "web")], vec![])),
            Some(selector(&[("tier", "web"), ("app", "app-2")], vec![])),
            Some(selector(&[], vec![req("app", Operator::In, &["app-1", "app-4", "none"])])),
            Some(selector(&[], vec![req("app", Operator::Exists, &[])])),
            Some(selector(&[("app", "none")], vec![])),
        ];
        for ns_sel in &namespace_selectors {
            for pod_sel in &pod_selectors {
                let mut found = selection.classes("b", ns_sel.as_ref(), pod_sel.as_ref(), &all);
                found.sort();
                let expected: Vec<ClassId> = (0..all.len())
                    .map(ClassId::new)
                    .filter(|&c| {
                        let ns = names.iter().position(|n| *n == all[c.index()].namespace).unwrap_or(usize::MAX);
                        let in_scope = match ns_sel {
                            None => &*all[c.index()].namespace == "b",
                            Some(sel) => sel.matches(&ns_labels[ns]),
                        };
                        in_scope && pod_sel.as_ref().is_none_or(|sel| sel.matches(&all[c.index()].labels))
                    })
                    .collect();
                assert_eq!(found, expected, "namespaces {ns_sel:?}, pods {pod_sel:?}");
            }
            if let Some(sel) = ns_sel {
                let found: Vec<&str> = selection.namespace_names(sel).collect();
                let expected: Vec<&str> =
                    names.iter().zip(&ns_labels).filter(|(_, l)| sel.matches(l)).map(|(n, _)| &**n).collect();
                assert_eq!(found, expected, "namespace names of {sel:?}");
            }
        }
        // A Service's selector: its own namespace's classes that hold every pair, in class order,
        // read through the namespace or the label index (whichever is shorter); `{}` selects none.
        let service_selectors: [&[(&str, &str)]; 5] =
            [&[], &[("tier", "web")], &[("app", "app-3")], &[("app", "app-3"), ("tier", "web")], &[("app", "x")]];
        for pairs in service_selectors {
            let wanted = labels(pairs);
            for ns in ["a", "b", "c", "elsewhere"] {
                let found = selection.service_classes(ns, &wanted, &all);
                let expected: Vec<ClassId> = (0..all.len())
                    .map(ClassId::new)
                    .filter(|&c| {
                        let class = &all[c.index()];
                        !pairs.is_empty()
                            && &*class.namespace == ns
                            && pairs.iter().all(|(k, v)| class.labels.get(k) == Some(*v))
                    })
                    .collect();
                assert_eq!(found, expected, "service selector {pairs:?} in {ns}");
            }
        }
    }
}

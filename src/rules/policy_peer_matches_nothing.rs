//! `policy-peer-matches-nothing`: a `from`/`to` element whose selectors match no pod, where the
//! repository shows the namespaces the element reaches: the policy's own namespace (no
//! namespaceSelector); namespaces pinned by `kubernetes.io/metadata.name`, all holding workloads
//! of the repository; or namespaces of the repository that a label selector matches. A selector
//! that also matches unlabelled namespaces (`{}`, `NotIn`, `DoesNotExist`) or names one outside
//! the repository (a controller's namespace) is not judged: kubereach cannot see the pods there.
//! Nor is one that reaches a system namespace (kube-system, kube-public, kube-node-lease): the
//! cluster runs pods there (DNS, the network agents) that no repository declares, so a repository
//! that deploys one agent into kube-system still does not show that namespace whole.

use super::common::workloads_by_namespace;
use super::Context;
use super::ids::PolicyPeerMatchesNothing;
use super::Rule;
use crate::finding::Finding;
use rustc_hash::FxHashMap;

use crate::model::selector::{Operator, Requirement, Selector, Str};
use crate::model::{Direction, PeerSelector, NAMESPACE_NAME_LABEL};

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

/// A selector's requirements, borrowed: equal selectors match the same namespaces and pods.
type BorrowedKey<'a> = (&'a [(Str, Str)], &'a [Requirement]);

fn borrowed(selector: &Selector) -> BorrowedKey<'_> {
    (&selector.match_labels, &selector.expressions)
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let with_workloads = workloads_by_namespace(cx.model);
    // Whether the repository shows every namespace of the list whole: custom resources may create
    // pods there (an operator's Prometheus, say), and namespaces the configuration declares
    // external hold pods the repository does not show.
    let judged = |named: &[&str]| {
        !named.is_empty()
            && named.iter().all(|ns| with_workloads.contains_key(ns))
            && !named.iter().any(|ns| cx.graph.profile.is_external_namespace(ns))
            && !named.iter().any(|ns| cx.model.namespaces_with_custom_resources.contains(*ns))
            && !named.iter().any(|ns| crate::model::is_system_namespace(ns))
    };
    // Namespaces of the repository a label selector matches, and whether they are judged, by
    // selector (policies repeat them; a team's selector matches a share of all namespaces).
    let mut selected_namespaces: FxHashMap<BorrowedKey, (Vec<&str>, bool)> = FxHashMap::default();
    let mut matched: FxHashMap<(Option<BorrowedKey>, Option<BorrowedKey>, &str), bool> = FxHashMap::default();
    for policy in &cx.model.policies {
        for direction in [Direction::Ingress, Direction::Egress] {
            if !policy.affects(direction) {
                continue;
            }
            let (list, key) = match direction {
                Direction::Ingress => ("spec.ingress", "from"),
                Direction::Egress => ("spec.egress", "to"),
            };
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                for (pi, peer) in rule.peers.iter().flatten().enumerate() {
                    let PeerSelector::Pods { namespaces, pods, span } = peer else { continue };
                    // The namespaces the peer can reach, when the repository shows them all.
                    let own;
                    let pinned;
                    let named: &[&str] = match namespaces {
                        None => {
                            own = [&*policy.meta.namespace];
                            if !judged(&own) {
                                continue;
                            }
                            &own
                        }
                        Some(sel) => match pinned_names(sel) {
                            Some(names) => {
                                pinned = names;
                                if !judged(&pinned) {
                                    continue;
                                }
                                &pinned
                            }
                            // `{}`, `NotIn` and `DoesNotExist` also match namespaces the
                            // repository does not show (kube-system has no `team` label).
                            None if sel.is_empty()
                                || sel
                                    .expressions
                                    .iter()
                                    .any(|r| matches!(r.operator, Operator::NotIn | Operator::DoesNotExist)) =>
                            {
                                continue
                            }
                            None => {
                                let (names, shown) = selected_namespaces.entry(borrowed(sel)).or_insert_with(|| {
                                    let names: Vec<&str> = cx
                                        .graph
                                        .namespaces
                                        .iter()
                                        .filter(|(ns, (labels, _))| {
                                            with_workloads.contains_key(&***ns) && sel.matches(labels)
                                        })
                                        .map(|(ns, _)| &**ns)
                                        .collect();
                                    let shown = judged(&names);
                                    (names, shown)
                                });
                                if !*shown {
                                    continue;
                                }
                                names.as_slice()
                            }
                        },
                    };
                    // Policies repeat their peers: each distinct one is matched once.
                    let peer_key = (
                        namespaces.as_ref().map(borrowed),
                        pods.as_ref().map(borrowed),
                        if namespaces.is_none() { &*policy.meta.namespace } else { "" },
                    );
                    let matches = *matched.entry(peer_key).or_insert_with(|| cx.graph.matches_any_class(policy, peer));
                    if matches {
                        continue;
                    }
                    let pods_text =
                        pods.as_ref().map_or("every pod".to_string(), |p| format!("pods `{}`", p.describe()));
                    out.push(
                        PolicyPeerMatchesNothing::finding(policy.meta.at(*span),
                            format!(
                                "NetworkPolicy `{}`: this `{key}` element matches no pod: {pods_text} in namespace{} {}",
                                policy.meta.name,
                                if named.len() == 1 { "" } else { "s" },
                                named.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                            ),
                        )
                        .with_key(policy.meta.key(), format!("{list}[{ri}].{key}[{pi}]"), pods_text),
                    );
                }
            }
        }
    }
}

//! `policy-peer-matches-nothing`: a `from`/`to` element of a NetworkPolicy, or a `pods` peer of a
//! tier policy's rule, whose selectors match no pod, where the repository shows the namespaces
//! the element reaches: the policy's own namespace (a NetworkPolicy element without
//! namespaceSelector); namespaces pinned by `kubernetes.io/metadata.name`, all holding workloads
//! of the repository; or namespaces of the repository that a label selector matches. A selector
//! that also matches unlabelled namespaces (`{}`, `NotIn`, `DoesNotExist`) or names one outside
//! the repository (a controller's namespace) is not judged: kubereach cannot see the pods there.
//! Nor is one that reaches a system namespace (kube-system, kube-public, kube-node-lease): the
//! cluster runs pods there (DNS, the network agents) that no repository declares, so a repository
//! that deploys one agent into kube-system still does not show that namespace whole. A tier
//! `namespaces` peer selects every pod of namespaces that hold workloads, so it always matches.

use super::common::{namespaces_text, ShownNamespaces};
use super::ids::PolicyPeerMatchesNothing;
use super::Context;
use super::Rule;
use crate::finding::Finding;
use crate::model::selector::{Selector, SelectorParts};
use crate::model::tier::TierPeer;
use crate::model::{Direction, PeerSelector};
use rustc_hash::FxHashMap;

/// Where a peer's list is written, per direction: the list and the key of its elements.
fn list_and_key(direction: Direction) -> (&'static str, &'static str) {
    match direction {
        Direction::Ingress => ("spec.ingress", "from"),
        Direction::Egress => ("spec.egress", "to"),
    }
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let mut shown = ShownNamespaces::new(cx);
    // Policies repeat their peers: each distinct one is matched once.
    type PeerKey<'a> = (Option<SelectorParts<'a>>, Option<SelectorParts<'a>>, &'a str);
    let mut matched: FxHashMap<PeerKey, bool> = FxHashMap::default();
    for policy in &cx.model.policies {
        for direction in [Direction::Ingress, Direction::Egress] {
            if !policy.affects(direction) {
                continue;
            }
            let (list, key) = list_and_key(direction);
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                for (pi, peer) in rule.peers.iter().flatten().enumerate() {
                    let PeerSelector::Pods { namespaces, pods, span } = peer else { continue };
                    let Some(named) = shown.reached(&policy.meta.namespace, namespaces.as_ref()) else { continue };
                    let peer_key = (
                        namespaces.as_ref().map(Selector::parts),
                        pods.as_ref().map(Selector::parts),
                        if namespaces.is_none() { &*policy.meta.namespace } else { "" },
                    );
                    let matches = *matched.entry(peer_key).or_insert_with(|| cx.graph.matches_any_class(policy, peer));
                    if matches {
                        continue;
                    }
                    let pods_text =
                        pods.as_ref().map_or("every pod".to_string(), |p| format!("pods `{}`", p.describe()));
                    out.push(
                        PolicyPeerMatchesNothing::finding(
                            policy.meta.at(*span),
                            format!(
                                "NetworkPolicy `{}`: this `{key}` element matches no pod: {pods_text} in {}",
                                policy.meta.name,
                                namespaces_text(&named)
                            ),
                        )
                        .with_key(policy.meta.key(), format!("{list}[{ri}].{key}[{pi}]"), pods_text),
                    );
                }
            }
        }
    }
    for policy in cx.model.tier_policies.iter().filter(|p| crate::graph::tiers::takes_part(p)) {
        for direction in [Direction::Ingress, Direction::Egress] {
            let (list, key) = list_and_key(direction);
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                for (pi, peer) in rule.peers.iter().enumerate() {
                    let TierPeer::Pods { namespaces, pods, span } = peer else { continue };
                    if pods.is_empty() {
                        continue;
                    }
                    let Some(named) = shown.reached("", Some(namespaces)) else { continue };
                    let peer_key = (Some(namespaces.parts()), Some(pods.parts()), "");
                    let matches = *matched
                        .entry(peer_key)
                        .or_insert_with(|| cx.graph.selects_some_class("", Some(namespaces), Some(pods)));
                    if matches {
                        continue;
                    }
                    let pods_text = format!("pods `{}`", pods.describe());
                    out.push(
                        PolicyPeerMatchesNothing::finding(
                            policy.meta.at(*span),
                            format!(
                                "{} {} rule {}: this `{key}` peer matches no pod: {pods_text} in {}",
                                policy.describe(),
                                direction.as_str(),
                                rule.label(ri),
                                namespaces_text(&named)
                            ),
                        )
                        .with_key(policy.meta.key(), format!("{list}[{ri}].{key}[{pi}]"), pods_text),
                    );
                }
            }
        }
    }
}

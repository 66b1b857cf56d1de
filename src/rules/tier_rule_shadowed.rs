//! `tier-rule-shadowed`: a rule of a cluster tier policy that can never decide, because rules of
//! higher precedence (earlier rules of its policy, rules of policies with a lower priority in its
//! tier) decide every connection it matches, for every pod it applies to. Its action never takes
//! effect, which usually means the rules are in the wrong order (an `Allow` of a namespace below a
//! `Deny` of the same namespace). Reported at the rule, naming the first rule that covers it.
//!
//! Judged on the pods and addresses the repository shows; a rule with a peer the manifests cannot
//! resolve (`nodes`, `domainNames`), or whose peers match nothing here, is not judged. The work is
//! bounded: a rule whose judgement would take more than a fixed number of evaluations is left
//! alone rather than slow a large repository down.

use std::collections::BTreeMap;

use super::Context;
use super::ids::TierRuleShadowed;
use super::Rule;
use crate::finding::Finding;
use crate::graph::tiers::Step;
use crate::graph::{ClassId, Conns, Graph};
use crate::model::tier::TierPeer;
use crate::model::Direction;

/// The evaluations (a counterpart against one step) a rule may cost before it is left alone.
const BUDGET: usize = 2_000_000;

/// A counterpart of a step: a class or an external atom.
#[derive(Clone, Copy)]
enum Counterpart {
    Class(ClassId),
    Atom(usize),
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    if graph.tier_steps.is_empty() {
        return;
    }
    // Per step: the distinct chains that hold it, each with one subject class and the step's
    // position in it (ingress named ports resolve on the subject: with them, every subject class
    // is its own group). Chains are shared, so this stays as small as the distinct chains.
    let mut groups: BTreeMap<usize, Vec<(ClassId, Direction, usize)>> = BTreeMap::new();
    let mut seen: rustc_hash::FxHashSet<(usize, u32)> = rustc_hash::FxHashSet::default();
    for c in 0..graph.classes.len() {
        if graph.classes[c].pseudo {
            continue;
        }
        let class = ClassId::new(c);
        for direction in [Direction::Ingress, Direction::Egress] {
            let chain = graph.chain_steps(class, direction);
            let id = graph.chain_id(class, direction);
            let named_anywhere =
                direction == Direction::Ingress && chain.iter().any(|&s| !graph.tier_steps[s as usize].named.is_empty());
            for (pos, &si) in chain.iter().enumerate() {
                let si = si as usize;
                if named_anywhere || seen.insert((si, id)) {
                    groups.entry(si).or_default().push((class, direction, pos));
                }
            }
        }
    }
    for (si, list) in groups {
        let step = &graph.tier_steps[si];
        if step.unresolved {
            continue;
        }
        let counterparts = counterparts(graph, step);
        if counterparts.is_empty() {
            continue;
        }
        if list.len().saturating_mul(counterparts.len()).saturating_mul(list.iter().map(|(_, _, p)| p + 1).max().unwrap_or(1)) > BUDGET {
            continue;
        }
        // The first earlier rule that took some of its connections, if it never decides, and
        // every rule that took some.
        let mut first_cover: Option<usize> = None;
        let mut covering: Vec<usize> = Vec::new();
        let mut decides = false;
        'outer: for &(subject, direction, pos) in &list {
            let prefix: Vec<usize> = graph.chain_steps(subject, direction)[..pos].iter().map(|&p| p as usize).collect();
            let subject = &subject;
            for &o in &counterparts {
                let destination = match (step.direction, o) {
                    (Direction::Ingress, _) => Some(&graph.classes[subject.index()]),
                    (Direction::Egress, Counterpart::Class(d)) => Some(&graph.classes[d.index()]),
                    (Direction::Egress, Counterpart::Atom(_)) => None,
                };
                let mine = step.ports_on(destination);
                if mine.is_empty() {
                    continue;
                }
                let mut remaining: Conns = mine;
                for &p in &prefix {
                    let earlier = &graph.tier_steps[p];
                    // Another policy of the same priority comes first only by the order of files:
                    // the API leaves that order undefined (`tier-priority-conflict`'s finding).
                    let same_priority = earlier.policy != step.policy
                        && cx.model.tier_policies[earlier.policy].priority == cx.model.tier_policies[step.policy].priority;
                    if earlier.tier != step.tier || same_priority || !matches(graph, earlier, o) {
                        continue;
                    }
                    let taken = remaining.intersect(&earlier.ports_on(destination));
                    if taken.is_empty() {
                        continue;
                    }
                    first_cover = Some(first_cover.map_or(p, |f: usize| f.min(p)));
                    if !covering.contains(&p) {
                        covering.push(p);
                    }
                    remaining = remaining.subtract(&taken);
                    if remaining.is_empty() {
                        break;
                    }
                }
                if !remaining.is_empty() {
                    decides = true;
                    break 'outer;
                }
            }
        }
        if decides {
            continue;
        }
        let Some(cover) = first_cover else { continue };
        let policy = &cx.model.tier_policies[step.policy];
        let rule = &policy.rules(step.direction)[step.rule];
        // Judged on the pods the repository declares; a peer broader than every covering rule's
        // (a namespace where those name some pods of it) may match pods declared elsewhere, which
        // the rule would decide: then it is not called shadowed.
        let covering_peers: Vec<&TierPeer> = covering
            .iter()
            .flat_map(|&p| {
                let s = &graph.tier_steps[p];
                cx.model.tier_policies[s.policy].rules(s.direction)[s.rule].peers.iter()
            })
            .collect();
        if !rule.peers.iter().all(|peer| covering_peers.iter().any(|q| covers(q, peer))) {
            continue;
        }
        let by = &graph.tier_steps[cover];
        let by_policy = &cx.model.tier_policies[by.policy];
        let by_rule = &by_policy.rules(by.direction)[by.rule];
        let by_words = if by.policy == step.policy {
            format!("its {} rule {}", by.direction.as_str(), by_rule.label(by.rule))
        } else {
            format!("{} {} rule {}", by_policy.describe(), by.direction.as_str(), by_rule.label(by.rule))
        };
        out.push(
            TierRuleShadowed::finding(
                policy.meta.at(rule.span),
                format!(
                    "{} {} rule {} can never decide: rules of higher precedence, from {by_words} on, decide every connection it matches",
                    policy.describe(),
                    step.direction.as_str(),
                    rule.label(step.rule)
                ),
            )
            .with_related(by_policy.meta.at(by_rule.span), format!("{} {} rule {}", by_policy.describe(), by.direction.as_str(), by_rule.label(by.rule)))
            .with_key(policy.meta.key(), format!("spec.{}[{}]", step.direction.as_str(), step.rule), ""),
        );
    }
}

/// The classes (not pseudo ones) and atoms a step's peers match.
fn counterparts(graph: &Graph, step: &Step) -> Vec<Counterpart> {
    let mut out = Vec::new();
    if step.every_pod {
        out.extend((0..graph.classes.len()).filter(|&c| !graph.classes[c].pseudo).map(|c| Counterpart::Class(ClassId::new(c))));
    } else if let Some(set) = step.classes {
        out.extend(graph.class_set(set).iter().filter(|c| !graph.classes[c.index()].pseudo).map(|&c| Counterpart::Class(c)));
    }
    for &(first, last) in &step.atoms {
        out.extend((first..=last).map(Counterpart::Atom));
    }
    out
}

/// Whether peer `wide` holds every pod or address `narrow` can, whatever the cluster holds
/// beyond the repository: the same selectors, every namespace, or a namespace set that holds
/// the narrow peer's namespaces whole.
fn covers(wide: &TierPeer, narrow: &TierPeer) -> bool {
    match (wide, narrow) {
        (TierPeer::Namespaces(w, _), _) if w.is_empty() => {
            matches!(narrow, TierPeer::Namespaces(..) | TierPeer::Pods { .. })
        }
        (TierPeer::Namespaces(w, _), TierPeer::Namespaces(n, _)) => same(w, n),
        (TierPeer::Namespaces(w, _), TierPeer::Pods { namespaces, .. }) => same(w, namespaces),
        (TierPeer::Pods { namespaces: wn, pods: wp, .. }, TierPeer::Pods { namespaces: nn, pods: np, .. }) => {
            (wn.is_empty() || same(wn, nn)) && (wp.is_empty() || same(wp, np))
        }
        (TierPeer::Networks(w, _), TierPeer::Networks(n, _)) => n.iter().all(|r| w.iter().any(|x| x.contains(r))),
        _ => false,
    }
}

/// Whether two selectors say the same thing (the same requirements, in any order).
fn same(a: &crate::model::selector::Selector, b: &crate::model::selector::Selector) -> bool {
    a.parts() == b.parts()
}

fn matches(graph: &Graph, step: &Step, o: Counterpart) -> bool {
    use crate::graph::tiers::Other;
    match o {
        Counterpart::Class(c) => graph.step_matches(step, &Other::Class(c)),
        Counterpart::Atom(i) => graph.step_matches(step, &Other::Atom(i)),
    }
}

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
    // Per step: the distinct chains that hold it, with one subject class each (the destination
    // of ingress named ports: classes of one chain may declare different names, so with named
    // ports every subject class is its own group).
    let mut groups: BTreeMap<usize, Vec<(Vec<usize>, ClassId)>> = BTreeMap::new();
    for c in 0..graph.classes.len() {
        if graph.classes[c].pseudo {
            continue;
        }
        let class = ClassId::new(c);
        for direction in [Direction::Ingress, Direction::Egress] {
            let chain: Vec<usize> = graph.chain_steps(class, direction).iter().map(|&s| s as usize).collect();
            for (pos, &si) in chain.iter().enumerate() {
                let prefix = &chain[..pos];
                let list = groups.entry(si).or_default();
                let named = direction == Direction::Ingress
                    && (graph.tier_steps[si].named.len() + prefix.iter().map(|&p| graph.tier_steps[p].named.len()).sum::<usize>()) > 0;
                if named || !list.iter().any(|(p, _)| p == prefix) {
                    list.push((prefix.to_vec(), class));
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
        if list.len().saturating_mul(counterparts.len()).saturating_mul(list.iter().map(|(p, _)| p.len() + 1).max().unwrap_or(1)) > BUDGET {
            continue;
        }
        // The first earlier rule that took some of its connections, if it never decides.
        let mut first_cover: Option<usize> = None;
        let mut decides = false;
        'outer: for (prefix, subject) in &list {
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
                for &p in prefix {
                    let earlier = &graph.tier_steps[p];
                    if earlier.tier != step.tier || !matches(graph, earlier, o) {
                        continue;
                    }
                    let taken = remaining.intersect(&earlier.ports_on(destination));
                    if taken.is_empty() {
                        continue;
                    }
                    first_cover = Some(first_cover.map_or(p, |f: usize| f.min(p)));
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

fn matches(graph: &Graph, step: &Step, o: Counterpart) -> bool {
    use crate::graph::tiers::Other;
    match o {
        Counterpart::Class(c) => graph.step_matches(step, &Other::Class(c)),
        Counterpart::Atom(i) => graph.step_matches(step, &Other::Atom(i)),
    }
}

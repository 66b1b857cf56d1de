//! `tier-priority-conflict`: two cluster tier policies of one tier with the same priority that
//! apply to the same pods in the same direction. The API leaves the order of their rules
//! undefined (an implementation may apply either first), so where their rules overlap the verdict
//! depends on the dataplane. Reported at the later policy's `priority`, once per pair.

use std::collections::BTreeSet;

use super::Context;
use super::ids::TierPriorityConflict;
use super::Rule;
use crate::finding::Finding;
use crate::model::Direction;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    let tiers = &cx.model.tier_policies;
    if tiers.len() < 2 || graph.tier_steps.is_empty() {
        return;
    }
    // Per policy and direction: the classes it applies to (those whose chain holds its steps).
    let mut applies: Vec<[BTreeSet<usize>; 2]> = vec![Default::default(); tiers.len()];
    for c in 0..graph.classes.len() {
        let class = crate::graph::ClassId::new(c);
        if graph.classes[c].pseudo {
            continue;
        }
        for (d, direction) in [Direction::Ingress, Direction::Egress].into_iter().enumerate() {
            for step in graph.chain(class, direction) {
                applies[step.policy][d].insert(c);
            }
        }
    }
    let order = crate::graph::tiers::evaluation_order(tiers);
    for (i, &a) in order.iter().enumerate() {
        for &b in &order[i + 1..] {
            let (pa, pb) = (&tiers[a], &tiers[b]);
            if pa.tier != pb.tier || pa.priority.is_none() || pa.priority != pb.priority {
                continue;
            }
            // Only where the two could decide one connection differently: shared pods, and rules
            // of each whose peers and ports overlap with different actions.
            let shared: Vec<Direction> = [Direction::Ingress, Direction::Egress]
                .into_iter()
                .enumerate()
                .filter(|(d, _)| !applies[a][*d].is_disjoint(&applies[b][*d]))
                .map(|(_, direction)| direction)
                .filter(|&direction| conflicting_rules(graph, a, b, direction))
                .collect();
            let Some(&direction) = shared.first() else { continue };
            let Some(&class) = applies[a][direction_index(direction)].intersection(&applies[b][direction_index(direction)]).next()
            else {
                continue;
            };
            let pods = &graph.classes[class];
            let whose = pods
                .workloads
                .first()
                .map(|&w| {
                    let w = &cx.model.workloads[w];
                    format!("{} `{}/{}`", w.meta.kind, w.meta.namespace, w.meta.name)
                })
                .unwrap_or_else(|| format!("pods of namespace `{}`", pods.namespace));
            let directions: Vec<&str> = shared.iter().map(|d| d.as_str()).collect();
            let priority = pb.priority.unwrap_or_default();
            out.push(
                TierPriorityConflict::finding(
                    pb.meta.at(pb.priority_span.unwrap_or(pb.meta.name_span)),
                    format!(
                        "{} has priority {priority} in the {} tier, as {} does, and both apply to {whose} for {}: the order of their rules is undefined, so which one decides depends on the dataplane",
                        pb.describe(),
                        pb.tier.as_str(),
                        pa.describe(),
                        directions.join(" and ")
                    ),
                )
                .with_related(
                    pa.meta.at(pa.priority_span.unwrap_or(pa.meta.name_span)),
                    format!("{} has the same priority", pa.describe()),
                )
                .with_key(pb.meta.key(), "spec.priority", pa.meta.key()),
            );
        }
    }
}

fn direction_index(direction: Direction) -> usize {
    match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

/// Whether a rule of policy `a` and a rule of policy `b` for `direction` match a common pod or
/// address on a common port with different actions.
fn conflicting_rules(graph: &crate::graph::Graph, a: usize, b: usize, direction: Direction) -> bool {
    let steps = |p: usize| graph.tier_steps.iter().filter(move |s| s.policy == p && s.direction == direction);
    steps(a).any(|x| steps(b).any(|y| x.action != y.action && peers_overlap(graph, x, y) && ports_overlap(x, y)))
}

fn peers_overlap(graph: &crate::graph::Graph, x: &crate::graph::tiers::Step, y: &crate::graph::tiers::Step) -> bool {
    let pods = |s: &crate::graph::tiers::Step| s.every_pod || s.classes.is_some_and(|set| !graph.class_set(set).is_empty());
    let classes = match (x.classes, y.classes) {
        _ if (x.every_pod && pods(y)) || (y.every_pod && pods(x)) => true,
        (Some(p), Some(q)) => {
            let (p, q) = (graph.class_set(p), graph.class_set(q));
            p.iter().any(|c| q.binary_search(c).is_ok())
        }
        _ => false,
    };
    let atoms = x.atoms.iter().any(|&(f1, l1)| y.atoms.iter().any(|&(f2, l2)| f1 <= l2 && f2 <= l1));
    classes || atoms
}

fn ports_overlap(x: &crate::graph::tiers::Step, y: &crate::graph::tiers::Step) -> bool {
    // A container port name may stand for any number: counted as overlapping.
    !x.numeric.intersect(&y.numeric).is_empty() || !x.named.is_empty() || !y.named.is_empty()
}

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
            let shared: Vec<Direction> = [Direction::Ingress, Direction::Egress]
                .into_iter()
                .enumerate()
                .filter(|(d, _)| !applies[a][*d].is_disjoint(&applies[b][*d]))
                .map(|(_, direction)| direction)
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

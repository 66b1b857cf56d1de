//! `workload-not-isolated`: in a namespace whose policies manage a direction, a workload that no
//! policy isolates for it, or whose isolating policies admit every pod of the cluster anyway.

use super::common::{direction_index, directions_text, managed_directions};
use super::Context;
use crate::finding::{Finding, Level};
use crate::model::Direction;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let managed = managed_directions(cx.model);
    for (id, class) in cx.graph.classes.iter().enumerate() {
        if class.pseudo {
            continue;
        }
        let Some(flags) = managed.get(&*class.namespace) else { continue };
        let mut open = Vec::new();
        let mut allow_all = Vec::new();
        for direction in [Direction::Ingress, Direction::Egress] {
            if !flags[direction_index(direction)] || !cx.graph.open_to_whole_cluster(id as u32, direction) {
                continue;
            }
            if cx.graph.isolated(id as u32, direction) {
                allow_all.push(direction);
            } else {
                open.push(direction);
            }
        }
        if open.is_empty() && allow_all.is_empty() {
            continue;
        }
        for &w in &class.workloads {
            let workload = &cx.model.workloads[w];
            let mut parts = Vec::new();
            if !open.is_empty() {
                parts.push(format!("no NetworkPolicy isolates its {}", directions_text(&open)));
            }
            if !allow_all.is_empty() {
                parts.push(format!(
                    "the policies that isolate its {} admit every pod of the cluster on every port",
                    directions_text(&allow_all)
                ));
            }
            let dirs: Vec<Direction> = open.iter().chain(allow_all.iter()).copied().collect();
            out.push(
                Finding::new(
                    "workload-not-isolated",
                    Level::Warning,
                    workload.meta.location(),
                    format!(
                        "{} `{}` is not isolated although namespace `{}` has network policies: {}",
                        workload.meta.kind,
                        workload.meta.name,
                        workload.meta.namespace,
                        parts.join("; ")
                    ),
                )
                .with_key(workload.meta.key(), "metadata.name", directions_text(&dirs)),
            );
        }
    }
}

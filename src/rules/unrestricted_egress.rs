//! `unrestricted-egress`: a workload whose egress a policy isolates, yet that may still connect
//! to every external address on every port.

use super::Context;
use super::ids::UnrestrictedEgress;
use super::Rule;
use crate::finding::Finding;
use crate::model::net::{Family, IpRange};
use crate::model::{Direction, PeerSelector};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let anywhere = IpRange::whole(Family::V4);
    for (id, class) in cx.graph.classes.iter().enumerate() {
        if class.pseudo || !cx.graph.isolated(crate::graph::ClassId::new(id), Direction::Egress) {
            continue;
        }
        if !cx.graph.egress_to_external(crate::graph::ClassId::new(id), &anywhere).is_all() {
            continue;
        }
        // The rules that open everything, for the related locations.
        let mut admitting = Vec::new();
        for &pi in &class.egress_policies {
            let policy = &cx.model.policies[pi];
            for rule in &policy.egress {
                let everywhere = match &rule.peers {
                    None => true,
                    Some(peers) => peers.iter().any(|p| {
                        matches!(p, PeerSelector::IpBlock { cidr, except, .. } if cidr.is_whole() && except.is_empty())
                    }),
                };
                if everywhere && rule.ports.is_none() {
                    admitting.push((policy.meta.at(rule.span), policy.meta.name.clone()));
                }
            }
        }
        for &w in &class.workloads {
            let workload = &cx.model.workloads[w];
            let mut finding = UnrestrictedEgress::finding(workload.meta.location(),
                format!(
                    "{} `{}` may connect to every external address on every port, although a NetworkPolicy isolates its egress",
                    workload.meta.kind, workload.meta.name
                ),
            )
            .with_key(workload.meta.key(), "metadata.name", "0.0.0.0/0");
            for (location, name) in &admitting {
                finding = finding.with_related(*location, format!("NetworkPolicy `{name}` allows all egress here"));
            }
            out.push(finding);
        }
    }
}

//! `host-network-bypasses-policy`: a `hostNetwork: true` workload that a NetworkPolicy selects.
//! Most dataplanes neither select host-network pods by label nor enforce policy on them.

use super::Context;
use super::ids::HostNetworkBypassesPolicy;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for class in cx.graph.classes.iter().filter(|c| !c.pseudo) {
        let selecting = class.ingress_policies.iter().chain(class.egress_policies.iter()).next();
        let Some(&pi) = selecting else { continue };
        let policy = &cx.model.policies[pi];
        for &w in &class.workloads {
            let workload = &cx.model.workloads[w];
            let Some(span) = workload.host_network else { continue };
            out.push(
                HostNetworkBypassesPolicy::finding(workload.meta.at(span),
                    format!(
                        "{} `{}` uses the node's network (`hostNetwork: true`): most dataplanes do not enforce NetworkPolicy `{}` on it",
                        workload.meta.kind, workload.meta.name, policy.meta.name
                    ),
                )
                .with_key(workload.meta.key(), "spec.hostNetwork", "")
                .with_related(policy.meta.location(), "this policy selects it"),
            );
        }
    }
}

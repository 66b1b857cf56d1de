//! `policy-peer-matches-nothing`: a `from`/`to` element whose selectors match no pod of the
//! namespaces the repository declares. A namespaceSelector that matches no namespace of the
//! repository may name one outside it (kube-system, a controller's namespace): not reported.

use super::common::workloads_by_namespace;
use super::Context;
use crate::finding::{Finding, Level};
use crate::model::{Direction, PeerSelector};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let with_workloads = workloads_by_namespace(cx.model);
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
                    // Namespaces of the repository the peer names.
                    let named: Vec<&str> = match namespaces {
                        None => vec![&*policy.meta.namespace],
                        Some(sel) => cx
                            .graph
                            .namespaces
                            .iter()
                            .filter(|(ns, (labels, _))| with_workloads.contains_key(&***ns) && sel.matches(labels))
                            .map(|(ns, _)| &**ns)
                            .collect(),
                    };
                    if !named.iter().any(|ns| with_workloads.contains_key(ns)) {
                        continue;
                    }
                    if !cx.graph.classes_matching(policy, peer).is_empty() {
                        continue;
                    }
                    let pods_text = pods.as_ref().map_or("every pod".to_string(), |p| format!("pods `{}`", p.describe()));
                    out.push(
                        Finding::new(
                            "policy-peer-matches-nothing",
                            Level::Warning,
                            policy.meta.at(*span),
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

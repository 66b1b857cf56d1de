//! `unknown-named-port`: a named port in a policy rule that no destination pod declares with that
//! name and protocol, so the entry allows nothing. The engine resolves named ports while it
//! builds the graph and records each one it cannot resolve ([`Unresolved`]); this rule
//! words them.

use super::Context;
use super::ids::UnknownNamedPort;
use super::Rule;
use crate::finding::Finding;
use crate::graph::UnknownNamedPort as Unresolved;
use crate::model::Direction;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    out.extend(cx.graph.unknown_named_ports.iter().map(finding));
    tier_named_ports(cx, out);
}

/// Named ports of cluster tier rules (`namedPort`, `destinationNamedPort`) that no destination
/// declares, whatever the protocol: on ingress the pods the policy applies to, on egress the pods
/// the rule's peers match. Destinations the repository does not show (a rule whose pods are all
/// elsewhere) are not held against it.
fn tier_named_ports(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    for (si, step) in graph.tier_steps.iter().enumerate() {
        if step.named.is_empty() {
            continue;
        }
        let destinations: Vec<&crate::graph::Class> = match step.direction {
            Direction::Ingress => (0..graph.classes.len())
                .filter(|&c| graph.chain_steps(crate::graph::ClassId::new(c), Direction::Ingress).contains(&(si as u32)))
                .map(|c| &graph.classes[c])
                .collect(),
            Direction::Egress => step.classes.map_or(&[][..], |set| graph.class_set(set)).iter().map(|c| &graph.classes[c.index()]).collect(),
        };
        let destinations: Vec<&crate::graph::Class> = destinations.into_iter().filter(|c| !c.pseudo).collect();
        if destinations.is_empty() {
            continue;
        }
        let policy = &cx.model.tier_policies[step.policy];
        let rule = &policy.rules(step.direction)[step.rule];
        for port in rule.ports.iter().flatten() {
            let crate::model::tier::TierPort::Named { name, span } = port else { continue };
            if destinations.iter().any(|c| c.named_ports.iter().any(|(n, _, _)| n == name)) {
                continue;
            }
            let whose = match step.direction {
                Direction::Ingress => "the pods this policy applies to",
                Direction::Egress => "the pods this rule sends to",
            };
            out.push(
                UnknownNamedPort::finding(
                    policy.meta.at(*span),
                    format!(
                        "named port `{name}` is not a container port of {whose}; {} {} rule {} matches nothing on it",
                        policy.describe(),
                        step.direction.as_str(),
                        rule.label(step.rule)
                    ),
                )
                .with_key(policy.meta.key(), format!("spec.{}[{}].ports", step.direction.as_str(), step.rule), name.to_string()),
            );
        }
    }
}

fn finding(fact: &Unresolved) -> Finding {
    let whose = match fact.direction {
        Direction::Ingress => "the pods this policy selects",
        Direction::Egress => "the pods this rule sends to",
    };
    UnknownNamedPort::finding(
        fact.at,
        format!(
            "named port `{}`/{} is not a container port of {whose}; this entry allows nothing",
            fact.name, fact.protocol
        ),
    )
}

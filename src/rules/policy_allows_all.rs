//! `policy-allows-all`: an ingress rule that admits every pod of the cluster or every external
//! address. A warning when it allows every port, a note when `ports` narrows it. A whole block
//! written with host bits (`52.207.37.75/0`) is named as the typo it is.

use super::Context;
use super::ids::PolicyAllowsAll;
use super::words::host_bits_words;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::{Direction, PeerSelector};

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for (pi, policy) in cx.model.policies.iter().enumerate() {
        if !policy.affects(Direction::Ingress) {
            continue;
        }
        // Where the Admin tier denies every pod to every pod the policy selects, before the
        // policy is consulted, its rules admit no pod.
        let sealed = cx.graph.policy_selects.get(pi).is_some_and(|selected| {
            !selected.is_empty() && selected.iter().all(|&c| cx.graph.admin_denies_every_pod(c, Direction::Ingress))
        });
        for (i, rule) in policy.ingress.iter().enumerate() {
            let level = if rule.ports.is_none() { PolicyAllowsAll::DOC.level } else { Level::Note };
            let on = rule.ports_text();
            // `tail`: what follows the ports (the CIDR typo that opens the rule).
            let mut push = |span, what: &str, peer: &str, tail: &str| {
                out.push(
                    Finding::new(PolicyAllowsAll::ID,
                        level,
                        policy.meta.at(span),
                        format!("NetworkPolicy `{}` admits {what} {on}{tail}", policy.meta.name),
                    )
                    .with_key(policy.meta.key(), format!("spec.ingress[{i}]"), peer),
                );
            };
            let Some(peers) = &rule.peers else {
                push(rule.span, "every pod of the cluster and every external address (a rule without `from`)", "*", "");
                continue;
            };
            for peer in peers {
                match peer {
                    PeerSelector::Pods { namespaces: Some(ns), pods, span }
                        if ns.is_empty() && pods.as_ref().is_none_or(|p| p.is_empty()) && !sealed =>
                    {
                        push(*span, "every pod of the cluster (`namespaceSelector: {}`)", "namespaceSelector: {}", "");
                    }
                    PeerSelector::IpBlock { cidr, except, span, .. } if cidr.is_whole() && except.is_empty() => {
                        let written = match cidr.family {
                            crate::model::net::Family::V4 => "0.0.0.0/0",
                            crate::model::net::Family::V6 => "::/0",
                        };
                        // `52.207.37.75/0` is a typo that admits everything: name it. The peer of
                        // the logical key stays what the block covers.
                        match peer.cidr_host_bits() {
                            Some(h) => push(*span, "every external address", written, &format!(" {}", host_bits_words(h))),
                            None => push(*span, &format!("every external address (`{written}`)"), written, ""),
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

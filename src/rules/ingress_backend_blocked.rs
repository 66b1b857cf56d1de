//! `ingress-backend-blocked`: an Ingress or Route backend whose pods' ingress policies admit no
//! plausible ingress controller on the target port: an intended route that cannot work.
//!
//! "Plausible" follows what is known about the controller. A known controller (well-known class,
//! or declared in the configuration) must be admitted as what it is. An unknown controller could
//! run in any namespace, with any labels, or on the host network (arriving from a node address):
//! the route is blocked only when no rule could admit such a controller, i.e. every admitting
//! rule names pods of the policy's own namespace that the repository declares.

use std::collections::BTreeMap;

use super::words::{object_words, request_words, seen_source_words};
use super::Context;
use super::ids::IngressBackendBlocked;
use super::Rule;
use crate::finding::Finding;
use crate::graph::routes::SeenSource;
use crate::graph::{ClassId, Conns};
use crate::model::tier::Action;
use crate::model::Direction;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    let model = cx.model;
    // Per entry: the backend classes and whether each admits a plausible controller.
    let mut per_entry: BTreeMap<usize, Vec<(ClassId, bool, Conns)>> = BTreeMap::new();
    // A Gateway API backend is one entry per listener, but one data plane sends for all the
    // listeners of its Gateway: it is judged once, at its first entry.
    let mut first_of: BTreeMap<(crate::span::Location, usize), usize> = BTreeMap::new();
    for x in &graph.exposures {
        let mut ei = x.entry;
        let entry = &graph.entries[ei];
        if !entry.kind.through_controller() {
            continue;
        }
        if let Some(via) = entry.via {
            ei = *first_of.entry((entry.at, via.listener.gateway)).or_insert(ei);
        }
        // Behind an unknown controller, `admitted` already counts any plausible controller.
        let admits = !x.admitted.is_empty();
        let classes = per_entry.entry(ei).or_default();
        if !classes.iter().any(|(c, _, _)| *c == x.class) {
            classes.push((x.class, admits, x.wanted.clone()));
        }
    }
    for (ei, classes) in per_entry {
        if classes.iter().any(|(_, admits, _)| *admits) {
            continue;
        }
        let entry = &graph.entries[ei];
        let service = &model.services[entry.service];
        let mut wanted = Conns::none();
        for (_, _, w) in &classes {
            wanted.union_with(w);
        }
        let peers: Vec<&str> = classes
            .iter()
            .flat_map(|(c, _, _)| graph.classes[c.index()].peers.iter())
            .map(|&p| graph.peers[p.index()].name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        // Tier rules that deny the controller on the wanted ports, before or after the
        // NetworkPolicies: cited, and the message names the tiers.
        let tier_denials = tier_denials(cx, &classes, &entry.seen_source, &wanted);
        let what = if classes.iter().any(|(c, _, _)| graph.has_chain(*c, Direction::Ingress)) {
            "tier policy or NetworkPolicy"
        } else {
            "ingress policy"
        };
        let request = entry.request.as_ref().map(request_words);
        // One data plane sends for every listener of a Gateway: the Gateway is named, not one listener.
        let route = match (&request, entry.via) {
            (Some(r), _) => format!(" ({r})"),
            (None, Some(via)) => {
                let gateway = &model.gateway.gateways[via.listener.gateway].meta;
                format!(" (rule {}, through Gateway `{}/{}`)", via.rule + 1, gateway.namespace, gateway.name)
            }
            (None, None) => String::new(),
        };
        let mut finding = IngressBackendBlocked::finding(
            entry.at,
            format!(
                "{}{route} routes to Service `{}`, but no {what} of {} admits {} on {wanted}: the route cannot work",
                object_words(entry, model),
                service.meta.name,
                peers.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
                seen_source_words(&entry.seen_source)
            ),
        )
        .with_key(
            entry.opener.meta(model).key(),
            match (&request, entry.via) {
                (None, Some(via)) => {
                    let gateway = &model.gateway.gateways[via.listener.gateway].meta;
                    format!("{}:rule {}:{}/{}", entry.field, via.rule + 1, gateway.namespace, gateway.name)
                }
                _ => format!("{}:{}", entry.field, request.as_deref().unwrap_or("*")),
            },
            format!("{} {wanted}", service.meta.name),
        );
        let mut cited = std::collections::BTreeSet::new();
        for (c, _, _) in &classes {
            for &pi in &graph.classes[c.index()].ingress_policies {
                if cited.insert(pi) {
                    let p = &model.policies[pi];
                    finding = finding.with_related(
                        p.meta.location(),
                        format!("NetworkPolicy `{}` isolates the backend pods", p.meta.name),
                    );
                }
            }
        }
        for (location, message) in tier_denials {
            finding = finding.with_related(location, message);
        }
        out.push(finding);
    }
}

/// The Deny rules of the backend classes' tier chains that cover some wanted port and plainly
/// match the controller: rules against every pod, rules that name the controller's namespace's
/// pods, and network rules where the controller arrives from an address.
fn tier_denials(
    cx: &Context,
    classes: &[(ClassId, bool, Conns)],
    source: &SeenSource,
    wanted: &Conns,
) -> Vec<(crate::span::Location, String)> {
    let graph = cx.graph;
    let controller_namespace = match source {
        SeenSource::ControllerPods(ns) | SeenSource::GatewayPods(ns) => Some(&**ns),
        _ => None,
    };
    let from_address = matches!(
        source,
        SeenSource::Client | SeenSource::Node | SeenSource::Gateway(_) | SeenSource::CloudProxies(_)
    );
    let mut cited = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (c, _, _) in classes {
        let destination = &graph.classes[c.index()];
        for step in graph.chain(*c, Direction::Ingress) {
            if step.action != Action::Deny || step.ports_on(Some(destination)).intersect(wanted).is_empty() {
                continue;
            }
            let names_controller = step.every_namespace
                || step.every_pod
                || (from_address && !step.atoms.is_empty())
                || controller_namespace.is_some_and(|ns| {
                    step.classes.is_some_and(|set| {
                        graph.class_set(set).iter().any(|k| &*graph.classes[k.index()].namespace == ns)
                    })
                });
            if !names_controller || !cited.insert((step.policy, step.rule)) {
                continue;
            }
            let policy = &cx.model.tier_policies[step.policy];
            let Some(rule) = policy.ingress.get(step.rule) else { continue };
            out.push((
                policy.meta.at(rule.action_span),
                format!("{} ingress rule {} denies connections to the backend pods", policy.describe(), rule.label(step.rule)),
            ));
        }
    }
    out
}

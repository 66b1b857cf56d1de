//! `cross-namespace-exposure`: pods that every namespace may reach, or, where the configuration
//! declares tenants (a namespace label), pods that another tenant's namespaces may reach.
//!
//! Reported at the rule peer that opens the way: a `namespaceSelector: {}` (every namespace,
//! with or without a podSelector), or, with tenants, any peer that matches pods of another
//! tenant's namespace. With tenants, a workload that nothing isolates for ingress is reported at
//! its name; a tenant namespace without any ingress policy once, at the namespace.

use std::collections::{BTreeMap, BTreeSet};

use super::common::namespace_location;
use super::Context;
use super::ids::CrossNamespaceExposure;
use super::Rule;
use crate::finding::Finding;
use crate::model::{Direction, PeerSelector};

/// A namespace's workloads, how many of them are open to other tenants, and its judged classes
/// (index and class) in graph order.
type NamespaceCount<'g> = (usize, usize, Vec<(usize, &'g crate::graph::Class)>);

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    let model = cx.model;
    let tenant_label = graph.profile.tenant_label.as_deref();
    let tenant_of = |namespace: &str| -> Option<String> {
        let label = tenant_label?;
        graph
            .namespaces
            .get(namespace)
            .and_then(|(labels, _)| labels.get(label).map(str::to_string))
            .or_else(|| cx.namespace_labels(namespace).get(label).map(str::to_string))
    };
    for (pi, policy) in model.policies.iter().enumerate() {
        if !policy.affects(Direction::Ingress) || graph.policy_selects[pi].is_empty() {
            continue;
        }
        let own_tenant = tenant_of(&policy.meta.namespace);
        let selected = &graph.policy_selects[pi];
        // Where the Admin tier denies every pod to every pod the policy selects, before the
        // policy is consulted, its rules admit no pod.
        let sealed = selected.iter().all(|&c| graph.admin_denies_every_pod(c, Direction::Ingress));
        // Whether a pod of class `o` gets into some selected pod past the Admin tier (which may
        // keep other tenants out whatever the NetworkPolicy admits).
        let past_admin_tier = |o: crate::graph::ClassId| {
            selected.iter().any(|&c| {
                !graph.has_chain(c, Direction::Ingress)
                    || !graph
                        .tiers_allow(
                            c,
                            Direction::Ingress,
                            &crate::graph::tiers::Other::Class(o),
                            Some(c),
                            Some(&crate::graph::Conns::all()),
                        )
                        .is_empty()
            })
        };
        for (ri, rule) in policy.ingress.iter().enumerate() {
            for (j, peer) in rule.peers.iter().flatten().enumerate() {
                let PeerSelector::Pods { namespaces, pods, span } = peer else { continue };
                let every_namespace = namespaces.as_ref().is_some_and(|s| s.is_empty()) && !sealed;
                // Other tenants whose namespaces hold pods this peer matches.
                let mut others: BTreeSet<String> = BTreeSet::new();
                if let (Some(own), Some(sel)) = (&own_tenant, namespaces) {
                    for (ns, (labels, classes)) in &graph.namespaces {
                        let Some(t) = tenant_label.and_then(|l| labels.get(l)) else { continue };
                        if t == own || !sel.matches(labels) {
                            continue;
                        }
                        let any = classes.iter().any(|&c| {
                            let class = &graph.classes[c.index()];
                            !class.pseudo && pods.as_ref().is_none_or(|p| p.matches(&class.labels)) && past_admin_tier(c)
                        });
                        if any {
                            others.insert(format!("`{t}` (namespace `{ns}`)"));
                        }
                    }
                }
                if !every_namespace && others.is_empty() {
                    continue;
                }
                let whom = match pods {
                    Some(p) if !p.is_empty() => format!("pods matching {}", p.describe()),
                    _ => "every pod".to_string(),
                };
                let tenants = others.iter().cloned().collect::<Vec<_>>().join(", ");
                let on = rule.ports_text();
                let message = match (every_namespace, others.is_empty()) {
                    (true, true) => format!(
                        "NetworkPolicy `{}` admits {whom} of every namespace (`namespaceSelector: {{}}`) to the pods it selects {on}",
                        policy.meta.name
                    ),
                    (true, false) => format!(
                        "NetworkPolicy `{}` admits {whom} of every namespace (`namespaceSelector: {{}}`) {on}, another tenant's included: {tenants}",
                        policy.meta.name
                    ),
                    (false, _) => {
                        format!("NetworkPolicy `{}` admits {whom} of another tenant's namespaces {on}: {tenants}", policy.meta.name)
                    }
                };
                out.push(
                    CrossNamespaceExposure::finding(policy.meta.at(*span), message).with_key(
                        policy.meta.key(),
                        format!("spec.ingress[{ri}].from[{j}]"),
                        "namespaceSelector",
                    ),
                );
            }
        }
    }
    gateway_paths(cx, &tenant_of, out);
    // Without enforcement nothing is isolated, which `network-policy-not-enforced` says once.
    if tenant_label.is_none() || !graph.profile.dataplane.enforces() {
        return;
    }
    // With tenants: workloads that nothing isolates are open to every other tenant.
    // Per namespace: its workloads, those open, and its judged classes in graph order.
    let mut open_namespaces: BTreeMap<&str, NamespaceCount> = BTreeMap::new();
    // Windows pods the profile leaves unenforced are `network-policy-not-enforced`'s.
    let judged = |c: &crate::graph::Class| !c.pseudo && (!c.windows || graph.profile.windows_enforced);
    // Open to other tenants: no NetworkPolicy isolates the pods, and where the cluster tiers
    // apply to them, they admit some pod of another tenant (a tier policy that keeps tenants
    // apart closes them without a NetworkPolicy).
    let open_to_others = |id: crate::graph::ClassId, class: &crate::graph::Class| -> bool {
        if class.isolated(Direction::Ingress) {
            return false;
        }
        if !graph.has_chain(id, Direction::Ingress) {
            return true;
        }
        let own = tenant_of(&class.namespace);
        graph.classes.iter().enumerate().any(|(s, other)| {
            !other.pseudo
                && other.namespace != class.namespace
                && tenant_of(&other.namespace).is_some_and(|t| Some(&t) != own.as_ref())
                && !graph
                    .ingress_allows(id, &crate::graph::Source::Class(crate::graph::ClassId::new(s)))
                    .is_empty()
        })
    };
    let mut open_classes: BTreeSet<usize> = BTreeSet::new();
    for (id, class) in graph.classes.iter().enumerate().filter(|(_, c)| judged(c)) {
        let entry = open_namespaces.entry(&*class.namespace).or_default();
        entry.0 += class.workloads.len();
        if open_to_others(crate::graph::ClassId::new(id), class) {
            entry.1 += class.workloads.len();
            open_classes.insert(id);
        }
        entry.2.push((id, class));
    }
    let has_tenants = graph.namespaces.keys().filter_map(|ns| tenant_of(ns)).collect::<BTreeSet<_>>().len() > 1;
    if !has_tenants {
        return;
    }
    // The first workload of each namespace, in model order.
    let mut first_workload: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for (i, w) in model.workloads.iter().enumerate() {
        first_workload.entry(&w.meta.namespace).or_insert(i);
    }
    for (namespace, (all, open, classes)) in open_namespaces {
        let Some(tenant) = tenant_of(namespace) else { continue };
        if open == 0 {
            continue;
        }
        // Nothing of the namespace isolated: one finding for the namespace, not one per workload.
        if open == all {
            let first = first_workload.get(namespace).copied();
            if let Some(at) = namespace_location(cx, namespace, first) {
                out.push(
                    CrossNamespaceExposure::finding(at,
                        format!(
                            "the workloads of namespace `{namespace}` (tenant `{tenant}`) admit connections from the namespaces of every other tenant: no NetworkPolicy isolates them for ingress"
                        ),
                    )
                    .with_key(format!("Namespace/{namespace}"), "tenant", tenant),
                );
            }
            continue;
        }
        for (id, class) in classes {
            if !open_classes.contains(&id) {
                continue;
            }
            for &w in &class.workloads {
                let workload = &model.workloads[w];
                out.push(
                    CrossNamespaceExposure::finding(workload.meta.location(),
                        format!(
                            "{} `{}` (tenant `{tenant}`) admits connections from the namespaces of every other tenant: no NetworkPolicy isolates its pods for ingress",
                            workload.meta.kind, workload.meta.name
                        ),
                    )
                    .with_key(workload.meta.key(), "tenant", tenant.clone()),
                );
            }
        }
    }
}

/// With tenants: workloads that a route of another tenant's namespace sends traffic to, through a
/// Gateway (a cross-namespace backendRef that a ReferenceGrant permits). A shared Gateway of a
/// platform namespace that carries a tenant's routes to that tenant's own workloads is the usual
/// pattern, not a gap: the route's namespace decides, not the Gateway's. Reported at the
/// backendRef, once per Gateway and workload.
fn gateway_paths(cx: &Context, tenant_of: &dyn Fn(&str) -> Option<String>, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    let model = cx.model;
    let mut seen: BTreeSet<(crate::span::Location, usize, crate::graph::PeerId)> = BTreeSet::new();
    for x in &graph.exposures {
        let entry = &graph.entries[x.entry];
        let Some(via) = entry.via else { continue };
        if x.admitted.is_empty() {
            continue;
        }
        let gateway = &model.gateway.gateways[via.listener.gateway];
        let class = &graph.classes[x.class.index()];
        let route = &model.gateway.routes[via.route];
        let (Some(route_tenant), Some(tenant)) = (tenant_of(&route.meta.namespace), tenant_of(&class.namespace))
        else {
            continue;
        };
        if route_tenant == tenant {
            continue;
        }
        for &peer in &class.peers {
            if !seen.insert((entry.at, via.listener.gateway, peer)) {
                continue;
            }
            let name = &graph.peers[peer.index()].name;
            out.push(
                CrossNamespaceExposure::finding(
                    entry.at,
                    format!(
                        "`{name}` (tenant `{tenant}`) is reachable through Gateway `{}/{}` by {} `{}/{}` of tenant `{route_tenant}` on {}: another tenant's route sends traffic to it",
                        gateway.meta.namespace,
                        gateway.meta.name,
                        route.kind.as_str(),
                        route.meta.namespace,
                        route.meta.name,
                        x.admitted
                    ),
                )
                .with_key(
                    route.meta.key(),
                    format!("spec.rules.backendRefs:{}/{}", gateway.meta.namespace, gateway.meta.name),
                    name.clone(),
                ),
            );
        }
    }
}

//! Gateway API ways in: which route attaches to which listener, which backends it may use, and
//! the entries that result, as the spec decides them.
//!
//! A route's parentRef attaches it to the listeners of an existing Gateway (or of a ListenerSet
//! the Gateway accepts) that match its `sectionName` and `port`, whose `allowedRoutes` admit the
//! route's namespace and kind, and whose hostname intersects one of the route's. A backendRef
//! sends traffic to a Service port when its weight is above zero, the Service exists, and a
//! cross-namespace reference is permitted by a ReferenceGrant of the Service's namespace. Each
//! attached listener and usable backend becomes an [`Entry`] of kind Gateway, whose source is the
//! Gateway's data plane; each reason a parentRef attaches to nothing, or a backendRef is refused,
//! is a typed fact for the rules. Nothing here is worded.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::routes::{
    Backends, Entry, EntryKind, Guard, MissingBackend, Opener, PortChoice, SeenSource, Source, UnresolvedBackend,
};
pub use super::routes::{GatewayVia, ListenerAt};
use super::ClassId;
use crate::model::gateway::{FromNamespaces, Gateway, GatewayRoute, ParentRef};
use crate::model::selector::Labels;
use crate::model::{net::parse_cidr, Model};
use crate::profile::controllers::Controller;
use crate::profile::gateways::{self, Implementation};
use crate::span::Location;

/// Why a parentRef attaches the route to no listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detachment {
    /// No Gateway of that name in that namespace, where one whose name is one letter off is
    /// declared (a likely typo): that one's name.
    NoParent(Box<str>),
    /// No listener of that `sectionName` (and `port`).
    NoListener,
    /// The listeners' `allowedRoutes.namespaces` exclude the route's namespace.
    NamespaceNotAllowed,
    /// The listeners' `allowedRoutes.kinds` (or protocols) do not take the route's kind.
    KindNotAllowed,
    /// No hostname of the route intersects a listener's.
    NoHostname,
    /// The ListenerSet is not accepted by its Gateway (`allowedListeners`).
    ListenerSetNotAllowed,
    /// A listener's namespace selector names labels of the route's namespace, which the
    /// repository does not declare: whether it attaches is not known (never reported).
    Unknown,
}

/// A parentRef that attaches its route to nothing.
#[derive(Clone, Debug)]
pub struct Detached {
    /// Index into the model's Gateway API routes.
    pub route: usize,
    pub parent: usize,
    pub reason: Detachment,
    /// The Gateway (or ListenerSet) found, when one was.
    pub parent_at: Option<Location>,
}

/// A backendRef to another namespace that no ReferenceGrant permits.
#[derive(Clone, Debug)]
pub struct Unpermitted {
    pub route: usize,
    pub rule: usize,
    pub backend: usize,
}

/// The Gateway API facts of a model.
#[derive(Debug, Default)]
pub struct GatewayFacts {
    pub detached: Vec<Detached>,
    pub unpermitted: Vec<Unpermitted>,
    /// Per Gateway: whether its address is public.
    pub public: Vec<bool>,
    /// The routes that attach, each with the listeners it attaches to.
    pub attached: Vec<(usize, Vec<ListenerAt>)>,
}

/// Each Gateway's implementation (by its class).
pub(super) fn implementations(model: &Model) -> Vec<Implementation> {
    let classes: FxHashMap<&str, Option<&str>> =
        model.gateway.classes.iter().map(|c| (&*c.meta.name, c.controller_name.as_ref().map(|(n, _)| &**n))).collect();
    model
        .gateway
        .gateways
        .iter()
        .map(|g| {
            let class = g.class_name.as_ref().map_or("", |(n, _)| &**n);
            gateways::implementation(classes.get(class).copied().flatten(), class)
        })
        .collect()
}

/// The data plane of every Gateway, by index.
pub(super) fn data_planes(model: &Model) -> Vec<Controller> {
    implementations(model)
        .into_iter()
        .zip(&model.gateway.gateways)
        .map(|(imp, g)| {
            // Implementations copy the infrastructure labels onto the data plane's pods (GEP-1762),
            // where policies may select them.
            match gateways::data_plane(imp, &g.meta.namespace, &g.meta.name) {
                Controller::Pods { namespace, mut labels } => {
                    for (k, v) in &g.infrastructure_labels {
                        if labels.get(k).is_none() {
                            labels = labels.with(k, v);
                        }
                    }
                    Controller::Pods { namespace, labels }
                }
                other => other,
            }
        })
        .collect()
}

/// Whether a Gateway gets a public address: its implementation's default, unless an internal
/// load-balancer annotation (on its infrastructure, or for Istio on the Gateway itself), a Service
/// type that opens no load balancer, or private addresses say otherwise.
fn is_public(gateway: &Gateway, implementation: Implementation) -> bool {
    if !gateways::public_by_default(implementation) {
        return false;
    }
    // Cloud-managed Gateways are internal or external by class: annotations for a Service do
    // not apply. In-cluster implementations put the infrastructure annotations on the Service
    // they create; Istio also the Gateway's own, and reads its Service type from them.
    let in_cluster = matches!(
        implementation,
        Implementation::Istio | Implementation::InGatewayNamespace | Implementation::EnvoyGateway
    );
    let istio = implementation == Implementation::Istio;
    let own = gateway.meta.annotations.iter().filter(|_| istio);
    let annotations: BTreeMap<_, _> = gateway
        .infrastructure_annotations
        .iter()
        .chain(own)
        .filter(|_| in_cluster)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if crate::model::says_internal_load_balancer(&annotations) {
        return false;
    }
    if istio
        && annotations
            .get(crate::model::annotations::ISTIO_SERVICE_TYPE)
            .is_some_and(|t| matches!(&**t, "ClusterIP" | "NodePort"))
    {
        return false;
    }
    // Addresses that are all private IP addresses: an internal load balancer was asked for.
    let private = |a: &str| {
        let bits = if a.contains(':') { 128 } else { 32 };
        parse_cidr(&format!("{a}/{bits}")).is_ok_and(|r| !super::internet::is_public_address(&r))
    };
    gateway.addresses.is_empty() || !gateway.addresses.iter().all(|(a, _)| private(a))
}

/// The namespaces' labels, for `Selector` checks (declared namespaces; others carry only the
/// automatic name label).
struct NamespaceLabels<'m>(FxHashMap<&'m str, &'m Labels>);

impl NamespaceLabels<'_> {
    fn allows(&self, from: &FromNamespaces, owner_namespace: &str, namespace: &str) -> bool {
        self.judge(from, owner_namespace, namespace) == Some(true)
    }

    /// Whether `from` admits `namespace`; `None` where a selector names labels of a namespace the
    /// repository does not declare (the cluster's namespace may carry them).
    fn judge(&self, from: &FromNamespaces, owner_namespace: &str, namespace: &str) -> Option<bool> {
        match from {
            FromNamespaces::All => Some(true),
            FromNamespaces::Same => Some(owner_namespace == namespace),
            FromNamespaces::None => Some(false),
            FromNamespaces::Selector(selector) => {
                let declared = self.0.get(namespace);
                let labels = declared
                    .map_or_else(Labels::default, |l| (*l).clone())
                    .with(crate::model::NAMESPACE_NAME_LABEL, namespace);
                let admitted = selector.matches(&labels);
                (admitted || declared.is_some()).then_some(admitted)
            }
        }
    }
}

/// Resolves every Gateway API route: its attachments, its backends, and the entries they make.
pub(super) fn resolve(
    backends: &Backends,
    planes: &[Controller],
    controller_classes: &BTreeMap<(Box<str>, Labels), ClassId>,
    unknown_controller: ClassId,
    entries: &mut Vec<Entry>,
    unresolved: &mut Vec<UnresolvedBackend>,
) -> GatewayFacts {
    let model = backends.model;
    let api = &model.gateway;
    let implementations = implementations(model);
    let mut facts = GatewayFacts {
        public: api.gateways.iter().zip(&implementations).map(|(g, i)| is_public(g, *i)).collect(),
        ..GatewayFacts::default()
    };
    if api.routes.is_empty() {
        return facts;
    }
    let namespaces = NamespaceLabels(model.namespaces.iter().map(|n| (&*n.meta.name, &n.meta.labels)).collect());
    let gateway_index: FxHashMap<(&str, &str), usize> =
        api.gateways.iter().enumerate().map(|(i, g)| ((&*g.meta.namespace, &*g.meta.name), i)).collect();
    let mut namespaces_with_gateways: FxHashMap<&str, Vec<(&str, usize)>> = FxHashMap::default();
    for (gi, g) in api.gateways.iter().enumerate() {
        namespaces_with_gateways.entry(&g.meta.namespace).or_default().push((&g.meta.name, gi));
    }
    // Gateways declared more than once: which declaration a cluster holds is not known, so a
    // route that attaches to none of the analysed one's listeners is not told.
    let repeated: rustc_hash::FxHashSet<(&str, &str)> = model
        .copies
        .iter()
        .filter_map(|o| match o {
            crate::model::Object::Gateway(crate::model::gateway::GatewayObject::Gateway(g)) => {
                Some((&*g.meta.namespace, &*g.meta.name))
            }
            _ => None,
        })
        .collect();
    // The listeners of each Gateway: its own only. A ListenerSet's listeners take the routes that
    // name the ListenerSet, never those that name its Gateway (GEP-1713).
    let listeners_of: Vec<Vec<ListenerAt>> = api
        .gateways
        .iter()
        .enumerate()
        .map(|(gi, g)| (0..g.listeners.len()).map(|index| ListenerAt { gateway: gi, set: None, index }).collect())
        .collect();
    // ListenerSet → its Gateway, when the Gateway accepts it.
    let mut set_parent: Vec<Option<usize>> = vec![None; api.listener_sets.len()];
    for (si, set) in api.listener_sets.iter().enumerate() {
        let Some((ns, name, _)) = &set.parent else { continue };
        let Some(&gi) = gateway_index.get(&(&**ns, &**name)) else { continue };
        let gateway = &api.gateways[gi];
        if namespaces.allows(&gateway.allowed_listeners, &gateway.meta.namespace, &set.meta.namespace) {
            set_parent[si] = Some(gi);
        }
    }
    // Namespaces the repository shows Services or workloads of.
    let shown: rustc_hash::FxHashSet<&str> = model
        .services
        .iter()
        .map(|s| &*s.meta.namespace)
        .chain(model.workloads.iter().map(|w| &*w.meta.namespace))
        .collect();
    let set_index: FxHashMap<(&str, &str), usize> =
        api.listener_sets.iter().enumerate().map(|(i, s)| ((&*s.meta.namespace, &*s.meta.name), i)).collect();

    for (ri, route) in api.routes.iter().enumerate() {
        let mut attached: Vec<ListenerAt> = Vec::new();
        for (pi, parent) in route.parents.iter().enumerate() {
            let candidates: Vec<ListenerAt> = if parent.is_gateway() {
                match gateway_index.get(&(&*parent.namespace, &*parent.name)) {
                    Some(&gi) => listeners_of[gi].clone(),
                    None => {
                        // A Gateway of another repository is common (a shared gateway): only a
                        // name one letter off a Gateway declared in that namespace (a typo) is
                        // told.
                        let near = namespaces_with_gateways
                            .get(&*parent.namespace)
                            .and_then(|names| names.iter().find(|(n, _)| near_miss(n, &parent.name)));
                        if let Some((near_name, gi)) = near {
                            facts.detached.push(Detached {
                                route: ri,
                                parent: pi,
                                reason: Detachment::NoParent(Box::from(*near_name)),
                                parent_at: Some(api.gateways[*gi].meta.location()),
                            });
                        }
                        continue;
                    }
                }
            } else if parent.is_listener_set() {
                match set_index.get(&(&*parent.namespace, &*parent.name)) {
                    Some(&si) => match set_parent[si] {
                        Some(gi) => (0..api.listener_sets[si].listeners.len())
                            .map(|index| ListenerAt { gateway: gi, set: Some(si), index })
                            .collect(),
                        None => {
                            let set = &api.listener_sets[si];
                            if set
                                .parent
                                .as_ref()
                                .is_some_and(|(ns, name, _)| gateway_index.contains_key(&(&**ns, &**name)))
                            {
                                facts.detached.push(Detached {
                                    route: ri,
                                    parent: pi,
                                    reason: Detachment::ListenerSetNotAllowed,
                                    parent_at: Some(set.meta.location()),
                                });
                            }
                            continue;
                        }
                    },
                    None => continue,
                }
            } else {
                // A Service parent (mesh routing, GAMMA) or another implementation's kind: no
                // way in from outside.
                continue;
            };
            match attach(model, &namespaces, route, parent, &candidates) {
                Ok(found) => attached.extend(found),
                Err(_) if parent.is_gateway() && repeated.contains(&(&*parent.namespace, &*parent.name)) => {}
                Err(Detachment::Unknown) => {}
                Err(reason) => {
                    let parent_at = candidates.first().map(|l| match l.set {
                        None => api.gateways[l.gateway].meta.location(),
                        Some(s) => api.listener_sets[s].meta.location(),
                    });
                    facts.detached.push(Detached { route: ri, parent: pi, reason, parent_at });
                }
            }
        }
        attached.sort();
        attached.dedup();
        if !attached.is_empty() {
            facts.attached.push((ri, attached.clone()));
        }
        route_entries(
            backends,
            planes,
            controller_classes,
            unknown_controller,
            (ri, route),
            &attached,
            &facts.public,
            entries,
            unresolved,
            &mut facts.unpermitted,
            &shown,
        );
    }
    facts
}

/// The listeners among `candidates` that `route` attaches to through `parent`, or why none.
fn attach(
    model: &Model,
    namespaces: &NamespaceLabels,
    route: &GatewayRoute,
    parent: &ParentRef,
    candidates: &[ListenerAt],
) -> Result<Vec<ListenerAt>, Detachment> {
    // The furthest any listener got, to name the reason it stopped.
    let mut reason = Detachment::NoListener;
    let mut found = Vec::new();
    for &at in candidates {
        let listener = at.listener(model);
        if parent.section_name.as_deref().is_some_and(|s| s != &*listener.name)
            || parent.port.is_some_and(|p| p != listener.port)
        {
            continue;
        }
        let owner_namespace = match at.set {
            None => &model.gateway.gateways[at.gateway].meta.namespace,
            Some(s) => &model.gateway.listener_sets[s].meta.namespace,
        };
        match namespaces.judge(&listener.allowed_from, owner_namespace, &route.meta.namespace) {
            Some(true) => {}
            Some(false) => {
                if reason == Detachment::NoListener {
                    reason = Detachment::NamespaceNotAllowed;
                }
                continue;
            }
            None => {
                // Not known: no way in is drawn through it, and nothing is said.
                reason = Detachment::Unknown;
                continue;
            }
        }
        if !listener.allows_kind(route.kind) {
            if matches!(reason, Detachment::NoListener | Detachment::NamespaceNotAllowed) {
                reason = Detachment::KindNotAllowed;
            }
            continue;
        }
        let hostnames_match = !route.kind.has_hostnames()
            || route.hostnames.is_empty()
            || listener.hostname.as_deref().is_none_or(|lh| {
                route.hostnames.iter().any(|(rh, _)| crate::model::gateway::hostnames_intersect(lh, rh))
            });
        if !hostnames_match {
            if reason != Detachment::Unknown {
                reason = Detachment::NoHostname;
            }
            continue;
        }
        found.push(at);
    }
    if found.is_empty() {
        Err(reason)
    } else {
        Ok(found)
    }
}

/// The entries of one route's backends, one per attached listener; refused and unresolved
/// backends as facts.
#[allow(clippy::too_many_arguments)]
fn route_entries(
    backends: &Backends,
    planes: &[Controller],
    controller_classes: &BTreeMap<(Box<str>, Labels), ClassId>,
    unknown_controller: ClassId,
    (ri, route): (usize, &GatewayRoute),
    attached: &[ListenerAt],
    public: &[bool],
    entries: &mut Vec<Entry>,
    unresolved: &mut Vec<UnresolvedBackend>,
    unpermitted: &mut Vec<Unpermitted>,
    shown: &rustc_hash::FxHashSet<&str>,
) {
    let model = backends.model;
    for (rule_index, rule) in route.rules.iter().enumerate() {
        for (bi, backend) in rule.backends.iter().enumerate() {
            if !backend.is_service() || backend.weight == 0 {
                continue;
            }
            if *backend.namespace != *route.meta.namespace
                && !model.gateway.grants.iter().any(|g| {
                    *g.meta.namespace == *backend.namespace
                        && g.permits_service(route.kind.as_str(), &route.meta.namespace, &backend.name)
                })
            {
                // The grant may live with the other namespace's owners: told only where the
                // repository declares the Service itself (and could declare the grant).
                if backends.services.contains_key(&(&*backend.namespace, &*backend.name)) {
                    unpermitted.push(Unpermitted { route: ri, rule: rule_index, backend: bi });
                }
                continue;
            }
            let at = route.meta.at(backend.span);
            // A Service backendRef without a port is rejected by the API server: it sends nothing.
            let Some(port) = backend.port else { continue };
            let choice = PortChoice::ServicePort(port);
            let (si, mut ports) = match backends.resolve_in(&backend.namespace, route.meta.file, &backend.name, choice)
            {
                Ok(Some(resolved)) => resolved,
                Ok(None) => continue,
                Err((missing, service_at)) => {
                    // A Service of a namespace the repository shows nothing of is elsewhere.
                    let shown = *backend.namespace == *route.meta.namespace || shown.contains(&*backend.namespace);
                    if shown || !matches!(missing, MissingBackend::Service) {
                        unresolved.push(UnresolvedBackend {
                            opener: Opener::GatewayRoute(ri),
                            service: backend.name.clone(),
                            namespace: backend.namespace.clone(),
                            missing,
                            at,
                            service_at,
                        });
                    }
                    continue;
                }
            };
            // The route's transport only: UDP for a UDPRoute, TCP for the others.
            let transport = route.kind.transport();
            ports.retain(|&pi| model.services[si].ports[pi].protocol == transport);
            if ports.is_empty() {
                continue;
            }
            for &listener in attached {
                let (source, seen_source) = match &planes[listener.gateway] {
                    Controller::Unknown => (Source::Class(unknown_controller), SeenSource::UnknownGateway),
                    Controller::Pods { namespace, labels } => (
                        Source::Class(
                            controller_classes
                                .get(&(namespace.clone(), labels.clone()))
                                .copied()
                                .unwrap_or(unknown_controller),
                        ),
                        SeenSource::GatewayPods(namespace.clone()),
                    ),
                    Controller::External(ranges) => {
                        (Source::Addresses(ranges.clone()), SeenSource::CloudProxies(ranges.clone()))
                    }
                };
                let l = listener.listener(model);
                entries.push(Entry {
                    kind: EntryKind::Gateway,
                    opener: Opener::GatewayRoute(ri),
                    at,
                    field: "spec.rules.backendRefs",
                    service: si,
                    ports: ports.clone(),
                    source,
                    seen_source,
                    from_internet: public[listener.gateway],
                    guard: l.is_tls().then_some(Guard::Tls),
                    request: None,
                    via: Some(GatewayVia { listener, route: ri, rule: rule_index }),
                });
            }
        }
    }
}

/// Whether `written` is one edit (an insertion, deletion or substitution) away from `declared`, a
/// name of four letters or more, other than a digit for a digit: a likely typo of that name.
fn near_miss(declared: &str, written: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (declared.chars().collect(), written.chars().collect());
    if a == b || a.len().abs_diff(b.len()) > 1 || a.len().min(b.len()) < 4 {
        return false;
    }
    // Sibling names (`gw-1` and `gw-2`) differ in a digit: both may exist.
    if a.len() == b.len()
        && a.iter().zip(&b).filter(|(x, y)| x != y).all(|(x, y)| x.is_ascii_digit() && y.is_ascii_digit())
    {
        return false;
    }
    // Levenshtein distance, one row at a time.
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()] <= 1
}

#[cfg(test)]
mod tests {
    use super::near_miss;

    #[test]
    fn a_typo_is_one_or_two_edits_from_a_declared_name() {
        assert!(near_miss("public", "pubic"));
        assert!(!near_miss("public-gw", "public-gateway"));
        assert!(near_miss("internal", "internl"));
        // Siblings: another repository may well declare them.
        assert!(!near_miss("internal", "external"));
        assert!(!near_miss("gateway-1", "gateway-2"));
        assert!(!near_miss("gw", "gx"));
        assert!(!near_miss("public", "public"));
        assert!(!near_miss("acme-gw", "example-gateway"));
    }
}

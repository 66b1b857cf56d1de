//! Ways in, resolved once: every object that opens a path to a Service's pods, as typed entries.
//!
//! A way in is a public `LoadBalancer`, the NodePorts every node opens (when the profile says
//! nodes are reachable), a public `externalIPs` address, an Ingress backend (through its
//! controller) or an OpenShift Route (through the router). Each becomes an [`Entry`]: the object
//! that opens it, the Service behind it and the ports it uses (chosen by the one [`PortChoice`]),
//! and the source the backend pods' ingress policies see. An Ingress or Route backend that names
//! no Service, or no port of it, becomes an [`UnresolvedBackend`] fact instead.
//!
//! The connectivity list's `{ingress-controller}` edges and the exposures are both computed from
//! these entries, never from the manifests again. A new kind of route (Gateway API) adds an
//! [`EntryKind`], an [`Opener`] and a resolver function here; nothing downstream walks routes.
//!
//! This module decides what the ways in are; it words nothing: messages belong to the rules and
//! the report.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::internet::{internet_ranges, is_public_address};
use super::ClassId;
use crate::model::annotations;
use crate::model::net::{parse_cidr, IpRange, PortRef};
use crate::model::selector::Labels;
use crate::model::{is_placeholder_value, Meta, Model, Object, Service, ServicePort, ServicePortRef, ServiceType};
use crate::profile::controllers::{self, Controller};
use crate::profile::Profile;
use crate::span::{FileId, Location, Span};

/// Where traffic that reaches a pod comes from, as the pod's ingress policy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Pods of a class (an ingress controller).
    Class(ClassId),
    /// Some address of these ranges outside the cluster; no ranges: some address, not known which.
    Addresses(Vec<IpRange>),
}

/// How a way in is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    LoadBalancer,
    NodePort,
    ExternalIp,
    Ingress,
    Route,
    /// A Gateway API route, through its Gateway.
    Gateway,
}

impl EntryKind {
    /// The name of the kind in logical keys.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::LoadBalancer => "LoadBalancer",
            EntryKind::NodePort => "NodePort",
            EntryKind::ExternalIp => "externalIPs",
            EntryKind::Ingress => "Ingress",
            EntryKind::Route => "Route",
            EntryKind::Gateway => "Gateway",
        }
    }

    /// Whether traffic arrives through an ingress controller (or router) rather than straight
    /// from a load balancer or a node.
    pub fn through_controller(self) -> bool {
        matches!(self, EntryKind::Ingress | EntryKind::Route | EntryKind::Gateway)
    }
}

/// The object that opens a way in, as an index into its model list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Opener {
    /// Index into [`Model::services`].
    Service(usize),
    /// Index into [`Model::ingresses`].
    Ingress(usize),
    /// Index into [`Model::routes`].
    Route(usize),
    /// Index into [`Model::copies`] of an Ingress that repeats an analysed one: it opens no way
    /// in, but its backends are checked too.
    IngressCopy(usize),
    /// Index into [`Model::copies`] of a Route that repeats an analysed one.
    RouteCopy(usize),
    /// Index into the model's Gateway API routes.
    GatewayRoute(usize),
}

impl Opener {
    pub fn meta<'m>(&self, model: &'m Model) -> &'m Meta {
        match *self {
            Opener::Service(i) => &model.services[i].meta,
            Opener::Ingress(i) => &model.ingresses[i].meta,
            Opener::Route(i) => &model.routes[i].meta,
            Opener::IngressCopy(i) | Opener::RouteCopy(i) => model.copies[i].meta(),
            Opener::GatewayRoute(i) => &model.gateway.routes[i].meta,
        }
    }

    /// The object's kind as users write it.
    pub fn kind(&self) -> &'static str {
        match self {
            Opener::GatewayRoute(_) => "Gateway API route",
            Opener::Service(_) => "Service",
            Opener::Ingress(_) | Opener::IngressCopy(_) => "Ingress",
            Opener::Route(_) | Opener::RouteCopy(_) => "Route",
        }
    }
}

/// What the backend pods see as the source of a way in's traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeenSource {
    /// The client's own address (`externalTrafficPolicy: Local`).
    Client,
    /// The address of the node that forwarded (`externalTrafficPolicy: Cluster`, the default).
    Node,
    /// An ingress controller the repository does not show.
    UnknownController,
    /// The pods of a known ingress controller, in this namespace.
    ControllerPods(Box<str>),
    /// A gateway outside the cluster, from these ranges (none: not known which).
    Gateway(Vec<IpRange>),
    /// The OpenShift router.
    Router,
    /// The data-plane pods of a Gateway, in this namespace.
    GatewayPods(Box<str>),
    /// A Gateway whose implementation is not known.
    UnknownGateway,
    /// The proxies of a cloud load balancer that implements a Gateway, from these ranges (none:
    /// not known which).
    CloudProxies(Vec<IpRange>),
}

/// Why a way in looks intended and guarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// TLS terminates in front of the pods.
    Tls,
    /// The Service admits only these client ranges.
    SourceRanges(Vec<IpRange>),
    /// The controller admits only the clients of this allowlist annotation, as written.
    ControllerAllowlist(Box<str>),
    /// The client ranges are a placeholder filled at deploy time, as written: whether the entry
    /// is restricted cannot be judged.
    Placeholder(Box<str>),
}

/// What requests an Ingress rule matches: a host, a path, both, or every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestMatch {
    pub host: Option<Box<str>>,
    pub path: Option<Box<str>>,
}

/// One way in.
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: EntryKind,
    pub opener: Opener,
    /// The field that opens it (`spec.type`, the backend, the external IP).
    pub at: Location,
    /// That field's path, for logical keys.
    pub field: &'static str,
    /// The Service behind it (index into [`Model::services`]) and the ports used.
    pub service: usize,
    pub ports: Vec<usize>,
    pub source: Source,
    pub seen_source: SeenSource,
    pub from_internet: bool,
    pub guard: Option<Guard>,
    /// What a request matches, for Ingresses.
    pub request: Option<RequestMatch>,
    /// The listener and route rule, for Gateway API routes.
    pub via: Option<GatewayVia>,
}

/// A listener: of a Gateway (`set: None`) or of one of its ListenerSets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerAt {
    /// Index into the model's Gateways.
    pub gateway: usize,
    /// Index into the model's ListenerSets.
    pub set: Option<usize>,
    pub index: usize,
}

impl ListenerAt {
    pub fn listener<'m>(&self, model: &'m Model) -> &'m crate::model::gateway::Listener {
        let api = &model.gateway;
        match self.set {
            None => &api.gateways[self.gateway].listeners[self.index],
            Some(s) => &api.listener_sets[s].listeners[self.index],
        }
    }

    /// Where the listener is written.
    pub fn location(&self, model: &Model) -> Location {
        let api = &model.gateway;
        let meta = match self.set {
            None => &api.gateways[self.gateway].meta,
            Some(s) => &api.listener_sets[s].meta,
        };
        meta.at(self.listener(model).span)
    }
}

/// How a Gateway way in runs: the Gateway, the listener and the route rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatewayVia {
    pub listener: ListenerAt,
    /// Index into the model's Gateway API routes.
    pub route: usize,
    /// Index into the route's rules.
    pub rule: usize,
}

/// Which ports of a Service a route uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortChoice {
    All,
    /// An Ingress backend's `port.number`: the Service port.
    ServicePort(u16),
    /// A Route's numeric `targetPort`: the Service port or target port with that number.
    RouteNumber(u16),
    /// An Ingress backend's `port.name`: the Service port of that name.
    ServicePortName(Box<str>),
    /// A Route's named `targetPort`: a Service port name or a named target port.
    Name(Box<str>),
}

impl PortChoice {
    fn of_ingress_backend(port: Option<&ServicePortRef>) -> PortChoice {
        match port {
            None => PortChoice::All,
            Some(ServicePortRef::Number(n)) => PortChoice::ServicePort(*n),
            Some(ServicePortRef::Name(name)) => PortChoice::ServicePortName(name.clone()),
        }
    }

    fn of_route(target_port: Option<&PortRef>) -> PortChoice {
        match target_port {
            None => PortChoice::All,
            Some(PortRef::Number(n)) => PortChoice::RouteNumber(*n),
            Some(PortRef::Name(name)) => PortChoice::Name(name.clone()),
        }
    }

    fn picks(&self, p: &ServicePort) -> bool {
        match self {
            PortChoice::All => true,
            PortChoice::ServicePort(n) => p.port == *n,
            PortChoice::RouteNumber(n) => p.port == *n || p.target == PortRef::Number(*n),
            PortChoice::ServicePortName(name) => p.name.as_deref() == Some(&**name),
            PortChoice::Name(name) => p.name.as_deref() == Some(&**name) || p.target == PortRef::Name(name.clone()),
        }
    }

    /// Indexes of the ports of `service` this choice picks.
    fn ports_of(&self, service: &Service) -> Vec<usize> {
        service.ports.iter().enumerate().filter(|(_, p)| self.picks(p)).map(|(i, _)| i).collect()
    }
}

/// What an Ingress or Route backend names that the manifests do not declare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MissingBackend {
    /// No Service of that name in the object's namespace.
    Service,
    /// The Service exists but has no port this choice picks.
    Port(PortChoice),
}

/// An Ingress or Route backend that leads nowhere.
#[derive(Clone, Debug)]
pub struct UnresolvedBackend {
    /// The Ingress or Route.
    pub opener: Opener,
    /// The Service the backend names, and its namespace (the opener's, but for Gateway API
    /// routes).
    pub service: Box<str>,
    pub namespace: Box<str>,
    pub missing: MissingBackend,
    /// The backend.
    pub at: Location,
    /// The declaration of the Service that was looked at, when one exists (a missing port).
    pub service_at: Option<Location>,
}

/// The ways in of a model, and the backends that lead nowhere.
#[derive(Debug, Default)]
pub(super) struct Resolved {
    pub entries: Vec<Entry>,
    pub unresolved: Vec<UnresolvedBackend>,
}

/// Resolves every way in of `model`. `controller_classes` are the pseudo classes of known
/// ingress controllers (by namespace and labels); `unknown_controller` the class that stands for
/// a controller the repository does not show.
pub(super) fn resolve(
    backends: &Backends,
    profile: &Profile,
    controller_classes: &BTreeMap<(Box<str>, Labels), ClassId>,
    unknown_controller: ClassId,
) -> Resolved {
    let model = backends.model;
    let mut out = Resolved::default();
    service_entries(model, profile, &mut out.entries);
    ingress_entries(backends, profile, controller_classes, unknown_controller, &mut out);
    route_entries(backends, controller_classes, unknown_controller, &mut out);
    copied_backends(backends, &mut out.unresolved);
    out
}

/// LoadBalancers, NodePorts and external IPs: the ways in a Service opens itself.
fn service_entries(model: &Model, profile: &Profile, entries: &mut Vec<Entry>) {
    let node_source = || Source::Addresses(profile.node_ranges.clone());
    // The addresses of internet clients, computed once for every Service.
    let internet = internet_ranges();
    for (si, service) in model.services.iter().enumerate() {
        if service.selector.is_none() || service.service_type == ServiceType::ExternalName {
            continue;
        }
        let all_ports: Vec<usize> = (0..service.ports.len()).collect();
        let type_at = service.meta.at(service.type_span.unwrap_or(service.meta.name_span));
        // With `Local` the pod sees the client; with `Cluster` the node that forwarded.
        let (client_source, seen_source) = if service.external_traffic_policy_local {
            (Source::Addresses(internet.clone()), SeenSource::Client)
        } else {
            (node_source(), SeenSource::Node)
        };
        let base = |kind, at, field, source, guard| Entry {
            kind,
            opener: Opener::Service(si),
            at,
            field,
            service: si,
            ports: all_ports.clone(),
            source,
            seen_source: seen_source.clone(),
            from_internet: true,
            guard,
            request: None,
            via: None,
        };
        let ranges = service.client_ranges();
        // Source ranges that hold no internet address leave only the private network.
        let private_clients = !ranges.is_empty()
            && !ranges
                .iter()
                .any(|r| internet.iter().any(|i| i.family == r.family && i.first <= r.last && r.first <= i.last));
        if service.service_type == ServiceType::LoadBalancer && !service.is_internal_load_balancer() && !private_clients
        {
            let guard = match service.source_ranges_placeholder() {
                Some(text) if ranges.is_empty() => Some(Guard::Placeholder(text.into())),
                _ => (!ranges.is_empty()).then(|| Guard::SourceRanges(ranges.clone())),
            };
            // Source ranges are client addresses: the pod sees them only with `Local`.
            let source = match (service.external_traffic_policy_local, ranges.is_empty()) {
                (true, true) => Source::Addresses(internet.clone()),
                (true, false) => Source::Addresses(ranges.clone()),
                (false, _) => node_source(),
            };
            entries.push(base(EntryKind::LoadBalancer, type_at, "spec.type", source, guard));
        }
        let opens_node_ports = match service.service_type {
            ServiceType::NodePort => true,
            ServiceType::LoadBalancer => service.allocate_load_balancer_node_ports,
            _ => false,
        };
        if opens_node_ports && profile.nodes_public {
            let source =
                if service.external_traffic_policy_local { Source::Addresses(internet.clone()) } else { node_source() };
            entries.push(base(EntryKind::NodePort, type_at, "spec.type", source, None));
        }
        let public_ip = service.external_ips.iter().find(|(ip, _)| {
            let bits = if ip.contains(':') { 128 } else { 32 };
            parse_cidr(&format!("{ip}/{bits}")).is_ok_and(|r| is_public_address(&r))
        });
        if let Some((_, span)) = public_ip {
            let at = service.meta.at(*span);
            entries.push(base(EntryKind::ExternalIp, at, "spec.externalIPs", client_source.clone(), None));
        }
    }
}

/// The Services that Ingress and Route backends may name, by namespace and name.
pub(super) struct Backends<'m> {
    pub(super) model: &'m Model,
    /// The analysed Services.
    pub(super) services: FxHashMap<(&'m str, &'m str), usize>,
    /// Copies of repeated Services (indexes into [`Model::copies`]), by namespace, name and file.
    copies: FxHashMap<(&'m str, &'m str, FileId), usize>,
    /// Every copy of each repeated Service, by namespace and name.
    repeated: FxHashMap<(&'m str, &'m str), Vec<&'m Service>>,
}

impl<'m> Backends<'m> {
    pub(super) fn new(model: &'m Model) -> Self {
        let services: FxHashMap<(&str, &str), usize> =
            model.services.iter().enumerate().map(|(i, s)| ((&*s.meta.namespace, &*s.meta.name), i)).collect();
        let mut copies: FxHashMap<(&str, &str, FileId), usize> = FxHashMap::default();
        let mut repeated: FxHashMap<(&str, &str), Vec<&Service>> = FxHashMap::default();
        for (ci, copy) in model.copies.iter().enumerate() {
            if let Object::Service(s) = copy {
                copies.entry((&*s.meta.namespace, &*s.meta.name, s.meta.file)).or_insert(ci);
                repeated.entry((&*s.meta.namespace, &*s.meta.name)).or_default().push(s);
            }
        }
        Backends { model, services, copies, repeated }
    }
}

/// Why a backend leads nowhere, and the Service declaration looked at.
pub(super) type Missing = (MissingBackend, Option<Location>);

impl Backends<'_> {
    /// The Service and ports a backend of `meta` uses (`None`: the backend is sound but opens no
    /// way to pods of the graph), or what it names that does not exist.
    ///
    /// The Service declared in the backend's own file wins over a same-named one elsewhere (the
    /// file is applied as one): it decides whether the backend resolves. The graph knows only the
    /// analysed declaration, so a way in is opened only where that one has the ports too. An
    /// `ExternalName` Service has no ports by design (the controller proxies to the external
    /// name at the backend's port): its backends resolve, to nothing of the graph.
    fn resolve(&self, meta: &Meta, service: &str, choice: PortChoice) -> Result<Option<(usize, Vec<usize>)>, Missing> {
        self.resolve_in(&meta.namespace, meta.file, service, choice)
    }

    /// [`Self::resolve`] for a backend in `namespace`, written in `file`.
    pub(super) fn resolve_in(
        &self,
        namespace: &str,
        file: FileId,
        service: &str,
        choice: PortChoice,
    ) -> Result<Option<(usize, Vec<usize>)>, Missing> {
        let analysed = self.services.get(&(namespace, service)).copied();
        let same_file = self.copies.get(&(namespace, service, file)).and_then(|&ci| match &self.model.copies[ci] {
            Object::Service(s) => Some(s),
            _ => None,
        });
        let used = match (analysed, same_file) {
            (Some(si), _) if self.model.services[si].meta.file == file => &self.model.services[si],
            (_, Some(copy)) => copy,
            (Some(si), None) => &self.model.services[si],
            (None, None) => return Err((MissingBackend::Service, None)),
        };
        if used.service_type == ServiceType::ExternalName {
            return Ok(None);
        }
        if choice.ports_of(used).is_empty() {
            // Declared more than once, none in the backend's own file (which would be applied with
            // it), and another declaration has the port: which one the cluster holds is not known,
            // so the backend is not called dangling (nor opens a way in).
            let elsewhere = self.repeated.get(&(namespace, service)).into_iter().flatten().copied();
            let other_has_it = analysed
                .map(|si| &self.model.services[si])
                .into_iter()
                .chain(elsewhere)
                .any(|s| !std::ptr::eq(s, used) && !choice.ports_of(s).is_empty());
            if other_has_it && used.meta.file != file {
                return Ok(None);
            }
            return Err((MissingBackend::Port(choice), Some(used.meta.location())));
        }
        let Some(si) = analysed else { return Ok(None) };
        let ports = choice.ports_of(&self.model.services[si]);
        Ok((!ports.is_empty() && self.model.services[si].service_type != ServiceType::ExternalName)
            .then_some((si, ports)))
    }
}

/// A backend as written: the Service it names, where, and the ports it picks.
type NamedBackend<'m> = (&'m Box<str>, Span, PortChoice);

/// The backends of Ingresses and Routes that repeat an analysed one: they open no way in (the
/// graph uses one declaration), but a backend that leads nowhere is reported at its own copy.
fn copied_backends(backends: &Backends, unresolved: &mut Vec<UnresolvedBackend>) {
    for (ci, copy) in backends.model.copies.iter().enumerate() {
        let (opener, meta, named): (Opener, &Meta, Vec<NamedBackend>) = match copy {
            Object::Ingress(ingress) => (
                Opener::IngressCopy(ci),
                &ingress.meta,
                ingress
                    .default_backend
                    .iter()
                    .chain(ingress.paths.iter().map(|p| &p.backend))
                    .map(|b| (&b.service, b.span, PortChoice::of_ingress_backend(b.port.as_ref())))
                    .collect(),
            ),
            Object::Route(route) => (
                Opener::RouteCopy(ci),
                &route.meta,
                route
                    .services
                    .iter()
                    .map(|(s, span)| (s, *span, PortChoice::of_route(route.target_port.as_ref())))
                    .collect(),
            ),
            _ => continue,
        };
        for (service, span, choice) in named {
            if let Err((missing, service_at)) = backends.resolve(meta, service, choice) {
                unresolved.push(UnresolvedBackend {
                    opener,
                    service: service.clone(),
                    namespace: Box::from(&*meta.namespace),
                    missing,
                    at: meta.at(span),
                    service_at,
                });
            }
        }
    }
}

/// Ingress backends, through their controllers.
fn ingress_entries(
    backends: &Backends,
    profile: &Profile,
    controller_classes: &BTreeMap<(Box<str>, Labels), ClassId>,
    unknown_controller: ClassId,
    out: &mut Resolved,
) {
    let model = backends.model;
    let resolver = controllers::Resolver::new(model, profile);
    for (ii, ingress) in model.ingresses.iter().enumerate() {
        let serving = resolver.serving(ingress);
        let (source, seen_source) = match &serving.identity {
            Controller::Unknown => (Source::Class(unknown_controller), SeenSource::UnknownController),
            Controller::Pods { namespace, labels } => (
                Source::Class(
                    controller_classes.get(&(namespace.clone(), labels.clone())).copied().unwrap_or(unknown_controller),
                ),
                SeenSource::ControllerPods(namespace.clone()),
            ),
            Controller::External(ranges) => (Source::Addresses(ranges.clone()), SeenSource::Gateway(ranges.clone())),
        };
        let external = matches!(serving.identity, Controller::External(_));
        let rules = ingress
            .default_backend
            .iter()
            .map(|b| (b, None, None))
            .chain(ingress.paths.iter().map(|p| (&p.backend, p.host.as_deref(), p.path.as_deref())));
        for (backend, host, path) in rules {
            let at = ingress.meta.at(backend.span);
            let choice = PortChoice::of_ingress_backend(backend.port.as_ref());
            let (si, ports) = match backends.resolve(&ingress.meta, &backend.service, choice) {
                // An Ingress of a class nobody serves opens nothing; what it names is still checked.
                Ok(_) if serving.dead => continue,
                Ok(Some(resolved)) => resolved,
                Ok(None) => continue,
                Err((missing, service_at)) => {
                    let service = backend.service.clone();
                    let opener = Opener::Ingress(ii);
                    let namespace = Box::from(&*opener.meta(model).namespace);
                    out.unresolved.push(UnresolvedBackend { opener, service, namespace, missing, at, service_at });
                    continue;
                }
            };
            // TLS, or a client allowlist the controller enforces: the ingress-nginx annotations,
            // which nginx-based controllers (ingress-nginx, AKS application routing, and perhaps an
            // unknown one) read and Application Gateway ignores; the inbound CIDRs of an AWS
            // Application Load Balancer, which only its controller reads.
            let allowlist = annotations::NGINX_ALLOWLIST
                .iter()
                .find_map(|a| ingress.meta.annotations.get(*a))
                .filter(|_| !external)
                .or_else(|| ingress.meta.annotations.get(annotations::ALB_INBOUND_CIDRS))
                .filter(|v| {
                    !v.trim().is_empty() && !v.split(',').any(|r| parse_cidr(r.trim()).is_ok_and(|r| r.is_whole()))
                });
            let guard = match (model.serves_tls(ingress, host), allowlist) {
                (true, _) => Some(Guard::Tls),
                (false, Some(ranges)) if ranges.split(',').any(|r| is_placeholder_value(r.trim())) => {
                    Some(Guard::Placeholder(Box::from(&**ranges)))
                }
                (false, Some(ranges)) => Some(Guard::ControllerAllowlist(Box::from(&**ranges))),
                (false, None) => None,
            };
            out.entries.push(Entry {
                kind: EntryKind::Ingress,
                opener: Opener::Ingress(ii),
                at,
                field: "backend",
                service: si,
                ports,
                source: source.clone(),
                seen_source: seen_source.clone(),
                from_internet: serving.public,
                guard,
                request: Some(RequestMatch { host: host.map(Box::from), path: path.map(Box::from) }),
                via: None,
            });
        }
    }
}

/// OpenShift Routes, through the router of the default IngressController in
/// `openshift-ingress` (which the repository does not show).
fn route_entries(
    backends: &Backends,
    controller_classes: &BTreeMap<(Box<str>, Labels), ClassId>,
    unknown_controller: ClassId,
    out: &mut Resolved,
) {
    let model = backends.model;
    let router = match controllers::openshift_router() {
        Controller::Pods { namespace, labels } => controller_classes.get(&(namespace, labels)).copied(),
        _ => None,
    };
    let source = Source::Class(router.unwrap_or(unknown_controller));
    for (ri, route) in model.routes.iter().enumerate() {
        for (service, span) in &route.services {
            let at = route.meta.at(*span);
            let choice = PortChoice::of_route(route.target_port.as_ref());
            let (si, ports) = match backends.resolve(&route.meta, service, choice) {
                Ok(Some(resolved)) => resolved,
                Ok(None) => continue,
                Err((missing, service_at)) => {
                    let service = service.clone();
                    let opener = Opener::Route(ri);
                    let namespace = Box::from(&*opener.meta(model).namespace);
                    out.unresolved.push(UnresolvedBackend { opener, service, namespace, missing, at, service_at });
                    continue;
                }
            };
            out.entries.push(Entry {
                kind: EntryKind::Route,
                opener: Opener::Route(ri),
                at,
                field: "spec.to",
                service: si,
                ports,
                source: source.clone(),
                seen_source: SeenSource::Router,
                from_internet: true,
                guard: route.tls.then_some(Guard::Tls),
                request: None,
                via: None,
            });
        }
    }
}

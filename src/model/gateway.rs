//! Gateway API objects (`gateway.networking.k8s.io`, and the experimental
//! `gateway.networking.x-k8s.io` ListenerSet): GatewayClasses, Gateways and their listeners,
//! ListenerSets, the five kinds of routes, and ReferenceGrants, with the spans of every field a
//! finding may point at.
//!
//! This module holds the typed objects and the spec's own small rules that need no other object
//! (defaults, hostname matching, which route kinds a listener protocol takes). Which route attaches
//! to which listener, and what it reaches, is decided by the graph stage (`graph::gateway`).

use super::selector::{Selector, Str};
use super::Meta;
use crate::span::Span;
use std::collections::BTreeMap;

/// The API group of Gateway API's standard kinds.
pub const GROUP: &str = "gateway.networking.k8s.io";
/// The API group of its experimental kinds (`XListenerSet`, …).
pub const EXPERIMENTAL_GROUP: &str = "gateway.networking.x-k8s.io";

/// Whether an `apiVersion` belongs to Gateway API (standard or experimental group).
pub fn is_gateway_api(api_version: &str) -> bool {
    api_version.starts_with("gateway.networking.k8s.io/") || api_version.starts_with("gateway.networking.x-k8s.io/")
}

/// A GatewayClass: which controller implements the Gateways of this class.
#[derive(Clone, Debug)]
pub struct GatewayClass {
    pub meta: Meta,
    pub controller_name: Option<(Box<str>, Span)>,
}

/// Which namespaces may attach (routes to a listener, or ListenerSets to a Gateway).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FromNamespaces {
    Same,
    All,
    Selector(Selector),
    None,
}

/// The TLS mode of a listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Terminate,
    Passthrough,
}

/// One listener of a Gateway or ListenerSet.
#[derive(Clone, Debug)]
pub struct Listener {
    pub name: Box<str>,
    pub protocol: Box<str>,
    pub port: u16,
    pub hostname: Option<Box<str>>,
    /// The `tls` section's mode, when it has one (the default mode is `Terminate`).
    pub tls: Option<TlsMode>,
    pub allowed_from: FromNamespaces,
    /// `allowedRoutes.kinds`, as `(group, kind)`; empty: the protocol's default kinds.
    pub allowed_kinds: Vec<(Box<str>, Box<str>)>,
    /// The listener entry.
    pub span: Span,
    /// Its `name` value.
    pub name_span: Span,
}

impl Listener {
    /// Whether the listener serves over TLS: HTTPS and TLS listeners (terminated or passed
    /// through to the backend).
    pub fn is_tls(&self) -> bool {
        // A `tls` section on an HTTP, TCP or UDP listener is rejected by the API server; it
        // encrypts nothing.
        matches!(&*self.protocol, "HTTPS" | "TLS")
    }

    /// Whether a route of `kind` (in Gateway API's group) may attach: the kinds listed in
    /// `allowedRoutes.kinds`, else the kinds the protocol carries.
    pub fn allows_kind(&self, kind: RouteKind) -> bool {
        // Listed kinds the protocol cannot carry are invalid (`InvalidRouteKinds`): they attach
        // nothing.
        if !self.protocol_carries(kind) {
            return false;
        }
        self.allowed_kinds.is_empty()
            || self
                .allowed_kinds
                .iter()
                .any(|(group, k)| (group.is_empty() || &**group == GROUP) && &**k == kind.as_str())
    }

    /// The kinds the protocol carries. The spec leaves the list to implementations; these are what
    /// every conformant one takes. Unknown protocols (implementation-specific, domain-prefixed)
    /// take every kind, so that no route is called unattached on a guess.
    fn protocol_carries(&self, kind: RouteKind) -> bool {
        match &*self.protocol {
            "HTTP" | "HTTPS" => matches!(kind, RouteKind::Http | RouteKind::Grpc),
            "TLS" => matches!(kind, RouteKind::Tls | RouteKind::Tcp),
            "TCP" => kind == RouteKind::Tcp,
            "UDP" => kind == RouteKind::Udp,
            _ => true,
        }
    }
}

/// A Gateway.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub meta: Meta,
    pub class_name: Option<(Box<str>, Span)>,
    pub listeners: Vec<Listener>,
    /// `spec.addresses` values, as written.
    pub addresses: Vec<(Box<str>, Span)>,
    /// `spec.infrastructure.labels` and `annotations`: what the implementation copies onto the
    /// resources it creates (the data plane's pods, its Service).
    pub infrastructure_labels: BTreeMap<Str, Str>,
    pub infrastructure_annotations: BTreeMap<Str, Str>,
    /// `spec.allowedListeners.namespaces.from` (ListenerSets may attach only when it allows).
    pub allowed_listeners: FromNamespaces,
}

/// A ListenerSet (`XListenerSet` in the experimental group): listeners added to a Gateway.
#[derive(Clone, Debug)]
pub struct ListenerSet {
    pub meta: Meta,
    /// The parent Gateway: namespace (default: the ListenerSet's) and name.
    pub parent: Option<(Box<str>, Box<str>, Span)>,
    pub listeners: Vec<Listener>,
}

/// The five kinds of route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RouteKind {
    Http,
    Grpc,
    Tls,
    Tcp,
    Udp,
}

impl RouteKind {
    pub fn parse(kind: &str) -> Option<RouteKind> {
        Some(match kind {
            "HTTPRoute" => RouteKind::Http,
            "GRPCRoute" => RouteKind::Grpc,
            "TLSRoute" => RouteKind::Tls,
            "TCPRoute" => RouteKind::Tcp,
            "UDPRoute" => RouteKind::Udp,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Http => "HTTPRoute",
            RouteKind::Grpc => "GRPCRoute",
            RouteKind::Tls => "TLSRoute",
            RouteKind::Tcp => "TCPRoute",
            RouteKind::Udp => "UDPRoute",
        }
    }

    /// The transport protocol the route's traffic uses towards its backends.
    pub fn transport(self) -> crate::model::net::Protocol {
        match self {
            RouteKind::Udp => crate::model::net::Protocol::Udp,
            _ => crate::model::net::Protocol::Tcp,
        }
    }

    /// Whether routes of this kind carry hostnames (matched against the listener's).
    pub fn has_hostnames(self) -> bool {
        matches!(self, RouteKind::Http | RouteKind::Grpc | RouteKind::Tls)
    }
}

/// What a route's `parentRefs` entry names.
#[derive(Clone, Debug)]
pub struct ParentRef {
    pub group: Box<str>,
    pub kind: Box<str>,
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub section_name: Option<Box<str>>,
    pub port: Option<u16>,
    pub span: Span,
}

impl ParentRef {
    /// A Gateway (the default kind) of Gateway API's group.
    pub fn is_gateway(&self) -> bool {
        &*self.kind == "Gateway" && &*self.group == GROUP
    }

    /// A ListenerSet, in either group.
    pub fn is_listener_set(&self) -> bool {
        matches!(&*self.kind, "ListenerSet" | "XListenerSet") && matches!(&*self.group, GROUP | EXPERIMENTAL_GROUP)
    }
}

/// A route's `backendRefs` entry.
#[derive(Clone, Debug)]
pub struct BackendRef {
    pub group: Box<str>,
    pub kind: Box<str>,
    pub namespace: Box<str>,
    pub name: Box<str>,
    pub port: Option<u16>,
    /// The weight (default 1); zero sends no traffic.
    pub weight: u32,
    pub span: Span,
}

impl BackendRef {
    /// A core Service (the default kind).
    pub fn is_service(&self) -> bool {
        self.group.is_empty() && &*self.kind == "Service"
    }
}

/// One rule of a route, with its backends.
#[derive(Clone, Debug)]
pub struct RouteRule {
    pub name: Option<Box<str>>,
    pub backends: Vec<BackendRef>,
    pub span: Span,
}

/// An HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute.
#[derive(Clone, Debug)]
pub struct GatewayRoute {
    pub meta: Meta,
    pub kind: RouteKind,
    pub parents: Vec<ParentRef>,
    pub hostnames: Vec<(Box<str>, Span)>,
    pub rules: Vec<RouteRule>,
}

/// What a ReferenceGrant lets others refer to: `(group, kind, name)`; no name: every object.
pub type GrantTarget = (Box<str>, Box<str>, Option<Box<str>>);

/// A ReferenceGrant: which kinds of which namespaces may refer to objects of its own namespace.
#[derive(Clone, Debug)]
pub struct ReferenceGrant {
    pub meta: Meta,
    /// `(group, kind, namespace)`.
    pub from: Vec<(Box<str>, Box<str>, Box<str>)>,
    /// `(group, kind, name)`; no name: every object of the kind.
    pub to: Vec<GrantTarget>,
}

impl ReferenceGrant {
    /// Whether it lets a `from_kind` of `from_namespace` refer to the core Service `service` of
    /// its own namespace.
    pub fn permits_service(&self, from_kind: &str, from_namespace: &str, service: &str) -> bool {
        self.from.iter().any(|(g, k, ns)| &**g == GROUP && &**k == from_kind && &**ns == from_namespace)
            && self
                .to
                .iter()
                .any(|(g, k, name)| g.is_empty() && &**k == "Service" && name.as_deref().is_none_or(|n| n == service))
    }
}

/// Any Gateway API object kubereach models.
#[derive(Clone, Debug)]
pub enum GatewayObject {
    Class(GatewayClass),
    Gateway(Gateway),
    ListenerSet(ListenerSet),
    Route(GatewayRoute),
    Grant(ReferenceGrant),
}

impl GatewayObject {
    pub fn meta(&self) -> &Meta {
        match self {
            GatewayObject::Class(o) => &o.meta,
            GatewayObject::Gateway(o) => &o.meta,
            GatewayObject::ListenerSet(o) => &o.meta,
            GatewayObject::Route(o) => &o.meta,
            GatewayObject::Grant(o) => &o.meta,
        }
    }
}

/// The Gateway API objects of a model, each list in path order.
#[derive(Clone, Debug, Default)]
pub struct GatewayApi {
    pub classes: Vec<GatewayClass>,
    pub gateways: Vec<Gateway>,
    pub listener_sets: Vec<ListenerSet>,
    pub routes: Vec<GatewayRoute>,
    pub grants: Vec<ReferenceGrant>,
}

impl GatewayApi {
    pub fn is_empty(&self) -> bool {
        self.gateways.is_empty() && self.routes.is_empty()
    }

    pub(crate) fn push(&mut self, object: GatewayObject) {
        match object {
            GatewayObject::Class(o) => self.classes.push(o),
            GatewayObject::Gateway(o) => self.gateways.push(o),
            GatewayObject::ListenerSet(o) => self.listener_sets.push(o),
            GatewayObject::Route(o) => self.routes.push(o),
            GatewayObject::Grant(o) => self.grants.push(o),
        }
    }

    /// Every object's metadata.
    pub(crate) fn metas(&self) -> impl Iterator<Item = &Meta> {
        self.classes
            .iter()
            .map(|o| &o.meta)
            .chain(self.gateways.iter().map(|o| &o.meta))
            .chain(self.listener_sets.iter().map(|o| &o.meta))
            .chain(self.routes.iter().map(|o| &o.meta))
            .chain(self.grants.iter().map(|o| &o.meta))
    }

    /// Every object, kind by kind.
    pub(crate) fn into_objects(self) -> Vec<GatewayObject> {
        let GatewayApi { classes, gateways, listener_sets, routes, grants } = self;
        (classes.into_iter().map(GatewayObject::Class))
            .chain(gateways.into_iter().map(GatewayObject::Gateway))
            .chain(listener_sets.into_iter().map(GatewayObject::ListenerSet))
            .chain(routes.into_iter().map(GatewayObject::Route))
            .chain(grants.into_iter().map(GatewayObject::Grant))
            .collect()
    }
}

/// Whether a listener hostname and a route hostname intersect, as Gateway API matches them: a
/// `*.` wildcard stands for one or more labels, on either side.
pub fn hostnames_intersect(listener: &str, route: &str) -> bool {
    let (l, r) = (listener.to_ascii_lowercase(), route.to_ascii_lowercase());
    if l == r {
        return true;
    }
    let covers = |pattern: &str, host: &str| match pattern.strip_prefix("*.") {
        Some(suffix) => host.strip_suffix(suffix).is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => false,
    };
    // Two wildcards intersect when one's suffix lies within the other's.
    match (l.strip_prefix("*."), r.strip_prefix("*.")) {
        (Some(ls), Some(rs)) => ls == rs || rs.ends_with(&format!(".{ls}")) || ls.ends_with(&format!(".{rs}")),
        _ => covers(&l, &r) || covers(&r, &l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_one_or_more_labels_on_either_side() {
        assert!(hostnames_intersect("*.example.com", "foo.example.com"));
        assert!(hostnames_intersect("*.example.com", "a.b.example.com"));
        assert!(hostnames_intersect("foo.example.com", "*.example.com"));
        assert!(!hostnames_intersect("*.example.com", "example.com"));
        assert!(!hostnames_intersect("*.example.com", "fooexample.com"));
        assert!(hostnames_intersect("*.example.com", "*.a.example.com"));
        assert!(!hostnames_intersect("*.example.com", "*.example.org"));
        assert!(hostnames_intersect("Foo.Example.com", "foo.example.com"));
        assert!(!hostnames_intersect("foo.example.com", "bar.example.com"));
    }

    fn listener(protocol: &str, kinds: &[(&str, &str)]) -> Listener {
        Listener {
            name: "l".into(),
            protocol: protocol.into(),
            port: 80,
            hostname: None,
            tls: None,
            allowed_from: FromNamespaces::Same,
            allowed_kinds: kinds.iter().map(|(g, k)| (Box::from(*g), Box::from(*k))).collect(),
            span: Span::default(),
            name_span: Span::default(),
        }
    }

    #[test]
    fn listeners_take_their_protocols_kinds_unless_listed() {
        assert!(listener("HTTP", &[]).allows_kind(RouteKind::Http));
        assert!(listener("HTTPS", &[]).allows_kind(RouteKind::Grpc));
        assert!(!listener("HTTP", &[]).allows_kind(RouteKind::Tcp));
        assert!(listener("UDP", &[]).allows_kind(RouteKind::Udp));
        assert!(listener("example.com/custom", &[]).allows_kind(RouteKind::Tcp));
        let only_grpc = listener("HTTPS", &[("gateway.networking.k8s.io", "GRPCRoute")]);
        assert!(only_grpc.allows_kind(RouteKind::Grpc) && !only_grpc.allows_kind(RouteKind::Http));
        // A listed kind the protocol cannot carry attaches nothing.
        assert!(!listener("TCP", &[("gateway.networking.k8s.io", "HTTPRoute")]).allows_kind(RouteKind::Http));
    }
}

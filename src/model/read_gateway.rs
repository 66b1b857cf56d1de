//! Reading Gateway API objects into [`super::gateway`]'s types, with the API server's type checks
//! (through [`Reader`]) and the spec's defaults: a parentRef's group, kind and namespace, a
//! backendRef's kind and weight, a listener's allowed namespaces.

use super::gateway::{
    BackendRef, FromNamespaces, Gateway, GatewayClass, GatewayObject, GatewayRoute, Listener, ListenerSet, ParentRef,
    ReferenceGrant, RouteKind, RouteRule, TlsMode, EXPERIMENTAL_GROUP, GROUP,
};
use super::problem::FieldProblem;
use super::read::Reader;
use super::Meta;
use crate::load::yaml::Node;

/// The Gateway API object of `kind`; its metadata back for kinds it does not model.
pub(super) fn read(r: &mut Reader, kind: &str, meta: Meta, spec: Option<&Node>) -> Result<GatewayObject, Box<Meta>> {
    Ok(match kind {
        "GatewayClass" => GatewayObject::Class(GatewayClass {
            controller_name: spec
                .and_then(|s| s.get("controllerName"))
                .and_then(|n| r.string(Some(n), "spec.controllerName").map(|v| (v.into(), n.span))),
            meta,
        }),
        "Gateway" => GatewayObject::Gateway(read_gateway(r, meta, spec)),
        "ListenerSet" | "XListenerSet" => GatewayObject::ListenerSet(read_listener_set(r, meta, spec)),
        "ReferenceGrant" => GatewayObject::Grant(read_grant(r, meta, spec)),
        _ => match RouteKind::parse(kind) {
            Some(route_kind) => GatewayObject::Route(read_route(r, meta, route_kind, spec)),
            None => return Err(Box::new(meta)),
        },
    })
}

fn read_gateway(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> Gateway {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let class_name = get("gatewayClassName")
        .and_then(|n| r.string(Some(n), "spec.gatewayClassName").map(|v| (Box::from(v), n.span)));
    let listeners = read_listeners(r, get("listeners"), "spec.listeners");
    let mut addresses = Vec::new();
    for a in r.seq(get("addresses"), "spec.addresses") {
        if let Some(a) = r.map(Some(a), "spec.addresses") {
            if let Some(value) = a.get("value") {
                if let Some(v) = r.string(Some(value), "spec.addresses.value") {
                    addresses.push((v.into(), value.span));
                }
            }
        }
    }
    let infrastructure = r.map(get("infrastructure"), "spec.infrastructure");
    let infrastructure_labels =
        r.string_map(infrastructure.and_then(|i| i.get("labels")), "spec.infrastructure.labels").into_iter().collect();
    let infrastructure_annotations = r
        .string_map(infrastructure.and_then(|i| i.get("annotations")), "spec.infrastructure.annotations")
        .into_iter()
        .collect();
    let allowed = r.map(get("allowedListeners"), "spec.allowedListeners");
    let allowed_listeners = read_from(
        r,
        allowed.and_then(|a| a.get("namespaces")),
        "spec.allowedListeners.namespaces",
        FromNamespaces::None,
    );
    Gateway {
        meta,
        class_name,
        listeners,
        addresses,
        infrastructure_labels,
        infrastructure_annotations,
        allowed_listeners,
    }
}

fn read_listener_set(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> ListenerSet {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let parent = r.map(get("parentRef"), "spec.parentRef").and_then(|p| {
        let name = r.string(p.get("name"), "spec.parentRef.name")?;
        let namespace = r.string(p.get("namespace"), "spec.parentRef.namespace").unwrap_or(&meta.namespace);
        Some((Box::from(namespace), Box::from(name), p.span))
    });
    let listeners = read_listeners(r, get("listeners"), "spec.listeners");
    ListenerSet { meta, parent, listeners }
}

fn read_listeners(r: &mut Reader, node: Option<&Node>, path: &str) -> Vec<Listener> {
    let mut listeners = Vec::new();
    for l in r.seq(node, path) {
        let Some(l) = r.map(Some(l), path) else { continue };
        let name_node = l.get("name");
        let name = r.string(name_node, &format!("{path}.name")).unwrap_or_default();
        let protocol = r.string(l.get("protocol"), &format!("{path}.protocol")).unwrap_or_default();
        let Some(port) = r.port_number(l.get("port"), &format!("{path}.port")) else { continue };
        let hostname = r.string(l.get("hostname"), &format!("{path}.hostname")).map(Box::from);
        let tls = r.map(l.get("tls"), &format!("{path}.tls")).map(|t| match t.get("mode").and_then(Node::as_str) {
            Some("Passthrough") => TlsMode::Passthrough,
            _ => TlsMode::Terminate,
        });
        let allowed = r.map(l.get("allowedRoutes"), &format!("{path}.allowedRoutes"));
        let allowed_from = read_from(
            r,
            allowed.and_then(|a| a.get("namespaces")),
            &format!("{path}.allowedRoutes.namespaces"),
            FromNamespaces::Same,
        );
        let mut allowed_kinds = Vec::new();
        for k in r.seq(allowed.and_then(|a| a.get("kinds")), &format!("{path}.allowedRoutes.kinds")) {
            let Some(k) = r.map(Some(k), &format!("{path}.allowedRoutes.kinds")) else { continue };
            let group = r.string(k.get("group"), &format!("{path}.allowedRoutes.kinds.group")).unwrap_or(GROUP);
            if let Some(kind) = r.string(k.get("kind"), &format!("{path}.allowedRoutes.kinds.kind")) {
                allowed_kinds.push((group.into(), kind.into()));
            }
        }
        listeners.push(Listener {
            name: name.into(),
            protocol: protocol.into(),
            port,
            hostname,
            tls,
            allowed_from,
            allowed_kinds,
            span: l.span,
            name_span: name_node.map_or(l.span, |n| n.span),
        });
    }
    listeners
}

/// `namespaces.from` (and its `selector`), with the field's default when absent.
fn read_from(r: &mut Reader, node: Option<&Node>, path: &str, default: FromNamespaces) -> FromNamespaces {
    let Some(node) = r.map(node, path) else { return default };
    match r.string(node.get("from"), &format!("{path}.from")) {
        Some("All") => FromNamespaces::All,
        Some("Same") => FromNamespaces::Same,
        Some("None") => FromNamespaces::None,
        Some("Selector") => match node.get("selector") {
            Some(s) => FromNamespaces::Selector(r.selector(s, &format!("{path}.selector"))),
            // The API server rejects `Selector` without one; nothing is selected.
            None => FromNamespaces::None,
        },
        Some(other) => {
            if let Some(n) = node.get("from") {
                r.invalid_value(
                    n,
                    FieldProblem::WrongType {
                        path: format!("{path}.from"),
                        expected: "All, Same, Selector or None",
                        found: if other.is_empty() { "an empty string" } else { "another string" },
                    },
                );
            }
            default
        }
        None => default,
    }
}

fn read_route(r: &mut Reader, meta: Meta, kind: RouteKind, spec: Option<&Node>) -> GatewayRoute {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let mut parents = Vec::new();
    for p in r.seq(get("parentRefs"), "spec.parentRefs") {
        let Some(p) = r.map(Some(p), "spec.parentRefs") else { continue };
        let Some(name) = r.string(p.get("name"), "spec.parentRefs.name") else { continue };
        let group = r.string(p.get("group"), "spec.parentRefs.group").unwrap_or(GROUP);
        let kind = r.string(p.get("kind"), "spec.parentRefs.kind").unwrap_or("Gateway");
        let namespace = r.string(p.get("namespace"), "spec.parentRefs.namespace").unwrap_or(&meta.namespace);
        let section_name = r.string(p.get("sectionName"), "spec.parentRefs.sectionName").map(Box::from);
        let port = r.port_number(p.get("port"), "spec.parentRefs.port");
        parents.push(ParentRef {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            section_name,
            port,
            span: p.span,
        });
    }
    let mut hostnames = Vec::new();
    for h in r.seq(get("hostnames"), "spec.hostnames") {
        if let Some(v) = r.string(Some(h), "spec.hostnames") {
            hostnames.push((v.into(), h.span));
        }
    }
    let mut rules = Vec::new();
    for rule in r.seq(get("rules"), "spec.rules") {
        let Some(rule) = r.map(Some(rule), "spec.rules") else { continue };
        let name = r.string(rule.get("name"), "spec.rules.name").map(Box::from);
        let mut backends = Vec::new();
        for b in r.seq(rule.get("backendRefs"), "spec.rules.backendRefs") {
            let Some(b) = r.map(Some(b), "spec.rules.backendRefs") else { continue };
            let Some(name) = r.string(b.get("name"), "spec.rules.backendRefs.name") else { continue };
            let group = r.string(b.get("group"), "spec.rules.backendRefs.group").unwrap_or("");
            let kind = r.string(b.get("kind"), "spec.rules.backendRefs.kind").unwrap_or("Service");
            let namespace = r.string(b.get("namespace"), "spec.rules.backendRefs.namespace").unwrap_or(&meta.namespace);
            let port = r.port_number(b.get("port"), "spec.rules.backendRefs.port");
            let weight = match r.int(b.get("weight"), "spec.rules.backendRefs.weight") {
                Some(w) => u32::try_from(w).unwrap_or(0),
                None => 1,
            };
            backends.push(BackendRef {
                group: group.into(),
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
                port,
                weight,
                span: b.span,
            });
        }
        rules.push(RouteRule { name, backends, span: rule.span });
    }
    GatewayRoute { meta, kind, parents, hostnames, rules }
}

fn read_grant(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> ReferenceGrant {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let mut from = Vec::new();
    for f in r.seq(get("from"), "spec.from") {
        let Some(f) = r.map(Some(f), "spec.from") else { continue };
        let group = r.string(f.get("group"), "spec.from.group").unwrap_or("");
        let kind = r.string(f.get("kind"), "spec.from.kind").unwrap_or("");
        let namespace = r.string(f.get("namespace"), "spec.from.namespace").unwrap_or("");
        from.push((group.into(), kind.into(), namespace.into()));
    }
    let mut to = Vec::new();
    for t in r.seq(get("to"), "spec.to") {
        let Some(t) = r.map(Some(t), "spec.to") else { continue };
        let group = r.string(t.get("group"), "spec.to.group").unwrap_or("");
        let kind = r.string(t.get("kind"), "spec.to.kind").unwrap_or("");
        let name = r.string(t.get("name"), "spec.to.name").map(Box::from);
        to.push((group.into(), kind.into(), name));
    }
    ReferenceGrant { meta, from, to }
}

/// Whether `api_version` is the group a kind of Gateway API is read from: the standard group for
/// every kind, the experimental group for the kinds that started there.
pub(super) fn is_read_from(kind: &str, api_version: &str) -> bool {
    let group = api_version.split('/').next().unwrap_or_default();
    group == GROUP
        || (group == EXPERIMENTAL_GROUP
            && matches!(kind, "XListenerSet" | "ListenerSet" | "TLSRoute" | "TCPRoute" | "UDPRoute"))
}

//! `gateway-route-not-attached`: a Gateway API route whose parentRef attaches it to no listener of
//! the Gateway it names (no listener of that section or port, a namespace or kind the listeners do
//! not allow, no hostname in common, a ListenerSet its Gateway does not accept, or a Gateway name
//! that misses among the Gateways declared in that namespace). The graph decides attachment as
//! the spec does and records each failure ([`Detached`]); this rule words it.

use super::ids::GatewayRouteNotAttached;
use super::Context;
use super::Rule;
use crate::finding::Finding;
use crate::graph::gateway::{Detached, Detachment};
use crate::model::Model;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    out.extend(cx.graph.gateway.detached.iter().map(|d| finding(cx.model, d)));
}

fn finding(model: &Model, detached: &Detached) -> Finding {
    let route = &model.gateway.routes[detached.route];
    let parent = &route.parents[detached.parent];
    let target = format!("{} `{}/{}`", parent.kind, parent.namespace, parent.name);
    let section = match (&parent.section_name, parent.port) {
        (Some(s), Some(p)) => format!(" (section `{s}`, port {p})"),
        (Some(s), None) => format!(" (section `{s}`)"),
        (None, Some(p)) => format!(" (port {p})"),
        (None, None) => String::new(),
    };
    let why = match &detached.reason {
        Detachment::NoParent(near) => format!(
            "no {} of that name is declared in namespace `{}` (did you mean `{near}`?)",
            parent.kind, parent.namespace
        ),
        Detachment::NoListener => "it has no listener of that section name and port".to_string(),
        Detachment::NamespaceNotAllowed => format!(
            "its listeners' `allowedRoutes.namespaces` do not admit routes of namespace `{}`",
            route.meta.namespace
        ),
        Detachment::KindNotAllowed => {
            format!("its listeners do not take {}s (`allowedRoutes.kinds` or their protocol)", route.kind.as_str())
        }
        Detachment::NoHostname => "no hostname of the route intersects a listener's hostname".to_string(),
        Detachment::Unknown => "whether its listeners admit the route's namespace cannot be judged".to_string(),
        Detachment::ListenerSetNotAllowed => {
            "its Gateway does not accept it (`spec.allowedListeners` of the Gateway)".to_string()
        }
    };
    let mut finding = GatewayRouteNotAttached::finding(
        route.meta.at(parent.span),
        format!(
            "{} `{}` is not attached to {target}{section}: {why}; the route carries no traffic",
            route.kind.as_str(),
            route.meta.name
        ),
    )
    .with_key(route.meta.key(), "spec.parentRefs", format!("{}/{}{section}", parent.namespace, parent.name));
    if let Some(at) = detached.parent_at {
        let what = match &detached.reason {
            Detachment::NoParent(near) => format!("{} `{}/{near}` declared here", parent.kind, parent.namespace),
            _ => format!("{target} declared here"),
        };
        finding = finding.with_related(at, what);
    }
    finding
}

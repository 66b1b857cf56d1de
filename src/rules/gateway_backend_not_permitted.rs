//! `gateway-backend-not-permitted`: a Gateway API route's backendRef to a Service of another
//! namespace that no ReferenceGrant of that namespace permits: the implementation refuses the
//! reference and the backend gets no traffic. The graph records each ([`Unpermitted`]).

use super::ids::GatewayBackendNotPermitted;
use super::Context;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let model = cx.model;
    for u in &cx.graph.gateway.unpermitted {
        let route = &model.gateway.routes[u.route];
        let backend = &route.rules[u.rule].backends[u.backend];
        out.push(
            GatewayBackendNotPermitted::finding(
                route.meta.at(backend.span),
                format!(
                    "{} `{}` sends traffic to Service `{}/{}`, but no ReferenceGrant in namespace `{}` permits {}s of namespace `{}` to refer to it: the backend gets no traffic",
                    route.kind.as_str(),
                    route.meta.name,
                    backend.namespace,
                    backend.name,
                    backend.namespace,
                    route.kind.as_str(),
                    route.meta.namespace
                ),
            )
            .with_key(route.meta.key(), "spec.rules.backendRefs", format!("{}/{}", backend.namespace, backend.name)),
        );
    }
}

//! `gateway-listener-without-tls`: a listener of a public Gateway that serves routes with
//! backends over plain HTTP: the Gateway API twin of
//! `ingress-without-tls`. One finding per listener, at the listener, naming the routes it serves.
//! A listener whose routes only redirect (no backendRefs) serves no backend and stays quiet.

use std::collections::{BTreeMap, BTreeSet};

use super::ids::GatewayListenerWithoutTls;
use super::Context;
use super::Rule;
use crate::finding::Finding;
use crate::graph::gateway::ListenerAt;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let model = cx.model;
    let mut served: BTreeMap<ListenerAt, BTreeSet<usize>> = BTreeMap::new();
    // Every attached route that sends to some backend, whether the repository shows it or not
    // (a Service of another repository, an ExternalName Service, another kind of backend).
    for (route, listeners) in &cx.graph.gateway.attached {
        let sends = model.gateway.routes[*route].rules.iter().flat_map(|r| &r.backends).any(|b| b.weight > 0);
        if !sends {
            continue;
        }
        for &at in listeners {
            let listener = at.listener(model);
            if cx.graph.gateway.public[at.gateway] && &*listener.protocol == "HTTP" {
                served.entry(at).or_default().insert(*route);
            }
        }
    }
    for (at, routes) in served {
        let gateway = &model.gateway.gateways[at.gateway];
        let listener = at.listener(model);
        let names: Vec<String> = routes
            .iter()
            .map(|&r| {
                let route = &model.gateway.routes[r];
                format!("{} `{}/{}`", route.kind.as_str(), route.meta.namespace, route.meta.name)
            })
            .collect();
        let mut finding = GatewayListenerWithoutTls::finding(
            at.location(model),
            format!(
                "listener `{}` of {}public Gateway `{}/{}` serves {} over {} on port {} without TLS",
                listener.name,
                match at.set {
                    Some(s) => {
                        let set = &model.gateway.listener_sets[s].meta;
                        format!("ListenerSet `{}/{}` of ", set.namespace, set.name)
                    }
                    None => String::new(),
                },
                gateway.meta.namespace,
                gateway.meta.name,
                names.join(", "),
                listener.protocol,
                listener.port
            ),
        )
        .with_key(gateway.meta.key(), "spec.listeners", &*listener.name);
        for &r in &routes {
            let route = &model.gateway.routes[r];
            finding = finding.with_related(route.meta.location(), format!("{} `{}` attached here", route.kind.as_str(), route.meta.name));
        }
        out.push(finding);
    }
}

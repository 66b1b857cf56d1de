//! `nodeport-service`: a Service that opens a port on every node. A `type: NodePort` Service
//! always does; a LoadBalancer does too unless `allocateLoadBalancerNodePorts: false`, which
//! matters where nodes are reachable, because its source ranges do not cover the node ports.
//! A note where the profile says nodes are private, a warning where they are public.

use super::Context;
use super::ids::NodeportService;
use super::Rule;
use crate::finding::{Finding, Level};
use crate::model::ServiceType;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let profile = &cx.graph.profile;
    for service in cx.model.declared_services() {
        let load_balancer = match service.service_type {
            ServiceType::NodePort => false,
            ServiceType::LoadBalancer if profile.nodes_public && service.allocate_load_balancer_node_ports => true,
            _ => continue,
        };
        let ports: Vec<String> = service
            .ports
            .iter()
            .map(|p| match p.node_port {
                Some(n) => format!("node port {n}/{}", p.protocol),
                None => format!("a node port for {}/{}", p.port, p.protocol),
            })
            .collect();
        let ports = if ports.is_empty() { "a node port".to_string() } else { ports.join(", ") };
        let (level, reach) = if profile.nodes_public {
            (Level::Warning, format!("nodes are reachable from the internet under {}", profile.describe()))
        } else {
            (
                NodeportService::DOC.level,
                format!(
                    "reachable by anything that reaches the nodes' network (nodes are private under {})",
                    profile.describe()
                ),
            )
        };
        let message = if load_balancer {
            // What the node ports bypass, where the load balancer itself is narrower.
            let bypass = if service.restricts_sources() {
                ", which its source ranges do not cover"
            } else if service.is_internal_load_balancer() {
                ", reachable beside its internal load balancer"
            } else {
                ""
            };
            format!(
                "LoadBalancer Service `{}` also opens {ports} on every node{bypass}: {reach}; set `allocateLoadBalancerNodePorts: false`",
                service.meta.name
            )
        } else {
            format!("Service `{}` opens {ports} on every node: {reach}", service.meta.name)
        };
        let at = service.type_span.unwrap_or(service.meta.name_span);
        out.push(Finding::new(NodeportService::ID, level, service.meta.at(at), message).with_key(
            service.meta.key(),
            "spec.type",
            "",
        ));
    }
}

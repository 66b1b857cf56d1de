//! Stage 4, rules: read the model and the graph, return findings.
//!
//! A rule is one unit: its logic in `src/rules/<rule_id>.rs` and its metadata and help in
//! `rules/<rule-id>.md` (front matter: id, name, level, security-severity, precision, tags,
//! summary; body: what it finds, why it matters, how to fix, an example), embedded at build time
//! and bound to the logic by id in [`REGISTRY`]. Rules never see raw YAML and never print.
//!
//! Some rules are reported by earlier stages (`invalid-manifest` by the loader and the model,
//! `unused-suppression` by the suppression pass); they are registered without a check so that
//! their documentation, selection and levels work like every other rule's.

mod common;
pub mod meta;

mod cross_namespace_exposure;
mod dangling_ingress_backend;
mod dangling_service;
mod deprecated_ingress_api;
mod egress_to_metadata_endpoint;
mod host_network_bypasses_policy;
mod ingress_backend_blocked;
mod ingress_class_missing;
mod ingress_controller_on_windows;
mod ingress_without_tls;
mod internet_exposed_workload;
mod namespace_without_default_deny;
mod network_policy_not_enforced;
mod nodeport_service;
mod policy_allows_all;
mod policy_peer_matches_nothing;
mod policy_selects_nothing;
mod public_load_balancer;
mod unknown_named_port;
mod unrestricted_egress;
mod workload_not_isolated;

use std::sync::OnceLock;

use crate::finding::Finding;
use crate::graph::Graph;
use crate::model::Model;
pub use meta::RuleMeta;

/// What a rule reads.
pub struct Context<'a> {
    pub model: &'a Model,
    pub graph: &'a Graph,
}

pub type Check = fn(&Context, &mut Vec<Finding>);

/// A registered rule: its id, its documentation file, and its check (none for rules that an
/// earlier stage reports).
pub struct RuleEntry {
    pub id: &'static str,
    pub doc: &'static str,
    pub check: Option<Check>,
}

macro_rules! registry {
    ($( $id:literal => $check:expr ),* $(,)?) => {
        /// Every rule, in id order.
        pub static REGISTRY: &[RuleEntry] = &[
            $( RuleEntry { id: $id, doc: include_str!(concat!("../../rules/", $id, ".md")), check: $check } ),*
        ];
    };
}

registry! {
    "cross-namespace-exposure" => Some(cross_namespace_exposure::check),
    "dangling-ingress-backend" => Some(dangling_ingress_backend::check),
    "dangling-service" => Some(dangling_service::check),
    "deprecated-ingress-api" => Some(deprecated_ingress_api::check),
    "duplicate-object" => None,
    "egress-to-metadata-endpoint" => Some(egress_to_metadata_endpoint::check),
    "host-network-bypasses-policy" => Some(host_network_bypasses_policy::check),
    "ingress-backend-blocked" => Some(ingress_backend_blocked::check),
    "ingress-class-missing" => Some(ingress_class_missing::check),
    "ingress-controller-on-windows" => Some(ingress_controller_on_windows::check),
    "ingress-without-tls" => Some(ingress_without_tls::check),
    "internet-exposed-workload" => Some(internet_exposed_workload::check),
    "invalid-manifest" => None,
    "namespace-without-default-deny" => Some(namespace_without_default_deny::check),
    "network-policy-not-enforced" => Some(network_policy_not_enforced::check),
    "nodeport-service" => Some(nodeport_service::check),
    "policy-allows-all" => Some(policy_allows_all::check),
    "policy-peer-matches-nothing" => Some(policy_peer_matches_nothing::check),
    "policy-selects-nothing" => Some(policy_selects_nothing::check),
    "public-load-balancer" => Some(public_load_balancer::check),
    "unknown-named-port" => Some(unknown_named_port::check),
    "unrendered-template" => None,
    "unrestricted-egress" => Some(unrestricted_egress::check),
    "unused-suppression" => None,
    "workload-not-isolated" => Some(workload_not_isolated::check),
}

/// The parsed metadata of every rule, in registry order. A rule document that does not parse
/// is a build defect caught by the tests; here it yields a placeholder so that nothing panics.
pub fn all() -> &'static [RuleMeta] {
    static METAS: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    METAS.get_or_init(|| {
        REGISTRY
            .iter()
            .map(|e| RuleMeta::parse(e.id, e.doc).unwrap_or_else(|err| RuleMeta::broken(e.id, &err)))
            .collect()
    })
}

pub fn find(id: &str) -> Option<&'static RuleMeta> {
    all().iter().find(|m| m.id == id)
}

/// Runs the rules whose ids `enabled` accepts, in parallel, and returns their findings.
pub fn run(cx: &Context, enabled: &(dyn Fn(&str) -> bool + Sync)) -> Vec<Finding> {
    use rayon::prelude::*;
    let per_rule: Vec<Vec<Finding>> = REGISTRY
        .par_iter()
        .filter(|e| enabled(e.id))
        .filter_map(|e| e.check.map(|check| (e, check)))
        .map(|(_, check)| {
            let mut out = Vec::new();
            check(cx, &mut out);
            out
        })
        .collect();
    per_rule.into_iter().flatten().collect()
}

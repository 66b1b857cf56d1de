//! The proof: the suggested files are read back by the model stage, added to the model, and the
//! graph and the rules run again. What it states: the findings before and after (which close,
//! which appear), the connections before and after, whether each connection the suggestions were
//! derived from is still allowed, problems of the suggested text itself, and the expectations
//! that no longer hold (through the [`super::ExpectationsHook`]).

use std::collections::BTreeSet;

use super::{Intent, Options, SuggestedFile, CLOSED_RULES};
use crate::finding::{Finding, Level};
use crate::graph::{self, ClassId, Graph};
use crate::model::build::Scope;
use crate::model::net::PortRef;
use crate::model::{Model, Object};
use crate::rules::{self, Context};
use crate::span::FileId;

/// File ids of the suggested files in the re-analysis: past any file of the repository.
const FIRST_SUGGESTED_FILE: FileId = FileId::MAX - 4096;

/// One connection a suggestion was derived from, before and after.
#[derive(Clone, Debug)]
pub struct ProvenConnection {
    pub description: String,
    /// Allowed before the suggestions.
    pub before: bool,
    /// Still allowed after (true as well when it was not allowed before: nothing was cut).
    pub kept: bool,
    /// The namespaces whose policies decide it.
    pub namespaces: Vec<String>,
}

/// What the re-analysis shows.
#[derive(Debug, Default)]
pub struct Proof {
    pub findings_before: usize,
    pub findings_after: usize,
    /// Findings of the repository that the suggestions close.
    pub closed: Vec<Finding>,
    /// Findings that appear with the suggestions (on the suggested files or elsewhere).
    pub opened: Vec<Finding>,
    /// Findings of [`CLOSED_RULES`] still reported after (internet exposure at error level only).
    pub remaining: Vec<Finding>,
    pub connections_before: usize,
    pub connections_after: usize,
    pub connections: Vec<ProvenConnection>,
    /// Problems of the suggested text as the model stage read it (none is expected).
    pub text_problems: Vec<String>,
    /// Expectations that no longer hold, from the hook.
    pub broken_expectations: Vec<String>,
}

/// A finding's identity across the two analyses.
fn identity(f: &Finding) -> (String, String, String, String, String) {
    let message = if f.key.object.is_empty() { f.message.clone() } else { String::new() };
    (f.rule.to_string(), f.key.object.clone(), f.key.field.clone(), f.key.peer.clone(), message)
}

/// Whether a finding is one a suggestion means to close.
pub(crate) fn is_gap(f: &Finding) -> bool {
    CLOSED_RULES.contains(&f.rule) && (f.rule != "internet-exposed-workload" || f.level == Level::Error)
}

/// The scope's model with the suggested files' objects added.
fn applied(model: &Model, files: &[SuggestedFile], problems: &mut Vec<String>) -> Model {
    let interner = crate::model::Interner::default();
    let mut out = Model {
        namespaces: model.namespaces.clone(),
        workloads: model.workloads.clone(),
        services: model.services.clone(),
        ingresses: model.ingresses.clone(),
        ingress_classes: model.ingress_classes.clone(),
        routes: model.routes.clone(),
        policies: model.policies.clone(),
        others: model.others.clone(),
        gateway: model.gateway.clone(),
        tier_policies: model.tier_policies.clone(),
        namespaces_with_custom_resources: model.namespaces_with_custom_resources.clone(),
        other_policies: model.other_policies.clone(),
        copies: model.copies.clone(),
    };
    for (i, file) in files.iter().enumerate() {
        let id = FIRST_SUGGESTED_FILE + i as FileId;
        let stream = crate::load::yaml::parse_stream(&file.text);
        for e in &stream.errors {
            problems.push(format!("{}: {e}", file.file_name));
        }
        let mut input = Vec::new();
        for root in stream.documents.iter().filter_map(|d| d.root.as_ref()) {
            for object in crate::model::extract_document(id, root, &file.namespace, &interner, &mut input) {
                match object {
                    Object::NetworkPolicy(p) => out.policies.push(p),
                    other => problems.push(format!("{}: unexpected {}", file.file_name, other.meta().kind)),
                }
            }
        }
        for p in input {
            problems.push(format!("{}: {:?}", file.file_name, p.kind));
        }
    }
    out
}

/// The class of each workload.
fn classes_of(model: &Model, graph: &Graph) -> Vec<Option<ClassId>> {
    let mut out = vec![None; model.workloads.len()];
    for (i, c) in graph.classes.iter().enumerate() {
        for &w in &c.workloads {
            if let Some(slot) = out.get_mut(w) {
                *slot = Some(ClassId::new(i));
            }
        }
    }
    out
}

/// Whether an intent is allowed in a graph.
fn allowed(intent: &Intent, graph: &Graph, class_of: &[Option<ClassId>]) -> bool {
    match intent {
        Intent::Pods { from, to, ports, .. } => {
            let (Some(Some(src)), Some(Some(dst))) = (class_of.get(*from), class_of.get(*to)) else { return false };
            let conns = graph.allowed(*src, *dst);
            let dst_class = &graph.classes[dst.index()];
            ports.iter().all(|(protocol, port)| match port {
                PortRef::Number(n) => conns.allows(*protocol, *n),
                PortRef::Name(name) => dst_class.named_port(name, *protocol).is_none_or(|n| conns.allows(*protocol, n)),
            })
        }
        Intent::Entry { entry, to, conns, .. } => {
            let Some(Some(class)) = class_of.get(*to) else { return false };
            let mut admitted = crate::graph::Conns::none();
            for x in graph.exposures.iter().filter(|x| x.entry == *entry && x.class == *class) {
                admitted.union_with(&x.admitted);
            }
            conns.intersect(&admitted) == *conns
        }
    }
}

fn describe(intent: &Intent, model: &Model) -> (String, Vec<String>) {
    let name = |w: usize| model.workloads.get(w).map_or_else(String::new, |w| w.peer_name());
    let ns = |w: usize| model.workloads.get(w).map_or_else(String::new, |w| w.meta.namespace.to_string());
    match intent {
        Intent::Pods { from, to, ports, why } => {
            let ports: Vec<String> = ports.iter().map(|(p, n)| format!("{p} {n}")).collect();
            (format!("{} => {} : {} ({why})", name(*from), name(*to), ports.join(", ")), vec![ns(*from), ns(*to)])
        }
        Intent::Entry { to, conns, why, .. } => (format!("{why}: => {} : {conns}", name(*to)), vec![ns(*to)]),
    }
}

/// Applies the files in memory, re-analyses, and states what changed.
pub(super) fn prove(
    scope: &Scope,
    graph: &Graph,
    files: &[SuggestedFile],
    intents: &[Intent],
    options: &Options,
) -> Proof {
    let mut proof = Proof::default();
    let model = applied(&scope.model, files, &mut proof.text_problems);
    let after_graph = graph::build_with(&model, &graph.profile);
    let after_scope = Scope {
        name: scope.name.clone(),
        source: scope.source.clone(),
        settings: scope.settings,
        model,
        problems: scope.problems.clone(),
        repeats: scope.repeats.clone(),
        objects: scope.objects,
    };
    let before = rules::run(&Context::new(scope, graph), options.enabled);
    let after = rules::run(&Context::new(&after_scope, &after_graph), options.enabled);
    let before_ids: BTreeSet<_> = before.iter().map(identity).collect();
    let after_ids: BTreeSet<_> = after.iter().map(identity).collect();
    proof.findings_before = before.len();
    proof.findings_after = after.len();
    // Closed: gone, or a gap no longer (an internet exposure that is now isolated, at a lower level).
    let after_gaps: BTreeSet<_> = after.iter().filter(|f| is_gap(f)).map(identity).collect();
    proof.closed = before
        .iter()
        .filter(|f| !after_ids.contains(&identity(f)) || (is_gap(f) && !after_gaps.contains(&identity(f))))
        .cloned()
        .collect();
    proof.opened = after.iter().filter(|f| !before_ids.contains(&identity(f))).cloned().collect();
    proof.remaining = after.into_iter().filter(is_gap).collect();
    let count = |g: &Graph| g.for_each_edge(|_, _, _| Ok::<(), ()>(())).unwrap_or(0);
    proof.connections_before = count(graph);
    proof.connections_after = count(&after_graph);
    let before_classes = classes_of(&scope.model, graph);
    let after_classes = classes_of(&after_scope.model, &after_graph);
    let mut seen = BTreeSet::new();
    for intent in intents {
        let (description, namespaces) = describe(intent, &scope.model);
        if !seen.insert(description.clone()) {
            continue;
        }
        let was = allowed(intent, graph, &before_classes);
        let is = allowed(intent, &after_graph, &after_classes);
        proof.connections.push(ProvenConnection { description, before: was, kept: !was || is, namespaces });
    }
    if let Some(hook) = options.expectations {
        proof.broken_expectations = hook(&after_scope.model, &after_graph);
    }
    proof
}

/// Whether a location is in a suggested file of the re-analysis.
pub fn in_suggested_file(file: FileId) -> bool {
    file >= FIRST_SUGGESTED_FILE
}

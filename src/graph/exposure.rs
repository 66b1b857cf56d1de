//! Exposures: each way in joined with the classes of its backend pods, and what their policies
//! admit of it.
//!
//! The ways in themselves (entries) are resolved in [`super::routes`]; each has a source as the
//! backend's ingress policy sees it: the client's address, a node's address
//! (`externalTrafficPolicy: Cluster`, the default, where the node forwards and rewrites the
//! source), or the ingress controller's pods. An *exposure* is an entry joined with one class of
//! backend pods: the target ports the entry forwards to and what the pods' ingress admits of them.
//!
//! Entries behind controllers the profile calls private are kept (`from_internet: false`), so
//! that a route that policies block is found whatever the controller faces. Nothing here is
//! worded: the rules and the report say what an exposure means.

use super::routes::{Entry, Source};
use super::{Class, ClassId, Graph};
use crate::graph::{Conns, PortSet};
use crate::model::net::PortRef;
use crate::model::{Model, ServicePort};
use rayon::prelude::*;

/// An entry joined with one class of its backend pods. Behind an unknown ingress controller,
/// `admitted` is what any plausible controller (any namespace, any labels, the host network) would
/// be admitted: the connectivity list's `{ingress-controller}` is narrower, one unlabelled pod.
#[derive(Clone, Debug)]
pub struct Exposure {
    /// Index into [`Graph::entries`].
    pub entry: usize,
    pub class: ClassId,
    /// Target ports the entry forwards to on these pods.
    pub wanted: Conns,
    /// What the pods' ingress admits of them from the entry's source.
    pub admitted: Conns,
}

/// Joins every entry with the classes of its Service's pods: what each exposes. Entries are
/// joined on the pool; the list keeps their order.
pub(super) fn compute(model: &Model, graph: &Graph, entries: &[Entry]) -> Vec<Exposure> {
    let selection = &graph.selection;
    entries
        .par_iter()
        .enumerate()
        .flat_map_iter(|(ei, entry)| {
            let service = &model.services[entry.service];
            let selected = match &service.selector {
                Some((labels, _)) => selection.service_classes(&service.meta.namespace, labels, &graph.classes),
                None => Vec::new(),
            };
            selected.into_iter().filter_map(move |c| {
                let wanted = target_conns(entry.ports.iter().map(|&pi| &service.ports[pi]), &graph.classes[c.index()]);
                if wanted.is_empty() {
                    return None;
                }
                let admitted = if entry.source == Source::Class(graph.ingress_controller) {
                    // An unknown controller: whatever a plausible one would be admitted.
                    graph.admits_unknown_controller(model, c, &wanted)
                } else {
                    wanted.intersect(&graph.ingress_allows(c, &entry.source))
                };
                Some(Exposure { entry: ei, class: c, wanted, admitted })
            })
        })
        .collect()
}

/// The target ports `ports` forward to on the pods of `class` (a named target port resolved on
/// them; absent there, nothing).
fn target_conns<'p>(ports: impl IntoIterator<Item = &'p ServicePort>, class: &Class) -> Conns {
    let mut wanted = Conns::none();
    for p in ports {
        let target = match &p.target {
            PortRef::Number(n) => Some(*n),
            PortRef::Name(name) => class.named_port(name, p.protocol),
        };
        if let Some(t) = target {
            wanted.add(p.protocol, &PortSet::range(t, t));
        }
    }
    wanted
}

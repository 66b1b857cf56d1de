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
use crate::model::{Model, Service, ServicePort};
use rustc_hash::FxHashMap;

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

/// Joins every entry with the classes of its Service's pods: what each exposes.
pub(super) fn compute(model: &Model, graph: &Graph, entries: &[Entry]) -> Vec<Exposure> {
    let selection = ServiceSelection::new(&graph.classes, !entries.is_empty());
    let mut exposures = Vec::new();
    for (ei, entry) in entries.iter().enumerate() {
        let service = &model.services[entry.service];
        for c in selection.selected(service) {
            let wanted = target_conns(entry.ports.iter().map(|&pi| &service.ports[pi]), &graph.classes[c.index()]);
            if wanted.is_empty() {
                continue;
            }
            let admitted = if entry.source == Source::Class(graph.ingress_controller) {
                // An unknown controller: whatever a plausible one would be admitted.
                graph.admits_unknown_controller(model, c, &wanted)
            } else {
                wanted.intersect(&graph.ingress_allows(c, &entry.source))
            };
            exposures.push(Exposure { entry: ei, class: c, wanted, admitted });
        }
    }
    exposures
}

/// The classes a Service's selector picks, found through an index of classes by namespace and
/// label: each lookup reads only the classes that carry the selector's rarest label (a namespace
/// may hold thousands of Services).
struct ServiceSelection<'g> {
    classes: &'g [Class],
    by_label: FxHashMap<(&'g str, &'g str, &'g str), Vec<ClassId>>,
}

impl<'g> ServiceSelection<'g> {
    /// The index over `classes`; empty (and free) when nothing will be looked up.
    fn new(classes: &'g [Class], needed: bool) -> Self {
        let mut by_label: FxHashMap<(&str, &str, &str), Vec<ClassId>> = FxHashMap::default();
        let indexed = if needed { classes } else { &[] };
        for (i, class) in indexed.iter().enumerate().filter(|(_, c)| !c.pseudo) {
            for (k, v) in class.labels.0.iter() {
                by_label.entry((&*class.namespace, &**k, &**v)).or_default().push(ClassId::new(i));
            }
        }
        ServiceSelection { classes, by_label }
    }

    /// The classes of `service`'s namespace whose labels hold every pair of its selector.
    fn selected<'s>(&'s self, service: &'s Service) -> impl Iterator<Item = ClassId> + 's {
        let selector = service.selector.as_ref().map(|(labels, _)| labels);
        let candidates = selector
            .into_iter()
            .flat_map(|l| l.0.iter())
            .map(|(k, v)| self.by_label.get(&(&*service.meta.namespace, &**k, &**v)).map_or(&[][..], Vec::as_slice))
            .min_by_key(|c| c.len())
            .unwrap_or_default();
        candidates.iter().copied().filter(move |&c| {
            let labels = &self.classes[c.index()].labels;
            selector.is_some_and(|sel| sel.0.iter().all(|(k, v)| labels.get(k) == Some(&**v)))
        })
    }
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

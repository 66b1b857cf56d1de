//! Classes and peers: the pods policies cannot tell apart (same namespace, labels and named
//! ports) as one class, the workloads the connectivity list names as peers, the pseudo classes
//! that stand for ingress controllers, and which policies select and isolate each class.
//!
//! Built once, first; it decides no admission and streams no edge.

use std::sync::Arc;

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{Builder, ClassId, PeerId, INGRESS_CONTROLLER_NAMESPACE};
use crate::model::net::Protocol;
use crate::model::selector::Labels;
use crate::model::{Direction, NAMESPACE_NAME_LABEL};
use crate::profile::controllers::{self, Controller};

/// A class's named ports: `(name, protocol, port)`, sorted.
type NamedPorts = Vec<(Box<str>, Protocol, u16)>;

/// Pods that policies cannot tell apart: same namespace, labels and named ports.
#[derive(Debug)]
pub struct Class {
    pub namespace: crate::model::selector::Str,
    pub labels: Labels,
    /// `(name, protocol, port)`, sorted.
    pub named_ports: Vec<(Box<str>, Protocol, u16)>,
    /// Indexes into [`Model::workloads`].
    pub workloads: Vec<usize>,
    pub peers: Vec<PeerId>,
    /// Policies (indexes into [`Model::policies`]) that select the class and isolate it.
    pub ingress_policies: Vec<usize>,
    pub egress_policies: Vec<usize>,
    /// An ingress controller the manifests do not show: a source for routes only, never printed.
    pub pseudo: bool,
    /// Pods pinned to Windows nodes (a profile may leave them unenforced).
    pub windows: bool,
    /// Pods on the host network, which the cluster tiers neither select nor match as peers.
    pub host_network: bool,
}

impl Class {
    pub fn named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.named_ports.iter().find(|(n, p, _)| &**n == name && *p == protocol).map(|(_, _, port)| *port)
    }

    pub fn isolated(&self, direction: Direction) -> bool {
        match direction {
            Direction::Ingress => !self.ingress_policies.is_empty(),
            Direction::Egress => !self.egress_policies.is_empty(),
        }
    }
}

/// A workload peer: what the connectivity list names `namespace/name[Kind]`. Pods with the same
/// controlling owner are one peer.
#[derive(Debug)]
pub struct Peer {
    pub name: String,
    pub namespace: crate::model::selector::Str,
    pub workloads: Vec<usize>,
    pub classes: Vec<ClassId>,
}

impl Builder<'_> {
    pub(super) fn build_peers_and_classes(&mut self) {
        let model = self.model;
        // Peers in name order; the workloads of one peer in model order (a stable sort).
        let mut by_name: Vec<(String, usize)> =
            model.workloads.par_iter().enumerate().map(|(i, w)| (w.peer_name(), i)).collect();
        by_name.par_sort_by(|a, b| a.0.cmp(&b.0));
        let mut peer_of = vec![PeerId::new(0); model.workloads.len()];
        for group in by_name.chunk_by(|a, b| a.0 == b.0) {
            let id = PeerId::new(self.g.peers.len());
            let workloads: Vec<usize> = group.iter().map(|(_, w)| *w).collect();
            for &w in &workloads {
                peer_of[w] = id;
            }
            let namespace = model.workloads[workloads[0]].meta.namespace.clone();
            self.g.peers.push(Peer { name: group[0].0.clone(), namespace, workloads, classes: Vec::new() });
        }
        // Classes by the hash of their key; the key itself is not copied (a large repository has
        // tens of thousands of label sets).
        let mut class_ids: FxHashMap<u64, Vec<ClassId>> = FxHashMap::default();
        let mut linked: rustc_hash::FxHashSet<(ClassId, PeerId)> = rustc_hash::FxHashSet::default();
        // Each workload's named ports and the hash of its class key, on the pool.
        let keyed: Vec<(NamedPorts, u64)> = model
            .workloads
            .par_iter()
            .map(|w| {
                let mut named: NamedPorts =
                    w.ports.iter().filter_map(|p| p.name.clone().map(|n| (n, p.protocol, p.port))).collect();
                named.sort();
                named.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
                let mut h = rustc_hash::FxHasher::default();
                (&w.meta.namespace, &w.pod_labels, &named, w.windows.is_some(), w.host_network.is_some()).hash(&mut h);
                (named, h.finish())
            })
            .collect();
        for (i, (w, (named, hash))) in model.workloads.iter().zip(keyed).enumerate() {
            let candidates = class_ids.entry(hash).or_default();
            let found = candidates.iter().copied().find(|&c| {
                let class = &self.g.classes[c.index()];
                class.namespace == w.meta.namespace
                    && class.labels == w.pod_labels
                    && class.named_ports == named
                    && class.windows == w.windows.is_some()
                    && class.host_network == w.host_network.is_some()
            });
            let next = ClassId::new(self.g.classes.len());
            let id = found.unwrap_or(next);
            if found.is_none() {
                candidates.push(next);
                self.g.classes.push(Class {
                    namespace: w.meta.namespace.clone(),
                    labels: w.pod_labels.clone(),
                    named_ports: named,
                    workloads: Vec::new(),
                    peers: Vec::new(),
                    ingress_policies: Vec::new(),
                    egress_policies: Vec::new(),
                    pseudo: false,
                    windows: w.windows.is_some(),
                    host_network: w.host_network.is_some(),
                });
            }
            let class = &mut self.g.classes[id.index()];
            class.workloads.push(i);
            let peer = peer_of[i];
            // A set of pairs, not a scan of the lists: one class may hold thousands of peers
            // (workloads that share their labels).
            if linked.insert((id, peer)) {
                class.peers.push(peer);
                self.g.peers[peer.index()].classes.push(id);
            }
        }
        self.g.ingress_controller = self.pseudo_class(INGRESS_CONTROLLER_NAMESPACE.into(), Labels::default());
        let resolver = controllers::Resolver::new(model, &self.g.profile);
        let routed = (!model.routes.is_empty()).then(controllers::openshift_router);
        let identities: Vec<Controller> =
            model.ingresses.iter().map(|i| resolver.serving(i).identity).chain(routed).collect();
        drop(resolver);
        for identity in identities {
            if let Controller::Pods { namespace, labels } = identity {
                let key = (namespace.clone(), labels.clone());
                if !self.controller_classes.contains_key(&key) {
                    let id = self.pseudo_class(namespace.into(), labels);
                    self.controller_classes.insert(key, id);
                }
            }
        }
        // Gateways' data planes: the repository's own proxy pods when it declares them (a
        // workload of the namespace whose pods carry the data plane's labels), else a pseudo class.
        let planes = super::gateway::data_planes(model);
        for plane in planes.iter().cloned() {
            if let Controller::Pods { namespace, labels } = plane {
                let key = (namespace.clone(), labels.clone());
                if self.controller_classes.contains_key(&key) {
                    continue;
                }
                // Recognised by the labels that name its Gateway; the implementation's other labels
                // may differ between versions.
                let naming = |k: &str| crate::profile::gateways::NAMING_LABELS.contains(&k);
                let declared = self.g.classes.iter().position(|c| {
                    !c.pseudo
                        && *c.namespace == *namespace
                        && labels.0.iter().filter(|(k, _)| naming(k)).all(|(k, v)| c.labels.get(k) == Some(&**v))
                });
                let id = match declared {
                    Some(i) => ClassId::new(i),
                    None => self.pseudo_class(namespace.into(), labels),
                };
                self.controller_classes.insert(key, id);
            }
        }
        self.gateway_planes = planes;
        let declared: FxHashMap<&str, &Labels> =
            model.namespaces.iter().map(|n| (&*n.meta.name, &n.meta.labels)).collect();
        for (id, class) in self.g.classes.iter().enumerate() {
            let entry = self.namespaces.entry(class.namespace.clone()).or_insert_with(|| {
                let base = declared
                    .get(&*class.namespace)
                    .map_or_else(|| controllers::well_known_namespace_labels(&class.namespace), |l| (*l).clone());
                (base.with(NAMESPACE_NAME_LABEL, &class.namespace), Vec::new())
            });
            entry.1.push(ClassId::new(id));
        }
    }

    fn pseudo_class(&mut self, namespace: crate::model::selector::Str, labels: Labels) -> ClassId {
        self.g.classes.push(Class {
            namespace,
            labels,
            named_ports: Vec::new(),
            workloads: Vec::new(),
            peers: Vec::new(),
            ingress_policies: Vec::new(),
            egress_policies: Vec::new(),
            pseudo: true,
            windows: false,
            host_network: false,
        });
        ClassId::new(self.g.classes.len() - 1)
    }

    /// Which classes each policy selects, and the isolation it gives them where the dataplane
    /// enforces it.
    pub(super) fn select_policies(&mut self) {
        let enforced = self.g.profile.dataplane.enforces();
        let windows_enforced = self.g.profile.windows_enforced;
        // Policies of one namespace often share a podSelector (`{}` above all: the default deny,
        // DNS, monitoring): each distinct one is matched once, on the pool, and its classes are
        // shared by every policy that has it.
        let model = self.model;
        let hashed: Vec<u64> = model
            .policies
            .par_iter()
            .map(|policy| {
                let mut h = rustc_hash::FxHasher::default();
                selection_key(policy).hash(&mut h);
                h.finish()
            })
            .collect();
        let mut slot_of: FxHashMap<u64, Vec<(usize, u32)>> = FxHashMap::default();
        let mut distinct: Vec<usize> = Vec::new();
        let mut slots: Vec<u32> = Vec::with_capacity(model.policies.len());
        for (pi, policy) in model.policies.iter().enumerate() {
            let candidates = slot_of.entry(hashed[pi]).or_default();
            let key = selection_key(policy);
            let slot = match candidates.iter().find(|(other, _)| selection_key(&model.policies[*other]) == key) {
                Some((_, slot)) => *slot,
                None => {
                    let slot = distinct.len() as u32;
                    candidates.push((pi, slot));
                    distinct.push(pi);
                    slot
                }
            };
            slots.push(slot);
        }
        drop(slot_of);
        let namespaces = &self.namespaces;
        let classes = &self.g.classes;
        let matched: Vec<Arc<[ClassId]>> = distinct
            .par_iter()
            .map(|&pi| {
                let policy = &model.policies[pi];
                namespaces
                    .get(&policy.meta.namespace)
                    .map(|(_, members)| {
                        members
                            .iter()
                            .copied()
                            .filter(|&c| policy.pod_selector.matches(&classes[c.index()].labels))
                            .collect::<Vec<ClassId>>()
                    })
                    .unwrap_or_default()
                    .into()
            })
            .collect();
        self.g.policy_selects.reserve(model.policies.len());
        for (pi, policy) in model.policies.iter().enumerate() {
            let selected = matched[slots[pi] as usize].clone();
            for &c in selected.iter() {
                let class = &mut self.g.classes[c.index()];
                if !enforced || (class.windows && !windows_enforced) {
                    continue;
                }
                if policy.affects(Direction::Ingress) {
                    class.ingress_policies.push(pi);
                }
                if policy.affects(Direction::Egress) {
                    class.egress_policies.push(pi);
                }
            }
            self.g.policy_selects.push(selected);
        }
    }
}

/// What decides the classes a policy selects: its namespace and its pod selector (without span).
fn selection_key(policy: &crate::model::NetworkPolicy) -> (&str, crate::model::selector::SelectorParts<'_>) {
    (&policy.meta.namespace, policy.pod_selector.parts())
}

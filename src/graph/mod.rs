//! Stage 3, graph: the reachability engine.
//!
//! Computed once from the model, deterministic, and ignorant of rules and output formats. The
//! semantics are those of Kubernetes NetworkPolicy (`networking.k8s.io/v1`), written down in the
//! project's DESIGN notes (§4):
//!
//! * a pod is isolated for a direction iff a policy of its namespace selects it and lists that
//!   direction in its (defaulted) `policyTypes`; policies are additive;
//! * a connection is allowed iff the source's egress and the destination's ingress both allow it;
//! * named ports resolve on the destination pod (name and protocol), never towards an address;
//! * `ipBlock`s describe addresses outside the cluster, never pods.
//!
//! Work is done on *classes* of pods (same namespace, labels and named ports), never on pod pairs,
//! so the cost grows with the number of distinct classes and with the number of allowed pairs (the
//! size of the answer), not with the number of pods. For every class the engine keeps the
//! policies that isolate it, and for every rule peer the classes and address atoms it matches, so
//! that [`Graph::explain`] can cite the rules behind any verdict.

pub mod conns;
pub mod diff;
pub mod explain;
pub mod exposure;
pub mod internet;
pub mod ipspace;
pub mod routes;

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::net::{IpRange, PortRef, Protocol};
use crate::model::selector::Labels;
use crate::model::{Direction, Model, NetworkPolicy, PeerSelector, PolicyPort, NAMESPACE_NAME_LABEL};
use crate::profile::controllers::{self, Controller};
use crate::profile::Profile;
pub use conns::{Conns, PortSet};
use ipspace::IpSpace;
pub use routes::Source;

pub type ClassId = u32;
pub type PeerId = u32;
pub type ConnsId = u32;

/// The namespace of the `{ingress-controller}` pseudo-peer when the controller is unknown: one pod
/// with no labels, in a namespace that carries only its automatic label.
pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-controller-ns";
pub const INGRESS_CONTROLLER: &str = "{ingress-controller}";

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Peer(PeerId),
    External(IpRange),
    IngressController,
}

/// A named port in a policy rule that no destination pod declares with that name and protocol:
/// the port entry allows nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownNamedPort {
    /// Index into [`Model::policies`].
    pub policy: usize,
    pub direction: Direction,
    /// Index into the policy's rules of the direction.
    pub rule: usize,
    pub name: Box<str>,
    pub protocol: Protocol,
    /// The port entry.
    pub at: crate::span::Location,
}

/// What a rule peer matches.
#[derive(Debug)]
enum PeerMatch {
    Classes(std::rc::Rc<[ClassId]>),
    /// Runs of external atoms (first, last).
    Atoms(Vec<(usize, usize)>),
}

/// What an isolated class admits, per source (ingress) or per destination (egress). Connection
/// sets are interned ([`Graph::conns`]): a large repository has few distinct ones.
#[derive(Debug, Default)]
struct Allowance {
    /// From rules without peers: every class and every address.
    everyone: Conns,
    /// Egress only: named ports of peer-less rules, resolved per destination.
    everyone_named: Vec<(Box<str>, Protocol)>,
    /// Sorted by class.
    by_class: Vec<(ClassId, ConnsId)>,
    by_atoms: Vec<(usize, usize, ConnsId)>,
}

impl Allowance {
    fn class(&self, c: ClassId) -> Option<ConnsId> {
        self.by_class.binary_search_by_key(&c, |(k, _)| *k).ok().map(|i| self.by_class[i].1)
    }

    fn classes(&self) -> impl Iterator<Item = ClassId> + '_ {
        self.by_class.iter().map(|(c, _)| *c)
    }
}

/// An allowance while it is being built. `by_class` is a dense table over all classes, reused
/// from one class to the next (with the entries in use listed in `touched`), so that building
/// tens of thousands of allowances allocates next to nothing.
#[derive(Default)]
struct AllowanceBuilder {
    everyone: Conns,
    everyone_named: Vec<(Box<str>, Protocol)>,
    by_class: Vec<Option<Conns>>,
    touched: Vec<ClassId>,
    by_atoms: Vec<(usize, usize, Conns)>,
}

impl AllowanceBuilder {
    fn add_class(&mut self, c: ClassId, conns: &Conns) {
        match &mut self.by_class[c as usize] {
            Some(existing) => existing.union_with(conns),
            slot @ None => {
                *slot = Some(conns.clone());
                self.touched.push(c);
            }
        }
    }
}

/// A rule's `ports`, split into what is known now and what depends on the destination pod.
#[derive(Debug, Default)]
struct RulePorts {
    numeric: Conns,
    named: Vec<(Box<str>, Protocol)>,
}

impl RulePorts {
    fn of(ports: Option<&[PolicyPort]>) -> RulePorts {
        let Some(ports) = ports else {
            return RulePorts { numeric: Conns::all(), named: Vec::new() };
        };
        let mut out = RulePorts::default();
        for p in ports {
            match &p.port {
                None => out.numeric.add(p.protocol, &PortSet::all()),
                Some(PortRef::Number(n)) => {
                    out.numeric.add(p.protocol, &PortSet::range(*n, p.end_port.unwrap_or(*n)));
                }
                Some(PortRef::Name(name)) => out.named.push((name.clone(), p.protocol)),
            }
        }
        out
    }

    fn on(&self, class: &Class) -> Conns {
        let mut c = self.numeric.clone();
        resolve_named(&mut c, &self.named, class);
        c
    }

    fn is_empty(&self) -> bool {
        self.numeric.is_empty() && self.named.is_empty()
    }
}

fn resolve_named(into: &mut Conns, named: &[(Box<str>, Protocol)], class: &Class) {
    for (name, protocol) in named {
        if let Some(port) = class.named_port(name, *protocol) {
            into.add(*protocol, &PortSet::range(port, port));
        }
    }
}

/// Connections towards a run of external atoms, possibly different per atom.
#[derive(Clone, Debug)]
enum AtomConns {
    Uniform(Conns),
    PerAtom(Vec<Conns>),
}

/// The reachability graph.
#[derive(Debug, Default)]
pub struct Graph {
    pub classes: Vec<Class>,
    pub peers: Vec<Peer>,
    /// The class of the `{ingress-controller}` pseudo-peer.
    pub ingress_controller: ClassId,
    pub ip_space: IpSpace,
    /// Per peer: connections to and from external ranges (maximal ranges, address order).
    external_out: Vec<Vec<(IpRange, ConnsId)>>,
    external_in: Vec<Vec<(IpRange, ConnsId)>>,
    /// `{ingress-controller}` to the peers behind Ingresses and Routes, in peer order.
    ingress_controller_edges: Vec<(PeerId, ConnsId)>,
    conns: Vec<Conns>,
    /// Classes each policy selects (indexes parallel to [`Model::policies`]).
    pub policy_selects: Vec<Vec<ClassId>>,
    /// Named ports of policy rules that no destination pod declares.
    pub unknown_named_ports: Vec<UnknownNamedPort>,
    /// Ingress and Route backends that name no Service, or no port of it.
    pub unresolved_backends: Vec<routes::UnresolvedBackend>,
    /// What each isolated class admits (None: not isolated), per direction.
    inbound: Vec<Option<Allowance>>,
    outbound: Vec<Option<Allowance>>,
    /// Namespaces that hold classes (declared or not), with their labels (the automatic name
    /// label included) and their classes.
    pub namespaces: BTreeMap<crate::model::selector::Str, (Labels, Vec<ClassId>)>,
    /// What the graph assumed about the cluster.
    pub profile: Profile,
    /// Ways in from outside the cluster and through ingress controllers, and what they reach.
    pub entries: Vec<routes::Entry>,
    pub exposures: Vec<exposure::Exposure>,
}

impl Graph {
    pub fn conns(&self, id: ConnsId) -> &Conns {
        &self.conns[id as usize]
    }

    pub fn endpoint_name(&self, endpoint: &Endpoint) -> String {
        match endpoint {
            Endpoint::Peer(p) => self.peers[*p as usize].name.clone(),
            Endpoint::External(range) => format!("{range}[External]"),
            Endpoint::IngressController => INGRESS_CONTROLLER.to_string(),
        }
    }

    /// What `src` may open to `dst` (classes): its egress and the destination's ingress both
    /// allow it.
    pub fn allowed(&self, src: ClassId, dst: ClassId) -> Conns {
        let egress = match self.allowance(src, Direction::Egress) {
            None => Conns::all(),
            Some(a) => {
                let mut c = a.everyone.clone();
                resolve_named(&mut c, &a.everyone_named, &self.classes[dst as usize]);
                if let Some(x) = a.class(dst) {
                    c.union_with(self.conns(x));
                }
                c
            }
        };
        if egress.is_empty() {
            return egress;
        }
        match self.allowance(dst, Direction::Ingress) {
            None => egress,
            Some(a) => {
                let mut ingress = a.everyone.clone();
                if let Some(x) = a.class(src) {
                    ingress.union_with(self.conns(x));
                }
                egress.intersect(&ingress)
            }
        }
    }

    /// Calls `emit` for every allowed connection, in the order of the connectivity list (source
    /// name, then destination name, bytewise), and returns how many there were. Edges are
    /// generated source by source and never held all at once: a repository whose workloads all
    /// reach each other costs time in proportion to its answer, and memory in proportion to its
    /// peers.
    pub fn for_each_edge<E>(
        &self,
        mut emit: impl FnMut(&Endpoint, &Endpoint, &Conns) -> Result<(), E>,
    ) -> Result<usize, E> {
        let order = EndpointOrder::new(self);
        let index = EdgeIndex::new(self);
        let mut acc: Vec<Option<Conns>> = vec![None; self.peers.len()];
        let mut touched: Vec<PeerId> = Vec::new();
        let mut count = 0;
        let mut out: Vec<(usize, Endpoint, Conns)> = Vec::new();
        for src in &order.names {
            out.clear();
            match src {
                Endpoint::Peer(p) => {
                    self.peer_targets(*p, &index, &mut acc, &mut touched);
                    for q in touched.drain(..) {
                        if let Some(conns) = acc[q as usize].take() {
                            out.push((order.peer_rank[q as usize], Endpoint::Peer(q), conns));
                        }
                    }
                    for (range, id) in &self.external_out[*p as usize] {
                        out.push((
                            order.rank(&Endpoint::External(*range)),
                            Endpoint::External(*range),
                            self.conns(*id).clone(),
                        ));
                    }
                }
                Endpoint::External(range) => {
                    for &(p, id) in order.ingress_from.get(range).map(Vec::as_slice).unwrap_or_default() {
                        out.push((order.peer_rank[p as usize], Endpoint::Peer(p), self.conns(id).clone()));
                    }
                }
                Endpoint::IngressController => {
                    for &(p, id) in &self.ingress_controller_edges {
                        out.push((order.peer_rank[p as usize], Endpoint::Peer(p), self.conns(id).clone()));
                    }
                }
            }
            out.sort_by_key(|(rank, _, _)| *rank);
            for (_, dst, conns) in &out {
                emit(src, dst, conns)?;
                count += 1;
            }
        }
        Ok(count)
    }

    /// The peers `p` reaches, accumulated into `acc` (indexed by peer), with `touched` listing them.
    fn peer_targets(&self, p: PeerId, index: &EdgeIndex, acc: &mut [Option<Conns>], touched: &mut Vec<PeerId>) {
        let mut seen: FxHashSet<ClassId> = FxHashSet::default();
        for &s in &self.peers[p as usize].classes {
            seen.clear();
            let mut candidates: Vec<ClassId> = Vec::new();
            let mut consider = |d: ClassId, candidates: &mut Vec<ClassId>| {
                if !self.classes[d as usize].pseudo && seen.insert(d) {
                    candidates.push(d);
                }
            };
            if index.open_out[s as usize] {
                for &d in &index.open_in {
                    consider(d, &mut candidates);
                }
            }
            if let Some(a) = self.allowance(s, Direction::Egress) {
                for d in a.classes() {
                    consider(d, &mut candidates);
                }
            }
            for &d in index.admitted_by(s) {
                consider(d, &mut candidates);
            }
            for d in candidates {
                let allowed = self.allowed(s, d);
                if allowed.is_empty() {
                    continue;
                }
                for &q in &self.classes[d as usize].peers {
                    if q == p {
                        continue;
                    }
                    match &mut acc[q as usize] {
                        Some(c) => c.union_with(&allowed),
                        slot @ None => {
                            *slot = Some(allowed.clone());
                            touched.push(q);
                        }
                    }
                }
            }
        }
    }

    fn allowance(&self, class: ClassId, direction: Direction) -> Option<&Allowance> {
        let table = match direction {
            Direction::Ingress => &self.inbound,
            Direction::Egress => &self.outbound,
        };
        table.get(class as usize).and_then(Option::as_ref)
    }

    /// Whether `class` is isolated for `direction` but a rule without peers and ports admits
    /// every connection anyway (`ingress: [{}]`).
    pub fn admits_everything(&self, class: ClassId, direction: Direction) -> bool {
        self.allowance(class, direction).is_some_and(|a| a.everyone.is_all())
    }

    /// Whether `class` is isolated for `direction` by at least one policy.
    pub fn isolated(&self, class: ClassId, direction: Direction) -> bool {
        self.allowance(class, direction).is_some()
    }

    /// Connections the class's egress allows towards the external address range `target`
    /// (every atom of it must allow them); everything when egress is not isolated.
    pub fn egress_to_external(&self, class: ClassId, target: &IpRange) -> Conns {
        let Some(a) = self.allowance(class, Direction::Egress) else { return Conns::all() };
        self.to_external(a, target)
    }

    fn to_external(&self, a: &Allowance, range: &IpRange) -> Conns {
        let mut result: Option<Conns> = None;
        for (i, atom) in self.ip_space.atoms.iter().enumerate() {
            if atom.family != range.family || atom.last < range.first || atom.first > range.last {
                continue;
            }
            let mut c = a.everyone.clone();
            for (first, last, conns) in &a.by_atoms {
                if *first <= i && i <= *last {
                    c.union_with(self.conns(*conns));
                }
            }
            result = Some(match result {
                None => c,
                Some(prev) => prev.intersect(&c),
            });
        }
        result.unwrap_or_default()
    }

    /// Whether a `from`/`to` element of `policy` matches some class (stops at the first).
    pub fn matches_any_class(&self, policy: &NetworkPolicy, peer: &PeerSelector) -> bool {
        let PeerSelector::Pods { namespaces, pods, .. } = peer else { return false };
        let matches_in = |classes: &Vec<ClassId>| {
            classes.iter().any(|&c| pods.as_ref().is_none_or(|sel| sel.matches(&self.classes[c as usize].labels)))
        };
        match namespaces {
            None => self.namespaces.get(&policy.meta.namespace).is_some_and(|(_, classes)| matches_in(classes)),
            Some(sel) => self.namespaces.values().any(|(labels, classes)| sel.matches(labels) && matches_in(classes)),
        }
    }
}

/// Builds the reachability graph of a model under the generic profile.
pub fn build(model: &Model) -> Graph {
    build_with(model, &Profile::default())
}

/// Builds the reachability graph of a model under a cluster profile: a dataplane that enforces
/// nothing leaves every pod unisolated, as do unenforced Windows nodes.
pub fn build_with(model: &Model, profile: &Profile) -> Graph {
    let mut builder = Builder::new(model);
    builder.g.profile = profile.clone();
    builder.run()
}

/// A rule peer's selectors (and the policy's namespace when it has no namespaceSelector): peers
/// with equal keys match the same classes.
type PeerKey = (
    Option<crate::model::selector::SelectorKey>,
    Option<crate::model::selector::SelectorKey>,
    crate::model::selector::Str,
);

struct Builder<'m> {
    model: &'m Model,
    g: Graph,
    /// Classes per namespace, and the namespace's labels.
    namespaces: BTreeMap<crate::model::selector::Str, (Labels, Vec<ClassId>)>,
    match_cache: FxHashMap<PeerKey, std::rc::Rc<[ClassId]>>,
    conns_ids: FxHashMap<Conns, ConnsId>,
    /// Pseudo classes of known ingress controllers, by namespace and labels.
    controller_classes: BTreeMap<(Box<str>, Labels), ClassId>,
}

impl<'m> Builder<'m> {
    fn new(model: &'m Model) -> Self {
        Builder {
            model,
            g: Graph::default(),
            namespaces: BTreeMap::new(),
            match_cache: FxHashMap::default(),
            conns_ids: FxHashMap::default(),
            controller_classes: BTreeMap::new(),
        }
    }

    fn intern(&mut self, conns: Conns) -> ConnsId {
        if let Some(id) = self.conns_ids.get(&conns) {
            return *id;
        }
        let id = self.g.conns.len() as ConnsId;
        self.g.conns.push(conns.clone());
        self.conns_ids.insert(conns, id);
        id
    }

    fn run(mut self) -> Graph {
        self.build_peers_and_classes();
        self.select_policies();
        let blocks = self.ip_blocks();
        self.g.ip_space = IpSpace::new(blocks.iter());
        let (inbound, outbound) = self.allowances();
        self.external_edges(&inbound, &outbound);
        self.g.inbound = inbound;
        self.g.outbound = outbound;
        self.g.namespaces = std::mem::take(&mut self.namespaces);
        let resolved =
            routes::resolve(self.model, &self.g.profile, &self.controller_classes, self.g.ingress_controller);
        self.g.exposures = exposure::compute(self.model, &self.g, &resolved.entries);
        self.g.entries = resolved.entries;
        self.g.unresolved_backends = resolved.unresolved;
        self.g.ingress_controller_edges = self.ingress_controller_edges();
        self.g
    }

    fn build_peers_and_classes(&mut self) {
        let model = self.model;
        // Peers in name order; the workloads of one peer in model order (a stable sort).
        let mut by_name: Vec<(String, usize)> =
            model.workloads.iter().enumerate().map(|(i, w)| (w.peer_name(), i)).collect();
        by_name.sort_by(|a, b| a.0.cmp(&b.0));
        let mut peer_of = vec![0 as PeerId; model.workloads.len()];
        for group in by_name.chunk_by(|a, b| a.0 == b.0) {
            let id = self.g.peers.len() as PeerId;
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
        for (i, w) in model.workloads.iter().enumerate() {
            let mut named: Vec<(Box<str>, Protocol, u16)> =
                w.ports.iter().filter_map(|p| p.name.clone().map(|n| (n, p.protocol, p.port))).collect();
            named.sort();
            named.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
            let hash = {
                use std::hash::{Hash, Hasher};
                let mut h = rustc_hash::FxHasher::default();
                (&w.meta.namespace, &w.pod_labels, &named, w.windows.is_some()).hash(&mut h);
                h.finish()
            };
            let candidates = class_ids.entry(hash).or_default();
            let found = candidates.iter().copied().find(|&c| {
                let class = &self.g.classes[c as usize];
                class.namespace == w.meta.namespace
                    && class.labels == w.pod_labels
                    && class.named_ports == named
                    && class.windows == w.windows.is_some()
            });
            let next = self.g.classes.len() as ClassId;
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
                });
            }
            let class = &mut self.g.classes[id as usize];
            class.workloads.push(i);
            let peer = peer_of[i];
            if !class.peers.contains(&peer) {
                class.peers.push(peer);
            }
            let peer = &mut self.g.peers[peer as usize];
            if !peer.classes.contains(&id) {
                peer.classes.push(id);
            }
        }
        self.g.ingress_controller = self.pseudo_class(INGRESS_CONTROLLER_NAMESPACE.into(), Labels::default());
        for ingress in &model.ingresses {
            if let Controller::Pods { namespace, labels } =
                controllers::controller_of(ingress, &model.ingress_classes, &self.g.profile).identity
            {
                let key = (namespace.clone(), labels.clone());
                if !self.controller_classes.contains_key(&key) {
                    let id = self.pseudo_class(namespace.into(), labels);
                    self.controller_classes.insert(key, id);
                }
            }
        }
        let declared: FxHashMap<&str, &Labels> =
            model.namespaces.iter().map(|n| (&*n.meta.name, &n.meta.labels)).collect();
        for (id, class) in self.g.classes.iter().enumerate() {
            let entry = self.namespaces.entry(class.namespace.clone()).or_insert_with(|| {
                let base = declared
                    .get(&*class.namespace)
                    .map_or_else(|| controllers::well_known_namespace_labels(&class.namespace), |l| (*l).clone());
                (base.with(NAMESPACE_NAME_LABEL, &class.namespace), Vec::new())
            });
            entry.1.push(id as ClassId);
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
        });
        (self.g.classes.len() - 1) as ClassId
    }

    /// Which classes each policy selects, and the isolation it gives them where the dataplane
    /// enforces it.
    fn select_policies(&mut self) {
        let enforced = self.g.profile.dataplane.enforces();
        let windows_enforced = self.g.profile.windows_enforced;
        for (pi, policy) in self.model.policies.iter().enumerate() {
            let selected: Vec<ClassId> = self
                .namespaces
                .get(&policy.meta.namespace)
                .map(|(_, classes)| {
                    classes
                        .iter()
                        .copied()
                        .filter(|&c| policy.pod_selector.matches(&self.g.classes[c as usize].labels))
                        .collect()
                })
                .unwrap_or_default();
            for &c in &selected {
                let class = &mut self.g.classes[c as usize];
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

    fn ip_blocks(&self) -> Vec<IpRange> {
        let mut blocks = Vec::new();
        for policy in &self.model.policies {
            for direction in [Direction::Ingress, Direction::Egress] {
                if !policy.affects(direction) {
                    continue;
                }
                for rule in policy.rules(direction) {
                    for peer in rule.peers.iter().flatten() {
                        if let PeerSelector::IpBlock { cidr, except, .. } = peer {
                            blocks.push(*cidr);
                            blocks.extend(except.iter().copied());
                        }
                    }
                }
            }
        }
        blocks
    }

    /// The classes a pod peer matches, cached by selector text.
    fn match_pods(&mut self, policy: &NetworkPolicy, peer: &PeerSelector) -> PeerMatch {
        match peer {
            PeerSelector::IpBlock { cidr, except, .. } => PeerMatch::Atoms(self.g.ip_space.runs(cidr, except)),
            PeerSelector::Pods { namespaces, pods, .. } => {
                let key: PeerKey = (
                    namespaces.as_ref().map(|s| s.key()),
                    pods.as_ref().map(|s| s.key()),
                    if namespaces.is_none() { policy.meta.namespace.clone() } else { "".into() },
                );
                if let Some(hit) = self.match_cache.get(&key) {
                    return PeerMatch::Classes(hit.clone());
                }
                let mut out = Vec::new();
                let in_scope: Vec<&Vec<ClassId>> = match namespaces {
                    // Without a namespaceSelector, only the policy's own namespace.
                    None => self.namespaces.get(&policy.meta.namespace).map(|(_, c)| c).into_iter().collect(),
                    Some(sel) => {
                        self.namespaces.values().filter(|(labels, _)| sel.matches(labels)).map(|(_, c)| c).collect()
                    }
                };
                for classes in in_scope {
                    for &c in classes {
                        if pods.as_ref().is_none_or(|sel| sel.matches(&self.g.classes[c as usize].labels)) {
                            out.push(c);
                        }
                    }
                }
                let shared: std::rc::Rc<[ClassId]> = out.into();
                self.match_cache.insert(key, shared.clone());
                PeerMatch::Classes(shared)
            }
        }
    }

    /// What each isolated class admits: inbound (ingress) and outbound (egress), per class.
    ///
    /// Rule peers are matched once per rule; each class's allowance is then built on its own and
    /// compacted (sorted, interned) before the next, so that only one class's working set is
    /// ever expanded.
    fn allowances(&mut self) -> (Vec<Option<Allowance>>, Vec<Option<Allowance>>) {
        let model = self.model;
        // matches[policy][direction][rule]: None for a rule without peers; with the rule's ports,
        // read once rather than once per class the policy selects.
        type RuleMatches = Vec<(Option<Vec<PeerMatch>>, RulePorts)>;
        let mut matches: Vec<[RuleMatches; 2]> = Vec::with_capacity(model.policies.len());
        for (pi, policy) in model.policies.iter().enumerate() {
            let mut per_direction: [RuleMatches; 2] = [Vec::new(), Vec::new()];
            if !self.g.policy_selects[pi].is_empty() {
                for (d, direction) in [Direction::Ingress, Direction::Egress].into_iter().enumerate() {
                    if !policy.affects(direction) {
                        continue;
                    }
                    for (ri, rule) in policy.rules(direction).iter().enumerate() {
                        let m: Option<Vec<PeerMatch>> =
                            rule.peers.as_ref().map(|peers| peers.iter().map(|p| self.match_pods(policy, p)).collect());
                        if rule.ports.iter().flatten().any(|p| matches!(p.port, Some(PortRef::Name(_)))) {
                            let selected = self.g.policy_selects[pi].clone();
                            self.check_named_ports(pi, ri, direction, &selected, m.as_deref());
                        }
                        per_direction[d].push((m, RulePorts::of(rule.ports.as_deref())));
                    }
                }
            }
            matches.push(per_direction);
        }
        let n = self.g.classes.len();
        let mut inbound: Vec<Option<Allowance>> = Vec::with_capacity(n);
        let mut outbound: Vec<Option<Allowance>> = Vec::with_capacity(n);
        let mut a = AllowanceBuilder { by_class: vec![None; n], ..AllowanceBuilder::default() };
        for c in 0..n {
            for (d, direction) in [Direction::Ingress, Direction::Egress].into_iter().enumerate() {
                let class = &self.g.classes[c];
                let policies = match direction {
                    Direction::Ingress => &class.ingress_policies,
                    Direction::Egress => &class.egress_policies,
                };
                let built = if policies.is_empty() {
                    None
                } else {
                    for &pi in policies {
                        for (m, ports) in &matches[pi][d] {
                            credit_rule(&self.g.classes, c as ClassId, ports, direction, m.as_deref(), &mut a);
                        }
                    }
                    Some(self.compact(&mut a))
                };
                match direction {
                    Direction::Ingress => inbound.push(built),
                    Direction::Egress => outbound.push(built),
                }
            }
        }
        (inbound, outbound)
    }

    /// Turns the builder's state into a compact allowance and resets the builder.
    fn compact(&mut self, a: &mut AllowanceBuilder) -> Allowance {
        a.touched.sort_unstable();
        let mut by_class = Vec::with_capacity(a.touched.len());
        for c in a.touched.drain(..) {
            if let Some(conns) = a.by_class[c as usize].take() {
                by_class.push((c, self.intern(conns)));
            }
        }
        let by_atoms = a.by_atoms.drain(..).map(|(f, l, x)| (f, l, self.intern(x))).collect();
        Allowance {
            everyone: std::mem::take(&mut a.everyone),
            everyone_named: std::mem::take(&mut a.everyone_named),
            by_class,
            by_atoms,
        }
    }

    /// Records a named port that no destination pod of the rule declares (with that protocol):
    /// the entry allows nothing. Destinations of an egress rule that the repository does not show
    /// (a namespace outside it) are not held against the rule.
    fn check_named_ports(
        &mut self,
        policy_index: usize,
        rule_index: usize,
        direction: Direction,
        selected: &[ClassId],
        matches: Option<&[PeerMatch]>,
    ) {
        let destinations: Vec<ClassId> = match direction {
            Direction::Ingress => selected.to_vec(),
            Direction::Egress => match matches {
                None => return,
                Some(ms) => ms
                    .iter()
                    .flat_map(|m| match m {
                        PeerMatch::Classes(c) => &c[..],
                        PeerMatch::Atoms(_) => &[],
                    })
                    .copied()
                    .collect(),
            },
        };
        let policy = &self.model.policies[policy_index];
        let rule = &policy.rules(direction)[rule_index];
        let destinations: Vec<&Class> =
            destinations.iter().map(|&c| &self.g.classes[c as usize]).filter(|c| !c.pseudo).collect();
        if destinations.is_empty() {
            return;
        }
        for port in rule.ports.iter().flatten() {
            let Some(PortRef::Name(name)) = &port.port else {
                continue;
            };
            if destinations.iter().any(|c| c.named_port(name, port.protocol).is_some()) {
                continue;
            }
            self.g.unknown_named_ports.push(UnknownNamedPort {
                policy: policy_index,
                direction,
                rule: rule_index,
                name: name.clone(),
                protocol: port.protocol,
                at: policy.meta.at(port.span),
            });
        }
    }

    fn atom_conns(&self, allowance: Option<&Allowance>) -> AtomConns {
        let Some(a) = allowance else {
            return AtomConns::Uniform(Conns::all());
        };
        if a.by_atoms.is_empty() {
            return AtomConns::Uniform(a.everyone.clone());
        }
        let mut per = vec![a.everyone.clone(); self.g.ip_space.atoms.len()];
        for (first, last, conns) in &a.by_atoms {
            let conns = &self.g.conns[*conns as usize];
            for slot in &mut per[*first..=*last] {
                slot.union_with(conns);
            }
        }
        AtomConns::PerAtom(per)
    }

    /// Each peer's connections to and from addresses outside the cluster, as maximal ranges.
    fn external_edges(&mut self, inbound: &[Option<Allowance>], outbound: &[Option<Allowance>]) {
        let atoms = self.g.ip_space.atoms.clone();
        self.g.external_out = vec![Vec::new(); self.g.peers.len()];
        self.g.external_in = vec![Vec::new(); self.g.peers.len()];
        for p in 0..self.g.peers.len() {
            let classes = self.g.peers[p].classes.clone();
            for direction in [Direction::Egress, Direction::Ingress] {
                let mut combined: Option<AtomConns> = None;
                for &c in &classes {
                    let allowance = match direction {
                        Direction::Egress => outbound[c as usize].as_ref(),
                        Direction::Ingress => inbound[c as usize].as_ref(),
                    };
                    let this = self.atom_conns(allowance);
                    combined = Some(match combined {
                        None => this,
                        Some(prev) => union_atoms(prev, this, atoms.len()),
                    });
                }
                let Some(combined) = combined else { continue };
                for (range, conns) in merge_ranges(&atoms, combined) {
                    let conns = self.intern(conns);
                    match direction {
                        Direction::Egress => self.g.external_out[p].push((range, conns)),
                        Direction::Ingress => self.g.external_in[p].push((range, conns)),
                    }
                }
            }
        }
    }

    /// `{ingress-controller}` to the pods behind every Ingress and Route, on the target ports of
    /// the routed Service ports, as far as the pods' ingress policies admit the controller (its
    /// known identity for a well-known class, else the connectivity list's unlabelled pod): the
    /// exposures of the ways in through a controller, read with that narrower source.
    fn ingress_controller_edges(&mut self) -> Vec<(PeerId, ConnsId)> {
        let g = &self.g;
        let mut per_peer: BTreeMap<PeerId, Conns> = BTreeMap::new();
        for x in &g.exposures {
            let entry = &g.entries[x.entry];
            if !entry.kind.through_controller() {
                continue;
            }
            // Exposures count any plausible controller where it is unknown; the edge, one pod.
            let allowed = if entry.source == Source::Class(g.ingress_controller) {
                let inbound = g.inbound.get(x.class as usize).and_then(Option::as_ref);
                x.wanted.intersect(&admitted(inbound, &entry.source, &g.conns, &g.ip_space.atoms))
            } else {
                x.admitted.clone()
            };
            if allowed.is_empty() {
                continue;
            }
            for &peer in &g.classes[x.class as usize].peers {
                per_peer.entry(peer).or_default().union_with(&allowed);
            }
        }
        per_peer.into_iter().map(|(peer, conns)| (peer, self.intern(conns))).collect()
    }
}

/// Which classes may be reached without being named: what edge generation consults per source.
struct EdgeIndex {
    /// Classes whose ingress admits some connection from every class.
    open_in: Vec<ClassId>,
    /// Per class: whether its egress allows something towards every class.
    open_out: Vec<bool>,
    /// Per class: the classes whose ingress names it, as one flat list with per-class offsets
    /// (`admitted_by[start[s]..start[s + 1]]`).
    admitted_start: Vec<usize>,
    admitted_by: Vec<ClassId>,
}

impl EdgeIndex {
    fn admitted_by(&self, s: ClassId) -> &[ClassId] {
        let s = s as usize;
        &self.admitted_by[self.admitted_start[s]..self.admitted_start[s + 1]]
    }
}

impl EdgeIndex {
    fn new(g: &Graph) -> EdgeIndex {
        let n = g.classes.len();
        let open_in = (0..n)
            .filter(|&d| !g.classes[d].pseudo && g.inbound[d].as_ref().is_none_or(|a| !a.everyone.is_empty()))
            .map(|d| d as ClassId)
            .collect();
        let open_out = (0..n)
            .map(|s| g.outbound[s].as_ref().is_none_or(|a| !a.everyone.is_empty() || !a.everyone_named.is_empty()))
            .collect();
        // Counting sort into a flat list: two allocations instead of one per class.
        let mut admitted_start = vec![0usize; n + 1];
        for a in g.inbound.iter().flatten() {
            for s in a.classes() {
                admitted_start[s as usize + 1] += 1;
            }
        }
        for i in 0..n {
            admitted_start[i + 1] += admitted_start[i];
        }
        let mut fill = admitted_start.clone();
        let mut admitted_by = vec![0 as ClassId; admitted_start[n]];
        for (d, a) in g.inbound.iter().enumerate() {
            if let Some(a) = a {
                for s in a.classes() {
                    admitted_by[fill[s as usize]] = d as ClassId;
                    fill[s as usize] += 1;
                }
            }
        }
        EdgeIndex { open_in, open_out, admitted_start, admitted_by }
    }
}

/// Every endpoint that can start an edge, in name order, and the rank of every endpoint name.
struct EndpointOrder {
    /// The endpoints that start edges, in name order.
    names: Vec<Endpoint>,
    peer_rank: Vec<usize>,
    range_rank: BTreeMap<IpRange, usize>,
    /// External ranges as sources: the peers they reach, in peer order.
    ingress_from: BTreeMap<IpRange, Vec<(PeerId, ConnsId)>>,
}

impl EndpointOrder {
    fn new(g: &Graph) -> EndpointOrder {
        let mut ranges: BTreeMap<IpRange, ()> = BTreeMap::new();
        let mut ingress_from: BTreeMap<IpRange, Vec<(PeerId, ConnsId)>> = BTreeMap::new();
        for (p, list) in g.external_in.iter().enumerate() {
            for (range, id) in list {
                ranges.insert(*range, ());
                ingress_from.entry(*range).or_default().push((p as PeerId, *id));
            }
        }
        for list in &g.external_out {
            for (range, _) in list {
                ranges.insert(*range, ());
            }
        }
        use std::borrow::Cow;
        let mut all: Vec<(Cow<'_, str>, Endpoint)> = Vec::with_capacity(g.peers.len() + ranges.len() + 1);
        all.extend(
            g.peers
                .iter()
                .enumerate()
                .map(|(p, peer)| (Cow::Borrowed(peer.name.as_str()), Endpoint::Peer(p as PeerId))),
        );
        all.extend(
            ranges.keys().map(|r| (Cow::Owned(g.endpoint_name(&Endpoint::External(*r))), Endpoint::External(*r))),
        );
        if !g.ingress_controller_edges.is_empty() {
            all.push((Cow::Borrowed(INGRESS_CONTROLLER), Endpoint::IngressController));
        }
        all.sort();
        let mut peer_rank = vec![0; g.peers.len()];
        let mut range_rank = BTreeMap::new();
        for (rank, (_, ep)) in all.iter().enumerate() {
            match ep {
                Endpoint::Peer(p) => peer_rank[*p as usize] = rank,
                Endpoint::External(r) => {
                    range_rank.insert(*r, rank);
                }
                Endpoint::IngressController => {}
            }
        }
        for list in ingress_from.values_mut() {
            list.sort_by_key(|(p, _)| peer_rank[*p as usize]);
        }
        // Only peers, the ranges that send into the cluster and the controller start edges.
        let names = all
            .into_iter()
            .filter(|(_, ep)| match ep {
                Endpoint::External(r) => ingress_from.contains_key(r),
                _ => true,
            })
            .map(|(_, ep)| ep)
            .collect();
        EndpointOrder { names, peer_rank, range_rank, ingress_from }
    }

    fn rank(&self, ep: &Endpoint) -> usize {
        match ep {
            Endpoint::Peer(p) => self.peer_rank[*p as usize],
            Endpoint::External(r) => self.range_rank.get(r).copied().unwrap_or(usize::MAX),
            Endpoint::IngressController => usize::MAX,
        }
    }
}

/// Credits one rule of a policy that selects class `c` to `c`'s allowance.
fn credit_rule(
    classes: &[Class],
    c: ClassId,
    ports: &RulePorts,
    direction: Direction,
    matches: Option<&[PeerMatch]>,
    a: &mut AllowanceBuilder,
) {
    if ports.is_empty() {
        return;
    }
    match direction {
        Direction::Ingress => {
            // Named ports resolve on the destination: the selected class itself.
            let conns = ports.on(&classes[c as usize]);
            if conns.is_empty() {
                return;
            }
            credit(a, matches, |_| conns.clone(), &conns);
        }
        Direction::Egress => match matches {
            None => {
                a.everyone.union_with(&ports.numeric);
                a.everyone_named.extend(ports.named.iter().cloned());
            }
            // Towards an address a named port matches nothing.
            Some(ms) => credit(a, Some(ms), |dst| ports.on(&classes[dst as usize]), &ports.numeric),
        },
    }
}

/// Credits `ports` to the peers a rule matches (`None`: every peer).
fn credit(
    a: &mut AllowanceBuilder,
    matches: Option<&[PeerMatch]>,
    class_conns: impl Fn(ClassId) -> Conns,
    ip_conns: &Conns,
) {
    let Some(matches) = matches else {
        a.everyone.union_with(ip_conns);
        return;
    };
    for m in matches {
        match m {
            PeerMatch::Classes(classes) => {
                for &c in classes.iter() {
                    let conns = class_conns(c);
                    if !conns.is_empty() {
                        a.add_class(c, &conns);
                    }
                }
            }
            PeerMatch::Atoms(runs) => {
                if !ip_conns.is_empty() {
                    for &(first, last) in runs {
                        a.by_atoms.push((first, last, ip_conns.clone()));
                    }
                }
            }
        }
    }
}

fn union_atoms(a: AtomConns, b: AtomConns, n: usize) -> AtomConns {
    match (a, b) {
        (AtomConns::Uniform(mut x), AtomConns::Uniform(y)) => {
            x.union_with(&y);
            AtomConns::Uniform(x)
        }
        (AtomConns::PerAtom(mut v), AtomConns::Uniform(u)) | (AtomConns::Uniform(u), AtomConns::PerAtom(mut v)) => {
            v.iter_mut().for_each(|c| c.union_with(&u));
            AtomConns::PerAtom(v)
        }
        (AtomConns::PerAtom(mut v), AtomConns::PerAtom(w)) => {
            for i in 0..n {
                v[i].union_with(&w[i]);
            }
            AtomConns::PerAtom(v)
        }
    }
}

/// Maximal ranges of adjacent atoms (of one family) with equal, non-empty connections.
fn merge_ranges(atoms: &[IpRange], conns: AtomConns) -> Vec<(IpRange, Conns)> {
    let mut out: Vec<(IpRange, Conns)> = Vec::new();
    let mut push = |range: IpRange, c: &Conns| {
        if c.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((prev, pc))
                if prev.family == range.family && prev.last.checked_add(1) == Some(range.first) && pc == c =>
            {
                prev.last = range.last;
            }
            _ => out.push((range, c.clone())),
        }
    };
    match &conns {
        AtomConns::Uniform(c) => atoms.iter().for_each(|a| push(*a, c)),
        AtomConns::PerAtom(v) => atoms.iter().zip(v.iter()).for_each(|(a, c)| push(*a, c)),
    }
    out
}

/// What a pod's ingress admits from `source` (everything when not isolated). From external
/// addresses, whatever some address of the ranges is admitted (of any range when none is known).
fn admitted(allowance: Option<&Allowance>, source: &Source, table: &[Conns], atoms: &[IpRange]) -> Conns {
    let Some(a) = allowance else {
        return Conns::all();
    };
    let mut x = a.everyone.clone();
    match source {
        Source::Class(c) => {
            if let Some(by) = a.class(*c) {
                x.union_with(&table[by as usize]);
            }
        }
        Source::Addresses(ranges) => {
            for (first, last, conns) in &a.by_atoms {
                if ranges.is_empty() || (*first..=*last).any(|i| atom_overlaps(atoms, i, ranges)) {
                    x.union_with(&table[*conns as usize]);
                }
            }
        }
    }
    x
}

/// Whether address atom `i` shares an address with one of `ranges`.
fn atom_overlaps(atoms: &[IpRange], i: usize, ranges: &[IpRange]) -> bool {
    atoms.get(i).is_some_and(|a| ranges.iter().any(|r| r.family == a.family && r.first <= a.last && a.first <= r.last))
}

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
//!
//! This module holds the [`Graph`] type, its queries and the order in which it is built; each
//! step lives in its own module: `classes` (classes, peers, the policies that select them),
//! `admissions` (what each isolated class admits), `external` (connections to and from addresses
//! outside the cluster), `routes` (every way in, resolved once), `exposure` (the ways in joined
//! with their backend pods), `internet` (which addresses are public) and `edges` (streaming the
//! connectivity list); [`explain`] answers why, `diff` compares two graphs. The graph
//! records facts (an unknown named port, an unresolved backend) as types: it never words a
//! finding, and nothing here imports the rules or the report.

mod admissions;
mod classes;
pub mod conns;
pub(crate) mod diff;
mod edges;
pub mod expect;
pub mod explain;
pub(crate) mod exposure;
mod external;
pub(crate) mod gateway;
pub(crate) mod internet;
pub(crate) mod ipspace;
pub(crate) mod routes;
mod selection;
pub(crate) mod tiers;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::model::net::IpRange;
use crate::model::selector::Labels;
use crate::model::{Direction, Model, NetworkPolicy, PeerSelector};
use crate::profile::Profile;
pub(crate) use admissions::UnknownNamedPort;
use admissions::{resolve_named, Allowance, NamedPort};
pub(crate) use classes::Class;
pub use classes::Peer;
pub use conns::{Conns, PortSet};
use ipspace::IpSpace;
pub(crate) use routes::Source;

/// Typed indexes into the graph's tables, so that a class is never looked up among peers. Each is
/// a `u32` (the tables are far smaller than that) read with [`index`](ClassId::index) at no cost.
macro_rules! table_index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
        pub struct $name(u32);

        impl $name {
            /// The id of the item at `index` of its table.
            pub fn new(index: usize) -> Self {
                $name(index as u32)
            }

            /// The position of the item in its table.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

table_index!(
    /// A class: an index into the graph's classes.
    ClassId
);
table_index!(
    /// A peer: an index into [`Graph::peers`].
    PeerId
);
table_index!(
    /// An interned connection set: an index into the graph's table of them.
    ConnsId
);
table_index!(
    /// An interned set of classes (what a rule peer matches): an index into the graph's table
    /// of them.
    SetId
);
table_index!(
    /// An interned list of named ports: an index into the graph's table of them; the default,
    /// 0, is the empty list.
    NamedId
);

/// The namespace of the `{ingress-controller}` pseudo-peer when the controller is unknown: one pod
/// with no labels, in a namespace that carries only its automatic label.
pub const INGRESS_CONTROLLER_NAMESPACE: &str = "ingress-controller-ns";
pub const INGRESS_CONTROLLER: &str = "{ingress-controller}";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Peer(PeerId),
    External(IpRange),
    IngressController,
    /// A Gateway (index into the model's Gateways): its data plane, as the source of its routes.
    Gateway(u32),
}

/// The sizes of a graph's tables ([`Graph::sizes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    pub classes: usize,
    pub peers: usize,
    /// Distinct sets of classes that rule peers match, and their members summed.
    pub class_sets: usize,
    pub class_set_members: usize,
    /// What the allowances of every class hold: one grant per class set a class's rules name.
    pub grants: usize,
    /// Distinct connection sets.
    pub conns: usize,
}

/// The reachability graph.
#[derive(Debug, Default)]
pub struct Graph {
    pub(crate) classes: Vec<Class>,
    pub peers: Vec<Peer>,
    /// The class of the `{ingress-controller}` pseudo-peer.
    pub(crate) ingress_controller: ClassId,
    pub(crate) ip_space: IpSpace,
    /// Per peer: connections to and from external ranges (maximal ranges, address order).
    external_out: Vec<Vec<(IpRange, ConnsId)>>,
    external_in: Vec<Vec<(IpRange, ConnsId)>>,
    /// `{ingress-controller}` to the peers behind Ingresses and Routes, in peer order.
    ingress_controller_edges: Vec<(PeerId, ConnsId)>,
    /// Per Gateway: its edges to the peers behind its routes, in peer order.
    gateway_edges: Vec<Vec<(PeerId, ConnsId)>>,
    /// Gateway names (`ns/name[Gateway]`), by index.
    gateway_names: Vec<String>,
    /// Which Gateway API routes attach, and which backends they may not use.
    pub(crate) gateway: gateway::GatewayFacts,
    conns: Vec<Conns>,
    /// Sets of classes that rule peers match, each sorted.
    class_sets: Vec<Box<[ClassId]>>,
    /// Lists of named ports of egress rules; the first is empty.
    named_lists: Vec<Box<[NamedPort]>>,
    /// Classes each policy selects (indexes parallel to [`Model::policies`]); policies of one
    /// namespace with the same podSelector share one list.
    pub(crate) policy_selects: Vec<std::sync::Arc<[ClassId]>>,
    /// Named ports of policy rules that no destination pod declares.
    pub(crate) unknown_named_ports: Vec<UnknownNamedPort>,
    /// Ingress and Route backends that name no Service, or no port of it.
    pub(crate) unresolved_backends: Vec<routes::UnresolvedBackend>,
    /// What each isolated class admits (None: not isolated), per direction.
    inbound: Vec<Option<Allowance>>,
    outbound: Vec<Option<Allowance>>,
    /// Every rule of the tier policies the dataplane enforces, matched once.
    pub(crate) tier_steps: Vec<tiers::Step>,
    /// Ordered lists of steps (indexes into `tier_steps`); the first is empty.
    tier_chains: Vec<Box<[u32]>>,
    /// Per class: its chain for ingress and for egress (0: none).
    tier_in: Vec<u32>,
    tier_out: Vec<u32>,
    /// Namespaces that hold classes (declared or not), with their labels (the automatic name
    /// label included) and their classes.
    pub(crate) namespaces: BTreeMap<crate::model::selector::Str, (Labels, Vec<ClassId>)>,
    /// Namespaces and classes indexed by label, for matching selectors.
    selection: selection::Selection,
    /// What the graph assumed about the cluster.
    pub(crate) profile: Profile,
    /// Ways in from outside the cluster and through ingress controllers, and what they reach.
    pub(crate) entries: Vec<routes::Entry>,
    pub(crate) exposures: Vec<exposure::Exposure>,
}

impl Graph {
    pub(crate) fn conns(&self, id: ConnsId) -> &Conns {
        &self.conns[id.index()]
    }

    /// How large the graph's tables are: what its cost grows with.
    pub fn sizes(&self) -> Sizes {
        let grants = |table: &Vec<Option<Allowance>>| table.iter().flatten().map(|a| a.grants.len()).sum::<usize>();
        Sizes {
            classes: self.classes.len(),
            peers: self.peers.len(),
            class_sets: self.class_sets.len(),
            class_set_members: self.class_sets.iter().map(|s| s.len()).sum(),
            grants: grants(&self.inbound) + grants(&self.outbound),
            conns: self.conns.len(),
        }
    }

    /// The classes of an interned set, sorted.
    pub(crate) fn class_set(&self, id: SetId) -> &[ClassId] {
        &self.class_sets[id.index()]
    }

    /// An interned list of named ports.
    pub(crate) fn named_list(&self, id: NamedId) -> &[NamedPort] {
        self.named_lists.get(id.index()).map_or(&[], |l| &l[..])
    }

    /// A Gateway endpoint's namespace and name.
    pub fn gateway_meta(&self, gateway: u32) -> Option<(&str, &str)> {
        let name = self.gateway_names.get(gateway as usize)?;
        let (ns, rest) = name.split_once('/')?;
        Some((ns, rest.strip_suffix("[Gateway]").unwrap_or(rest)))
    }

    pub fn endpoint_name(&self, endpoint: &Endpoint) -> String {
        match endpoint {
            Endpoint::Peer(p) => self.peers[p.index()].name.clone(),
            Endpoint::External(range) => format!("{range}[External]"),
            Endpoint::IngressController => INGRESS_CONTROLLER.to_string(),
            Endpoint::Gateway(gi) => self.gateway_names.get(*gi as usize).cloned().unwrap_or_default(),
        }
    }

    /// What `src` may open to `dst` (classes): its egress and the destination's ingress both
    /// allow it, each decided by the tiers and the NetworkPolicies.
    pub(crate) fn allowed(&self, src: ClassId, dst: ClassId) -> Conns {
        let egress = self.egress_allows(src, dst);
        if egress.is_empty() {
            return egress;
        }
        let ingress = self.ingress_allows(dst, &Source::Class(src));
        egress.intersect(&ingress)
    }

    /// What the egress of `src` allows towards the class `dst`.
    pub(crate) fn egress_allows(&self, src: ClassId, dst: ClassId) -> Conns {
        let np = self.allowance(src, Direction::Egress).map(|a| {
            let mut c = a.everyone.clone();
            resolve_named(&mut c, &a.everyone_named, &self.classes[dst.index()]);
            a.credit_class(self, dst, &mut c);
            c
        });
        if !self.has_chain(src, Direction::Egress) {
            return np.unwrap_or_else(Conns::all);
        }
        self.tiers_allow(src, Direction::Egress, &tiers::Other::Class(dst), Some(dst), np.as_ref())
    }

    /// What the ingress of `dst` admits from `source` (a class, or some address of ranges).
    pub(crate) fn ingress_allows(&self, dst: ClassId, source: &Source) -> Conns {
        let allowance = self.allowance(dst, Direction::Ingress);
        if !self.has_chain(dst, Direction::Ingress) {
            return admissions::admitted(allowance, source, self);
        }
        let np = allowance.map(|_| admissions::admitted(allowance, source, self));
        match source {
            Source::Class(c) => {
                self.tiers_allow(dst, Direction::Ingress, &tiers::Other::Class(*c), Some(dst), np.as_ref())
            }
            // Ingress peers of the tiers are pods only: addresses go through to the later tiers.
            Source::Addresses(ranges) => {
                self.tiers_allow(dst, Direction::Ingress, &tiers::Other::SomeAddress(ranges), Some(dst), np.as_ref())
            }
        }
    }

    fn allowance(&self, class: ClassId, direction: Direction) -> Option<&Allowance> {
        let table = match direction {
            Direction::Ingress => &self.inbound,
            Direction::Egress => &self.outbound,
        };
        table.get(class.index()).and_then(Option::as_ref)
    }

    /// Whether `class` is isolated for `direction` but a rule without peers and ports admits
    /// every connection anyway (`ingress: [{}]`).
    pub(crate) fn admits_everything(&self, class: ClassId, direction: Direction) -> bool {
        self.allowance(class, direction).is_some_and(|a| a.everyone.is_all())
    }

    /// Whether `class` is isolated for `direction` by at least one policy.
    pub(crate) fn isolated(&self, class: ClassId, direction: Direction) -> bool {
        self.allowance(class, direction).is_some()
    }

    /// Connections the class's egress allows towards the external address range `target`
    /// (every atom of it must allow them); everything when egress is not isolated.
    pub(crate) fn egress_to_external(&self, class: ClassId, target: &IpRange) -> Conns {
        let allowance = self.allowance(class, Direction::Egress);
        if self.chain(class, Direction::Egress).any(|s| !s.atoms.is_empty()) {
            // Every atom of the range must allow them.
            let mut result: Option<Conns> = None;
            for (i, atom) in self.ip_space.atoms.iter().enumerate() {
                if atom.family != target.family || atom.last < target.first || atom.first > target.last {
                    continue;
                }
                let c = self.egress_to_atom(class, allowance, i);
                result = Some(match result {
                    None => c,
                    Some(prev) => prev.intersect(&c),
                });
            }
            return result.unwrap_or_default();
        }
        let Some(a) = allowance else { return Conns::all() };
        self.to_external(a, target)
    }

    /// What the egress of `class` (its tiers and its NetworkPolicy allowance) allows towards the
    /// external atom `atom`.
    fn egress_to_atom(&self, class: ClassId, allowance: Option<&Allowance>, atom: usize) -> Conns {
        let np = allowance.map(|a| {
            let mut c = a.everyone.clone();
            for (first, last, conns) in &a.by_atoms {
                if *first <= atom && atom <= *last {
                    c.union_with(self.conns(*conns));
                }
            }
            c
        });
        if !self.has_chain(class, Direction::Egress) {
            return np.unwrap_or_else(Conns::all);
        }
        self.tiers_allow(class, Direction::Egress, &tiers::Other::Atom(atom), None, np.as_ref())
    }

    fn to_external(&self, a: &Allowance, range: &IpRange) -> Conns {
        // Without ipBlock rules every address is admitted alike: what the peer-less rules give.
        // The atoms cover each family they hold whole, so the first and last tell which.
        if a.by_atoms.is_empty() {
            let atoms = &self.ip_space.atoms;
            let held = [atoms.first(), atoms.last()].into_iter().flatten().any(|atom| atom.family == range.family);
            return if held { a.everyone.clone() } else { Conns::default() };
        }
        // The atoms the range overlaps are a run of the (sorted) atoms; what they admit changes
        // only where an ipBlock run starts or ends, so it is read once per stretch between those.
        let atoms = &self.ip_space.atoms;
        let key = |family, address| (family, address);
        let lo = atoms.partition_point(|atom| key(atom.family, atom.last) < key(range.family, range.first));
        let hi = atoms.partition_point(|atom| key(atom.family, atom.first) <= key(range.family, range.last));
        if lo >= hi {
            return Conns::default();
        }
        let mut starts: Vec<usize> = vec![lo];
        for (first, last, _) in &a.by_atoms {
            if *first > lo && *first < hi {
                starts.push(*first);
            }
            if *last >= lo && last + 1 < hi {
                starts.push(last + 1);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut result: Option<Conns> = None;
        for i in starts {
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
    pub(crate) fn matches_any_class(&self, policy: &NetworkPolicy, peer: &PeerSelector) -> bool {
        let PeerSelector::Pods { namespaces, pods, .. } = peer else { return false };
        self.selects_some_class(&policy.meta.namespace, namespaces.as_ref(), pods.as_ref())
    }

    /// The namespaces of the graph (those that hold classes) whose labels `selector` matches, in
    /// name order: found through the index of namespace labels.
    pub(crate) fn namespaces_selected<'s>(
        &'s self,
        selector: &crate::model::selector::Selector,
    ) -> impl Iterator<Item = &'s str> + 's {
        self.selection.namespace_names(selector)
    }

    /// Whether pods `pods` (`None`: every pod) of the namespaces `namespaces` matches (`None`: the
    /// namespace `own`) include some class of the graph (stops at the first).
    pub(crate) fn selects_some_class(
        &self,
        own: &str,
        namespaces: Option<&crate::model::selector::Selector>,
        pods: Option<&crate::model::selector::Selector>,
    ) -> bool {
        !self.selection.classes(own, namespaces, pods, &self.classes).is_empty()
    }
}

/// The id of `value` in `table` (its position), appending it the first time: the tables of the
/// graph hold each distinct connection set, class set and named-port list once.
fn intern<T: Clone + Eq + std::hash::Hash, Id: Copy>(
    table: &mut Vec<T>,
    ids: &mut FxHashMap<T, Id>,
    value: T,
    id_of: fn(usize) -> Id,
) -> Id {
    if let Some(id) = ids.get(&value) {
        return *id;
    }
    let id = id_of(table.len());
    table.push(value.clone());
    ids.insert(value, id);
    id
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

/// The graph while it is built: the model it reads, the graph so far, and the caches that only
/// building needs.
struct Builder<'m> {
    model: &'m Model,
    g: Graph,
    /// Classes per namespace, and the namespace's labels.
    namespaces: BTreeMap<crate::model::selector::Str, (Labels, Vec<ClassId>)>,
    conns_ids: FxHashMap<Conns, ConnsId>,
    set_ids: FxHashMap<Box<[ClassId]>, SetId>,
    named_ids: FxHashMap<Box<[NamedPort]>, NamedId>,
    /// Namespaces and classes indexed by label, for matching rule peers.
    /// Pseudo classes of known ingress controllers, by namespace and labels.
    controller_classes: BTreeMap<(Box<str>, Labels), ClassId>,
    /// Each Gateway's data plane (indexes parallel to the model's Gateways).
    gateway_planes: Vec<crate::profile::controllers::Controller>,
}

impl<'m> Builder<'m> {
    fn new(model: &'m Model) -> Self {
        // The empty list of named ports is the default id.
        let g = Graph { named_lists: vec![Box::default()], ..Graph::default() };
        Builder {
            model,
            g,
            namespaces: BTreeMap::new(),
            conns_ids: FxHashMap::default(),
            set_ids: FxHashMap::default(),
            named_ids: FxHashMap::default(),
            controller_classes: BTreeMap::new(),
            gateway_planes: Vec::new(),
        }
    }

    fn intern(&mut self, conns: Conns) -> ConnsId {
        intern(&mut self.g.conns, &mut self.conns_ids, conns, ConnsId::new)
    }

    fn run(mut self) -> Graph {
        self.build_peers_and_classes();
        self.g.selection = selection::Selection::new(
            self.namespaces.iter().map(|(name, (labels, classes))| (name, labels, &classes[..])),
            &self.g.classes,
        );
        self.select_policies();
        let mut blocks = self.ip_blocks();
        blocks.extend(self.tier_blocks());
        self.g.ip_space = IpSpace::new(blocks.iter());
        self.tier_chains();
        let (inbound, outbound) = self.allowances();
        self.external_edges(&inbound, &outbound);
        self.g.inbound = inbound;
        self.g.outbound = outbound;
        self.g.namespaces = std::mem::take(&mut self.namespaces);
        // The Services routes may name, indexed once for every kind of route.
        let backends = routes::Backends::new(self.model);
        let mut resolved =
            routes::resolve(&backends, &self.g.profile, &self.controller_classes, self.g.ingress_controller);
        let gateway_facts = gateway::resolve(
            &backends,
            &self.gateway_planes,
            &self.controller_classes,
            self.g.ingress_controller,
            &mut resolved.entries,
            &mut resolved.unresolved,
        );
        self.g.exposures = exposure::compute(self.model, &self.g, &resolved.entries);
        self.g.entries = resolved.entries;
        self.g.unresolved_backends = resolved.unresolved;
        self.g.gateway = gateway_facts;
        let route_edges = self.route_edges();
        self.g.ingress_controller_edges = route_edges.controller;
        self.g.gateway_edges = route_edges.gateways;
        self.g.gateway_names = self
            .model
            .gateway
            .gateways
            .iter()
            .map(|g| format!("{}/{}[Gateway]", g.meta.namespace, g.meta.name))
            .collect();
        self.g
    }
}

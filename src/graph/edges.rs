//! Streaming edges: every allowed connection, in the order of the connectivity list, generated
//! source by source and never held all at once; and the `{ingress-controller}` edges, read from
//! the exposures of the ways in through a controller.
//!
//! A source only tries its candidates: the classes its egress names, and where its egress is open
//! to every class, the classes whose ingress is open and those whose ingress rules name it. The
//! edge index answers the last through the interned class sets (which destinations grant each
//! set, which sets hold each open source), never through a table of class pairs, so a
//! cluster-wide peer costs its size once, not once per copy. An endpoint order ranks every
//! endpoint by name once. It decides nothing a policy
//! says (that is [`super::admissions`]) and walks no route (that is [`super::routes`]).

use std::collections::BTreeMap;

use super::{Builder, ClassId, Conns, ConnsId, Endpoint, Graph, PeerId, SetId, Source, INGRESS_CONTROLLER};
use crate::model::net::IpRange;
use crate::model::tier::{Action, Tier};
use crate::model::Direction;

impl Graph {
    /// Calls `emit` for every allowed connection, in the order of the connectivity list (source
    /// name, then destination name, bytewise), and returns how many there were. Edges are
    /// generated source by source and never held all at once: a repository whose workloads all
    /// reach each other costs time in proportion to its answer, and memory in proportion to its
    /// peers.
    pub fn for_each_edge<E>(
        &self,
        mut emit: impl FnMut(&Endpoint, &Endpoint, &Conns) -> Result<(), E>,
    ) -> Result<usize, E> {
        use rayon::prelude::*;
        let order = EndpointOrder::new(self);
        let index = EdgeIndex::new(self);
        // Sources are taken a batch at a time, each worker generating the edges of a run of
        // them with scratch space of its own, and emitted in order. A batch holds about
        // `BATCH_EDGES` edges (its size follows the last batch's edges per source), so memory
        // stays in proportion to the peers however large the answer.
        const BATCH_EDGES: usize = 1 << 16;
        let threads = rayon::current_num_threads().max(1);
        let mut scratches: Vec<Scratch> = (0..threads).map(|_| Scratch::new(self)).collect();
        let mut batch = threads;
        let mut count = 0;
        let mut next = 0;
        while next < order.names.len() {
            let sources = &order.names[next..(next + batch).min(order.names.len())];
            next += sources.len();
            let per_worker = sources.len().div_ceil(threads);
            let generated: Vec<Vec<Vec<(Endpoint, Conns)>>> = scratches
                .par_iter_mut()
                .zip(sources.par_chunks(per_worker))
                .map(|(scratch, run)| run.iter().map(|src| self.source_edges(src, &order, &index, scratch)).collect())
                .collect();
            let mut edges_in_batch = 0;
            for (src, edges) in sources.iter().zip(generated.into_iter().flatten()) {
                edges_in_batch += edges.len();
                for (dst, conns) in &edges {
                    emit(src, dst, conns)?;
                }
            }
            count += edges_in_batch;
            let per_source = (edges_in_batch / sources.len()).max(1);
            batch = (BATCH_EDGES / per_source).clamp(threads, 16 * 1024);
        }
        Ok(count)
    }

    /// The edges from one source, in the order of the connectivity list.
    fn source_edges(
        &self,
        src: &Endpoint,
        order: &EndpointOrder,
        index: &EdgeIndex,
        scratch: &mut Scratch,
    ) -> Vec<(Endpoint, Conns)> {
        let Scratch { acc, touched, candidates } = scratch;
        let mut out: Vec<(usize, Endpoint, Conns)> = Vec::new();
        match src {
            Endpoint::Peer(p) => {
                self.peer_targets(*p, index, candidates, acc, touched);
                for q in touched.drain(..) {
                    if let Some(conns) = acc[q.index()].take() {
                        out.push((order.peer_rank[q.index()], Endpoint::Peer(q), conns));
                    }
                }
                for (range, id) in &self.external_out[p.index()] {
                    out.push((
                        order.rank(&Endpoint::External(*range)),
                        Endpoint::External(*range),
                        self.conns(*id).clone(),
                    ));
                }
            }
            Endpoint::External(range) => {
                for &(p, id) in order.ingress_from.get(range).map(Vec::as_slice).unwrap_or_default() {
                    out.push((order.peer_rank[p.index()], Endpoint::Peer(p), self.conns(id).clone()));
                }
            }
            Endpoint::IngressController => {
                for &(p, id) in &self.ingress_controller_edges {
                    out.push((order.peer_rank[p.index()], Endpoint::Peer(p), self.conns(id).clone()));
                }
            }
            Endpoint::Gateway(gi) => {
                for &(p, id) in &self.gateway_edges[*gi as usize] {
                    out.push((order.peer_rank[p.index()], Endpoint::Peer(p), self.conns(id).clone()));
                }
            }
        }
        out.sort_by_key(|(rank, _, _)| *rank);
        out.into_iter().map(|(_, dst, conns)| (dst, conns)).collect()
    }

    /// The peers `p` reaches, accumulated into `acc` (indexed by peer), with `touched` listing them.
    fn peer_targets(
        &self,
        p: PeerId,
        index: &EdgeIndex,
        candidates: &mut Candidates,
        acc: &mut [Option<Conns>],
        touched: &mut Vec<PeerId>,
    ) {
        for &s in &self.peers[p.index()].classes {
            candidates.clear();
            if index.open_out[s.index()] {
                for &d in &index.open_in {
                    candidates.consider(self, d);
                }
                for &set in index.sets_naming(s) {
                    for &d in &index.granted_by[set.index()] {
                        candidates.consider(self, d);
                    }
                }
            }
            if let Some(a) = self.allowance(s, Direction::Egress) {
                for set in a.sets() {
                    for &d in self.class_set(set) {
                        candidates.consider(self, d);
                    }
                }
            }
            // What the source's Admin tier allows goes beyond its NetworkPolicies (a step for
            // every pod makes the egress open, above).
            if !index.open_out[s.index()] {
                for step in self.chain(s, Direction::Egress) {
                    if step.tier != Tier::Admin || step.action != Action::Allow {
                        continue;
                    }
                    if let Some(set) = step.classes {
                        for &d in self.class_set(set) {
                            candidates.consider(self, d);
                        }
                    }
                }
            }
            for &d in &candidates.list {
                let allowed = self.allowed(s, d);
                if allowed.is_empty() {
                    continue;
                }
                for &q in &self.classes[d.index()].peers {
                    if q == p {
                        continue;
                    }
                    match &mut acc[q.index()] {
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
}

/// What one worker reuses from one source to the next: the connections accumulated per peer, the
/// peers touched, the candidates tried.
struct Scratch {
    acc: Vec<Option<Conns>>,
    touched: Vec<PeerId>,
    candidates: Candidates,
}

impl Scratch {
    fn new(g: &Graph) -> Self {
        Scratch { acc: vec![None; g.peers.len()], touched: Vec::new(), candidates: Candidates::new(g.classes.len()) }
    }
}

/// The destinations one source class tries, each once: a list and a mark per class, reused from
/// one source to the next.
struct Candidates {
    list: Vec<ClassId>,
    marked: Vec<bool>,
}

impl Candidates {
    fn new(classes: usize) -> Self {
        Candidates { list: Vec::new(), marked: vec![false; classes] }
    }

    fn clear(&mut self) {
        for d in self.list.drain(..) {
            self.marked[d.index()] = false;
        }
    }

    fn consider(&mut self, g: &Graph, d: ClassId) {
        if !g.classes[d.index()].pseudo && !self.marked[d.index()] {
            self.marked[d.index()] = true;
            self.list.push(d);
        }
    }
}

impl Builder<'_> {
    /// The edges of the ways in through a controller, read from their exposures with the
    /// connectivity list's narrower source (an unknown controller or Gateway implementation is
    /// one unlabelled pod; exposures count any plausible one): `{ingress-controller}` to the pods
    /// behind every Ingress and Route, and each Gateway to the pods behind its routes, on the
    /// target ports as far as the pods' ingress policies admit the source.
    pub(super) fn route_edges(&mut self) -> RouteEdges {
        let g = &self.g;
        let mut controller: BTreeMap<PeerId, Conns> = BTreeMap::new();
        let mut gateways: Vec<BTreeMap<PeerId, Conns>> = vec![BTreeMap::new(); self.model.gateway.gateways.len()];
        for x in &g.exposures {
            let entry = &g.entries[x.entry];
            let per_peer = match entry.via {
                Some(via) => &mut gateways[via.listener.gateway],
                None if entry.kind.through_controller() => &mut controller,
                None => continue,
            };
            let allowed = if entry.source == Source::Class(g.ingress_controller) {
                x.wanted.intersect(&g.ingress_allows(x.class, &entry.source))
            } else {
                x.admitted.clone()
            };
            if allowed.is_empty() {
                continue;
            }
            for &peer in &g.classes[x.class.index()].peers {
                per_peer.entry(peer).or_default().union_with(&allowed);
            }
        }
        let mut interned = |per_peer: BTreeMap<PeerId, Conns>| -> Vec<(PeerId, ConnsId)> {
            per_peer.into_iter().map(|(peer, conns)| (peer, self.intern(conns))).collect()
        };
        let controller = interned(controller);
        let gateways = gateways.into_iter().map(&mut interned).collect();
        RouteEdges { controller, gateways }
    }
}

/// The edges of [`Builder::route_edges`]: `{ingress-controller}`'s, and each Gateway's, in peer
/// order.
pub(super) struct RouteEdges {
    pub(super) controller: Vec<(PeerId, ConnsId)>,
    pub(super) gateways: Vec<Vec<(PeerId, ConnsId)>>,
}

/// Which classes may be reached without being named: what edge generation consults for a source
/// whose egress is open to every class.
struct EdgeIndex {
    /// Classes whose ingress admits some connection from every class.
    open_in: Vec<ClassId>,
    /// Per class: whether its egress allows something towards every class.
    open_out: Vec<bool>,
    /// Per class set: the classes whose ingress grants it something.
    granted_by: Vec<Vec<ClassId>>,
    /// Per class with open egress: the sets (granted by some ingress) that hold it, as one flat
    /// list with per-class offsets (`naming[start[s]..start[s + 1]]`).
    naming_start: Vec<usize>,
    naming: Vec<SetId>,
}

impl EdgeIndex {
    fn sets_naming(&self, s: ClassId) -> &[SetId] {
        let s = s.index();
        &self.naming[self.naming_start[s]..self.naming_start[s + 1]]
    }
}

impl EdgeIndex {
    fn new(g: &Graph) -> EdgeIndex {
        let n = g.classes.len();
        let open_in = (0..n)
            .filter(|&d| !g.classes[d].pseudo && g.inbound[d].as_ref().is_none_or(|a| !a.everyone.is_empty()))
            .map(ClassId::new)
            .collect();
        // An Admin tier Allow of a network that holds every pod opens the egress too: its
        // destinations are best found from their ingress (the classes every source may reach and
        // those that grant a set holding the source) than by trying every class in turn, which
        // for a cluster-wide `0.0.0.0/0` rule was every source against every class.
        let open_out: Vec<bool> = (0..n)
            .map(|s| {
                g.outbound[s].as_ref().is_none_or(|a| !a.everyone.is_empty() || !a.everyone_named.is_empty())
                    || g.chain(ClassId::new(s), Direction::Egress)
                        .any(|st| st.every_pod && st.tier == Tier::Admin && st.action == Action::Allow)
            })
            .collect();
        let mut granted_by: Vec<Vec<ClassId>> = vec![Vec::new(); g.class_sets.len()];
        for (d, a) in g.inbound.iter().enumerate() {
            for set in a.iter().flat_map(|a| a.sets()) {
                granted_by[set.index()].push(ClassId::new(d));
            }
            // An Admin tier Allow admits its peers whatever the NetworkPolicies say.
            let admin_allows = g
                .chain(ClassId::new(d), Direction::Ingress)
                .filter(|s| s.tier == Tier::Admin && s.action == Action::Allow)
                .filter_map(|s| s.classes);
            for set in admin_allows {
                if granted_by[set.index()].last() != Some(&ClassId::new(d)) {
                    granted_by[set.index()].push(ClassId::new(d));
                }
            }
        }
        // Counting sort into a flat list: two allocations instead of one per class. Each granted
        // set is read once, whatever the number of destinations that grant it.
        let granted = || {
            granted_by
                .iter()
                .enumerate()
                .filter(|(_, by)| !by.is_empty())
                .flat_map(|(set, _)| g.class_sets[set].iter().map(move |&s| (SetId::new(set), s)))
                .filter(|(_, s)| open_out[s.index()])
        };
        let mut naming_start = vec![0usize; n + 1];
        for (_, s) in granted() {
            naming_start[s.index() + 1] += 1;
        }
        for i in 0..n {
            naming_start[i + 1] += naming_start[i];
        }
        let mut fill = naming_start.clone();
        let mut naming = vec![SetId::new(0); naming_start[n]];
        for (set, s) in granted() {
            naming[fill[s.index()]] = set;
            fill[s.index()] += 1;
        }
        EdgeIndex { open_in, open_out, granted_by, naming_start, naming }
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
                ingress_from.entry(*range).or_default().push((PeerId::new(p), *id));
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
                .map(|(p, peer)| (Cow::Borrowed(peer.name.as_str()), Endpoint::Peer(PeerId::new(p)))),
        );
        all.extend(
            ranges.keys().map(|r| (Cow::Owned(g.endpoint_name(&Endpoint::External(*r))), Endpoint::External(*r))),
        );
        if !g.ingress_controller_edges.is_empty() {
            all.push((Cow::Borrowed(INGRESS_CONTROLLER), Endpoint::IngressController));
        }
        for (gi, edges) in g.gateway_edges.iter().enumerate() {
            if !edges.is_empty() {
                let endpoint = Endpoint::Gateway(gi as u32);
                all.push((Cow::Owned(g.endpoint_name(&endpoint)), endpoint));
            }
        }
        all.sort();
        let mut peer_rank = vec![0; g.peers.len()];
        let mut range_rank = BTreeMap::new();
        for (rank, (_, ep)) in all.iter().enumerate() {
            match ep {
                Endpoint::Peer(p) => peer_rank[p.index()] = rank,
                Endpoint::External(r) => {
                    range_rank.insert(*r, rank);
                }
                Endpoint::IngressController | Endpoint::Gateway(_) => {}
            }
        }
        for list in ingress_from.values_mut() {
            list.sort_by_key(|(p, _)| peer_rank[p.index()]);
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
            Endpoint::Peer(p) => self.peer_rank[p.index()],
            Endpoint::External(r) => self.range_rank.get(r).copied().unwrap_or(usize::MAX),
            Endpoint::IngressController | Endpoint::Gateway(_) => usize::MAX,
        }
    }
}

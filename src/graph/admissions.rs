//! Admissions: what each isolated class admits, per source (ingress) or per destination
//! (egress), from every rule of the policies that isolate it.
//!
//! Rule peers are matched once per distinct selector, and the class sets they match are interned:
//! a cluster-wide peer repeated in every namespace (monitoring, the ingress controller) is one set,
//! whatever the number of its copies. An allowance never expands a set: it holds *grants* (a set
//! and the connections its rules give it), so its size grows with the rules that select the class,
//! not with the pods their peers match. Named ports that no destination declares are recorded as
//! [`UnknownNamedPort`] facts, never worded. Edges are streamed elsewhere ([`super::edges`]) from
//! these allowances.

use rayon::prelude::*;

use rustc_hash::FxHashMap;

use super::{Builder, Class, ClassId, Conns, ConnsId, Graph, NamedId, PortSet, SetId, Source};
use crate::model::net::{IpRange, PortRef, Protocol};
use crate::model::selector::{Selector, SelectorParts};
use crate::model::{Direction, NetworkPolicy, PeerSelector, PolicyPort};
use std::hash::{Hash, Hasher};

/// A named port of a policy rule, with its protocol: resolved on each destination pod.
pub(super) type NamedPort = (Box<str>, Protocol);

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
    /// An interned set of classes ([`Graph::class_set`]).
    Classes(SetId),
    /// Runs of external atoms (first, last).
    Atoms(Vec<(usize, usize)>),
}

/// A rule peer before its classes are found: a pod peer's key and, once keys are numbered, its
/// slot among the distinct ones; or the address runs of an ipBlock.
enum Prepared<'m> {
    Pods { key: PeerKey<'m>, peer: PodPeer<'m>, slot: u32 },
    Atoms(Vec<(usize, usize)>),
}

/// What a pod peer's classes are found from: the policy's namespace and the peer's selectors.
#[derive(Clone, Copy)]
struct PodPeer<'m> {
    own: &'m str,
    namespaces: Option<&'m Selector>,
    pods: Option<&'m Selector>,
}

impl<'m> Prepared<'m> {
    fn of(policy: &'m NetworkPolicy, peer: &'m PeerSelector, ip_space: &super::IpSpace) -> Self {
        match peer {
            PeerSelector::IpBlock { cidr, except, .. } => Prepared::Atoms(ip_space.runs(cidr, except)),
            PeerSelector::Pods { namespaces, pods, .. } => {
                let own: &str = if namespaces.is_none() { &policy.meta.namespace } else { "" };
                let key = (namespaces.as_ref().map(Selector::parts), pods.as_ref().map(Selector::parts), own);
                let mut hasher = rustc_hash::FxHasher::default();
                key.hash(&mut hasher);
                let peer =
                    PodPeer { own: &policy.meta.namespace, namespaces: namespaces.as_ref(), pods: pods.as_ref() };
                Prepared::Pods { key: PeerKey { hash: hasher.finish(), key }, peer, slot: 0 }
            }
        }
    }
}

/// A rule peer's selectors (and the policy's namespace when it has no namespaceSelector): peers
/// with equal keys match the same classes. Hashed once, on the pool, where the key is made.
#[derive(Clone, Copy, Debug)]
pub(super) struct PeerKey<'m> {
    hash: u64,
    key: (Option<SelectorParts<'m>>, Option<SelectorParts<'m>>, &'m str),
}

impl PartialEq for PeerKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.key == other.key
    }
}

impl Eq for PeerKey<'_> {}

impl std::hash::Hash for PeerKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

/// The peers of each rule of a policy in one direction before they are matched, with its ports.
type PreparedRules<'m> = Vec<(Option<Vec<Prepared<'m>>>, RulePorts)>;

/// The peers of each rule of a policy in one direction (`None`: a rule without peers), with its
/// ports.
type RuleMatches = Vec<(Option<Vec<PeerMatch>>, RulePorts)>;

/// What an isolated class admits, per source (ingress) or per destination (egress). Connection
/// sets, class sets and named-port lists are interned in the graph: a large repository has few
/// distinct ones.
#[derive(Debug, Default)]
pub(super) struct Allowance {
    /// From rules without peers: every class and every address.
    pub(super) everyone: Conns,
    /// Egress only: named ports of peer-less rules, resolved per destination.
    pub(super) everyone_named: Vec<(Box<str>, Protocol)>,
    /// What rules give the classes of a set, one grant per set, sorted by set.
    pub(super) grants: Vec<Grant>,
    pub(super) by_atoms: Vec<(usize, usize, ConnsId)>,
}

/// What the rules of an allowance give every class of one set: `conns`, and on egress the named
/// ports `named`, resolved on each destination (on ingress they are resolved on the selected
/// class when the grant is made, and `named` is empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Grant {
    pub(super) set: SetId,
    pub(super) conns: ConnsId,
    pub(super) named: NamedId,
}

impl Allowance {
    /// Adds what the allowance gives `other` through its grants (not `everyone`) into `into`;
    /// egress named ports resolve on `other`, the destination.
    pub(super) fn credit_class(&self, g: &Graph, other: ClassId, into: &mut Conns) {
        for grant in &self.grants {
            if g.class_set(grant.set).binary_search(&other).is_ok() {
                into.union_with(g.conns(grant.conns));
                resolve_named(into, g.named_list(grant.named), &g.classes[other.index()]);
            }
        }
    }

    /// The sets of classes the allowance names (a class may be in several).
    pub(super) fn sets(&self) -> impl Iterator<Item = SetId> + '_ {
        self.grants.iter().map(|g| g.set)
    }
}

/// An allowance while it is being built: grants as they come (merged per set when finished),
/// reused by one worker from one class to the next.
#[derive(Default)]
struct AllowanceBuilder {
    everyone: Conns,
    everyone_named: Vec<(Box<str>, Protocol)>,
    grants: Vec<(SetId, Conns, Vec<NamedPort>)>,
    by_atoms: Vec<(usize, usize, Conns)>,
}

/// One class's allowance, merged per set but not yet interned (interning is sequential, this is
/// built in parallel).
struct Pending {
    everyone: Conns,
    everyone_named: Vec<(Box<str>, Protocol)>,
    grants: Vec<(SetId, Conns, Vec<NamedPort>)>,
    by_atoms: Vec<(usize, usize, Conns)>,
}

impl AllowanceBuilder {
    /// Merges the grants per set (named ports sorted and deduplicated, as interning wants them)
    /// and resets the builder for the next class.
    fn finish(&mut self) -> Pending {
        self.grants.sort_unstable_by_key(|(set, _, _)| *set);
        let mut merged: Vec<(SetId, Conns, Vec<NamedPort>)> = Vec::new();
        for (set, conns, named) in self.grants.drain(..) {
            match merged.last_mut() {
                Some((last, c, n)) if *last == set => {
                    c.union_with(&conns);
                    n.extend(named);
                }
                _ => merged.push((set, conns, named)),
            }
        }
        for (_, _, named) in &mut merged {
            named.sort_unstable();
            named.dedup();
        }
        Pending {
            everyone: std::mem::take(&mut self.everyone),
            everyone_named: std::mem::take(&mut self.everyone_named),
            grants: merged,
            by_atoms: std::mem::take(&mut self.by_atoms),
        }
    }
}

/// A rule's `ports`, split into what is known now and what depends on the destination pod.
#[derive(Debug, Default)]
pub(super) struct RulePorts {
    pub(super) numeric: Conns,
    pub(super) named: Vec<(Box<str>, Protocol)>,
}

impl RulePorts {
    pub(super) fn of(ports: Option<&[PolicyPort]>) -> RulePorts {
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

    pub(super) fn on(&self, class: &Class) -> Conns {
        let mut c = self.numeric.clone();
        resolve_named(&mut c, &self.named, class);
        c
    }

    fn is_empty(&self) -> bool {
        self.numeric.is_empty() && self.named.is_empty()
    }
}

pub(super) fn resolve_named(into: &mut Conns, named: &[(Box<str>, Protocol)], class: &Class) {
    for (name, protocol) in named {
        if let Some(port) = class.named_port(name, *protocol) {
            into.add(*protocol, &PortSet::range(port, port));
        }
    }
}

impl Builder<'_> {
    pub(super) fn ip_blocks(&self) -> Vec<IpRange> {
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

    /// What every rule peer of every policy that selects some class matches, with the rule's
    /// ports: `[policy][direction][rule]`, `None` for a rule without peers (directions a policy
    /// does not affect have no rules here).
    ///
    /// Pod peers are matched once per distinct selector ([`PeerKey`]), on the pool; their sets are
    /// interned in the order the peers come in the policies, so that ids do not depend on the
    /// number of threads.
    fn rule_matches(&mut self) -> Vec<[RuleMatches; 2]> {
        let model = self.model;
        let g = &self.g;
        // The (hashed) keys of pod peers and the address runs of ipBlocks, on the pool.
        let mut prepared: Vec<[PreparedRules<'_>; 2]> = model
            .policies
            .par_iter()
            .enumerate()
            .map(|(pi, policy)| {
                [Direction::Ingress, Direction::Egress].map(|direction| {
                    if g.policy_selects[pi].is_empty() || !policy.affects(direction) {
                        return Vec::new();
                    }
                    policy
                        .rules(direction)
                        .iter()
                        .map(|rule| {
                            let peers = rule.peers.as_ref().map(|peers| {
                                peers.iter().map(|peer| Prepared::of(policy, peer, &g.ip_space)).collect()
                            });
                            (peers, RulePorts::of(rule.ports.as_deref()))
                        })
                        .collect()
                })
            })
            .collect();
        // Each distinct key gets a slot, in order of first appearance.
        let mut slot_of: FxHashMap<PeerKey<'_>, u32> = FxHashMap::default();
        let mut work: Vec<PodPeer<'_>> = Vec::new();
        for per_direction in &mut prepared {
            for rules in per_direction {
                for peer in rules.iter_mut().filter_map(|(peers, _)| peers.as_mut()).flatten() {
                    if let Prepared::Pods { key, peer, slot } = peer {
                        *slot = *slot_of.entry(*key).or_insert_with(|| {
                            work.push(*peer);
                            (work.len() - 1) as u32
                        });
                    }
                }
            }
        }
        drop(slot_of);
        let selection = &self.g.selection;
        let classes = &self.g.classes;
        let found: Vec<Vec<ClassId>> =
            work.par_iter().map(|peer| selection.classes(peer.own, peer.namespaces, peer.pods, classes)).collect();
        let sets: Vec<SetId> = found.into_iter().map(|classes| self.intern_set(classes)).collect();
        prepared
            .into_iter()
            .map(|per_direction| {
                per_direction.map(|rules| {
                    rules
                        .into_iter()
                        .map(|(peers, ports)| {
                            let peers = peers.map(|peers| {
                                peers
                                    .into_iter()
                                    .map(|peer| match peer {
                                        Prepared::Atoms(runs) => PeerMatch::Atoms(runs),
                                        Prepared::Pods { slot, .. } => {
                                            PeerMatch::Classes(sets.get(slot as usize).copied().unwrap_or_default())
                                        }
                                    })
                                    .collect()
                            });
                            (peers, ports)
                        })
                        .collect()
                })
            })
            .collect()
    }

    /// The id of a set of classes (sorted here): selectors written differently that match the
    /// same classes share one.
    pub(super) fn intern_set(&mut self, mut classes: Vec<ClassId>) -> SetId {
        classes.sort_unstable();
        classes.dedup();
        super::intern(&mut self.g.class_sets, &mut self.set_ids, classes.into(), SetId::new)
    }

    /// The id of a list of named ports (sorted and deduplicated here); the empty list is
    /// [`NamedId::default`].
    fn intern_named(&mut self, mut named: Vec<NamedPort>) -> NamedId {
        named.sort_unstable();
        named.dedup();
        if named.is_empty() {
            return NamedId::default();
        }
        super::intern(&mut self.g.named_lists, &mut self.named_ids, named.into(), NamedId::new)
    }

    /// What each isolated class admits: inbound (ingress) and outbound (egress), per class.
    ///
    /// Rule peers are matched once per distinct selector ([`Builder::rule_matches`]); classes are
    /// then credited on the pool, a chunk at a time, and what each holds is interned in class
    /// order, so that the ids do not depend on the number of threads.
    pub(super) fn allowances(&mut self) -> (Vec<Option<Allowance>>, Vec<Option<Allowance>>) {
        let model = self.model;
        let matches = self.rule_matches();
        // Named ports that no destination declares, in policy and rule order.
        for (pi, policy) in model.policies.iter().enumerate() {
            for (d, direction) in [Direction::Ingress, Direction::Egress].into_iter().enumerate() {
                for (ri, (m, _)) in matches[pi][d].iter().enumerate() {
                    let rule = &policy.rules(direction)[ri];
                    if rule.ports.iter().flatten().any(|p| matches!(p.port, Some(PortRef::Name(_)))) {
                        let selected = self.g.policy_selects[pi].clone();
                        self.check_named_ports(pi, ri, direction, &selected, m.as_deref());
                    }
                }
            }
        }
        let n = self.g.classes.len();
        let mut inbound: Vec<Option<Allowance>> = Vec::with_capacity(n);
        let mut outbound: Vec<Option<Allowance>> = Vec::with_capacity(n);
        // Classes are credited in parallel, a chunk at a time so that only one chunk's working
        // sets are expanded at once; what they hold is then interned in class order, so that ids
        // (and everything printed from them) do not depend on the number of threads.
        const CHUNK: usize = 4096;
        let matches = &matches;
        for start in (0..n).step_by(CHUNK) {
            let g = &self.g;
            let pending: Vec<[Option<Pending>; 2]> = (start..(start + CHUNK).min(n))
                .into_par_iter()
                .map_init(AllowanceBuilder::default, |a, c| {
                    let class = &g.classes[c];
                    [(0, &class.ingress_policies, Direction::Ingress), (1, &class.egress_policies, Direction::Egress)]
                        .map(|(d, policies, direction)| {
                            if policies.is_empty() {
                                return None;
                            }
                            for &pi in policies {
                                for (m, ports) in &matches[pi][d] {
                                    credit_rule(g, ClassId::new(c), ports, direction, m.as_deref(), a);
                                }
                            }
                            Some(a.finish())
                        })
                })
                .collect();
            for [ingress, egress] in pending {
                inbound.push(ingress.map(|p| self.intern_pending(p)));
                outbound.push(egress.map(|p| self.intern_pending(p)));
            }
        }
        (inbound, outbound)
    }

    /// Interns what one class's allowance holds: grants in set order, then address runs.
    fn intern_pending(&mut self, p: Pending) -> Allowance {
        let mut grants = Vec::with_capacity(p.grants.len());
        for (set, conns, named) in p.grants {
            grants.push(Grant { set, conns: self.intern(conns), named: self.intern_named(named) });
        }
        let by_atoms = p.by_atoms.into_iter().map(|(f, l, x)| (f, l, self.intern(x))).collect();
        Allowance { everyone: p.everyone, everyone_named: p.everyone_named, grants, by_atoms }
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
                        PeerMatch::Classes(set) => self.g.class_set(*set),
                        PeerMatch::Atoms(_) => &[],
                    })
                    .copied()
                    .collect(),
            },
        };
        let policy = &self.model.policies[policy_index];
        let rule = &policy.rules(direction)[rule_index];
        let destinations: Vec<&Class> =
            destinations.iter().map(|&c| &self.g.classes[c.index()]).filter(|c| !c.pseudo).collect();
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
}

/// Credits one rule of a policy that selects class `c` to `c`'s allowance.
fn credit_rule(
    g: &Graph,
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
            let conns = ports.on(&g.classes[c.index()]);
            if conns.is_empty() {
                return;
            }
            credit(g, a, matches, &conns, &[], &conns);
        }
        Direction::Egress => match matches {
            None => {
                a.everyone.union_with(&ports.numeric);
                a.everyone_named.extend(ports.named.iter().cloned());
            }
            // Towards an address a named port matches nothing.
            Some(ms) => credit(g, a, Some(ms), &ports.numeric, &ports.named, &ports.numeric),
        },
    }
}

/// Credits `conns` (and `named`, resolved per destination) to the classes a rule matches, and
/// `ip_conns` to its addresses (`None`: every peer).
fn credit(
    g: &Graph,
    a: &mut AllowanceBuilder,
    matches: Option<&[PeerMatch]>,
    conns: &Conns,
    named: &[(Box<str>, Protocol)],
    ip_conns: &Conns,
) {
    let Some(matches) = matches else {
        a.everyone.union_with(ip_conns);
        return;
    };
    for m in matches {
        match m {
            PeerMatch::Classes(set) => {
                if !g.class_set(*set).is_empty() {
                    a.grants.push((*set, conns.clone(), named.to_vec()));
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

/// What a pod's ingress admits from `source` (everything when not isolated). From external
/// addresses, whatever some address of the ranges is admitted (of any range when none is known).
pub(super) fn admitted(allowance: Option<&Allowance>, source: &Source, g: &Graph) -> Conns {
    let Some(a) = allowance else {
        return Conns::all();
    };
    let mut x = a.everyone.clone();
    match source {
        Source::Class(c) => a.credit_class(g, *c, &mut x),
        Source::Addresses(ranges) => {
            for (first, last, conns) in &a.by_atoms {
                if ranges.is_empty() || (*first..=*last).any(|i| atom_overlaps(&g.ip_space.atoms, i, ranges)) {
                    x.union_with(g.conns(*conns));
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

//! Reachability expectations: what a repository states must (`allow`) or must not (`deny`) be
//! reachable, and their evaluation against one graph.
//!
//! The types live here, in the graph stage, because both sides need them: the configuration
//! (a later stage) reads `expect:` into them, and the rules (also later) turn an evaluation
//! into findings; the graph is the first stage both may use. Evaluation only reads the graph,
//! its [`explain`](super::explain) answers and the model, so that a caller that changes the
//! policies (`kubereach suggest`) can check every expectation again on the graph it builds.
//!
//! Semantics (the user-facing page is `docs/expectations.md`):
//! * a peer set is the union of its peers; `*` is every workload of the cluster;
//! * ports are the destination pods' ports, as in a NetworkPolicy (a name resolves on each
//!   destination pod; a number without protocol is TCP); no ports means "any connection";
//! * `deny` holds when no source of the set may open any of the ports on any destination;
//! * `allow` holds when every source may open every port on every destination (without ports:
//!   some connection); towards addresses (a CIDR, `{internet}`) every address must be reachable;
//! * an expectation whose `from` or `to` names no workload in a graph holds there vacuously; the
//!   result stage reports one that names nothing in any scope.
//!
//! A blocked `allow` carries *why* as a list of [`Block`]s, one per cause, so that a new kind of
//! cause (a cluster-tier rule) is a new variant, not a new shape.

use std::collections::BTreeSet;

use super::explain::{Explanation, Party, Side};
use super::{ClassId, Conns, Graph, PeerId, PortSet};
use crate::model::net::{IpRange, Protocol};
use crate::model::selector::Labels;
use crate::model::{Direction, Model};
use crate::span::{FileId, Location, Span};

/// What an expectation says of its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

/// How a peer chooses namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    /// Every namespace.
    Any,
    Named(String),
    /// Namespaces whose labels hold all of these (the automatic name label included).
    Labelled(Labels),
}

/// One peer of a set, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerForm {
    /// `*`: every workload of the cluster.
    Any,
    /// The workloads of the chosen namespaces, narrowed to pods whose labels hold `pods`.
    Pods { namespaces: Namespaces, pods: Option<Labels> },
    /// `namespace/name`, `namespace/name[Kind]`.
    Workload { namespace: String, name: String, kind: Option<String> },
    /// The workloads of every namespace whose tenant label has this value.
    Tenant(String),
    /// Anyone on the internet, through the ways in that lead to the other side.
    Internet,
    /// Addresses outside the cluster.
    Addresses(IpRange),
}

/// A set of peers: the union of its forms, each with where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSet {
    pub forms: Vec<(PeerForm, Span)>,
    /// The whole value (`from:`'s or `to:`'s).
    pub span: Span,
    /// The set as written, for messages.
    pub text: String,
}

/// A port an expectation names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortItem {
    /// A range of numbers (one number: `first == last`).
    Numbers(Protocol, u16, u16),
    /// A container port's name, resolved on each destination pod.
    Named(Protocol, String),
    /// Every port of a protocol.
    Protocol(Protocol),
}

/// One statement of `expect:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// 1-based position in `expect:`: how `explain --expect N` names it.
    pub index: usize,
    pub name: Option<String>,
    pub verdict: Verdict,
    pub from: PeerSet,
    pub to: PeerSet,
    /// Empty: any connection.
    pub ports: Vec<PortItem>,
    /// The ports as written, for messages (empty without ports).
    pub ports_text: String,
    /// The configuration file: set by the result stage, which registers the file.
    pub file: FileId,
    /// The `allow` or `deny` key.
    pub span: Span,
}

/// A side of an expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum End {
    From,
    To,
}

impl Expectation {
    /// How messages name it: its name, else its position.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("`{name}`"),
            None => format!("{}", self.index),
        }
    }

    /// `deny shop-web → billing on TCP 443`.
    pub fn statement(&self) -> String {
        let ports = if self.ports_text.is_empty() { String::new() } else { format!(" on {}", self.ports_text) };
        format!("{} {} → {}{ports}", self.verdict.as_str(), self.from.text, self.to.text)
    }

    pub fn location(&self) -> Location {
        Location { file: self.file, span: self.span }
    }

    pub fn side(&self, end: End) -> &PeerSet {
        match end {
            End::From => &self.from,
            End::To => &self.to,
        }
    }

    /// Whether `text` names it: its 1-based index or its name.
    pub fn is_named(&self, text: &str) -> bool {
        self.name.as_deref() == Some(text) || text.parse::<usize>().is_ok_and(|n| n == self.index)
    }
}

/// What a peer set names in one graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub peers: BTreeSet<PeerId>,
    pub internet: bool,
    pub ranges: Vec<IpRange>,
}

impl Resolved {
    /// Whether it names nothing: no workload, no address.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty() && !self.internet && self.ranges.is_empty()
    }

    fn parties(&self) -> Vec<Party> {
        let mut out: Vec<Party> = self.peers.iter().map(|p| Party::Peer(*p)).collect();
        if self.internet {
            out.push(Party::Internet);
        }
        out.extend(self.ranges.iter().map(|r| Party::Addresses(*r)));
        out
    }
}

/// Why an `allow` does not hold for one pair: each cause the graph knows of.
#[derive(Clone, Debug)]
pub enum Block {
    /// A side's policies isolate it for a direction and none of their rules admits the missing
    /// connections: the side, with its isolating policies and the rules that admit something.
    Isolation(Box<Side>),
    /// The destination pods declare no port of that name.
    NoSuchPort { class: ClassId, protocol: Protocol, name: String },
    /// No way in from the internet leads to the destination.
    NoWayIn,
    /// A cluster tier's rule (AdminNetworkPolicy, BaselineAdminNetworkPolicy,
    /// ClusterNetworkPolicy) denies some of the missing connections, before any NetworkPolicy.
    Tier(super::tiers::TierDecision),
}

/// The evidence for one offending pair.
#[derive(Clone, Debug)]
pub enum Evidence {
    /// A `deny` broken: what lets the connections through (the admitting rules per side, or the
    /// absence of isolation, and the ways in from the internet).
    Admitted(Explanation),
    /// An `allow` broken: what blocks it.
    Blocked(Vec<Block>),
}

/// One pair of peers that breaks an expectation.
#[derive(Clone, Debug)]
pub struct Violation {
    pub from: Party,
    /// Addresses (a sub-range) when the expectation names addresses or `{internet}`: the range
    /// where it breaks, so that `explain` answers for it.
    pub to: Party,
    /// The addresses of `to` stand for `{internet}`.
    pub internet: bool,
    /// `deny`: what is allowed of the expectation's ports; `allow`: what is missing.
    pub conns: Conns,
    pub evidence: Evidence,
}

/// The outcome of one expectation in one graph.
#[derive(Clone, Debug)]
pub enum Status {
    /// Every pair keeps it; `pairs` were checked.
    Holds { pairs: usize },
    /// These sides name nothing in the graph: it holds vacuously here.
    MatchesNothing(Vec<End>),
    /// `count` pairs break it; the first [`MAX_EXPLAINED`] are explained, in peer order.
    Violated { count: usize, violations: Vec<Violation> },
}

/// How many offending pairs an outcome explains; the others are counted.
pub const MAX_EXPLAINED: usize = 10;

#[derive(Clone, Debug)]
pub struct Outcome {
    /// Index into the evaluated slice.
    pub expectation: usize,
    pub status: Status,
}

/// Evaluates every expectation against one graph (of the model it was built from).
pub fn evaluate(graph: &Graph, model: &Model, expectations: &[Expectation]) -> Vec<Outcome> {
    expectations
        .iter()
        .enumerate()
        .map(|(i, e)| Outcome { expectation: i, status: graph.check_expectation(model, e) })
        .collect()
}

/// The labels of `have` hold every pair of `want`.
fn holds_labels(have: &Labels, want: &Labels) -> bool {
    want.0.iter().all(|(k, v)| have.get(k) == Some(&**v))
}

/// `a` without `b`.
fn minus(a: &Conns, b: &Conns) -> Conns {
    let mut out = Conns::none();
    for protocol in Protocol::ALL {
        let mut left = PortSet::default();
        let taken = b.ports(protocol);
        for &(first, last) in a.ports(protocol).intervals() {
            let mut at = first as u32;
            for &(t1, t2) in taken.intervals() {
                let (t1, t2) = (t1 as u32, t2 as u32);
                if t2 < at || t1 > last as u32 {
                    continue;
                }
                if t1 > at {
                    left.union_with(&PortSet::range(at as u16, (t1 - 1) as u16));
                }
                at = t2 + 1;
            }
            if at <= last as u32 {
                left.union_with(&PortSet::range(at as u16, last));
            }
        }
        out.add(protocol, &left);
    }
    out
}

/// What an expectation asks for towards one destination.
struct Wanted {
    conns: Conns,
    /// Named ports the destination does not declare.
    unknown: Vec<(Protocol, String)>,
}

impl Graph {
    /// The peers, addresses and internet a set names here.
    pub fn resolve_peers(&self, set: &PeerSet) -> Resolved {
        let mut out = Resolved::default();
        for (form, _) in &set.forms {
            match form {
                PeerForm::Internet => out.internet = true,
                PeerForm::Addresses(r) => out.ranges.push(*r),
                _ => out.peers.extend(self.peers_of(form)),
            }
        }
        out
    }

    /// Whether one form names something here: a workload, or addresses.
    pub fn names_any(&self, form: &PeerForm) -> bool {
        matches!(form, PeerForm::Internet | PeerForm::Addresses(_)) || !self.peers_of(form).is_empty()
    }

    /// The workloads one form names.
    fn peers_of(&self, form: &PeerForm) -> Vec<PeerId> {
        let namespace_ok = |ns: &str, choice: &Namespaces| match choice {
            Namespaces::Any => true,
            Namespaces::Named(n) => ns == n,
            Namespaces::Labelled(want) => self.namespaces.get(ns).is_some_and(|(labels, _)| holds_labels(labels, want)),
        };
        let tenant_of = |ns: &str| -> Option<&str> {
            let label = self.profile.tenant_label.as_deref()?;
            self.namespaces.get(ns).and_then(|(labels, _)| labels.get(label))
        };
        let mut out = Vec::new();
        for (i, peer) in self.peers.iter().enumerate() {
            let ok = match form {
                PeerForm::Any => true,
                PeerForm::Pods { namespaces, pods } => {
                    namespace_ok(&peer.namespace, namespaces)
                        && pods.as_ref().is_none_or(|want| {
                            peer.classes.iter().any(|c| holds_labels(&self.classes[c.index()].labels, want))
                        })
                }
                PeerForm::Workload { namespace, name, kind } => {
                    let (ns_name, bracket) = peer.name.split_once('[').unwrap_or((&peer.name, ""));
                    let peer_kind = bracket.trim_end_matches(']');
                    ns_name.split_once('/') == Some((namespace.as_str(), name.as_str()))
                        && kind.as_deref().is_none_or(|k| k.eq_ignore_ascii_case(peer_kind))
                }
                PeerForm::Tenant(t) => tenant_of(&peer.namespace) == Some(t.as_str()),
                PeerForm::Internet | PeerForm::Addresses(_) => false,
            };
            if ok {
                out.push(PeerId::new(i));
            }
        }
        out
    }

    /// What the expectation's ports are on a destination class (`None`: towards addresses, where
    /// named ports match nothing).
    fn wanted(&self, e: &Expectation, destination: Option<ClassId>) -> Wanted {
        if e.ports.is_empty() {
            return Wanted { conns: Conns::all(), unknown: Vec::new() };
        }
        let mut conns = Conns::none();
        let mut unknown = Vec::new();
        for item in &e.ports {
            match item {
                PortItem::Numbers(p, a, b) => conns.add(*p, &PortSet::range(*a, *b)),
                PortItem::Protocol(p) => conns.add(*p, &PortSet::all()),
                PortItem::Named(p, name) => {
                    match destination.and_then(|d| self.classes[d.index()].named_port(name, *p)) {
                        Some(port) => conns.add(*p, &PortSet::range(port, port)),
                        None => unknown.push((*p, name.clone())),
                    }
                }
            }
        }
        Wanted { conns, unknown }
    }

    /// One expectation against this graph.
    pub fn check_expectation(&self, model: &Model, e: &Expectation) -> Status {
        let from = self.resolve_peers(&e.from);
        let to = self.resolve_peers(&e.to);
        let mut empty = Vec::new();
        if from.is_empty() {
            empty.push(End::From);
        }
        if to.is_empty() {
            empty.push(End::To);
        }
        if !empty.is_empty() {
            return Status::MatchesNothing(empty);
        }
        let mut pairs = 0;
        let mut count = 0;
        let mut violations = Vec::new();
        for src in from.parties() {
            for dst in to.parties() {
                // A workload on one side at least; `{internet}` and addresses on either.
                let workload = matches!(src, Party::Peer(_)) || matches!(dst, Party::Peer(_));
                if src == dst || !workload {
                    continue;
                }
                pairs += 1;
                let explain = violations.len() < MAX_EXPLAINED;
                if let Some(v) = self.check_pair(model, e, &src, &dst, explain) {
                    count += 1;
                    if let Some(v) = v {
                        violations.push(v);
                    }
                }
            }
        }
        if count == 0 {
            Status::Holds { pairs }
        } else {
            Status::Violated { count, violations }
        }
    }

    /// `None` when the pair keeps the expectation; else `Some`, with the violation explained when
    /// `explain` asks for it.
    fn check_pair(
        &self,
        model: &Model,
        e: &Expectation,
        src: &Party,
        dst: &Party,
        explain: bool,
    ) -> Option<Option<Violation>> {
        // Towards or from addresses: the graph's maximal ranges, each with one connection set.
        let addresses = match (src, dst) {
            (Party::Peer(p), Party::Addresses(r)) => Some((*p, vec![*r], Direction::Egress)),
            (Party::Peer(p), Party::Internet) => {
                // The address families the graph holds, as the connectivity list shows them.
                let held = |r: &IpRange| self.ip_space.atoms.iter().any(|a| a.family == r.family);
                let ranges = super::internet::internet_ranges().into_iter().filter(held).collect();
                Some((*p, ranges, Direction::Egress))
            }
            (Party::Addresses(r), Party::Peer(p)) => Some((*p, vec![*r], Direction::Ingress)),
            _ => None,
        };
        if let Some((peer, ranges, direction)) = addresses {
            return self.check_addresses(model, e, peer, &ranges, direction, src, dst, explain);
        }
        let Party::Peer(d) = dst else { return None };
        let dst_classes = &self.peers[d.index()].classes;
        // Per destination class: what reaches it from the source.
        let reaching: Vec<(ClassId, Conns)> = match src {
            Party::Peer(s) => dst_classes
                .iter()
                .map(|&dc| {
                    let mut c = Conns::none();
                    for &sc in &self.peers[s.index()].classes {
                        c.union_with(&self.allowed(sc, dc));
                    }
                    (dc, c)
                })
                .collect(),
            Party::Internet => {
                let x = self.explain(model, src, dst);
                dst_classes
                    .iter()
                    .map(|&dc| {
                        let mut c = Conns::none();
                        for entry in x.entries.iter().filter(|v| v.exposure.class == dc) {
                            c.union_with(&entry.ingress.allows);
                        }
                        (dc, c)
                    })
                    .collect()
            }
            _ => return None,
        };
        let mut conns = Conns::none();
        let mut unknown: Vec<(ClassId, Protocol, String)> = Vec::new();
        for (dc, reach) in &reaching {
            let wanted = self.wanted(e, Some(*dc));
            match e.verdict {
                Verdict::Deny => conns.union_with(&reach.intersect(&wanted.conns)),
                Verdict::Allow => {
                    let missing = if e.ports.is_empty() {
                        if reach.is_empty() {
                            Conns::all()
                        } else {
                            Conns::none()
                        }
                    } else {
                        minus(&wanted.conns, reach)
                    };
                    conns.union_with(&missing);
                    unknown.extend(wanted.unknown.into_iter().map(|(p, n)| (*dc, p, n)));
                }
            }
        }
        if conns.is_empty() && unknown.is_empty() {
            return None;
        }
        if !explain {
            return Some(None);
        }
        let x = self.explain(model, src, dst);
        let evidence = match e.verdict {
            Verdict::Deny => Evidence::Admitted(x),
            Verdict::Allow => {
                let mut blocks: Vec<Block> = unknown
                    .into_iter()
                    .map(|(class, protocol, name)| Block::NoSuchPort { class, protocol, name })
                    .collect();
                if !conns.is_empty() {
                    if matches!(src, Party::Internet) && x.entries.is_empty() {
                        blocks.push(Block::NoWayIn);
                    }
                    let sides = x.pairs.iter().flat_map(|p| p.egress.iter().chain(p.ingress.iter()));
                    let sides = sides.chain(x.entries.iter().map(|v| &v.ingress));
                    blocks.extend(blocking(sides, &conns));
                }
                Evidence::Blocked(blocks)
            }
        };
        Some(Some(Violation { from: src.clone(), to: dst.clone(), internet: false, conns, evidence }))
    }

    /// A workload and addresses: `direction` is the workload's (egress towards them, ingress
    /// from them).
    #[allow(clippy::too_many_arguments)]
    fn check_addresses(
        &self,
        model: &Model,
        e: &Expectation,
        peer: PeerId,
        ranges: &[IpRange],
        direction: Direction,
        src: &Party,
        dst: &Party,
        explain: bool,
    ) -> Option<Option<Violation>> {
        let table = match direction {
            Direction::Egress => &self.external_out,
            Direction::Ingress => &self.external_in,
        };
        let edges = table.get(peer.index()).map(Vec::as_slice).unwrap_or_default();
        let wanted = self.wanted(e, None);
        // The first offending sub-range, and what breaks the expectation there.
        let mut offending: Option<(IpRange, Conns)> = None;
        for want in ranges {
            match e.verdict {
                Verdict::Deny => {
                    for (r, id) in edges {
                        let Some(overlap) = overlap(r, want) else { continue };
                        let c = self.conns(*id).intersect(&wanted.conns);
                        if !c.is_empty() {
                            offending = Some((overlap, c));
                            break;
                        }
                    }
                }
                Verdict::Allow => {
                    // Every address of `want` must allow the wanted connections: walk the
                    // covering ranges in address order and stop at the first gap or shortfall.
                    let mut next = Some(want.first);
                    for (r, id) in edges.iter().filter(|(r, _)| r.family == want.family) {
                        let Some(at) = next else { break };
                        if r.last < at || r.first > want.last {
                            continue;
                        }
                        if r.first > at {
                            offending = Some((
                                IpRange { family: want.family, first: at, last: r.first - 1 },
                                wanted.conns.clone(),
                            ));
                            break;
                        }
                        let reach = self.conns(*id);
                        let missing = if e.ports.is_empty() { Conns::none() } else { minus(&wanted.conns, reach) };
                        if !missing.is_empty() {
                            let last = r.last.min(want.last);
                            offending = Some((IpRange { family: want.family, first: at, last }, missing));
                            break;
                        }
                        next = r.last.checked_add(1).filter(|n| *n <= want.last);
                    }
                    if offending.is_none() {
                        if let Some(at) = next {
                            offending = Some((
                                IpRange { family: want.family, first: at, last: want.last },
                                wanted.conns.clone(),
                            ));
                        }
                    }
                }
            }
            if offending.is_some() {
                break;
            }
        }
        let (range, conns) = offending?;
        if !explain {
            return Some(None);
        }
        // The explanation for the offending range: a range of the graph's own, so that each
        // rule either covers all of it or none.
        let (from, to) = match direction {
            Direction::Egress => (src.clone(), Party::Addresses(range)),
            Direction::Ingress => (Party::Addresses(range), dst.clone()),
        };
        let x = self.explain(model, &from, &to);
        let evidence = match e.verdict {
            Verdict::Deny => Evidence::Admitted(x),
            Verdict::Allow => {
                let sides = x.pairs.iter().flat_map(|p| p.egress.iter().chain(p.ingress.iter()));
                Evidence::Blocked(blocking(sides, &conns))
            }
        };
        let internet = matches!(dst, Party::Internet);
        Some(Some(Violation { from, to, internet, conns, evidence }))
    }
}

/// What leaves some of `missing` out: a cluster tier's rule that denies it, and the sides that
/// NetworkPolicies isolate without admitting it.
fn blocking<'a>(sides: impl Iterator<Item = &'a Side>, missing: &Conns) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for side in sides {
        if missing.intersect(&side.allows) == *missing {
            continue;
        }
        for d in &side.tiers {
            let denied = d.action == crate::model::tier::Action::Deny && !d.conns.intersect(missing).is_empty();
            if denied && !out.iter().any(|b| matches!(b, Block::Tier(t) if t == d)) {
                out.push(Block::Tier(d.clone()));
            }
        }
        // What the tiers leave to the NetworkPolicies is what these can block.
        let left = side.to_network_policies.as_ref().map_or_else(|| missing.clone(), |c| c.intersect(missing));
        if side.isolating.is_empty() || left.is_empty() {
            continue;
        }
        let already = out.iter().any(
            |b| matches!(b, Block::Isolation(s) if s.direction == side.direction && s.isolating == side.isolating),
        );
        if !already {
            out.push(Block::Isolation(Box::new(side.clone())));
        }
    }
    out
}

fn overlap(a: &IpRange, b: &IpRange) -> Option<IpRange> {
    if a.family != b.family {
        return None;
    }
    let (first, last) = (a.first.max(b.first), a.last.min(b.last));
    (first <= last).then_some(IpRange { family: a.family, first, last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minus_leaves_what_the_other_lacks() {
        let mut a = Conns::single(Protocol::Tcp, PortSet::range(80, 90));
        a.add(Protocol::Udp, &PortSet::range(53, 53));
        let b = Conns::single(Protocol::Tcp, PortSet::range(82, 85));
        let left = minus(&a, &b);
        assert_eq!(left.to_string(), "TCP 80-81,86-90,UDP 53");
        assert!(minus(&a, &Conns::all()).is_empty());
        assert_eq!(minus(&Conns::all(), &Conns::none()), Conns::all());
        let top = Conns::single(Protocol::Tcp, PortSet::range(65535, 65535));
        assert!(minus(&top, &top).is_empty());
    }
}

//! Admissions: what each isolated class admits, per source (ingress) or per destination
//! (egress), from every rule of the policies that isolate it.
//!
//! Rule peers are matched once per rule (and cached by selector); each class's allowance is then
//! built on its own in a reused dense table and compacted (sorted, interned) before the next, so
//! that only one class's working set is ever expanded. Named ports that no destination declares
//! are recorded as [`UnknownNamedPort`] facts, never worded. Edges are streamed elsewhere
//! ([`super::edges`]) from these allowances.

use super::{Builder, Class, ClassId, Conns, ConnsId, PortSet, Source};
use crate::model::net::{IpRange, PortRef, Protocol};
use crate::model::{Direction, NetworkPolicy, PeerSelector, PolicyPort};

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
pub(super) struct Allowance {
    /// From rules without peers: every class and every address.
    pub(super) everyone: Conns,
    /// Egress only: named ports of peer-less rules, resolved per destination.
    pub(super) everyone_named: Vec<(Box<str>, Protocol)>,
    /// Sorted by class.
    pub(super) by_class: Vec<(ClassId, ConnsId)>,
    pub(super) by_atoms: Vec<(usize, usize, ConnsId)>,
}

impl Allowance {
    pub(super) fn class(&self, c: ClassId) -> Option<ConnsId> {
        self.by_class.binary_search_by_key(&c, |(k, _)| *k).ok().map(|i| self.by_class[i].1)
    }

    pub(super) fn classes(&self) -> impl Iterator<Item = ClassId> + '_ {
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
        match &mut self.by_class[c.index()] {
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
pub(super) struct RulePorts {
    pub(super) numeric: Conns,
    named: Vec<(Box<str>, Protocol)>,
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

/// A rule peer's selectors (and the policy's namespace when it has no namespaceSelector): peers
/// with equal keys match the same classes.
pub(super) type PeerKey = (
    Option<crate::model::selector::SelectorKey>,
    Option<crate::model::selector::SelectorKey>,
    crate::model::selector::Str,
);

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
                        if pods.as_ref().is_none_or(|sel| sel.matches(&self.g.classes[c.index()].labels)) {
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
    pub(super) fn allowances(&mut self) -> (Vec<Option<Allowance>>, Vec<Option<Allowance>>) {
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
                            credit_rule(&self.g.classes, ClassId::new(c), ports, direction, m.as_deref(), &mut a);
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
            if let Some(conns) = a.by_class[c.index()].take() {
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
            let conns = ports.on(&classes[c.index()]);
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
            Some(ms) => credit(a, Some(ms), |dst| ports.on(&classes[dst.index()]), &ports.numeric),
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

/// What a pod's ingress admits from `source` (everything when not isolated). From external
/// addresses, whatever some address of the ranges is admitted (of any range when none is known).
pub(super) fn admitted(allowance: Option<&Allowance>, source: &Source, table: &[Conns], atoms: &[IpRange]) -> Conns {
    let Some(a) = allowance else {
        return Conns::all();
    };
    let mut x = a.everyone.clone();
    match source {
        Source::Class(c) => {
            if let Some(by) = a.class(*c) {
                x.union_with(&table[by.index()]);
            }
        }
        Source::Addresses(ranges) => {
            for (first, last, conns) in &a.by_atoms {
                if ranges.is_empty() || (*first..=*last).any(|i| atom_overlaps(atoms, i, ranges)) {
                    x.union_with(&table[conns.index()]);
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

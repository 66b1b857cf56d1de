//! Why a connection is allowed or denied: the policies and rules behind a verdict.
//!
//! The graph keeps, for every class, the policies that isolate it; here each of their rules is
//! matched again against one counterpart, so that a verdict cites the rules that admit it (file
//! and line) or the isolation that denies it, per direction. The sum of the cited rules is what
//! the graph computed for the pair: a test holds the two to agreement on every pair of a
//! repository.

use super::admissions::RulePorts;
use super::{Graph, PeerId};
use crate::graph::exposure::Exposure;
use crate::graph::{ClassId, Conns};
use crate::model::net::{Family, IpRange};
use crate::model::{Direction, Model, NetworkPolicy, PeerSelector, PolicyRule};

/// One side of a connection as `explain` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Party {
    Peer(PeerId),
    /// Addresses outside the cluster.
    Addresses(IpRange),
    /// Anyone on the internet, through the entries that lead to the other side.
    Internet,
    /// The ingress controller, through the Ingresses and Routes that lead to the other side.
    IngressController,
    /// A Gateway (index into the model's Gateways), through its routes that lead to the other side.
    Gateway(u32),
}

/// A rule of a policy that admits the counterpart, and what it admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admitting {
    /// Index into [`Model::policies`].
    pub policy: usize,
    /// Index into the policy's rules of the direction.
    pub rule: usize,
    pub conns: Conns,
}

/// What one side's policies say for one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    pub direction: Direction,
    pub class: ClassId,
    /// Policies that select the class and isolate it for the direction.
    pub isolating: Vec<usize>,
    /// Policies that select the class but that the profile's dataplane does not enforce on it.
    pub inert: Vec<usize>,
    /// Tier policies (indexes into [`Model::tier_policies`]) whose subject selects the class but
    /// that the profile does not enforce.
    pub inert_tiers: Vec<usize>,
    pub admitting: Vec<Admitting>,
    /// The cluster tiers' rules that decided (or passed on) some connections, in the order they
    /// were consulted; empty without tier policies for this side.
    pub tiers: Vec<super::tiers::TierDecision>,
    /// With tier policies: the connections the tiers left to the NetworkPolicies (of which
    /// `admitting` cites what they admit), and those nothing decided (allowed by default).
    pub to_network_policies: Option<Conns>,
    pub by_default: Conns,
    /// What the side allows: everything when not isolated, else the union of `admitting`; with
    /// tier policies, what the tiers allow and what they leave to the NetworkPolicies and these
    /// admit.
    pub allows: Conns,
}

/// The verdict for one pair of classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassVerdict {
    /// The source's egress; `None` when the source is outside the cluster.
    pub egress: Option<Side>,
    /// The destination's ingress; `None` when the destination is outside the cluster.
    pub ingress: Option<Side>,
    pub allowed: Conns,
}

/// A way in that leads to the destination, with the destination's ingress for its source.
#[derive(Clone, Debug)]
pub struct EntryVerdict {
    pub exposure: Exposure,
    pub ingress: Side,
}

#[derive(Clone, Debug)]
pub struct Explanation {
    pub from: Party,
    pub to: Party,
    pub pairs: Vec<ClassVerdict>,
    pub entries: Vec<EntryVerdict>,
    /// The union of every pair's and every entry's allowed connections.
    pub allowed: Conns,
}

/// The counterpart a rule is matched against.
enum Counterpart<'a> {
    Class(ClassId),
    /// Some address of these ranges (every address when empty).
    SomeAddress(&'a [IpRange]),
    /// Every address of this range.
    EveryAddress(IpRange),
    /// An ingress controller the repository does not show: it may run in any namespace, with any
    /// labels, or on the host network (arriving from a node address).
    UnknownController,
}

impl Graph {
    /// Explains what `from` may open to `to`.
    pub fn explain(&self, model: &Model, from: &Party, to: &Party) -> Explanation {
        let mut pairs = Vec::new();
        let mut entries = Vec::new();
        match (from, to) {
            (Party::Peer(s), Party::Peer(d)) => {
                for &sc in &self.peers[s.index()].classes {
                    for &dc in &self.peers[d.index()].classes {
                        let egress = self.side(model, sc, Direction::Egress, &Counterpart::Class(dc), Some(dc));
                        let ingress = self.side(model, dc, Direction::Ingress, &Counterpart::Class(sc), Some(dc));
                        let allowed = egress.allows.intersect(&ingress.allows);
                        pairs.push(ClassVerdict { egress: Some(egress), ingress: Some(ingress), allowed });
                    }
                }
            }
            (Party::Peer(s), Party::Addresses(range)) => {
                for &sc in &self.peers[s.index()].classes {
                    let egress = self.side(model, sc, Direction::Egress, &Counterpart::EveryAddress(*range), None);
                    let allowed = egress.allows.clone();
                    pairs.push(ClassVerdict { egress: Some(egress), ingress: None, allowed });
                }
            }
            (Party::Addresses(range), Party::Peer(d)) => {
                // As towards a range: a rule counts when it covers all of it, so that both
                // directions answer the same question.
                for &dc in &self.peers[d.index()].classes {
                    let ingress =
                        self.side(model, dc, Direction::Ingress, &Counterpart::EveryAddress(*range), Some(dc));
                    let allowed = ingress.allows.clone();
                    pairs.push(ClassVerdict { egress: None, ingress: Some(ingress), allowed });
                }
            }
            (Party::Internet | Party::IngressController | Party::Gateway(_), Party::Peer(d)) => {
                // As the connectivity list names the source: the controller or the Gateway.
                let through_controller = matches!(from, Party::IngressController | Party::Gateway(_));
                let classes = &self.peers[d.index()].classes;
                for x in &self.exposures {
                    let entry = &self.entries[x.entry];
                    let wanted = match from {
                        Party::IngressController => {
                            entry.kind.through_controller() && entry.kind != super::routes::EntryKind::Gateway
                        }
                        Party::Gateway(g) => entry.via.is_some_and(|v| v.listener.gateway == *g as usize),
                        _ => entry.from_internet,
                    };
                    if !wanted || !classes.contains(&x.class) {
                        continue;
                    }
                    // From the internet, an unknown controller is any plausible one (as the
                    // exposure is computed); as `{ingress-controller}`, the connectivity list's
                    // unlabelled pod.
                    let ingress = self.entry_side(model, x, !through_controller);
                    entries.push(EntryVerdict { exposure: x.clone(), ingress });
                }
            }
            _ => {}
        }
        let mut allowed = Conns::none();
        for p in &pairs {
            allowed.union_with(&p.allowed);
        }
        for e in &entries {
            allowed.union_with(&e.ingress.allows);
        }
        Explanation { from: from.clone(), to: to.clone(), pairs, entries, allowed }
    }

    /// What the backend pods' ingress says about an exposure's source, on the entry's ports. With
    /// `plausible`, an unknown ingress controller is any controller the rules could admit (as
    /// [`Exposure::admitted`] counts it), else the connectivity list's unlabelled pod.
    pub(crate) fn entry_side(&self, model: &Model, x: &Exposure, plausible: bool) -> Side {
        let counterpart = match &self.entries[x.entry].source {
            super::Source::Class(c) if plausible && *c == self.ingress_controller => Counterpart::UnknownController,
            super::Source::Class(c) => Counterpart::Class(*c),
            super::Source::Addresses(r) => Counterpart::SomeAddress(r),
        };
        let mut side = self.side(model, x.class, Direction::Ingress, &counterpart, Some(x.class));
        side.allows = side.allows.intersect(&x.wanted);
        side
    }

    /// What the ingress of `class` admits from an ingress controller the repository does not show,
    /// of the `wanted` connections.
    pub(crate) fn admits_unknown_controller(&self, model: &Model, class: ClassId, wanted: &Conns) -> Conns {
        self.side(model, class, Direction::Ingress, &Counterpart::UnknownController, Some(class))
            .allows
            .intersect(wanted)
    }

    /// What the ingress of `class` admits from every address of `range` (each rule must cover
    /// all of it).
    pub(crate) fn admits_every_address(&self, model: &Model, class: ClassId, range: &IpRange) -> Conns {
        self.side(model, class, Direction::Ingress, &Counterpart::EveryAddress(*range), Some(class)).allows
    }

    /// What the policies of `class` say for `direction` about `other`. Named ports resolve on
    /// `destination` (none: towards addresses, where they match nothing).
    fn side(
        &self,
        model: &Model,
        class: ClassId,
        direction: Direction,
        other: &Counterpart,
        destination: Option<ClassId>,
    ) -> Side {
        let c = &self.classes[class.index()];
        let isolating = match direction {
            Direction::Ingress => c.ingress_policies.clone(),
            Direction::Egress => c.egress_policies.clone(),
        };
        // Policies select without isolating only where the profile withholds enforcement.
        let withheld = !self.profile.dataplane.enforces() || (c.windows && !self.profile.windows_enforced);
        let inert: Vec<usize> = if withheld {
            self.policy_selects
                .iter()
                .enumerate()
                .filter(|(pi, selected)| {
                    selected.contains(&class) && model.policies[*pi].affects(direction) && !isolating.contains(pi)
                })
                .map(|(pi, _)| pi)
                .collect()
        } else {
            Vec::new()
        };
        let inert_tiers = if self.profile.tiers_enforced || model.tier_policies.is_empty() {
            Vec::new()
        } else {
            self.tier_subjects_selecting(model, class, direction)
        };
        let mut admitting = Vec::new();
        let mut allows = Conns::none();
        for &pi in &isolating {
            let policy = &model.policies[pi];
            for (ri, rule) in policy.rules(direction).iter().enumerate() {
                let conns = self.rule_admits(policy, rule, other, destination);
                if !conns.is_empty() {
                    allows.union_with(&conns);
                    admitting.push(Admitting { policy: pi, rule: ri, conns });
                }
            }
        }
        if isolating.is_empty() {
            allows = Conns::all();
        }
        let mut side = Side {
            direction,
            class,
            isolating,
            inert,
            inert_tiers,
            admitting,
            tiers: Vec::new(),
            to_network_policies: None,
            by_default: Conns::none(),
            allows,
        };
        if self.has_chain(class, direction) {
            self.decide_tiers(&mut side, other, destination);
        }
        side
    }

    /// The tier policies that would apply to `class` for `direction` (their subject selects it and
    /// they have rules of the direction), whether or not the profile enforces them.
    fn tier_subjects_selecting(&self, model: &Model, class: ClassId, direction: Direction) -> Vec<usize> {
        let c = &self.classes[class.index()];
        if c.host_network || c.pseudo {
            return Vec::new();
        }
        let Some((namespace_labels, _)) = self.namespaces.get(&c.namespace) else { return Vec::new() };
        model
            .tier_policies
            .iter()
            .enumerate()
            .filter(|(_, p)| super::tiers::takes_part(p) && !p.rules(direction).is_empty())
            .filter(|(_, p)| match &p.subject {
                Some(crate::model::tier::Subject::Namespaces(ns)) => ns.matches(namespace_labels),
                Some(crate::model::tier::Subject::Pods { namespaces, pods }) => {
                    namespaces.matches(namespace_labels) && pods.matches(&c.labels)
                }
                None => false,
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Puts the cluster tiers in front of (and behind) the NetworkPolicies of a side.
    fn decide_tiers(&self, side: &mut Side, other: &Counterpart, destination: Option<ClassId>) {
        let np = (!side.isolating.is_empty()).then(|| side.allows.clone());
        let dest = destination.map(|d| &self.classes[d.index()]);
        let run = |matched: &dyn Fn(&super::tiers::Step) -> bool| {
            super::tiers::decide(
                self.chain(side.class, side.direction),
                matched,
                |s| s.ports_on(dest),
                np.as_ref(),
                true,
            )
        };
        let decided = match other {
            // A controller the repository does not show is any plausible one: one that only the
            // rules for every pod match, and one that every rule could match; what either is
            // allowed counts.
            Counterpart::UnknownController => {
                let plain =
                    run(&|s: &super::tiers::Step| s.every_pod || s.classes.is_some_and(|set| self.universal_set(set)));
                let matched = run(&|s: &super::tiers::Step| s.classes.is_some() || s.every_pod);
                let (mut first, second) = if plain.allowed.is_all() { (plain, matched) } else { (matched, plain) };
                first.allowed.union_with(&second.allowed);
                first
            }
            _ => run(&|s: &super::tiers::Step| self.step_matches_counterpart(s, other)),
        };
        for a in &mut side.admitting {
            a.conns = a.conns.intersect(&decided.to_network_policies);
        }
        side.admitting.retain(|a| !a.conns.is_empty());
        side.allows = decided.allowed;
        side.tiers = decided.decisions;
        side.to_network_policies = Some(decided.to_network_policies);
        side.by_default = decided.by_default;
    }

    /// Whether a class set holds every class of the graph (a peer for every pod).
    fn universal_set(&self, set: super::SetId) -> bool {
        self.class_set(set).len() == self.classes.len()
    }

    fn step_matches_counterpart(&self, step: &super::tiers::Step, other: &Counterpart) -> bool {
        use super::tiers::Other;
        match other {
            Counterpart::Class(c) => self.step_matches(step, &Other::Class(*c)),
            Counterpart::SomeAddress(ranges) => self.step_matches(step, &Other::SomeAddress(ranges)),
            Counterpart::EveryAddress(range) => {
                let mut any = false;
                for (i, atom) in self.ip_space.atoms.iter().enumerate() {
                    if atom.family != range.family || atom.last < range.first || atom.first > range.last {
                        continue;
                    }
                    if !self.step_matches(step, &Other::Atom(i)) {
                        return false;
                    }
                    any = true;
                }
                any
            }
            Counterpart::UnknownController => step.classes.is_some() || step.every_pod,
        }
    }

    /// What one rule admits of `other`: nothing unless one of its peers matches, then its ports
    /// (named ones resolved on the destination).
    fn rule_admits(
        &self,
        policy: &NetworkPolicy,
        rule: &PolicyRule,
        other: &Counterpart,
        destination: Option<ClassId>,
    ) -> Conns {
        let matched = match &rule.peers {
            None => true,
            Some(peers) => peers.iter().any(|p| self.peer_matches(policy, p, other)),
        };
        if !matched {
            return Conns::none();
        }
        let ports = RulePorts::of(rule.ports.as_deref());
        match destination {
            Some(d) => ports.on(&self.classes[d.index()]),
            None => ports.numeric,
        }
    }

    fn peer_matches(&self, policy: &NetworkPolicy, peer: &PeerSelector, other: &Counterpart) -> bool {
        match (peer, other) {
            (PeerSelector::Pods { namespaces, pods, .. }, Counterpart::Class(c)) => {
                let class = &self.classes[c.index()];
                let namespace_ok = match namespaces {
                    None => class.namespace == policy.meta.namespace,
                    Some(sel) => self.namespaces.get(&class.namespace).is_some_and(|(labels, _)| sel.matches(labels)),
                };
                namespace_ok && pods.as_ref().is_none_or(|sel| sel.matches(&class.labels))
            }
            (PeerSelector::IpBlock { cidr, except, .. }, Counterpart::SomeAddress(ranges)) => {
                if ranges.is_empty() {
                    // Some address of either family.
                    return [Family::V4, Family::V6]
                        .iter()
                        .any(|f| block_has_address_in(cidr, except, &IpRange::whole(*f)));
                }
                ranges.iter().any(|r| block_has_address_in(cidr, except, r))
            }
            (PeerSelector::IpBlock { .. }, Counterpart::UnknownController) => true,
            (PeerSelector::Pods { namespaces: Some(_), .. }, Counterpart::UnknownController) => true,
            // Pods of the policy's own namespace: a controller there the repository does not
            // declare, unless the selector names declared pods.
            (PeerSelector::Pods { namespaces: None, pods, .. }, Counterpart::UnknownController) => {
                !self.namespaces.get(&policy.meta.namespace).is_some_and(|(_, classes)| {
                    classes.iter().any(|&k| {
                        let k = &self.classes[k.index()];
                        !k.pseudo && pods.as_ref().is_none_or(|s| s.matches(&k.labels))
                    })
                })
            }
            (PeerSelector::IpBlock { cidr, except, .. }, Counterpart::EveryAddress(range)) => {
                cidr.contains(range) && !except.iter().any(|e| overlap(e, range).is_some())
            }
            _ => false,
        }
    }
}

/// Why a peer written on the command line names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyError {
    #[error("no workload `{0}` in the repository{1}")]
    Unknown(String, String),
    #[error("`{0}` names several workloads: {1}; add the kind, e.g. `{2}`")]
    Ambiguous(String, String, String),
    #[error("cannot explain `{0}` to `{1}`: one side must be a workload, and `{{internet}}` and `{{ingress-controller}}` can only be sources")]
    Unsupported(String, String),
}

impl Party {
    /// Whether `explain` answers for this pair: a workload on at least one side, and the
    /// pseudo-peers only as sources.
    pub(crate) fn pair_supported(from: &Party, to: &Party) -> bool {
        matches!(
            (from, to),
            (Party::Peer(_), Party::Peer(_) | Party::Addresses(_))
                | (
                    Party::Addresses(_) | Party::Internet | Party::IngressController | Party::Gateway(_),
                    Party::Peer(_)
                )
        )
    }
}

impl Graph {
    /// Reads a peer as `explain` accepts it: `namespace/name[Kind]`, `namespace/name` (when one
    /// workload has that name), a CIDR, an address, a range `a-b` (with or without `[External]`),
    /// `{internet}` or `{ingress-controller}`.
    pub(crate) fn party(&self, text: &str) -> Result<Party, PartyError> {
        let text = text.trim();
        match text {
            "{internet}" | "internet" => return Ok(Party::Internet),
            t if t == super::INGRESS_CONTROLLER || t == "ingress-controller" => return Ok(Party::IngressController),
            _ => {}
        }
        if let Some(g) = self.gateway_names.iter().position(|n| n == text) {
            return Ok(Party::Gateway(g as u32));
        }
        let bare = text.strip_suffix("[External]").unwrap_or(text);
        if let Some(range) = parse_addresses(bare) {
            return Ok(Party::Addresses(range));
        }
        if let Some(i) = self.peers.iter().position(|p| p.name == text) {
            return Ok(Party::Peer(PeerId::new(i)));
        }
        let prefix = format!("{text}[");
        let candidates: Vec<usize> =
            self.peers.iter().enumerate().filter(|(_, p)| p.name.starts_with(&prefix)).map(|(i, _)| i).collect();
        match candidates.as_slice() {
            [one] => Ok(Party::Peer(PeerId::new(*one))),
            [] => {
                let name = text.rsplit('/').next().unwrap_or(text).split('[').next().unwrap_or(text);
                let similar: Vec<&str> = self
                    .peers
                    .iter()
                    .filter(|p| p.name.split('/').nth(1).is_some_and(|n| n.split('[').next() == Some(name)))
                    .map(|p| p.name.as_str())
                    .take(5)
                    .collect();
                let hint =
                    if similar.is_empty() { String::new() } else { format!(" (did you mean {})", similar.join(", ")) };
                Err(PartyError::Unknown(text.to_string(), hint))
            }
            several => {
                let names: Vec<&str> = several.iter().map(|&i| self.peers[i].name.as_str()).collect();
                Err(PartyError::Ambiguous(text.to_string(), names.join(", "), names[0].to_string()))
            }
        }
    }
}

/// An address, a CIDR or a range `first-last`.
fn parse_addresses(text: &str) -> Option<IpRange> {
    use crate::model::net::parse_cidr;
    if let Ok(r) = parse_cidr(text) {
        return Some(r);
    }
    if let Some((a, b)) = text.split_once('-') {
        let (first, last) = (single_address(a)?, single_address(b)?);
        if first.family == last.family && first.first <= last.first {
            return Some(IpRange { family: first.family, first: first.first, last: last.last });
        }
        return None;
    }
    single_address(text)
}

fn single_address(text: &str) -> Option<IpRange> {
    use crate::model::net::parse_cidr;
    let bits = if text.contains(':') { 128 } else { 32 };
    parse_cidr(&format!("{}/{bits}", text.trim())).ok()
}

fn overlap(a: &IpRange, b: &IpRange) -> Option<(u128, u128)> {
    if a.family != b.family {
        return None;
    }
    let (first, last) = (a.first.max(b.first), a.last.min(b.last));
    (first <= last).then_some((first, last))
}

/// Whether `cidr` minus `except` holds an address of `range`.
fn block_has_address_in(cidr: &IpRange, except: &[IpRange], range: &IpRange) -> bool {
    let Some((mut first, last)) = overlap(cidr, range) else { return false };
    let mut holes: Vec<(u128, u128)> =
        except.iter().filter(|e| e.family == cidr.family).map(|e| (e.first, e.last)).collect();
    holes.sort_unstable();
    for (hole_first, hole_last) in holes {
        if hole_first > first {
            return true;
        }
        if hole_last >= first {
            if hole_last >= last {
                return false;
            }
            first = hole_last + 1;
        }
    }
    first <= last
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::net::parse_cidr;

    #[test]
    fn blocks_with_holes_hold_addresses_only_outside_them() {
        let cidr = parse_cidr("10.0.0.0/16").unwrap();
        let hole = parse_cidr("10.0.1.0/24").unwrap();
        assert!(block_has_address_in(&cidr, &[hole], &parse_cidr("10.0.0.0/23").unwrap()));
        assert!(!block_has_address_in(&cidr, &[hole], &parse_cidr("10.0.1.0/25").unwrap()));
        assert!(!block_has_address_in(&cidr, &[], &parse_cidr("192.168.0.0/16").unwrap()));
        assert!(!block_has_address_in(&cidr, &[cidr], &cidr));
    }

    #[test]
    fn addresses_read_as_cidr_address_or_range() {
        assert_eq!(parse_addresses("10.0.0.0/8"), parse_cidr("10.0.0.0/8").ok());
        assert_eq!(parse_addresses("10.0.0.1"), parse_cidr("10.0.0.1/32").ok());
        assert_eq!(parse_addresses("10.0.0.0-10.255.255.255"), parse_cidr("10.0.0.0/8").ok());
        assert_eq!(parse_addresses("shop/web"), None);
        assert_eq!(parse_addresses("10.0.0.9-10.0.0.1"), None);
    }
}

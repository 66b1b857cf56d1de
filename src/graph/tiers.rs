//! The cluster-wide tiers (DESIGN §4): AdminNetworkPolicy and ClusterNetworkPolicy `tier:
//! Admin` before NetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy `tier:
//! Baseline` after it.
//!
//! Each rule of a tier policy becomes one [`Step`], matched once: the class set its pod peers
//! match (interned as NetworkPolicy peers are), the address atoms its networks cover, and its
//! ports. Each class keeps, per direction, the ordered list of steps of the policies whose
//! subject selects it (a *chain*, interned: a cluster-wide policy gives thousands of classes the
//! same chain). [`decide`] walks a chain for one counterpart: the Admin steps in order (lower
//! priority first, rules in order), the first that matches a connection decides it (Allow admits,
//! Deny drops, Pass hands it on); what is left goes to the NetworkPolicy tier when a NetworkPolicy
//! isolates the class, which then decides all of it; otherwise to the Baseline steps (where a
//! Pass hands on to the default, as there is no later tier); what no step decides is allowed.
//!
//! What the manifests cannot resolve is decided here, and written down in the semantics notes:
//! `networks` cover pod addresses too, but pod addresses are not in the manifests, so a network
//! matches pods only when it covers all of IPv4 (`0.0.0.0/0`), which holds every pod address
//! whatever the cluster's pod range (pod-to-pod traffic is taken to be IPv4); `nodes` and
//! `domainNames` peers match no address kubereach can name. Host-network pods are in no subject
//! and match no pod peer, as the API says.

use super::{Builder, Class, ClassId, Conns, Graph, PortSet, SetId};
use crate::model::net::IpRange;
use crate::model::tier::{Action, Subject, Tier, TierPeer, TierPolicy, TierPort};
use crate::model::Direction;

/// One rule of a tier policy, matched once.
#[derive(Debug)]
pub(crate) struct Step {
    /// Index into [`crate::model::Model::tier_policies`].
    pub(crate) policy: usize,
    pub(crate) direction: Direction,
    /// Index into the policy's rules of the direction.
    pub(crate) rule: usize,
    pub(crate) tier: Tier,
    pub(crate) action: Action,
    /// The classes its `namespaces` and `pods` peers match (none: it has no such peer).
    pub(crate) classes: Option<SetId>,
    /// The external atoms its `networks` cover, as runs.
    pub(crate) atoms: Vec<(usize, usize)>,
    /// A network covers a whole address family, hence every pod.
    pub(crate) every_pod: bool,
    /// A peer selects every pod of every namespace (`namespaces: {}`, or `pods` with both
    /// selectors empty), whatever the repository declares.
    pub(crate) every_namespace: bool,
    /// A peer the manifests cannot resolve (`nodes`, `domainNames`).
    pub(crate) unresolved: bool,
    /// Its ports: numbers and ranges, and container port names resolved on the destination.
    pub(crate) numeric: Conns,
    pub(crate) named: Vec<Box<str>>,
}

impl Step {
    /// The connections the step covers towards `destination` (a class; `None`: an address, where
    /// a named port matches nothing).
    pub(crate) fn ports_on(&self, destination: Option<&Class>) -> Conns {
        let mut c = self.numeric.clone();
        if let Some(d) = destination {
            for name in &self.named {
                for (n, protocol, port) in &d.named_ports {
                    if **n == **name {
                        c.add(*protocol, &PortSet::range(*port, *port));
                    }
                }
            }
        }
        c
    }
}

/// The ports of a tier rule: every port when it names none.
fn rule_ports(ports: Option<&[TierPort]>) -> (Conns, Vec<Box<str>>) {
    let Some(ports) = ports else { return (Conns::all(), Vec::new()) };
    let mut numeric = Conns::none();
    let mut named = Vec::new();
    for p in ports {
        match p {
            TierPort::Range { protocol, first, last, .. } => numeric.add(*protocol, &PortSet::range(*first, *last)),
            TierPort::Named { name, .. } => named.push(name.clone()),
        }
    }
    (numeric, named)
}

/// Whether a tier policy takes part: it has a subject, and a priority where its kind needs one
/// (the API server stores neither kind of object without them), and a BaselineAdminNetworkPolicy
/// is the singleton `default`.
pub(crate) fn takes_part(policy: &TierPolicy) -> bool {
    use crate::model::tier::TierKind;
    policy.subject.is_some()
        && !policy.rejected
        && match policy.kind {
            TierKind::BaselineAdminNetworkPolicy => &*policy.meta.name == "default",
            _ => policy.priority.is_some(),
        }
}

/// The order of evaluation: Admin before Baseline, lower priority first; equal priorities in
/// path order (the API leaves their order undefined: `tier-priority-conflict` reports it).
pub(crate) fn evaluation_order(policies: &[TierPolicy]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..policies.len()).filter(|&i| takes_part(&policies[i])).collect();
    order.sort_by_key(|&i| (policies[i].tier, policies[i].priority.unwrap_or(0), i));
    order
}

/// What happened to a connection set at one step of a chain: the step's action on the part of
/// the remaining connections it matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierDecision {
    /// Index into [`crate::model::Model::tier_policies`].
    pub policy: usize,
    pub direction: Direction,
    /// Index into the policy's rules of the direction.
    pub rule: usize,
    pub action: Action,
    pub conns: Conns,
}

/// The outcome of a chain for one counterpart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decided {
    /// What is allowed in the end.
    pub allowed: Conns,
    /// The steps that decided (or passed) some connections, in order.
    pub decisions: Vec<TierDecision>,
    /// The connections the NetworkPolicy tier decided (handed on by the Admin tier).
    pub to_network_policies: Conns,
    /// The connections no step and no NetworkPolicy decided: allowed by default.
    pub by_default: Conns,
}

/// Walks `chain` (Admin steps, then Baseline steps, in order) for one counterpart: `matched`
/// says whether a step's peers match it, `ports` what the step covers on the destination, and
/// `network_policy` what the NetworkPolicy tier allows when a NetworkPolicy isolates the class
/// (`None`: none does, and the Baseline tier is consulted). With `record`, every decision is
/// kept for `explain`.
pub(crate) fn decide<'s>(
    chain: impl Iterator<Item = &'s Step>,
    matched: impl Fn(&Step) -> bool,
    ports: impl Fn(&Step) -> Conns,
    network_policy: Option<&Conns>,
    record: bool,
) -> Decided {
    let mut out = Decided::default();
    let mut remaining = Conns::all();
    let mut passed = Conns::none();
    let mut chain = chain.peekable();
    // The Admin tier.
    while let Some(step) = chain.next_if(|s| s.tier == Tier::Admin) {
        if remaining.is_empty() {
            break;
        }
        if !matched(step) {
            continue;
        }
        let hit = remaining.intersect(&ports(step));
        if hit.is_empty() {
            continue;
        }
        remaining = remaining.subtract(&hit);
        match step.action {
            Action::Allow => out.allowed.union_with(&hit),
            Action::Deny => {}
            Action::Pass => passed.union_with(&hit),
        }
        if record {
            out.decisions.push(decision(step, hit));
        }
    }
    // Skip what is left of the Admin tier (all decided).
    while chain.next_if(|s| s.tier == Tier::Admin).is_some() {}
    let mut open = remaining;
    open.union_with(&passed);
    if let Some(np) = network_policy {
        out.to_network_policies = open.clone();
        out.allowed.union_with(&open.intersect(np));
        return out;
    }
    for step in chain {
        if open.is_empty() {
            break;
        }
        if !matched(step) {
            continue;
        }
        let hit = open.intersect(&ports(step));
        if hit.is_empty() {
            continue;
        }
        open = open.subtract(&hit);
        // A Baseline Pass skips the rest of the tier: the default, which allows, decides.
        if matches!(step.action, Action::Allow | Action::Pass) {
            out.allowed.union_with(&hit);
        }
        if record {
            out.decisions.push(decision(step, hit));
        }
    }
    out.allowed.union_with(&open);
    out.by_default = open;
    out
}

fn decision(step: &Step, conns: Conns) -> TierDecision {
    TierDecision { policy: step.policy, direction: step.direction, rule: step.rule, action: step.action, conns }
}

/// What a chain step matches among the graph's endpoints.
pub(crate) enum Other<'a> {
    Class(ClassId),
    /// An external address atom.
    Atom(usize),
    /// Some address of these ranges (any address when empty): the step matches when it covers
    /// one.
    SomeAddress(&'a [IpRange]),
}

impl Graph {
    /// The steps of a class's chain for a direction, in order (empty without tier policies).
    pub(crate) fn chain(&self, class: ClassId, direction: Direction) -> impl Iterator<Item = &Step> + '_ {
        let table = match direction {
            Direction::Ingress => &self.tier_in,
            Direction::Egress => &self.tier_out,
        };
        let id = table.get(class.index()).copied().unwrap_or(0) as usize;
        self.tier_chains.get(id).into_iter().flat_map(|c| c.iter()).map(|&s| &self.tier_steps[s as usize])
    }

    /// The indexes (into `tier_steps`) of a class's chain for a direction, in order.
    pub(crate) fn chain_steps(&self, class: ClassId, direction: Direction) -> &[u32] {
        let table = match direction {
            Direction::Ingress => &self.tier_in,
            Direction::Egress => &self.tier_out,
        };
        let id = table.get(class.index()).copied().unwrap_or(0) as usize;
        self.tier_chains.get(id).map_or(&[], |c| &c[..])
    }

    /// The id of a class's chain for a direction (0: none): classes with equal ids have the same
    /// chain.
    pub(crate) fn chain_id(&self, class: ClassId, direction: Direction) -> u32 {
        let table = match direction {
            Direction::Ingress => &self.tier_in,
            Direction::Egress => &self.tier_out,
        };
        table.get(class.index()).copied().unwrap_or(0)
    }

    /// Whether a class has tier steps for a direction.
    pub(crate) fn has_chain(&self, class: ClassId, direction: Direction) -> bool {
        let table = match direction {
            Direction::Ingress => &self.tier_in,
            Direction::Egress => &self.tier_out,
        };
        table.get(class.index()).is_some_and(|&id| id != 0)
    }

    /// The step of a class's chain that denies every pod of the cluster on every port (for
    /// egress, every address too): a default deny of the cluster tiers, which isolates the class
    /// as a NetworkPolicy without rules would.
    pub(crate) fn tier_default_deny(&self, class: ClassId, direction: Direction) -> Option<&Step> {
        let every_port = |s: &&Step| s.action == Action::Deny && s.numeric.is_all();
        let pods = self.chain(class, direction).filter(every_port).find(|s| s.every_namespace)?;
        if direction == Direction::Ingress || pods.every_pod {
            return Some(pods);
        }
        // Egress: the pods, and the addresses outside the cluster.
        self.chain(class, direction).filter(every_port).any(|s| s.every_pod).then_some(pods)
    }

    /// Whether the Admin tier denies every pod of the cluster, on every port, before a
    /// NetworkPolicy of the class is consulted: a Deny rule against every pod that no Pass
    /// precedes (an earlier Allow decides its connections in the Admin tier too). A
    /// NetworkPolicy rule that admits every pod then admits none of them.
    pub(crate) fn admin_denies_every_pod(&self, class: ClassId, direction: Direction) -> bool {
        for step in self.chain(class, direction) {
            if step.tier != Tier::Admin {
                return false;
            }
            match step.action {
                Action::Pass => return false,
                Action::Deny if step.every_namespace && step.numeric.is_all() => return true,
                _ => {}
            }
        }
        false
    }

    /// Whether a class is isolated for a direction by a NetworkPolicy or by a tier's default deny.
    pub(crate) fn isolated_by_any_tier(&self, class: ClassId, direction: Direction) -> bool {
        self.isolated(class, direction) || self.tier_default_deny(class, direction).is_some()
    }

    /// Whether a step's peers match `other`.
    pub(crate) fn step_matches(&self, step: &Step, other: &Other) -> bool {
        match other {
            Other::Class(c) => {
                step.every_pod || step.classes.is_some_and(|set| self.class_set(set).binary_search(c).is_ok())
            }
            Other::Atom(i) => step.atoms.iter().any(|&(first, last)| first <= *i && *i <= last),
            Other::SomeAddress(ranges) => step.atoms.iter().any(|&(first, last)| {
                (first..=last).any(|i| {
                    self.ip_space.atoms.get(i).is_some_and(|a| {
                        ranges.is_empty()
                            || ranges.iter().any(|r| r.family == a.family && r.first <= a.last && a.first <= r.last)
                    })
                })
            }),
        }
    }

    /// What the tiers and the NetworkPolicies of `class` allow for `direction` towards (egress)
    /// or from (ingress) `other`; `destination` resolves named ports (`None` towards an address).
    /// `network_policy` is what the class's NetworkPolicies allow (`None`: none isolates it).
    pub(crate) fn tiers_allow(
        &self,
        class: ClassId,
        direction: Direction,
        other: &Other,
        destination: Option<ClassId>,
        network_policy: Option<&Conns>,
    ) -> Conns {
        let dest = destination.map(|d| &self.classes[d.index()]);
        decide(
            self.chain(class, direction),
            |s| self.step_matches(s, other),
            |s| s.ports_on(dest),
            network_policy,
            false,
        )
        .allowed
    }
}

impl Builder<'_> {
    /// The CIDRs of tier policies' networks, for the address atoms.
    pub(super) fn tier_blocks(&self) -> Vec<IpRange> {
        if !self.g.profile.tiers_enforced {
            return Vec::new();
        }
        let mut blocks = Vec::new();
        for policy in &self.model.tier_policies {
            for rule in &policy.egress {
                for peer in &rule.peers {
                    if let TierPeer::Networks(ranges, _) = peer {
                        blocks.extend(ranges.iter().copied());
                    }
                }
            }
        }
        blocks
    }

    /// Every tier rule as a step, and each class's chains, where the dataplane enforces tiers.
    pub(super) fn tier_chains(&mut self) {
        let n = self.g.classes.len();
        self.g.tier_in = vec![0; n];
        self.g.tier_out = vec![0; n];
        self.g.tier_chains = vec![Box::default()];
        let model = self.model;
        if !self.g.profile.tiers_enforced || model.tier_policies.is_empty() {
            return;
        }
        let windows_enforced = self.g.profile.windows_enforced;
        let mut per_class: [Vec<Vec<u32>>; 2] = [vec![Vec::new(); n], vec![Vec::new(); n]];
        let empty: crate::model::selector::Str = "".into();
        for pi in evaluation_order(&model.tier_policies) {
            let policy = &model.tier_policies[pi];
            let Some(subject) = &policy.subject else { continue };
            let subjects = match subject {
                Subject::Namespaces(ns) => self.g.selection.classes(&empty, Some(ns), None, &self.g.classes),
                Subject::Pods { namespaces, pods } => {
                    self.g.selection.classes(&empty, Some(namespaces), Some(pods), &self.g.classes)
                }
            };
            let subjects: Vec<ClassId> = subjects
                .into_iter()
                .filter(|c| {
                    let class = &self.g.classes[c.index()];
                    // Host-network pods are not in any subject (nor in pod peers, below).
                    (!class.windows || windows_enforced) && !class.host_network
                })
                .collect();
            for (d, direction) in [Direction::Ingress, Direction::Egress].into_iter().enumerate() {
                for (ri, rule) in policy.rules(direction).iter().enumerate() {
                    let mut classes: Vec<ClassId> = Vec::new();
                    let mut has_pods = false;
                    let mut atoms = Vec::new();
                    let mut every_pod = false;
                    let mut every_namespace = false;
                    let mut unresolved = false;
                    for peer in &rule.peers {
                        match peer {
                            TierPeer::Namespaces(ns, _) => {
                                has_pods = true;
                                every_namespace |= ns.is_empty();
                                classes.extend(self.g.selection.classes(&empty, Some(ns), None, &self.g.classes));
                            }
                            TierPeer::Pods { namespaces, pods, .. } => {
                                has_pods = true;
                                every_namespace |= namespaces.is_empty() && pods.is_empty();
                                classes.extend(self.g.selection.classes(
                                    &empty,
                                    Some(namespaces),
                                    Some(pods),
                                    &self.g.classes,
                                ));
                            }
                            TierPeer::Networks(ranges, _) => {
                                for range in ranges {
                                    every_pod |= covers_family(range);
                                    atoms.extend(self.g.ip_space.runs(range, &[]));
                                }
                            }
                            TierPeer::Nodes(..) | TierPeer::DomainNames(..) => unresolved = true,
                        }
                    }
                    classes.retain(|c| !self.g.classes[c.index()].host_network);
                    let set = has_pods.then(|| self.intern_set(classes));
                    let (numeric, named) = rule_ports(rule.ports.as_deref());
                    let id = self.g.tier_steps.len() as u32;
                    self.g.tier_steps.push(Step {
                        policy: pi,
                        direction,
                        rule: ri,
                        tier: policy.tier,
                        action: rule.action,
                        classes: set,
                        atoms,
                        every_pod,
                        every_namespace: every_namespace || every_pod,
                        unresolved,
                        numeric,
                        named,
                    });
                    for c in &subjects {
                        per_class[d][c.index()].push(id);
                    }
                }
            }
        }
        let mut ids: rustc_hash::FxHashMap<Box<[u32]>, u32> = rustc_hash::FxHashMap::default();
        ids.insert(Box::default(), 0);
        for (d, lists) in per_class.into_iter().enumerate() {
            for (c, list) in lists.into_iter().enumerate() {
                if list.is_empty() {
                    continue;
                }
                let list: Box<[u32]> = list.into();
                let next = self.g.tier_chains.len() as u32;
                let id = *ids.entry(list.clone()).or_insert_with(|| {
                    self.g.tier_chains.push(list);
                    next
                });
                match d {
                    0 => self.g.tier_in[c] = id,
                    _ => self.g.tier_out[c] = id,
                }
            }
        }
    }
}

/// Whether a range holds every pod address: all of IPv4. Pod-to-pod traffic is taken to be IPv4
/// (single-stack IPv4 and dual-stack clusters, where Services and pods default to IPv4), so
/// `::/0` matches external IPv6 addresses, not pods.
fn covers_family(range: &IpRange) -> bool {
    range.family == crate::model::net::Family::V4 && range.first == 0 && range.last == range.family.max()
}

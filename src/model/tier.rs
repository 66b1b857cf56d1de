//! The cluster-wide policy tiers of the network-policy-api project: AdminNetworkPolicy and
//! BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`) and their successor
//! ClusterNetworkPolicy (`v1alpha2`, `tier: Admin` or `tier: Baseline`), read into one shape.
//!
//! The two API versions name the same ideas differently (`Allow` and `Accept`, `ports` and
//! `protocols`); here they are one [`TierPolicy`] with the version kept for messages. What the
//! manifests cannot resolve (nodes, domain names) is kept as such: the engine decides what it
//! means, never the reader.

use super::net::{IpRange, Protocol};
use super::selector::Selector;
use super::{Direction, Meta};
use crate::span::Span;

/// The group of every tier kind.
pub const GROUP: &str = "policy.networking.k8s.io";

/// Which tier a policy's rules are evaluated in: before NetworkPolicies, or after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Admin,
    Baseline,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Admin => "Admin",
            Tier::Baseline => "Baseline",
        }
    }
}

/// The kind a tier policy was written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TierKind {
    /// `AdminNetworkPolicy` (v1alpha1).
    AdminNetworkPolicy,
    /// `BaselineAdminNetworkPolicy` (v1alpha1), a singleton named `default`.
    BaselineAdminNetworkPolicy,
    /// `ClusterNetworkPolicy` (v1alpha2).
    ClusterNetworkPolicy,
}

impl TierKind {
    pub fn parse(kind: &str) -> Option<TierKind> {
        Some(match kind {
            "AdminNetworkPolicy" => TierKind::AdminNetworkPolicy,
            "BaselineAdminNetworkPolicy" => TierKind::BaselineAdminNetworkPolicy,
            "ClusterNetworkPolicy" => TierKind::ClusterNetworkPolicy,
            _ => return None,
        })
    }

    /// The word for admitting traffic in this kind's API version.
    pub fn allow_word(self) -> &'static str {
        match self {
            TierKind::ClusterNetworkPolicy => "Accept",
            _ => "Allow",
        }
    }
}

/// What a rule does with the traffic it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `Allow` (v1alpha1) or `Accept` (v1alpha2): admitted, no later rule or tier is consulted.
    Allow,
    /// Dropped, no later rule or tier is consulted.
    Deny,
    /// The rest of this tier is skipped: the next tier decides.
    Pass,
}

/// The pods a policy applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Every pod of the namespaces the selector matches.
    Namespaces(Selector),
    /// The pods `pods` matches in the namespaces `namespaces` matches.
    Pods { namespaces: Selector, pods: Selector },
}

/// One element of a rule's `from` or `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TierPeer {
    /// Every pod of the matching namespaces.
    Namespaces(Selector, Span),
    /// The matching pods of the matching namespaces.
    Pods { namespaces: Selector, pods: Selector, span: Span },
    /// Address ranges, which cover pod addresses too (egress only).
    Networks(Vec<IpRange>, Span),
    /// Nodes by label (egress only, experimental): their addresses are not in the manifests.
    Nodes(Selector, Span),
    /// Domain names (egress `Accept` only, experimental): resolved at run time.
    DomainNames(Vec<Box<str>>, Span),
}

impl TierPeer {
    pub fn span(&self) -> Span {
        match self {
            TierPeer::Namespaces(_, span)
            | TierPeer::Pods { span, .. }
            | TierPeer::Networks(_, span)
            | TierPeer::Nodes(_, span)
            | TierPeer::DomainNames(_, span) => *span,
        }
    }
}

/// One entry of a rule's `ports` (v1alpha1) or `protocols` (v1alpha2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TierPort {
    /// Ports `first..=last` of a protocol (one port when equal).
    Range { protocol: Protocol, first: u16, last: u16, span: Span },
    /// A container port name, resolved on the destination pod whatever its protocol.
    Named { name: Box<str>, span: Span },
}

impl TierPort {
    pub fn span(&self) -> Span {
        match self {
            TierPort::Range { span, .. } | TierPort::Named { span, .. } => *span,
        }
    }
}

/// One ingress or egress rule, in the order written (the first that matches decides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierRule {
    /// `name`, when the rule has one.
    pub name: Option<Box<str>>,
    pub action: Action,
    pub action_span: Span,
    /// The rule's peers, at least one in a valid manifest.
    pub peers: Vec<TierPeer>,
    /// `None`: every port of every protocol.
    pub ports: Option<Vec<TierPort>>,
    pub span: Span,
}

impl TierRule {
    /// How a message names the rule after its direction (`egress rule 2`): its position from 1,
    /// and its `name` when it has one (`egress rule 2 \`deny-all\``).
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("{} `{name}`", index + 1),
            None => format!("{}", index + 1),
        }
    }
}

/// An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy.
#[derive(Clone, Debug)]
pub struct TierPolicy {
    pub meta: Meta,
    pub kind: TierKind,
    pub tier: Tier,
    /// Lower first; a BaselineAdminNetworkPolicy (a singleton) has none.
    pub priority: Option<u32>,
    pub priority_span: Option<Span>,
    /// `None` when the manifest has no usable subject (the API server rejects it).
    pub subject: Option<Subject>,
    pub subject_span: Span,
    pub ingress: Vec<TierRule>,
    pub egress: Vec<TierRule>,
    /// The API server would not store the object (no version of this kind, a missing or unknown
    /// `tier`): it takes no part, whatever else it says.
    pub rejected: bool,
}

impl TierPolicy {
    pub fn rules(&self, direction: Direction) -> &[TierRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// How a message names the policy: `AdminNetworkPolicy \`name\``.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            TierKind::AdminNetworkPolicy => "AdminNetworkPolicy",
            TierKind::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
            TierKind::ClusterNetworkPolicy => "ClusterNetworkPolicy",
        };
        format!("{kind} `{}`", self.meta.name)
    }
}

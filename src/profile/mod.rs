//! Cluster profiles: what the manifests cannot say about the cluster they are deployed to.
//!
//! Which dataplane enforces NetworkPolicy (if any), whether it enforces on Windows nodes, whether
//! nodes are reachable from the internet and from which addresses they forward traffic, and who
//! the ingress controllers are. A profile is chosen by name (`--profile`, or `profile:` in the
//! configuration) and refined by the configuration's `cluster:`, `ingress-controllers:`,
//! `external-namespaces:` and `tenants:` keys. Pure data: the graph and the rules read it.

pub mod controllers;
pub mod gateways;

use crate::model::net::IpRange;
use controllers::Controller;

/// The dataplane that enforces NetworkPolicy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataplane {
    /// No engine: policies are stored by the API server and enforced by nobody.
    None,
    /// Some engine that enforces the Kubernetes API (the generic assumption).
    Enforcing,
    /// Azure Network Policy Manager.
    Azure,
    Calico,
    Cilium,
}

impl Dataplane {
    pub fn enforces(self) -> bool {
        self != Dataplane::None
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dataplane::None => "none",
            Dataplane::Enforcing => "enforcing",
            Dataplane::Azure => "azure",
            Dataplane::Calico => "calico",
            Dataplane::Cilium => "cilium",
        }
    }

    /// Whether the dataplane enforces the cluster-wide tiers (AdminNetworkPolicy,
    /// BaselineAdminNetworkPolicy, ClusterNetworkPolicy), as documented in December 2026: Calico
    /// does (AdminNetworkPolicy since 3.29, BaselineAdminNetworkPolicy since 3.30,
    /// ClusterNetworkPolicy since 3.32); Cilium only behind a feature flag (1.20), which AKS's
    /// Cilium does not set; Azure Network Policy Manager does not. The generic engine is assumed
    /// to implement the API, as the conformance cases do.
    pub fn enforces_tiers(self) -> bool {
        matches!(self, Dataplane::Enforcing | Dataplane::Calico)
    }

    pub fn parse(s: &str) -> Option<Dataplane> {
        Some(match s {
            "none" => Dataplane::None,
            "enforcing" => Dataplane::Enforcing,
            "azure" => Dataplane::Azure,
            "calico" => Dataplane::Calico,
            "cilium" => Dataplane::Cilium,
            _ => return None,
        })
    }
}

/// An ingress controller the configuration declares for an ingress class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerSpec {
    /// The ingress class name, or an IngressClass's `spec.controller` value.
    pub class: String,
    pub identity: Controller,
    /// Whether the controller accepts traffic from the internet.
    pub public: bool,
}

/// Everything kubereach assumes about the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub dataplane: Dataplane,
    /// Whether the dataplane enforces policy on pods of Windows nodes.
    pub windows_enforced: bool,
    /// Whether the dataplane enforces the cluster-wide tiers (AdminNetworkPolicy,
    /// BaselineAdminNetworkPolicy, ClusterNetworkPolicy); by default, what the dataplane does.
    pub tiers_enforced: bool,
    /// Whether node addresses are reachable from the internet (NodePorts are then public).
    pub nodes_public: bool,
    /// The addresses nodes forward from: the source a pod sees for traffic that entered through a
    /// Service with `externalTrafficPolicy: Cluster`.
    pub node_ranges: Vec<IpRange>,
    pub controllers: Vec<ControllerSpec>,
    /// Where Application Gateway traffic comes from (the gateway subnet); empty: unknown.
    pub gateway_ranges: Vec<IpRange>,
    /// Namespaces whose pods the repository does not show (besides the system namespaces).
    pub external_namespaces: Vec<String>,
    /// The namespace label whose value names a namespace's tenant.
    pub tenant_label: Option<String>,
}

/// A built-in profile: its name, what it assumes in words, and the facts that set it apart.
#[derive(Clone, Copy, Debug)]
pub struct BuiltIn {
    pub name: &'static str,
    pub summary: &'static str,
    pub dataplane: Dataplane,
    pub windows_enforced: bool,
}

/// The built-in profiles, the one table every list of them comes from; the first is the default.
///
/// The AKS rows follow Microsoft's "Secure traffic between pods by using network policies in AKS"
/// (its table of capabilities, and its retirement notices, read in December 2026): Azure Network
/// Policy Manager enforces on Linux nodes, and on Windows Server 2022 nodes only for subscriptions
/// onboarded to that feature, whose support ended on 30 September 2026, so Windows pods count as
/// unprotected; Calico enforces on Linux and on Windows Server 2019 and 2022 nodes (Windows with
/// Azure CNI; kubenet has Linux nodes only, so kubenet with Calico is `aks-calico` too); Cilium
/// supports Linux nodes only; kubenet without `--network-policy` has no engine at all.
pub const BUILT_IN: [BuiltIn; 5] = [
    BuiltIn {
        name: "generic",
        summary: "policies enforced (Windows included), nodes private, ingress controllers public",
        dataplane: Dataplane::Enforcing,
        windows_enforced: true,
    },
    BuiltIn {
        name: "aks-azure-cni",
        summary: "Azure CNI with Azure Network Policy Manager: Linux pods enforced, Windows pods not (its Windows support was for onboarded subscriptions and ended on 30 September 2026)",
        dataplane: Dataplane::Azure,
        windows_enforced: false,
    },
    BuiltIn {
        name: "aks-kubenet",
        summary: "kubenet without a policy engine: NetworkPolicy is not enforced (kubenet with Calico is `aks-calico`)",
        dataplane: Dataplane::None,
        windows_enforced: false,
    },
    BuiltIn {
        name: "aks-calico",
        summary: "Calico network policy, with Azure CNI or kubenet: Linux pods and Windows Server 2019 and 2022 pods enforced",
        dataplane: Dataplane::Calico,
        windows_enforced: true,
    },
    BuiltIn {
        name: "aks-cilium",
        summary: "Azure CNI powered by Cilium: Linux pods enforced; Cilium does not support Windows nodes",
        dataplane: Dataplane::Cilium,
        windows_enforced: false,
    },
];

/// The names of the built-in profiles, comma-separated, for help and messages.
pub fn built_in_names() -> String {
    BUILT_IN.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

impl Profile {
    /// A built-in profile by name.
    pub fn built_in(name: &str) -> Option<Profile> {
        let built_in = BUILT_IN.iter().find(|p| p.name == name)?;
        Some(Profile::assuming(built_in.name, built_in.dataplane, built_in.windows_enforced))
    }

    /// A profile with these facts and the defaults of every built-in one for the rest.
    fn assuming(name: &str, dataplane: Dataplane, windows_enforced: bool) -> Profile {
        Profile {
            name: name.to_string(),
            dataplane,
            windows_enforced,
            tiers_enforced: dataplane.enforces_tiers(),
            nodes_public: false,
            node_ranges: crate::model::net::private_networks(),
            controllers: Vec::new(),
            gateway_ranges: Vec::new(),
            external_namespaces: Vec::new(),
            tenant_label: None,
        }
    }

    /// The profile in words for messages: its name, and the settings the configuration changed
    /// that messages rest on (``profile `generic` with `cluster.dataplane: none` ``).
    pub fn describe(&self) -> String {
        let base = Profile::built_in(&self.name).unwrap_or_default();
        let mut changed = Vec::new();
        if base.dataplane != self.dataplane {
            changed.push(format!("`cluster.dataplane: {}`", self.dataplane.as_str()));
        }
        if base.windows_enforced != self.windows_enforced {
            changed.push(format!("`cluster.windows-enforced: {}`", self.windows_enforced));
        }
        if base.tiers_enforced != self.tiers_enforced {
            changed.push(format!("`cluster.tiers-enforced: {}`", self.tiers_enforced));
        }
        if base.nodes_public != self.nodes_public {
            changed.push(format!("`cluster.nodes-public: {}`", self.nodes_public));
        }
        if changed.is_empty() {
            format!("profile `{}`", self.name)
        } else {
            format!("profile `{}` with {}", self.name, changed.join(" and "))
        }
    }

    /// Whether the profile is one of AKS's (for the Windows and ingress-controller guidance).
    pub fn is_aks(&self) -> bool {
        self.name.starts_with("aks-")
    }

    /// The configured controller for an ingress class name or controller value, if any.
    pub fn controller(&self, class_or_controller: &str) -> Option<&ControllerSpec> {
        self.controllers.iter().find(|c| c.class == class_or_controller)
    }

    /// Whether `namespace` holds pods the repository does not show.
    pub fn is_external_namespace(&self, namespace: &str) -> bool {
        self.external_namespaces.iter().any(|n| n == namespace)
    }
}

impl Default for Profile {
    /// `generic`.
    fn default() -> Self {
        let [generic, ..] = BUILT_IN;
        Profile::assuming(generic.name, generic.dataplane, generic.windows_enforced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_resolves_and_default_is_generic() {
        for p in BUILT_IN {
            assert_eq!(Profile::built_in(p.name).map(|p| p.name), Some(p.name.to_string()));
        }
        assert_eq!(built_in_names(), "generic, aks-azure-cni, aks-kubenet, aks-calico, aks-cilium");
        assert_eq!(Profile::built_in("generic"), Some(Profile::default()));
        assert!(!Profile::built_in("aks-kubenet").is_some_and(|p| p.dataplane.enforces()));
        assert!(Profile::built_in("aks-cilium").is_some_and(|p| p.dataplane.enforces() && !p.windows_enforced));
        // Calico enforces on the Windows nodes AKS runs it on; Azure NPM's Windows support is over.
        assert!(Profile::built_in("aks-calico").is_some_and(|p| p.windows_enforced));
        assert!(Profile::built_in("aks-azure-cni").is_some_and(|p| !p.windows_enforced));
        assert!(Profile::built_in("eks").is_none());
        // Tiers: Calico and the generic engine enforce them; NPM, AKS's Cilium and no engine do not.
        let tiers = |name: &str| Profile::built_in(name).is_some_and(|p| p.tiers_enforced);
        assert!(tiers("generic") && tiers("aks-calico"));
        assert!(!tiers("aks-azure-cni") && !tiers("aks-cilium") && !tiers("aks-kubenet"));
    }
}

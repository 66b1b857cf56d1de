//! Which ingress controller serves an Ingress, and who that controller is on the network.
//!
//! The class comes from `spec.ingressClassName`, else the `kubernetes.io/ingress.class`
//! annotation, else the IngressClass marked as the cluster default. Well-known controllers are
//! recognised by class name or by the IngressClass's `spec.controller`, without configuration; a
//! profile may declare others (or redeclare these) per class.

use super::Profile;
use crate::model::net::IpRange;
use crate::model::selector::Labels;
use crate::model::{Ingress, IngressClass};

/// The network identity of an ingress controller.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    /// Not known: modelled as one unlabelled pod in a namespace of its own.
    Unknown,
    /// Pods with these labels in this namespace.
    Pods { namespace: Box<str>, labels: Labels },
    /// A controller outside the cluster whose traffic arrives from external addresses (Azure
    /// Application Gateway: the gateway subnet); no ranges: some address not known.
    External(Vec<IpRange>),
}

fn pods(namespace: &str, key: &str, value: &str) -> Controller {
    Controller::Pods { namespace: namespace.into(), labels: Labels::default().with(key, value) }
}

/// The well-known controller of a class name or an IngressClass `spec.controller` value.
pub fn well_known(name_or_controller: &str) -> Option<Controller> {
    Some(match name_or_controller {
        // The labels of the project's own install manifests and chart.
        "nginx" | "k8s.io/ingress-nginx" => Controller::Pods {
            namespace: "ingress-nginx".into(),
            labels: Labels::default()
                .with("app.kubernetes.io/name", "ingress-nginx")
                .with("app.kubernetes.io/instance", "ingress-nginx")
                .with("app.kubernetes.io/component", "controller")
                .with("app.kubernetes.io/part-of", "ingress-nginx"),
        },
        "webapprouting.kubernetes.azure.com" | "webapprouting.kubernetes.azure.com/nginx" => {
            pods("app-routing-system", "app", "nginx")
        }
        "azure-application-gateway" | "azure/application-gateway" => Controller::External(Vec::new()),
        _ => return None,
    })
}

/// The pod identities of the well-known in-cluster controllers: (namespace, labels).
pub fn well_known_pods() -> Vec<(Box<str>, Labels)> {
    ["nginx", "webapprouting.kubernetes.azure.com"]
        .iter()
        .filter_map(|c| match well_known(c) {
            Some(Controller::Pods { namespace, labels }) => Some((namespace, labels)),
            _ => None,
        })
        .collect()
}

/// Labels a well-known controller's namespace carries besides the automatic one, when the
/// repository does not declare it.
pub fn well_known_namespace_labels(namespace: &str) -> Labels {
    match namespace {
        "ingress-nginx" => Labels::default()
            .with("app.kubernetes.io/name", "ingress-nginx")
            .with("app.kubernetes.io/instance", "ingress-nginx"),
        _ => Labels::default(),
    }
}

/// The class an Ingress names, or the default class.
pub fn class_of<'a>(ingress: &'a Ingress, classes: &'a [IngressClass]) -> Option<&'a str> {
    if let Some((name, _)) = &ingress.class_name {
        return Some(name);
    }
    if let Some(name) = &ingress.class_annotation {
        return Some(name);
    }
    classes.iter().find(|c| c.is_default).map(|c| &*c.meta.name)
}

/// Who serves an Ingress, and whether the internet reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serving {
    pub identity: Controller,
    pub public: bool,
}

/// The controller serving `ingress`: the profile's declaration for its class (or for the
/// IngressClass's controller) first, then the well-known controllers. Controllers are public
/// unless the profile says otherwise.
pub fn controller_of(ingress: &Ingress, classes: &[IngressClass], profile: &Profile) -> Serving {
    let unknown = Serving { identity: Controller::Unknown, public: true };
    let Some(class) = class_of(ingress, classes) else {
        return unknown;
    };
    let declared = classes.iter().find(|c| &*c.meta.name == class).and_then(|c| c.controller.as_deref());
    if let Some(spec) = profile.controller(class).or_else(|| declared.and_then(|d| profile.controller(d))) {
        return Serving { identity: spec.identity.clone(), public: spec.public };
    }
    let identity = declared.and_then(well_known).or_else(|| well_known(class)).unwrap_or(Controller::Unknown);
    let identity = match identity {
        Controller::External(_) => Controller::External(profile.gateway_ranges.clone()),
        other => other,
    };
    Serving { identity, public: true }
}

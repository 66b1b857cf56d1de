//! Which ingress controller serves an Ingress, and who that controller is on the network.
//!
//! The class comes from `spec.ingressClassName`, else the `kubernetes.io/ingress.class`
//! annotation, else the IngressClass marked as the cluster default. Well-known controllers are
//! recognised by class name or by the IngressClass's `spec.controller`, without configuration.

use super::selector::Labels;
use super::{Ingress, IngressClass};

/// The network identity of an ingress controller.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    /// Not known: modelled as one unlabelled pod in a namespace of its own.
    Unknown,
    /// Pods with these labels in this namespace.
    Pods { namespace: Box<str>, labels: Labels },
    /// A controller outside the cluster whose traffic arrives from an external address (Azure
    /// Application Gateway: the gateway subnet).
    External,
}

fn pods(namespace: &str, key: &str, value: &str) -> Controller {
    Controller::Pods { namespace: namespace.into(), labels: Labels::default().with(key, value) }
}

/// The well-known controller of a class name or an IngressClass `spec.controller` value.
pub fn well_known(name_or_controller: &str) -> Option<Controller> {
    Some(match name_or_controller {
        "nginx" | "k8s.io/ingress-nginx" => pods("ingress-nginx", "app.kubernetes.io/name", "ingress-nginx"),
        "webapprouting.kubernetes.azure.com" | "webapprouting.kubernetes.azure.com/nginx" => {
            pods("app-routing-system", "app", "nginx")
        }
        "azure-application-gateway" | "azure/application-gateway" => Controller::External,
        _ => return None,
    })
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

/// The controller serving `ingress`.
pub fn controller_of(ingress: &Ingress, classes: &[IngressClass]) -> Controller {
    let Some(class) = class_of(ingress, classes) else {
        return Controller::Unknown;
    };
    let declared = classes.iter().find(|c| &*c.meta.name == class).and_then(|c| c.controller.as_deref());
    declared.and_then(well_known).or_else(|| well_known(class)).unwrap_or(Controller::Unknown)
}

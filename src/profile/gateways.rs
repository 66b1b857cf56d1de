//! Which implementation serves a Gateway, and who its data plane is on the network.
//!
//! A Gateway's class names a GatewayClass, whose `spec.controllerName` names the implementation;
//! without a declared GatewayClass, well-known class names are recognised. Two families:
//!
//! * in-cluster data planes (Istio, AKS application routing's Istio-based Gateways, NGINX Gateway
//!   Fabric, kgateway, Envoy Gateway): proxy pods that the implementation creates per Gateway and
//!   labels with the Gateway's name: in the Gateway's own namespace
//!   (`gateway.networking.k8s.io/gateway-name: <gateway>`), or, for Envoy Gateway's default
//!   deployment mode, in the controller's namespace `envoy-gateway-system` with its
//!   `gateway.envoyproxy.io/owning-gateway-{name,namespace}` labels. The implementation exposes them
//!   with a `LoadBalancer` Service, public unless the Gateway's infrastructure annotations (or,
//!   for Istio, its own annotations) ask for an internal one;
//! * cloud-managed load balancers (GKE, AWS, Azure Application Gateway for Containers): proxies
//!   outside the cluster, whose traffic reaches pods from the cloud's proxy ranges. GKE's external
//!   Application Load Balancers send from Google's front ends, `35.191.0.0/16` and
//!   `130.211.0.0/22` (GKE's documentation on firewall rules for load balancers); regional
//!   (external or internal) ones from a proxy-only subnet of the user's VPC, and AWS and Azure from subnets
//!   of the user's network: not known here, so "some external address".
//!
//! Implementations not recognised (Cilium, whose Envoy runs on the nodes under a reserved
//! identity; Traefik, HAProxy, Contour, Kong: a controller in a namespace of the installer's
//! choosing) are unknown: any plausible source, as for an unknown ingress controller.

use super::controllers::Controller;
use crate::model::net::{parse_cidr, IpRange};
use crate::model::selector::Labels;

/// The label in-cluster implementations put on a Gateway's data-plane pods.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";
/// Envoy Gateway's labels on the proxies of a Gateway, and its controller's namespace.
pub const ENVOY_OWNING_NAME: &str = "gateway.envoyproxy.io/owning-gateway-name";
pub const ENVOY_OWNING_NAMESPACE: &str = "gateway.envoyproxy.io/owning-gateway-namespace";
pub const ENVOY_GATEWAY_NAMESPACE: &str = "envoy-gateway-system";
/// The labels by which a data plane names its Gateway.
pub const NAMING_LABELS: [&str; 3] = [GATEWAY_NAME_LABEL, ENVOY_OWNING_NAME, ENVOY_OWNING_NAMESPACE];

/// The implementation family behind a GatewayClass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// Per-Gateway proxy pods in the Gateway's namespace, labelled with its name.
    InGatewayNamespace,
    /// Istio (and AKS application routing's Istio-based Gateways): as above, with Istio's own
    /// labels, and the Gateway's annotations copied onto its Service.
    Istio,
    /// Envoy Gateway: proxies in its own namespace, labelled with the Gateway's name and namespace.
    EnvoyGateway,
    /// GKE's load balancers: external unless the class is an internal one; Google's front ends
    /// for the global external ones.
    Gke {
        internal: bool,
        global: bool,
    },
    /// AWS (the load balancer controller's Gateway support, VPC Lattice): internal by default,
    /// as both controllers provision.
    Aws,
    /// Azure Application Gateway for Containers: a public frontend.
    AzureAlb,
    Unknown,
}

/// The implementation of a `controllerName`, or of a class name when no GatewayClass is
/// declared.
pub fn implementation(controller_name: Option<&str>, class_name: &str) -> Implementation {
    let by_controller = controller_name.map(|c| match c {
        "istio.io/gateway-controller" => Implementation::Istio,
        "gateway.nginx.org/nginx-gateway-controller" | "kgateway.dev/kgateway" | "solo.io/gloo-gateway" => {
            Implementation::InGatewayNamespace
        }
        c if c.starts_with("approuting.kubernetes.azure.com/") => Implementation::Istio,
        "gateway.envoyproxy.io/gatewayclass-controller" => Implementation::EnvoyGateway,
        "networking.gke.io/gateway" => {
            Implementation::Gke { internal: gke_internal(class_name), global: gke_global_external(class_name) }
        }
        "application-networking.k8s.aws/gateway-api-controller" | "gateway.k8s.aws/alb" | "gateway.k8s.aws/nlb" => {
            Implementation::Aws
        }
        "alb.networking.azure.io/alb-controller" => Implementation::AzureAlb,
        _ => Implementation::Unknown,
    });
    if let Some(found) = by_controller {
        return found;
    }
    match class_name {
        "istio" | "approuting-istio" => Implementation::Istio,
        "nginx" | "kgateway" | "gloo-gateway" => Implementation::InGatewayNamespace,
        "eg" | "envoy" | "envoy-gateway" => Implementation::EnvoyGateway,
        c if c.starts_with("gke-l7-") => {
            Implementation::Gke { internal: gke_internal(c), global: gke_global_external(c) }
        }
        c if c.starts_with("azure-alb-") => Implementation::AzureAlb,
        _ => Implementation::Unknown,
    }
}

/// GKE's global external classes, whose proxies are Google's front ends; the regional external
/// and the internal ones send from a proxy-only subnet of the VPC.
fn gke_global_external(class_name: &str) -> bool {
    class_name.starts_with("gke-l7-global-external-managed") || class_name.starts_with("gke-l7-gxlb")
}

/// GKE's internal classes: regional internal (`gke-l7-rilb`) and cross-regional internal ones.
fn gke_internal(class_name: &str) -> bool {
    class_name.contains("rilb") || class_name.contains("internal")
}

/// Who sends a Gateway's traffic to the backend pods.
pub fn data_plane(implementation: Implementation, gateway_namespace: &str, gateway_name: &str) -> Controller {
    match implementation {
        Implementation::InGatewayNamespace => Controller::Pods {
            namespace: gateway_namespace.into(),
            labels: Labels::default().with(GATEWAY_NAME_LABEL, gateway_name),
        },
        // The labels of Istio's gateway deployment template.
        Implementation::Istio => Controller::Pods {
            namespace: gateway_namespace.into(),
            labels: Labels::default()
                .with(GATEWAY_NAME_LABEL, gateway_name)
                .with("istio.io/gateway-name", gateway_name)
                .with("gateway.istio.io/managed", "istio.io-gateway-controller"),
        },
        Implementation::EnvoyGateway => Controller::Pods {
            namespace: ENVOY_GATEWAY_NAMESPACE.into(),
            labels: Labels::default()
                .with(ENVOY_OWNING_NAME, gateway_name)
                .with(ENVOY_OWNING_NAMESPACE, gateway_namespace)
                .with("app.kubernetes.io/name", "envoy")
                .with("app.kubernetes.io/component", "proxy")
                .with("app.kubernetes.io/managed-by", "envoy-gateway"),
        },
        Implementation::Gke { internal: false, global: true } => Controller::External(
            ["35.191.0.0/16", "130.211.0.0/22"].iter().filter_map(|c| parse_cidr(c).ok()).collect::<Vec<IpRange>>(),
        ),
        Implementation::Gke { .. } | Implementation::Aws | Implementation::AzureAlb => Controller::External(Vec::new()),
        Implementation::Unknown => Controller::Unknown,
    }
}

/// Whether the implementation gives a Gateway a public address unless told otherwise.
pub fn public_by_default(implementation: Implementation) -> bool {
    match implementation {
        Implementation::Gke { internal, .. } => !internal,
        Implementation::Aws => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_controller_name_decides_before_the_class_name() {
        assert_eq!(implementation(Some("istio.io/gateway-controller"), "eg"), Implementation::Istio);
        assert_eq!(
            implementation(Some("gateway.envoyproxy.io/gatewayclass-controller"), "istio"),
            Implementation::EnvoyGateway
        );
        assert_eq!(implementation(Some("example.com/other"), "istio"), Implementation::Unknown);
        assert_eq!(implementation(None, "gke-l7-rilb"), Implementation::Gke { internal: true, global: false });
        assert_eq!(
            implementation(None, "gke-l7-global-external-managed"),
            Implementation::Gke { internal: false, global: true }
        );
        assert_eq!(
            implementation(None, "gke-l7-regional-external-managed"),
            Implementation::Gke { internal: false, global: false }
        );
        assert_eq!(implementation(None, "something"), Implementation::Unknown);
        assert!(!public_by_default(implementation(Some("gateway.k8s.aws/alb"), "alb")));
    }

    #[test]
    fn data_planes_are_labelled_with_the_gateways_name() {
        let Controller::Pods { namespace, labels } = data_plane(Implementation::EnvoyGateway, "web", "public") else {
            panic!("Envoy Gateway runs pods");
        };
        assert_eq!(&*namespace, ENVOY_GATEWAY_NAMESPACE);
        assert_eq!(labels.get(ENVOY_OWNING_NAMESPACE), Some("web"));
        let global = Implementation::Gke { internal: false, global: true };
        assert!(matches!(data_plane(global, "a", "b"), Controller::External(r) if r.len() == 2));
        // Regional external: the proxy-only subnet, not known here.
        let regional = Implementation::Gke { internal: false, global: false };
        assert!(matches!(data_plane(regional, "a", "b"), Controller::External(r) if r.is_empty()));
    }
}

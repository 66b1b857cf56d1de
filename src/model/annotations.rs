//! Every annotation kubereach reads, in one place. The loader keeps exactly these
//! ([`is_read`]): an annotation read anywhere else must be listed here, or it is never seen.
//! What each one means is decided where it is read (the model, the ways in of the graph).

/// The suppression annotation: `"rule-id[,rule-id]"`.
pub const IGNORE: &str = "kubereach.io/ignore";

/// The ingress class of an Ingress, before `spec.ingressClassName` existed.
pub const INGRESS_CLASS: &str = "kubernetes.io/ingress.class";
/// Marks the cluster's default IngressClass.
pub const DEFAULT_INGRESS_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";

pub const AZURE_INTERNAL_LB: &str = "service.beta.kubernetes.io/azure-load-balancer-internal";
pub const GKE_LB_TYPE: &str = "networking.gke.io/load-balancer-type";
pub const GKE_LEGACY_LB_TYPE: &str = "cloud.google.com/load-balancer-type";
pub const AWS_INTERNAL_LB: &str = "service.beta.kubernetes.io/aws-load-balancer-internal";
pub const AWS_LB_SCHEME: &str = "service.beta.kubernetes.io/aws-load-balancer-scheme";
pub const OCI_INTERNAL_LB: &str = "service.beta.kubernetes.io/oci-load-balancer-internal";
/// Client ranges of a cloud load balancer, as an annotation rather than the Service field.
pub const LB_SOURCE_RANGES: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";

pub const GKE_MANAGED_CERTIFICATES: &str = "networking.gke.io/managed-certificates";
pub const GKE_PRE_SHARED_CERT: &str = "ingress.gcp.kubernetes.io/pre-shared-cert";
pub const ALB_CERTIFICATE_ARN: &str = "alb.ingress.kubernetes.io/certificate-arn";
pub const APPGW_SSL_CERTIFICATE: &str = "appgw.ingress.kubernetes.io/appgw-ssl-certificate";
/// Application Gateway serves the Ingress on its private frontend address only.
pub const APPGW_PRIVATE_IP: &str = "appgw.ingress.kubernetes.io/use-private-ip";

/// Whether an AWS Application Load Balancer is `internal` (the default) or `internet-facing`.
pub const ALB_SCHEME: &str = "alb.ingress.kubernetes.io/scheme";

/// The client allowlist of an AWS Application Load Balancer (the AWS load balancer controller).
pub const ALB_INBOUND_CIDRS: &str = "alb.ingress.kubernetes.io/inbound-cidrs";

/// NGINX Inc.'s mergeable Ingresses: `master` (hosts, TLS) or `minion` (paths of a master's host).
pub const NGINX_INC_MERGEABLE: &str = "nginx.org/mergeable-ingress-type";

/// The client allowlist of ingress-nginx, under its old and its new name.
pub const NGINX_ALLOWLIST: [&str; 2] =
    ["nginx.ingress.kubernetes.io/whitelist-source-range", "nginx.ingress.kubernetes.io/allowlist-source-range"];

/// The type of the Service Istio creates for a Gateway (`ClusterIP`: no load balancer).
pub const ISTIO_SERVICE_TYPE: &str = "networking.istio.io/service-type";

/// Every annotation above.
const READ: [&str; 21] = [
    IGNORE,
    INGRESS_CLASS,
    DEFAULT_INGRESS_CLASS,
    AZURE_INTERNAL_LB,
    GKE_LB_TYPE,
    GKE_LEGACY_LB_TYPE,
    AWS_INTERNAL_LB,
    AWS_LB_SCHEME,
    OCI_INTERNAL_LB,
    LB_SOURCE_RANGES,
    GKE_MANAGED_CERTIFICATES,
    GKE_PRE_SHARED_CERT,
    ALB_CERTIFICATE_ARN,
    ALB_INBOUND_CIDRS,
    ALB_SCHEME,
    APPGW_SSL_CERTIFICATE,
    APPGW_PRIVATE_IP,
    NGINX_INC_MERGEABLE,
    NGINX_ALLOWLIST[0],
    NGINX_ALLOWLIST[1],
    ISTIO_SERVICE_TYPE,
];

/// Whether kubereach reads this annotation (the loader drops the others).
pub fn is_read(key: &str) -> bool {
    READ.contains(&key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loader_keeps_what_is_read_and_drops_the_rest() {
        assert!(is_read(IGNORE) && is_read(NGINX_ALLOWLIST[1]) && is_read(LB_SOURCE_RANGES));
        assert!(!is_read("kubectl.kubernetes.io/last-applied-configuration"));
        assert!(!is_read("prometheus.io/scrape"));
    }
}

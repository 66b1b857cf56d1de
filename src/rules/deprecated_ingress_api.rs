//! `deprecated-ingress-api`: an Ingress of `extensions/v1beta1` or `networking.k8s.io/v1beta1`,
//! both removed in Kubernetes 1.22.

use super::Context;
use super::ids::DeprecatedIngressApi;
use super::Rule;
use crate::finding::Finding;
use crate::model::IngressApi;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    for ingress in cx.model.declared_ingresses().filter(|i| i.api == IngressApi::Legacy) {
        out.push(
            DeprecatedIngressApi::finding(ingress.meta.at(ingress.meta.api_version_span),
                format!(
                    "Ingress `{}` uses `{}`, removed in Kubernetes 1.22; use `networking.k8s.io/v1`",
                    ingress.meta.name, ingress.meta.api_version
                ),
            )
            .with_key(ingress.meta.key(), "apiVersion", ""),
        );
    }
}

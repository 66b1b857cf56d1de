//! `ingress-class-missing`: several IngressClasses, none the default, and an Ingress that names
//! no class: which controller serves it is up to chance.

use super::Context;
use super::ids::IngressClassMissing;
use super::Rule;
use crate::finding::Finding;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let classes = &cx.model.ingress_classes;
    if classes.len() < 2 || classes.iter().any(|c| c.is_default) {
        return;
    }
    let names = classes.iter().map(|c| format!("`{}`", c.meta.name)).collect::<Vec<_>>().join(", ");
    for ingress in cx.model.declared_ingresses() {
        if ingress.class_name.is_some() || ingress.class_annotation.is_some() {
            continue;
        }
        out.push(
            IngressClassMissing::finding(ingress.meta.location(),
                format!(
                    "Ingress `{}` names no ingress class, and none of {names} is the default: set `spec.ingressClassName`",
                    ingress.meta.name
                ),
            )
            .with_key(ingress.meta.key(), "spec.ingressClassName", ""),
        );
    }
}

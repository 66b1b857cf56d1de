//! `ingress-class-unknown`: an Ingress whose class matches no IngressClass of a repository that
//! declares some, and that neither the configuration nor a well-known controller knows. Nothing
//! serves such an Ingress: the graph opens no way in for it (see `profile::controllers`), and this
//! rule says why, at the class the Ingress names.

use super::Context;
use super::ids::IngressClassUnknown;
use super::Rule;
use crate::finding::Finding;
use crate::profile::controllers::Resolver;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let resolver = Resolver::new(cx.model, &cx.graph.profile);
    if !resolver.declares_classes() {
        return;
    }
    let mut names: Vec<&str> = cx.model.ingress_classes.iter().map(|c| &*c.meta.name).collect();
    names.sort_unstable();
    names.dedup();
    let declared = match names.len() {
        0 => String::new(),
        _ => format!(" (declared: {})", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
    };
    for ingress in cx.model.declared_ingresses() {
        if !resolver.serving(ingress).dead {
            continue;
        }
        let Some(class) = resolver.class_of(ingress) else { continue };
        // The value as written: `spec.ingressClassName`, else the Ingress (the annotation's
        // value has no location of its own).
        let (at, field) = match &ingress.class_name {
            Some((_, span)) => (ingress.meta.at(*span), "spec.ingressClassName"),
            None => (ingress.meta.location(), "metadata.annotations"),
        };
        out.push(
            IngressClassUnknown::finding(
                at,
                format!(
                    "Ingress `{}` names ingress class `{class}`, which no IngressClass declares{declared} and no known controller serves: no controller serves this Ingress",
                    ingress.meta.name
                ),
            )
            .with_key(ingress.meta.key(), field, class),
        );
    }
}

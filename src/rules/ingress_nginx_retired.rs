//! `ingress-nginx-retired`: Ingresses served by the community ingress-nginx controller, which
//! upstream retired in March 2026 (and, under the AKS profiles, by application routing's managed
//! NGINX, supported until November 2026). One note per IngressClass, at its `spec.controller`, or
//! per class name when the repository declares no IngressClass of that name; never per Ingress.

use std::collections::BTreeMap;

use super::Context;
use super::ids::IngressNginxRetired;
use super::Rule;
use crate::finding::Finding;
use crate::profile::controllers::{Family, Resolver};
use crate::span::Location;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let profile = &cx.graph.profile;
    let resolver = Resolver::new(cx.model, profile);
    let retired = |family: Option<Family>| match family {
        Some(Family::IngressNginx) => true,
        Some(Family::AppRouting) => profile.is_aks(),
        _ => false,
    };
    // Per class name: the family, and where the note goes (the first Ingress that names it, when
    // no IngressClass declares it).
    let mut served: BTreeMap<&str, (Family, Location, &'static str)> = BTreeMap::new();
    for ingress in &cx.model.ingresses {
        let serving = resolver.serving(ingress);
        let (Some(class), Some(family)) = (resolver.class_of(ingress), serving.family) else { continue };
        if !retired(Some(family)) {
            continue;
        }
        let (at, field) = match &ingress.class_name {
            Some((_, span)) => (ingress.meta.at(*span), "spec.ingressClassName"),
            None => (ingress.meta.location(), "metadata.annotations"),
        };
        served.entry(class).or_insert((family, at, field));
    }
    // Declared IngressClasses of a retired controller, used or not: the class is the install.
    for class in &cx.model.ingress_classes {
        let name = &*class.meta.name;
        let configured = profile.controller(name).is_some()
            || class.controller.as_deref().is_some_and(|c| profile.controller(c).is_some());
        let family = class.controller.as_deref().and_then(Family::of_controller);
        if configured || !retired(family) {
            served.remove(name);
            continue;
        }
        let Some(family) = family else { continue };
        let at = class.meta.at(class.controller_span.unwrap_or(class.meta.name_span));
        out.push(note(family, &class.meta.key(), "spec.controller", name, at, "IngressClass"));
        served.remove(name);
    }
    for (class, (family, at, field)) in served {
        out.push(note(family, &format!("IngressClass/{class}"), field, class, at, "ingress class"));
    }
}

fn note(family: Family, key: &str, field: &str, class: &str, at: Location, what: &str) -> Finding {
    let message = match family {
        Family::AppRouting => format!(
            "{what} `{class}` is served by AKS application routing's managed NGINX (based on ingress-nginx), whose Azure support ended in November 2026: move its routes to Gateway API (application routing's Gateway API implementation)"
        ),
        _ => format!(
            "{what} `{class}` is served by ingress-nginx, which upstream retired in March 2026 (no releases or security fixes since): move its routes to Gateway API or to a maintained controller"
        ),
    };
    IngressNginxRetired::finding(at, message).with_key(key, field, class)
}

//! Controller identity (DESIGN §4 "Controller identity"): which controller serves each Ingress,
//! where its pods run, and whether the internet reaches it, from IngressClasses, controller
//! settings and declared controller workloads.
//!
//! The expectations follow the controllers' own install manifests and documentation, as
//! `profile::controllers` cites them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kubereach::model::build::{self as analysis, LoadOptions};
use kubereach::profile::controllers::{Controller, Family, Resolver, Serving};
use kubereach::profile::Profile;

mod common;
use common::{kubereach, repo_with, rule_findings, RunExt as _};

/// An Ingress `name` of class `class` (`None`: no class) with these annotations, routing to `web`.
fn ingress(name: &str, class: Option<&str>, annotations: &[(&str, &str)]) -> String {
    let class = class.map(|c| format!("  ingressClassName: {c}\n")).unwrap_or_default();
    let annotations = if annotations.is_empty() {
        String::new()
    } else {
        let lines: String = annotations.iter().map(|(k, v)| format!("    {k}: \"{v}\"\n")).collect();
        format!("  annotations:\n{lines}")
    };
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: shop\n{annotations}spec:\n{class}  defaultBackend:\n    service:\n      name: web\n      port:\n        number: 80\n"
    )
}

fn ingress_class(name: &str, controller: &str) -> String {
    format!("apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: {name}\nspec:\n  controller: {controller}\n")
}

/// How each Ingress of the repository made of `docs` is served, by Ingress name.
fn serving(docs: &[String], profile: &Profile) -> Vec<(String, Serving)> {
    let text = docs.join("---\n");
    let dir = repo_with(&[("manifests.yaml", &text)]);
    let loaded = analysis::load(&[dir.path().to_path_buf()], &LoadOptions::default()).expect("load");
    let model = &loaded.single().model;
    let resolver = Resolver::new(model, profile);
    model.ingresses.iter().map(|i| (i.meta.name.to_string(), resolver.serving(i))).collect()
}

fn served(docs: &[String]) -> Serving {
    let all = serving(docs, &Profile::default());
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap().1
}

fn pods(serving: &Serving) -> (String, Vec<(String, String)>) {
    match &serving.identity {
        Controller::Pods { namespace, labels } => {
            (namespace.to_string(), labels.0.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        }
        other => panic!("not pods: {other:?}"),
    }
}

#[test]
fn the_ingress_class_controller_decides_not_the_class_name() {
    // `nginx` served by NGINX Inc.'s controller: its namespace and labels, not ingress-nginx's.
    let s = served(&[ingress_class("nginx", "nginx.org/ingress-controller"), ingress("web", Some("nginx"), &[])]);
    assert_eq!(s.family, Some(Family::NginxInc));
    let (namespace, labels) = pods(&s);
    assert_eq!(namespace, "nginx-ingress");
    assert!(labels.contains(&("app".into(), "nginx-ingress".into())), "{labels:?}");
    assert!(s.public && !s.dead);
    // The same name without an IngressClass: ingress-nginx, as before.
    let s = served(&[ingress("web", Some("nginx"), &[])]);
    assert_eq!(s.family, Some(Family::IngressNginx));
    assert_eq!(pods(&s).0, "ingress-nginx");
    // A class of that name served by some other controller is not ingress-nginx.
    let s = served(&[ingress_class("nginx", "example.com/edge"), ingress("web", Some("nginx"), &[])]);
    assert_eq!((s.identity, s.family, s.dead), (Controller::Unknown, None, false));
}

#[test]
fn each_in_cluster_family_has_its_documented_place() {
    for (controller, family, namespace) in [
        ("k8s.io/ingress-nginx", Family::IngressNginx, "ingress-nginx"),
        ("traefik.io/ingress-controller", Family::Traefik, "traefik"),
        ("haproxy.org/ingress-controller/haproxy", Family::HaproxyTech, "haproxy-controller"),
        ("haproxy-ingress.github.io/controller", Family::HaproxyIngress, "ingress-controller"),
        ("projectcontour.io/ingress-controller", Family::Contour, "projectcontour"),
        ("webapprouting.kubernetes.azure.com/nginx", Family::AppRouting, "app-routing-system"),
    ] {
        let s = served(&[ingress_class("edge", controller), ingress("web", Some("edge"), &[])]);
        assert_eq!(s.family, Some(family), "{controller}");
        assert_eq!(pods(&s).0, namespace, "{controller}");
        assert!(s.public, "{controller}");
    }
}

#[test]
fn a_declared_controller_workload_places_the_controller() {
    // ingress-nginx released into `edge` by a chart with another release name.
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: edge-controller\n  namespace: edge\nspec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: ingress-nginx\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: ingress-nginx\n        app.kubernetes.io/instance: edge\n        app.kubernetes.io/component: controller\n    spec:\n      containers:\n        - name: controller\n          image: controller:1.0\n          ports:\n            - containerPort: 80\n".to_string();
    let s = served(&[deployment, ingress_class("nginx", "k8s.io/ingress-nginx"), ingress("web", Some("nginx"), &[])]);
    let (namespace, labels) = pods(&s);
    assert_eq!(namespace, "edge");
    assert!(labels.contains(&("app.kubernetes.io/instance".into(), "edge".into())), "{labels:?}");
}

#[test]
fn cloud_classes_are_public_or_internal_as_their_settings_say() {
    // GKE: external from Google's proxy ranges; `gce-internal` is not an internet entry.
    let s = served(&[ingress("web", None, &[("kubernetes.io/ingress.class", "gce")])]);
    assert!(s.public && matches!(&s.identity, Controller::External(r) if r.len() == 2), "{s:?}");
    let s = served(&[ingress("web", None, &[("kubernetes.io/ingress.class", "gce-internal")])]);
    assert!(!s.public && s.family == Some(Family::Gke), "{s:?}");
    // AWS: internal unless `internet-facing`.
    assert!(!served(&[ingress("web", Some("alb"), &[])]).public);
    assert!(served(&[ingress("web", Some("alb"), &[("alb.ingress.kubernetes.io/scheme", "internet-facing")])]).public);
    // The class's IngressClassParams bind every Ingress of the class, whatever it says.
    let params = "apiVersion: elbv2.k8s.aws/v1beta1\nkind: IngressClassParams\nmetadata:\n  name: private\nspec:\n  scheme: internal\n".to_string();
    let class = "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: private-alb\nspec:\n  controller: ingress.k8s.aws/alb\n  parameters:\n    apiGroup: elbv2.k8s.aws\n    kind: IngressClassParams\n    name: private\n".to_string();
    let facing = [("alb.ingress.kubernetes.io/scheme", "internet-facing")];
    assert!(!served(&[params.clone(), class.clone(), ingress("web", Some("private-alb"), &facing)]).public);
    let public_params = params.replace("scheme: internal", "scheme: internet-facing");
    assert!(served(&[public_params, class, ingress("web", Some("private-alb"), &[])]).public);
    // Application Gateway on its private frontend.
    let private = [("appgw.ingress.kubernetes.io/use-private-ip", "true")];
    assert!(!served(&[ingress("web", Some("azure-application-gateway"), &private)]).public);
    assert!(served(&[ingress("web", Some("azure-application-gateway"), &[])]).public);
}

#[test]
fn an_app_routing_controller_behind_an_internal_load_balancer_is_internal() {
    let controller = |internal: bool| {
        let annotations = if internal {
            "  loadBalancerAnnotations:\n    service.beta.kubernetes.io/azure-load-balancer-internal: \"true\"\n"
        } else {
            ""
        };
        format!("apiVersion: approuting.kubernetes.azure.com/v1alpha1\nkind: NginxIngressController\nmetadata:\n  name: private\nspec:\n  ingressClassName: nginx-private\n  controllerNamePrefix: nginx-private\n{annotations}")
    };
    let class = ingress_class("nginx-private", "approuting.kubernetes.azure.com/private");
    let s = served(&[controller(true), class.clone(), ingress("web", Some("nginx-private"), &[])]);
    assert!(!s.public && s.family == Some(Family::AppRouting), "{s:?}");
    let (namespace, labels) = pods(&s);
    assert_eq!(namespace, "app-routing-system");
    assert!(labels.contains(&("app.kubernetes.io/managed-by".into(), "aks-app-routing-operator".into())));
    // Without the IngressClass (the operator creates it), the controller's class is still known.
    let s = served(&[controller(true), ingress("web", Some("nginx-private"), &[])]);
    assert!(!s.public && !s.dead, "{s:?}");
    assert!(served(&[controller(false), class, ingress("web", Some("nginx-private"), &[])]).public);
}

#[test]
fn an_undeclared_class_is_dead_only_where_the_repository_declares_classes() {
    let declared = ingress_class("nginx", "k8s.io/ingress-nginx");
    let s = served(&[declared.clone(), ingress("web", Some("ngnix"), &[])]);
    assert!(s.dead && !s.public, "{s:?}");
    // Nothing declared: the class is installed elsewhere, as before.
    let s = served(&[ingress("web", Some("ngnix"), &[])]);
    assert!(!s.dead && s.public && s.identity == Controller::Unknown, "{s:?}");
    // Well-known names are not unknown, even where their controller's place is not known.
    for class in ["traefik", "haproxy", "contour", "gce", "alb"] {
        let s = served(&[declared.clone(), ingress("web", Some(class), &[])]);
        assert!(!s.dead, "{class}: {s:?}");
    }
    let s = served(&[declared.clone(), ingress("web", Some("traefik"), &[])]);
    assert_eq!(s.identity, Controller::Unknown);
}

#[test]
fn a_dead_ingress_opens_no_way_in() {
    let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: web:1.0\n          ports:\n            - containerPort: 8080\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {app: web}\n  ports:\n    - port: 80\n      targetPort: 8080\n";
    let text = [web.to_string(), ingress_class("nginx", "k8s.io/ingress-nginx"), ingress("web", Some("ngnix"), &[])]
        .join("---\n");
    let dir = repo_with(&[("manifests.yaml", &text)]);
    let graph = kubereach(["graph"]).arg(dir.path()).run().ok();
    assert!(!graph.contains("{ingress-controller}"), "{graph}");
    assert!(rule_findings(dir.path(), "internet-exposed-workload", &[]).is_empty());
    assert!(rule_findings(dir.path(), "ingress-without-tls", &[]).is_empty());
    assert_eq!(rule_findings(dir.path(), "ingress-class-unknown", &[]).len(), 1);
    // Spelt right, the same Ingress is an exposure.
    let text = text.replace("ingressClassName: ngnix", "ingressClassName: nginx");
    let dir = repo_with(&[("manifests.yaml", &text)]);
    assert!(kubereach(["graph"]).arg(dir.path()).run().ok().contains("{ingress-controller}"));
    assert_eq!(rule_findings(dir.path(), "internet-exposed-workload", &[]).len(), 1);
}

#[test]
fn the_retirement_note_is_one_per_class() {
    let text = [
        ingress_class("public", "k8s.io/ingress-nginx"),
        ingress("a", Some("public"), &[]),
        ingress("b", Some("public"), &[]),
        ingress("c", None, &[("kubernetes.io/ingress.class", "nginx")]),
        ingress("d", None, &[("kubernetes.io/ingress.class", "nginx")]),
        ingress("e", Some("webapprouting.kubernetes.azure.com"), &[]),
    ]
    .join("---\n");
    let dir = repo_with(&[("manifests.yaml", &text)]);
    // The IngressClass and the undeclared `nginx`; application routing only under AKS profiles.
    assert_eq!(rule_findings(dir.path(), "ingress-nginx-retired", &[]).len(), 2);
    let aks = rule_findings(dir.path(), "ingress-nginx-retired", &["--profile", "aks-azure-cni"]);
    assert_eq!(aks.len(), 3, "{aks:?}");
    assert!(aks.iter().any(|(_, _, message)| message.contains("November 2026")), "{aks:?}");
}

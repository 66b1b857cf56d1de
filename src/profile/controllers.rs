//! Which ingress controller serves an Ingress (or an OpenShift Route), who that controller is on
//! the network, and whether the internet reaches it.
//!
//! The class comes from `spec.ingressClassName`, else the `kubernetes.io/ingress.class`
//! annotation, else the IngressClass marked as the cluster default. An IngressClass's
//! `spec.controller` decides which controller serves the class, never its name: a class `nginx`
//! served by `nginx.org/ingress-controller` is NGINX Inc.'s controller, not ingress-nginx. A class
//! name alone decides only when no IngressClass of that name is declared. A profile may declare
//! controllers (or redeclare these) per class or per controller value, and wins.
//!
//! Where an in-cluster controller runs is fixed by its install only up to the namespace (a Helm
//! release may go anywhere): a controller workload the repository declares, recognised by its
//! pod labels, gives the namespace and labels; else the namespace its own install documents.
//! Cloud controllers (Application Gateway, GKE, the AWS load balancer controller) send from
//! addresses outside the cluster, and serve a class on a private address when their settings say
//! so (`gce-internal`, an internal ALB scheme, Application Gateway's private frontend, an AKS
//! application routing controller with an internal load balancer).
//!
//! Sources of the identities (read in December 2026): ingress-nginx's static deploy manifests;
//! NGINX Inc.'s `deployments/` manifests (namespace `nginx-ingress`, pods `app: nginx-ingress`);
//! the Traefik, HAProxy Technologies and haproxy-ingress charts and their installation guides;
//! Contour's quickstart (Envoy pods `app: envoy` in `projectcontour`); the AKS application routing
//! operator's generated manifests (namespace `app-routing-system`); openshift/cluster-ingress-operator
//! (router pods of the default IngressController, the policy-group labels of `openshift-ingress`);
//! Google Cloud's firewall guidance for its Application Load Balancers (proxy and health-check
//! ranges 130.211.0.0/22 and 35.191.0.0/16); the AWS load balancer controller's annotation and
//! IngressClass guides (scheme `internal` unless `internet-facing`).

use rustc_hash::{FxHashMap, FxHashSet};

use super::Profile;
use crate::model::annotations;
use crate::model::net::{parse_cidr, IpRange};
use crate::model::selector::Labels;
use crate::model::{ControllerSettings, Ingress, IngressClass, Model, WorkloadKind};

/// The network identity of an ingress controller.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Controller {
    /// Not known: modelled as one unlabelled pod in a namespace of its own.
    Unknown,
    /// Pods with these labels in this namespace.
    Pods { namespace: Box<str>, labels: Labels },
    /// A controller outside the cluster whose traffic arrives from external addresses (Azure
    /// Application Gateway: the gateway subnet; GKE: Google's proxies); no ranges: some address
    /// not known.
    External(Vec<IpRange>),
}

/// The ingress controllers kubereach recognises without configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// The community controller, `k8s.io/ingress-nginx` (retired upstream in March 2026).
    IngressNginx,
    /// NGINX Inc.'s (F5's) controller, `nginx.org/ingress-controller`.
    NginxInc,
    Traefik,
    /// HAProxy Technologies' controller, `haproxy.org/ingress-controller/<class>`.
    HaproxyTech,
    /// The haproxy-ingress project's controller, `haproxy-ingress.github.io/controller`.
    HaproxyIngress,
    /// Contour; its Envoy pods forward the traffic.
    Contour,
    /// AKS application routing (its managed NGINX).
    AppRouting,
    /// Azure Application Gateway Ingress Controller.
    ApplicationGateway,
    /// GKE's Ingress: Google Cloud Application Load Balancers.
    Gke,
    /// The AWS load balancer controller (and EKS Auto Mode): Application Load Balancers.
    AwsAlb,
    /// The OpenShift router of the default IngressController.
    OpenShiftRouter,
}

/// The labels that name what a workload runs.
const NAME_LABELS: [&str; 4] = ["app.kubernetes.io/name", "app", "k8s-app", "name"];

/// The namespace of the default OpenShift router.
pub const OPENSHIFT_ROUTER_NAMESPACE: &str = "openshift-ingress";

/// The client ranges of Google's front ends and health checks, from which GKE's external
/// Application Load Balancers reach backends (Google Cloud's firewall guidance).
const GOOGLE_PROXY_RANGES: [&str; 2] = ["130.211.0.0/22", "35.191.0.0/16"];

impl Family {
    /// Every family, for lists.
    pub const ALL: [Family; 11] = [
        Family::IngressNginx,
        Family::NginxInc,
        Family::Traefik,
        Family::HaproxyTech,
        Family::HaproxyIngress,
        Family::Contour,
        Family::AppRouting,
        Family::ApplicationGateway,
        Family::Gke,
        Family::AwsAlb,
        Family::OpenShiftRouter,
    ];

    /// The family of an IngressClass `spec.controller` value.
    pub fn of_controller(value: &str) -> Option<Family> {
        Some(match value {
            "k8s.io/ingress-nginx" => Family::IngressNginx,
            "nginx.org/ingress-controller" => Family::NginxInc,
            "traefik.io/ingress-controller" => Family::Traefik,
            "haproxy-ingress.github.io/controller" => Family::HaproxyIngress,
            "webapprouting.kubernetes.azure.com" | "webapprouting.kubernetes.azure.com/nginx" => Family::AppRouting,
            "azure/application-gateway" => Family::ApplicationGateway,
            "k8s.io/ingress-gce" => Family::Gke,
            "ingress.k8s.aws/alb" | "eks.amazonaws.com/alb" => Family::AwsAlb,
            "openshift.io/ingress-to-route" => Family::OpenShiftRouter,
            v if v.starts_with("haproxy.org/ingress-controller") => Family::HaproxyTech,
            v if v.starts_with("projectcontour.io/") => Family::Contour,
            v if v.starts_with("approuting.kubernetes.azure.com/") => Family::AppRouting,
            _ => return None,
        })
    }

    /// The family a class name stands for when no IngressClass of that name is declared: names
    /// that fix the controller and where it runs (a managed add-on, a cloud, the OpenShift
    /// router), and `nginx`, which kubereach has always read as ingress-nginx at its documented
    /// place.
    pub fn of_class_name(name: &str) -> Option<Family> {
        Some(match name {
            "nginx" => Family::IngressNginx,
            "webapprouting.kubernetes.azure.com" => Family::AppRouting,
            "azure-application-gateway" => Family::ApplicationGateway,
            "gce" | "gce-internal" => Family::Gke,
            "alb" => Family::AwsAlb,
            "openshift-default" => Family::OpenShiftRouter,
            _ => return None,
        })
    }

    /// Default class names of well-known controllers that do not say where the controller runs
    /// (Traefik is in `kube-system` on k3s and wherever its chart is released elsewhere; `haproxy`
    /// is the default of two projects): known, so not an unknown class, but served by an
    /// unknown controller until an IngressClass or the configuration says more.
    fn is_unplaced_class_name(name: &str) -> bool {
        matches!(name, "traefik" | "contour" | "haproxy")
    }

    /// The product's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Family::IngressNginx => "ingress-nginx",
            Family::NginxInc => "NGINX Ingress Controller (NGINX Inc.)",
            Family::Traefik => "Traefik",
            Family::HaproxyTech => "HAProxy Kubernetes Ingress Controller",
            Family::HaproxyIngress => "HAProxy Ingress",
            Family::Contour => "Contour",
            Family::AppRouting => "AKS application routing",
            Family::ApplicationGateway => "Application Gateway Ingress Controller",
            Family::Gke => "GKE Ingress",
            Family::AwsAlb => "AWS Load Balancer Controller",
            Family::OpenShiftRouter => "the OpenShift router",
        }
    }

    /// Where the pods of an in-cluster controller run as its own install creates them: the
    /// namespace and the pod labels policies select them by.
    pub fn default_pods(self) -> Option<(&'static str, Labels)> {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().fold(Labels::default(), |l, (k, v)| l.with(k, v));
        Some(match self {
            Family::IngressNginx => (
                "ingress-nginx",
                labels(&[
                    ("app.kubernetes.io/name", "ingress-nginx"),
                    ("app.kubernetes.io/instance", "ingress-nginx"),
                    ("app.kubernetes.io/component", "controller"),
                    ("app.kubernetes.io/part-of", "ingress-nginx"),
                ]),
            ),
            Family::NginxInc => {
                ("nginx-ingress", labels(&[("app", "nginx-ingress"), ("app.kubernetes.io/name", "nginx-ingress")]))
            }
            Family::Traefik => ("traefik", labels(&[("app.kubernetes.io/name", "traefik")])),
            Family::HaproxyTech => ("haproxy-controller", labels(&[("app.kubernetes.io/name", "kubernetes-ingress")])),
            Family::HaproxyIngress => ("ingress-controller", labels(&[("app.kubernetes.io/name", "haproxy-ingress")])),
            Family::Contour => ("projectcontour", labels(&[("app", "envoy")])),
            Family::AppRouting => ("app-routing-system", labels(&[("app", "nginx")])),
            Family::OpenShiftRouter => (
                OPENSHIFT_ROUTER_NAMESPACE,
                labels(&[("ingresscontroller.operator.openshift.io/deployment-ingresscontroller", "default")]),
            ),
            Family::ApplicationGateway | Family::Gke | Family::AwsAlb => return None,
        })
    }

    /// The word that names this controller in the name labels of a workload that runs it under
    /// a name of its own (`app.kubernetes.io/name: traefik-ingress-ilb`).
    fn keyword(self) -> Option<&'static str> {
        Some(match self {
            Family::IngressNginx => "ingress-nginx",
            Family::NginxInc => "nginx-ingress",
            Family::Traefik => "traefik",
            Family::HaproxyTech => "kubernetes-ingress",
            Family::HaproxyIngress => "haproxy-ingress",
            _ => return None,
        })
    }

    /// Whether a workload with these pod labels runs this controller: it carries the labels
    /// every install of it has, or the controller's word in one of its name labels.
    fn recognises(self, labels: &Labels) -> bool {
        let signature = self.signature();
        if !signature.is_empty() && signature.iter().all(|(k, v)| labels.get(k) == Some(*v)) {
            return true;
        }
        self.keyword()
            .is_some_and(|word| NAME_LABELS.iter().any(|key| labels.get(key).is_some_and(|value| value.contains(word))))
    }

    /// The pod labels that recognise this controller in a Deployment or DaemonSet the repository
    /// declares (what every install of it carries, whatever the release is called).
    fn signature(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Family::IngressNginx => {
                &[("app.kubernetes.io/name", "ingress-nginx"), ("app.kubernetes.io/component", "controller")]
            }
            Family::NginxInc => &[("app.kubernetes.io/name", "nginx-ingress")],
            Family::Traefik => &[("app.kubernetes.io/name", "traefik")],
            Family::HaproxyTech => &[("app.kubernetes.io/name", "kubernetes-ingress")],
            Family::HaproxyIngress => &[("app.kubernetes.io/name", "haproxy-ingress")],
            // Envoy's `app: envoy` and the fixed installs are not worth guessing from.
            Family::Contour
            | Family::AppRouting
            | Family::OpenShiftRouter
            | Family::ApplicationGateway
            | Family::Gke
            | Family::AwsAlb => &[],
        }
    }
}

/// The pods of the controllers of AKS application routing created by a `NginxIngressController`
/// (their `app` label derives from a generated name): the labels the operator puts on them all.
fn app_routing_custom_pods() -> Controller {
    Controller::Pods {
        namespace: "app-routing-system".into(),
        labels: Labels::default()
            .with("app.kubernetes.io/component", "ingress-controller")
            .with("app.kubernetes.io/managed-by", "aks-app-routing-operator"),
    }
}

/// The pod identities, at their documented places, of the controllers AKS's guidance keeps on
/// Linux nodes: (namespace, labels).
pub fn well_known_pods() -> Vec<(Box<str>, Labels)> {
    [Family::IngressNginx, Family::AppRouting]
        .iter()
        .filter_map(|f| f.default_pods())
        .map(|(ns, labels)| (ns.into(), labels))
        .collect()
}

/// Labels a well-known controller's namespace carries besides the automatic one, when the
/// repository does not declare it.
pub fn well_known_namespace_labels(namespace: &str) -> Labels {
    match namespace {
        "ingress-nginx" => Labels::default()
            .with("app.kubernetes.io/name", "ingress-nginx")
            .with("app.kubernetes.io/instance", "ingress-nginx"),
        // The cluster ingress operator labels the router's namespace for policies (both the
        // current and the legacy policy-group label), and for monitoring.
        OPENSHIFT_ROUTER_NAMESPACE => Labels::default()
            .with("policy-group.network.openshift.io/ingress", "")
            .with("network.openshift.io/policy-group", "ingress")
            .with("openshift.io/cluster-monitoring", "true"),
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
    /// The well-known controller, when it is one (and no profile redeclares the class).
    pub family: Option<Family>,
    /// No controller serves the Ingress: its class matches no IngressClass while the repository
    /// declares some, and neither the profile nor a well-known name knows it.
    pub dead: bool,
}

/// What serves the Ingresses of a model, resolved from its IngressClasses, controller settings
/// and controller workloads once, then looked up per Ingress.
pub struct Resolver<'m> {
    profile: &'m Profile,
    classes: &'m [IngressClass],
    by_name: FxHashMap<&'m str, &'m IngressClass>,
    /// Class names the repository declares: IngressClasses, and the classes AKS application
    /// routing's `NginxIngressController` objects create.
    declared: FxHashSet<&'m str>,
    /// Class names, and `NginxIngressController` names, of application routing controllers
    /// behind an internal load balancer.
    app_routing_internal: FxHashSet<&'m str>,
    /// The classes `NginxIngressController` objects create, with the object's name.
    app_routing_classes: FxHashMap<&'m str, &'m str>,
    /// `IngressClassParams` schemes by name.
    alb_schemes: FxHashMap<&'m str, &'m str>,
    /// Controller workloads the repository declares, per family: (namespace, pod labels).
    declared_pods: FxHashMap<Family, (Box<str>, Labels)>,
}

impl<'m> Resolver<'m> {
    pub fn new(model: &'m Model, profile: &'m Profile) -> Resolver<'m> {
        let classes = &model.ingress_classes;
        let mut by_name = FxHashMap::default();
        for class in classes {
            by_name.entry(&*class.meta.name).or_insert(class);
        }
        let mut declared: FxHashSet<&str> = by_name.keys().copied().collect();
        let mut app_routing_internal = FxHashSet::default();
        let mut app_routing_classes = FxHashMap::default();
        let mut alb_schemes = FxHashMap::default();
        for other in &model.others {
            match other.controller_settings.as_deref() {
                Some(ControllerSettings::AppRoutingNginx { class_name, internal }) => {
                    if let Some(class) = class_name {
                        declared.insert(class);
                        app_routing_classes.entry(&**class).or_insert(&*other.meta.name);
                    }
                    if *internal {
                        app_routing_internal.insert(&*other.meta.name);
                        app_routing_internal.extend(class_name.as_deref());
                    }
                }
                Some(ControllerSettings::AlbClassParams { scheme: Some(scheme) }) => {
                    alb_schemes.insert(&*other.meta.name, &**scheme);
                }
                _ => {}
            }
        }
        let mut declared_pods = FxHashMap::default();
        // The families some Ingress may be served by: only those are looked for among the
        // workloads (a scan of a million workloads is not free).
        let mut wanted: Vec<Family> = classes
            .iter()
            .filter_map(|c| c.controller.as_deref().and_then(Family::of_controller))
            .chain(model.ingresses.iter().filter_map(|i| class_of(i, classes).and_then(Family::of_class_name)))
            .filter(|f| !f.signature().is_empty() || f.keyword().is_some())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if !model.ingresses.is_empty() && !wanted.is_empty() {
            for w in &model.workloads {
                // A controller serves traffic: its pods declare a port (its chart's jobs and
                // webhooks carry its labels too).
                if !matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::DaemonSet | WorkloadKind::StatefulSet)
                    || w.ports.is_empty()
                {
                    continue;
                }
                for &family in &wanted {
                    if !declared_pods.contains_key(&family) && family.recognises(&w.pod_labels) {
                        declared_pods.insert(family, (w.meta.namespace.to_string().into(), w.pod_labels.clone()));
                    }
                }
            }
        }
        Resolver {
            profile,
            classes,
            by_name,
            declared,
            app_routing_internal,
            app_routing_classes,
            alb_schemes,
            declared_pods,
        }
    }

    /// The class an Ingress names, or the default class.
    pub fn class_of<'a>(&'a self, ingress: &'a Ingress) -> Option<&'a str> {
        class_of(ingress, self.classes)
    }

    /// Whether the repository declares some ingress class.
    pub fn declares_classes(&self) -> bool {
        !self.declared.is_empty()
    }

    /// Whether a class name is known: declared, configured, or a well-known controller's.
    pub fn knows_class(&self, class: &str) -> bool {
        self.declared.contains(class)
            || self.profile.controller(class).is_some()
            || Family::of_class_name(class).is_some()
            || Family::is_unplaced_class_name(class)
    }

    /// The in-cluster pods of a family: a declared controller workload, else the documented place.
    fn pods_of(&self, family: Family) -> Controller {
        if let Some((namespace, labels)) = self.declared_pods.get(&family) {
            return Controller::Pods { namespace: namespace.clone(), labels: labels.clone() };
        }
        match family.default_pods() {
            Some((namespace, labels)) => Controller::Pods { namespace: namespace.into(), labels },
            None => Controller::Unknown,
        }
    }

    /// The controller serving `ingress`: the profile's declaration for its class (or for the
    /// IngressClass's controller) first, then the well-known controllers. Controllers are public
    /// unless the profile or the class's settings say otherwise.
    pub fn serving(&self, ingress: &Ingress) -> Serving {
        let unknown = Serving { identity: Controller::Unknown, public: true, family: None, dead: false };
        let Some(class) = self.class_of(ingress) else {
            return unknown;
        };
        let declared = self.by_name.get(class).copied();
        let controller = declared.and_then(|c| c.controller.as_deref());
        if let Some(spec) =
            self.profile.controller(class).or_else(|| controller.and_then(|d| self.profile.controller(d)))
        {
            return Serving { identity: spec.identity.clone(), public: spec.public, family: None, dead: false };
        }
        // A class without `spec.controller` (which the API requires) says nothing: its name does.
        // The class an application routing `NginxIngressController` creates, when the repository
        // does not declare the IngressClass itself (the operator does).
        let app_routing = (declared.is_none()).then(|| self.app_routing_classes.get(class).copied()).flatten();
        let family = match (controller, app_routing) {
            (Some(value), _) => Family::of_controller(value),
            (None, Some(_)) => Some(Family::AppRouting),
            (None, None) => Family::of_class_name(class),
        };
        let Some(family) = family else {
            let dead = declared.is_none() && self.declares_classes() && !self.knows_class(class);
            return Serving { public: !dead, dead, ..unknown };
        };
        let (identity, public) = match family {
            Family::ApplicationGateway => {
                // The private frontend only: Application Gateway's `use-private-ip`.
                let private = ingress
                    .meta
                    .annotations
                    .get(annotations::APPGW_PRIVATE_IP)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true"));
                (Controller::External(self.profile.gateway_ranges.clone()), !private)
            }
            Family::Gke if class == "gce-internal" => (Controller::External(Vec::new()), false),
            Family::Gke => {
                let ranges = GOOGLE_PROXY_RANGES.iter().filter_map(|r| parse_cidr(r).ok()).collect();
                (Controller::External(ranges), true)
            }
            Family::AwsAlb => {
                // The class's IngressClassParams scheme binds every Ingress of the class; else
                // the Ingress's annotation; else the controller's default, internal.
                let params_scheme = declared
                    .and_then(|c| c.parameters.as_ref())
                    .filter(|(kind, _)| &**kind == "IngressClassParams")
                    .and_then(|(_, name)| self.alb_schemes.get(&**name).copied());
                let scheme =
                    params_scheme.or_else(|| ingress.meta.annotations.get(annotations::ALB_SCHEME).map(|v| &**v));
                (Controller::External(Vec::new()), scheme == Some("internet-facing"))
            }
            Family::AppRouting => {
                let custom =
                    controller.and_then(|c| c.strip_prefix("approuting.kubernetes.azure.com/")).or(app_routing);
                let internal = self.app_routing_internal.contains(class)
                    || custom.is_some_and(|name| self.app_routing_internal.contains(name));
                let identity = if custom.is_some() { app_routing_custom_pods() } else { self.pods_of(family) };
                (identity, !internal)
            }
            _ => (self.pods_of(family), true),
        };
        Serving { identity, public, family: Some(family), dead: false }
    }
}

/// Who serves OpenShift Routes: the router of the default IngressController.
pub fn openshift_router() -> Controller {
    match Family::OpenShiftRouter.default_pods() {
        Some((namespace, labels)) => Controller::Pods { namespace: namespace.into(), labels },
        None => Controller::Unknown,
    }
}

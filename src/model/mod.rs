//! Stage 3, model: typed Kubernetes objects built from parsed documents.
//!
//! Pure: spanned YAML nodes in, typed objects out. Every field a finding may point at keeps its
//! span. Field types are checked the way the API server (behind kubectl's YAML-to-JSON step) checks
//! them, so a malformed field is recorded as a typed problem (`problem`) at that field (which the
//! `invalid-manifest` rule reports), and the object is still modelled with what could be read.
//! Nothing downstream re-reads raw YAML. The model words no finding.

pub mod annotations;
pub mod build;
pub(crate) mod extract;
pub mod gateway;
pub mod net;
pub(crate) mod problem;
mod read;
mod read_gateway;
mod read_tier;
pub mod selector;
pub mod tier;

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use crate::span::Span;
use crate::span::{FileId, Location};
pub(crate) use extract::extract_document;
use net::{HostBits, IpRange, PortRef, Protocol};
pub use selector::Interner;
use selector::{Labels, Selector};

/// The label every namespace carries, set by the API server.
pub(crate) const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// What every object has: identity and where it was declared.
#[derive(Clone, Debug)]
pub struct Meta {
    pub api_version: selector::Str,
    pub kind: selector::Str,
    pub name: Box<str>,
    pub namespace: selector::Str,
    /// Whether `metadata.namespace` was written (else the default namespace was used).
    pub namespace_explicit: bool,
    pub labels: Labels,
    pub annotations: BTreeMap<selector::Str, selector::Str>,
    pub file: FileId,
    /// The whole document.
    pub span: Span,
    /// `metadata.name`'s value (the document start when absent).
    pub name_span: Span,
    /// `metadata.namespace`'s value, when written.
    pub namespace_span: Option<Span>,
    pub kind_span: Span,
    pub api_version_span: Span,
    /// The `kubereach.io/ignore` annotation's value and where it is written.
    pub ignore_annotation: Option<(Box<str>, Span)>,
}

impl Meta {
    /// `Kind/namespace/name` (`Kind/name` for cluster-scoped kinds): the object part of a
    /// finding's logical key.
    pub(crate) fn key(&self) -> String {
        if self.namespace.is_empty()
            || matches!(
                &*self.kind,
                "Namespace"
                    | "IngressClass"
                    | "GatewayClass"
                    | "AdminNetworkPolicy"
                    | "BaselineAdminNetworkPolicy"
                    | "ClusterNetworkPolicy"
            )
        {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    pub(crate) fn location(&self) -> Location {
        Location { file: self.file, span: self.name_span }
    }

    pub(crate) fn at(&self, span: Span) -> Location {
        Location { file: self.file, span }
    }
}

#[derive(Clone, Debug)]
pub struct Namespace {
    pub meta: Meta,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Pod,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ReplicationController,
    DeploymentConfig,
}

impl WorkloadKind {
    pub(crate) fn parse(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Pod" => WorkloadKind::Pod,
            "Deployment" => WorkloadKind::Deployment,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            "ReplicationController" => WorkloadKind::ReplicationController,
            "DeploymentConfig" => WorkloadKind::DeploymentConfig,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerPort {
    pub name: Option<Box<str>>,
    pub port: u16,
    pub protocol: Protocol,
    pub span: Span,
}

/// The owner a Pod is shown under.
#[derive(Clone, Debug)]
pub struct Owner {
    pub kind: Box<str>,
    pub name: Box<str>,
}

/// A Pod, or a controller's pod template.
#[derive(Clone, Debug)]
pub struct Workload {
    pub meta: Meta,
    pub kind: WorkloadKind,
    /// Labels of the pods (a Pod's own labels, or the template's).
    pub pod_labels: Labels,
    /// Where the pod labels are written (the template's `metadata.labels`, or the Pod's).
    pub pod_labels_span: Option<Span>,
    pub ports: Vec<ContainerPort>,
    pub host_network: Option<Span>,
    /// Set when the pods are pinned to Windows nodes (nodeSelector or required affinity).
    pub windows: Option<Span>,
    /// Set when the pods can only run on Linux nodes.
    pub linux_only: bool,
    pub replicas: Option<i64>,
    /// For Pods: the controlling owner (ownerReferences), under which the Pod is shown.
    pub owner: Option<Owner>,
    /// What the containers say that may name a peer (`kubereach suggest` reads it); `None` when
    /// they say nothing, so that a workload without env or arguments costs one pointer.
    pub references: Option<Box<References>>,
}

/// Text of a workload's containers that may name a Service (`redis.data:6379`,
/// `$(REDIS_SERVICE_HOST)`), and the ConfigMaps its pods read. Kept as written: which Services
/// it names is decided against the model, by `suggest`.
#[derive(Clone, Debug, Default)]
pub struct References {
    pub texts: Vec<Reference>,
    /// ConfigMaps the pods mount (`volumes`) or read as environment (`envFrom`,
    /// `valueFrom.configMapKeyRef`), by name, with where each is named.
    pub config_maps: Vec<(Box<str>, Span)>,
}

/// One value of `env`, `args` or `command`.
#[derive(Clone, Debug)]
pub struct Reference {
    /// Where it is, for a reader: `env DATABASE_URL`, `args`, `command` (with the container).
    pub field: Box<str>,
    pub text: Box<str>,
    pub span: Span,
}

impl Workload {
    /// The peer name: `namespace/name[Kind]`, with a Pod shown under its owner.
    pub(crate) fn peer_name(&self) -> String {
        match &self.owner {
            Some(o) => format!("{}/{}[{}]", self.meta.namespace, o.name, o.kind),
            None => format!("{}/{}[{}]", self.meta.namespace, self.meta.name, self.meta.kind),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<Box<str>>,
    pub port: u16,
    pub target: PortRef,
    pub protocol: Protocol,
    pub node_port: Option<u16>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceType {
    ClusterIp,
    NodePort,
    LoadBalancer,
    ExternalName,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub meta: Meta,
    pub service_type: ServiceType,
    pub type_span: Option<Span>,
    /// `None` when the selector is absent or empty: endpoints are managed elsewhere.
    pub selector: Option<(Labels, Span)>,
    pub ports: Vec<ServicePort>,
    pub load_balancer_source_ranges: Vec<(IpRange, Span)>,
    /// Entries of `loadBalancerSourceRanges` that are placeholders filled at deploy time.
    pub source_range_placeholders: Vec<(Box<str>, Span)>,
    /// The entries of `loadBalancerSourceRanges` written with host bits.
    pub source_range_host_bits: Vec<(HostBits, Span)>,
    pub external_traffic_policy_local: bool,
    pub external_ips: Vec<(Box<str>, Span)>,
    pub allocate_load_balancer_node_ports: bool,
}

/// How a cloud reads the value of its internal-load-balancer annotation. Each follows the cloud's
/// own controller, which is stricter or looser than a case-blind comparison: a value the
/// controller does not take as "internal" gets a public load balancer.
#[derive(Clone, Copy)]
enum InternalValue {
    /// Exactly these strings.
    OneOf(&'static [&'static str]),
    /// Any value but the empty string and `false` (the legacy AWS flag, which older releases
    /// documented with a CIDR such as `0.0.0.0/0`).
    AnyButFalse,
}

impl InternalValue {
    fn says_internal(self, value: &str) -> bool {
        match self {
            InternalValue::OneOf(values) => values.contains(&value),
            InternalValue::AnyButFalse => !value.is_empty() && value != "false",
        }
    }
}

/// Annotations that make a cloud provision an internal load balancer: Azure (exactly `true`),
/// GKE current and legacy (`Internal`, or the older lowercase `internal`), AWS (the legacy flag and
/// the load balancer controller's scheme), OCI (a boolean as Go parses one).
const INTERNAL_LOAD_BALANCER: [(&str, InternalValue); 6] = [
    (annotations::AZURE_INTERNAL_LB, InternalValue::OneOf(&["true"])),
    (annotations::GKE_LB_TYPE, InternalValue::OneOf(&["Internal", "internal"])),
    (annotations::GKE_LEGACY_LB_TYPE, InternalValue::OneOf(&["Internal", "internal"])),
    (annotations::AWS_INTERNAL_LB, InternalValue::AnyButFalse),
    (annotations::AWS_LB_SCHEME, InternalValue::OneOf(&["internal"])),
    (annotations::OCI_INTERNAL_LB, InternalValue::OneOf(&["true", "True", "TRUE", "t", "T", "1"])),
];

const SOURCE_RANGES_ANNOTATION: &str = annotations::LB_SOURCE_RANGES;

/// Whether an annotation of `annotations` makes the cloud provision a load balancer on a private
/// address (a Service's, or those a Gateway implementation copies onto the Service it creates).
pub(crate) fn says_internal_load_balancer(annotations: &BTreeMap<selector::Str, selector::Str>) -> bool {
    INTERNAL_LOAD_BALANCER.iter().any(|(key, reading)| annotations.get(*key).is_some_and(|v| reading.says_internal(v)))
}

impl Service {
    /// Whether an annotation makes the cloud provision a load balancer on a private address.
    pub(crate) fn is_internal_load_balancer(&self) -> bool {
        says_internal_load_balancer(&self.meta.annotations)
    }

    /// An internal-load-balancer annotation written with a value its cloud does not read as
    /// internal (Azure takes only `true`, so `"True"` gets a public load balancer): the key, the
    /// value, and the values the cloud takes, in words (`` `true` ``).
    pub(crate) fn unread_internal_annotation(&self) -> Option<(&str, &str, String)> {
        if self.is_internal_load_balancer() {
            return None;
        }
        INTERNAL_LOAD_BALANCER.iter().find_map(|(key, reading)| {
            let value = self.meta.annotations.get(*key)?;
            let taken = match reading {
                InternalValue::OneOf(values) => {
                    values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" or ")
                }
                InternalValue::AnyButFalse => "any value but `false` or an empty one".to_string(),
            };
            Some((*key, &**value, taken))
        })
    }

    /// The client ranges the load balancer admits: `loadBalancerSourceRanges`, or the
    /// source-ranges annotation; empty when it admits every address.
    pub(crate) fn client_ranges(&self) -> Vec<IpRange> {
        let from_spec = self.load_balancer_source_ranges.iter().map(|(range, _)| *range);
        let from_annotation = self
            .meta
            .annotations
            .get(SOURCE_RANGES_ANNOTATION)
            .map(|v| v.split(',').filter_map(|r| net::parse_cidr(r.trim()).ok()).collect::<Vec<_>>())
            .unwrap_or_default();
        let ranges: Vec<IpRange> = from_spec.chain(from_annotation).collect();
        if ranges.iter().any(IpRange::is_whole) {
            return Vec::new();
        }
        ranges
    }

    /// The entries of the source-ranges annotation written with host bits, as written.
    pub(crate) fn annotated_source_range_host_bits(&self) -> Vec<HostBits> {
        self.meta
            .annotations
            .get(SOURCE_RANGES_ANNOTATION)
            .map(|v| v.split(',').filter_map(net::host_bits).collect())
            .unwrap_or_default()
    }

    /// Whether the load balancer admits only some client addresses.
    pub(crate) fn restricts_sources(&self) -> bool {
        !self.client_ranges().is_empty()
    }

    /// The first client range that is a placeholder filled at deploy time (in
    /// `loadBalancerSourceRanges`, else in the source-ranges annotation), as written: the ranges
    /// the load balancer admits cannot be judged.
    pub(crate) fn source_ranges_placeholder(&self) -> Option<&str> {
        if let Some((text, _)) = self.source_range_placeholders.first() {
            return Some(text);
        }
        let annotation = self.meta.annotations.get(SOURCE_RANGES_ANNOTATION)?;
        annotation.split(',').map(str::trim).find(|r| is_placeholder_value(r)).map(|_| &**annotation)
    }
}

/// How an Ingress backend names the Service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServicePortRef {
    Number(u16),
    Name(Box<str>),
}

#[derive(Clone, Debug)]
pub struct Backend {
    pub service: Box<str>,
    pub port: Option<ServicePortRef>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct IngressPath {
    pub host: Option<Box<str>>,
    pub host_span: Option<Span>,
    pub path: Option<Box<str>>,
    pub backend: Backend,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngressApi {
    V1,
    /// `extensions/v1beta1` or `networking.k8s.io/v1beta1`, removed in Kubernetes 1.22.
    Legacy,
}

#[derive(Clone, Debug)]
pub struct Ingress {
    pub meta: Meta,
    pub api: IngressApi,
    pub class_name: Option<(Box<str>, Span)>,
    /// The `kubernetes.io/ingress.class` annotation.
    pub class_annotation: Option<Box<str>>,
    pub default_backend: Option<Backend>,
    pub paths: Vec<IngressPath>,
    /// The host of every rule that names one, with or without paths (a mergeable master's rules
    /// have none), as written.
    pub rule_hosts: Vec<(Box<str>, Span)>,
    /// Hosts covered by a `tls` entry; an entry without hosts covers every host.
    pub tls_hosts: Vec<Box<str>>,
    pub tls_all_hosts: bool,
    pub tls_span: Option<Span>,
}

/// Annotations by which a cloud load balancer terminates TLS for every host of an Ingress,
/// without a `tls` section (GKE managed or pre-shared certificates, AWS ALB, Azure Application
/// Gateway).
const CLOUD_TLS_ANNOTATIONS: [&str; 4] = [
    annotations::GKE_MANAGED_CERTIFICATES,
    annotations::GKE_PRE_SHARED_CERT,
    annotations::ALB_CERTIFICATE_ARN,
    annotations::APPGW_SSL_CERTIFICATE,
];

/// Whether a TLS host entry covers `host` (exactly, or as a `*.` wildcard of one label).
fn tls_pattern_covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.split_once('.').is_some_and(|(_, rest)| rest == suffix),
        None => pattern == host,
    }
}

/// The part an Ingress plays in NGINX Inc.'s mergeable Ingresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mergeable {
    /// Holds a host and its TLS; its minions' paths are served in its server block.
    Master,
    /// Holds paths of its master's host; its own `tls` is ignored.
    Minion,
}

impl Ingress {
    /// Its part in NGINX Inc.'s mergeable Ingresses, when it has one.
    pub(crate) fn mergeable(&self) -> Option<Mergeable> {
        match self.meta.annotations.get(annotations::NGINX_INC_MERGEABLE).map(|v| &**v) {
            Some("master") => Some(Mergeable::Master),
            Some("minion") => Some(Mergeable::Minion),
            _ => None,
        }
    }

    /// Whether a rule of this Ingress names `host`.
    pub(crate) fn names_host(&self, host: &str) -> bool {
        self.rule_hosts.iter().any(|(h, _)| &**h == host)
    }

    /// Whether requests for `host` (any host: `None`) are served over TLS by this Ingress's own
    /// `tls` section or a cloud certificate annotation (see [`Model::serves_tls`] for minions).
    pub(crate) fn tls_covers(&self, host: Option<&str>) -> bool {
        if self.tls_all_hosts || CLOUD_TLS_ANNOTATIONS.iter().any(|a| self.meta.annotations.contains_key(*a)) {
            return true;
        }
        host.is_some_and(|h| self.tls_hosts.iter().any(|p| tls_pattern_covers(p, h)))
    }
}

#[derive(Clone, Debug)]
pub struct IngressClass {
    pub meta: Meta,
    pub controller: Option<Box<str>>,
    /// Where `spec.controller` is written.
    pub controller_span: Option<Span>,
    pub is_default: bool,
    /// `spec.parameters`: the kind and name of the object that configures the class (the AWS
    /// load balancer controller's `IngressClassParams`).
    pub parameters: Option<(Box<str>, Box<str>)>,
}

/// What a controller's own custom resource says about the classes it serves: the one fact
/// kubereach reads from it is whether the class is served on a private address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControllerSettings {
    /// AKS application routing's `NginxIngressController`: the class it creates, and whether its
    /// `spec.loadBalancerAnnotations` make the load balancer internal.
    AppRoutingNginx { class_name: Option<Box<str>>, internal: bool },
    /// The AWS load balancer controller's `IngressClassParams`: its `spec.scheme`, when set.
    AlbClassParams { scheme: Option<Box<str>> },
}

/// An OpenShift Route.
#[derive(Clone, Debug)]
pub struct Route {
    pub meta: Meta,
    /// `spec.to` and `spec.alternateBackends` Services.
    pub services: Vec<(Box<str>, Span)>,
    pub target_port: Option<PortRef>,
    /// Served over TLS only (a `tls` section that does not also allow plain HTTP).
    pub tls: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
}

/// One entry of a rule's `ports`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PolicyPort {
    pub protocol: Protocol,
    /// `None`: every port of the protocol.
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
    pub span: Span,
}

/// One `from`/`to` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerSelector {
    Pods {
        namespaces: Option<Selector>,
        pods: Option<Selector>,
        span: Span,
    },
    /// `host_bits`: the `cidr` (first) and `except` entries written with bits set after their
    /// prefix, which `cidr` and `except` hold masked, as the API server reads them.
    IpBlock {
        cidr: IpRange,
        except: Vec<IpRange>,
        span: Span,
        host_bits: Vec<HostBitsAt>,
    },
}

/// A CIDR of a manifest written with host bits (`52.207.37.75/0`), and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostBitsAt {
    pub cidr: HostBits,
    /// The CIDR's value.
    pub span: Span,
    /// Whether it is an `except` entry of an ipBlock (else its `cidr`).
    pub in_except: bool,
}

impl PeerSelector {
    /// The ipBlock's own `cidr` when it is written with host bits.
    pub(crate) fn cidr_host_bits(&self) -> Option<&HostBits> {
        match self {
            PeerSelector::IpBlock { host_bits, .. } => host_bits.iter().find(|h| !h.in_except).map(|h| &h.cidr),
            PeerSelector::Pods { .. } => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct PolicyRule {
    /// `None`: no `from`/`to` (absent or empty), every peer.
    pub peers: Option<Vec<PeerSelector>>,
    /// `None`: no `ports` (absent or empty), every port and protocol.
    pub ports: Option<Vec<PolicyPort>>,
    pub span: Span,
}

impl PolicyRule {
    /// The ports the rule covers, in words for a message: `on every port`, or its entries as
    /// written, e.g. `on TCP 8080, TCP 9000-9100, UDP every port, TCP \`metrics\``.
    pub(crate) fn ports_text(&self) -> String {
        let Some(ports) = &self.ports else { return "on every port".to_string() };
        let entries: Vec<String> = ports
            .iter()
            .map(|p| match (&p.port, p.end_port) {
                (None, _) => format!("{} every port", p.protocol),
                (Some(PortRef::Number(n)), Some(end)) if end > *n => format!("{} {n}-{end}", p.protocol),
                (Some(PortRef::Number(n)), _) => format!("{} {n}", p.protocol),
                (Some(PortRef::Name(name)), _) => format!("{} `{name}`", p.protocol),
            })
            .collect();
        format!("on {}", entries.join(", "))
    }
}

#[derive(Clone, Debug)]
pub struct NetworkPolicy {
    pub meta: Meta,
    pub pod_selector: Selector,
    /// The directions the policy isolates, after the API server's defaulting.
    pub policy_types: Vec<Direction>,
    pub policy_types_span: Option<Span>,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    pub ingress_span: Option<Span>,
    pub egress_span: Option<Span>,
}

impl NetworkPolicy {
    pub(crate) fn affects(&self, direction: Direction) -> bool {
        self.policy_types.contains(&direction)
    }

    pub(crate) fn rules(&self, direction: Direction) -> &[PolicyRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// An object of a kind kubereach does not model, kept as "something the repository declares".
#[derive(Clone, Debug)]
pub struct OtherObject {
    pub meta: Meta,
    /// For the custom resources of ingress controllers: what they say about their classes.
    pub controller_settings: Option<Box<ControllerSettings>>,
    /// For a ConfigMap: its `data` entries (key, value, where the value is), which may name
    /// Services a workload reaches (`kubereach suggest` reads them).
    pub config_data: Option<Box<ConfigData>>,
}

/// A ConfigMap's `data`: (key, value, where the value is).
pub type ConfigData = Vec<(Box<str>, Box<str>, Span)>;

/// One typed object.
#[derive(Clone, Debug)]
pub enum Object {
    Namespace(Namespace),
    Workload(Workload),
    Service(Service),
    Ingress(Ingress),
    IngressClass(IngressClass),
    Route(Route),
    NetworkPolicy(NetworkPolicy),
    Other(OtherObject),
    /// A Gateway API object.
    Gateway(gateway::GatewayObject),
    /// An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy.
    TierPolicy(tier::TierPolicy),
}

impl Object {
    pub(crate) fn meta(&self) -> &Meta {
        match self {
            Object::Namespace(o) => &o.meta,
            Object::Workload(o) => &o.meta,
            Object::Service(o) => &o.meta,
            Object::Ingress(o) => &o.meta,
            Object::IngressClass(o) => &o.meta,
            Object::Route(o) => &o.meta,
            Object::NetworkPolicy(o) => &o.meta,
            Object::Other(o) => &o.meta,
            Object::Gateway(o) => o.meta(),
            Object::TierPolicy(o) => &o.meta,
        }
    }

    fn variant_index(&self) -> usize {
        match self {
            Object::Namespace(_) => 0,
            Object::Workload(_) => 1,
            Object::Service(_) => 2,
            Object::Ingress(_) => 3,
            Object::IngressClass(_) => 4,
            Object::Route(_) => 5,
            Object::NetworkPolicy(_) => 6,
            Object::Other(_) => 7,
            Object::Gateway(_) => 8,
            Object::TierPolicy(_) => 9,
        }
    }

    /// Whether the kind lives in a namespace.
    fn namespaced(&self) -> bool {
        !matches!(
            self,
            Object::Namespace(_)
                | Object::IngressClass(_)
                | Object::Gateway(gateway::GatewayObject::Class(_))
                | Object::TierPolicy(_)
        ) && !matches!(self, Object::Other(o) if is_cluster_scoped(&o.meta.kind))
    }
}

/// Kinds without a namespace, so that their duplicates are recognised across namespaces.
fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "PersistentVolume"
            | "StorageClass"
            | "PriorityClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "APIService"
            | "Node"
            | "AdminNetworkPolicy"
            | "BaselineAdminNetworkPolicy"
            | "ClusterNetworkPolicy"
            | "GatewayClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
    )
}

/// Everything one analysis knows, in path order.
#[derive(Debug, Default)]
pub struct Model {
    pub namespaces: Vec<Namespace>,
    pub workloads: Vec<Workload>,
    pub services: Vec<Service>,
    pub ingresses: Vec<Ingress>,
    pub ingress_classes: Vec<IngressClass>,
    pub routes: Vec<Route>,
    pub policies: Vec<NetworkPolicy>,
    pub others: Vec<OtherObject>,
    /// Gateway API objects.
    pub gateway: gateway::GatewayApi,
    /// Cluster-wide policy tiers: AdminNetworkPolicy, BaselineAdminNetworkPolicy and
    /// ClusterNetworkPolicy, in path order.
    pub tier_policies: Vec<tier::TierPolicy>,
    /// Namespaces that hold kinds kubereach does not model (which may create pods).
    pub namespaces_with_custom_resources: BTreeSet<selector::Str>,
    /// Network policies of kinds kubereach does not evaluate (CiliumNetworkPolicy, Calico's, …), per namespace; cluster-wide ones under the empty name.
    pub other_policies: BTreeMap<selector::Str, BTreeSet<selector::Str>>,
    /// The declarations of repeated objects that are not the analysed one, in path order: the
    /// graph never sees them, the checks of what a declaration says run on them too.
    pub copies: Vec<Object>,
}

/// Kinds that filter traffic but that kubereach does not evaluate (yet), and whether they are
/// cluster-wide.
fn other_policy_kind(kind: &str, api_version: &str) -> Option<bool> {
    match kind {
        "CiliumNetworkPolicy" => Some(false),
        "CiliumClusterwideNetworkPolicy" | "GlobalNetworkPolicy" => Some(true),
        // The network-policy-api group's kinds are evaluated (the cluster tiers); Antrea's
        // ClusterNetworkPolicy (`crd.antrea.io`) and other groups' kinds of these names are not.
        "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy" | "ClusterNetworkPolicy"
            if !api_version.starts_with(tier::GROUP) =>
        {
            Some(true)
        }
        "NetworkPolicy"
            if api_version.starts_with("crd.projectcalico.org") || api_version.starts_with("projectcalico.org") =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// System namespaces that clusters create themselves, whose workloads manifests seldom manage
/// with policies: not held against a repository that deploys an agent there.
pub(crate) fn is_system_namespace(name: &str) -> bool {
    matches!(name, "kube-system" | "kube-public" | "kube-node-lease")
}

/// A namespace name that is an unrendered template placeholder (`${NAMESPACE}`, `{{ .Release.Namespace }}`).
pub(crate) fn is_placeholder_name(name: &str) -> bool {
    crate::load::classify::is_placeholder(name)
}

/// How much a file looks like the declaration a reader would call canonical, for choosing which
/// copy of a repeated object is analysed: the smaller, the more canonical. Ties go to path order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct FileRank {
    /// Under a folder that sets files aside (tests, examples, backups, deprecated copies).
    aside: bool,
    /// How many folders deep the file lies.
    depth: usize,
}

/// Words of a folder name that set its files aside from what is deployed.
const ASIDE_WORDS: [&str; 22] = [
    "test",
    "tests",
    "testdata",
    "testing",
    "e2e",
    "fixture",
    "fixtures",
    "example",
    "examples",
    "sample",
    "samples",
    "demo",
    "demos",
    "backup",
    "backups",
    "bak",
    "old",
    "deprecated",
    "archive",
    "archived",
    "legacy",
    "tmp",
];

impl FileRank {
    /// The rank of a file from its path as reported (relative to the working directory when
    /// it lies under it).
    pub(crate) fn of_path(path: &str) -> FileRank {
        let folders: Vec<&str> = path.split(['/', '\\']).filter(|c| !c.is_empty() && *c != ".").collect();
        let folders = &folders[..folders.len().saturating_sub(1)];
        // A folder is set aside when one of its words is (`old-manifests`, `e2e_tests`).
        let aside = folders.iter().any(|folder| {
            folder
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| ASIDE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word)))
        });
        FileRank { aside, depth: folders.len() }
    }
}

/// Whether a value is a placeholder filled at deploy time rather than a value: a template
/// placeholder (`${VAR}`, `{{ … }}`), an envsubst variable (`$VAR`), or a fill-in of the
/// documentation's kind (`<your-cidr>`, `got.<DOMAIN>`). For the values whose meaning kubereach
/// judges (source ranges, CIDRs, hosts), never for free text.
pub(crate) fn is_placeholder_value(text: &str) -> bool {
    let envsubst = text
        .match_indices('$')
        .any(|(i, _)| text[i + 1..].chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '{'));
    let fill_in = text.find('<').is_some_and(|open| text[open + 1..].find('>').is_some_and(|close| close > 0));
    // A token that a script substitutes (`HELMSUBST_REPLICAS`, `__PORT__`): capitals, digits and
    // underscores, with at least one underscore, which no number, boolean, port or CIDR is.
    let token = text.contains('_')
        && text.chars().any(|c| c.is_ascii_uppercase())
        && text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    crate::load::classify::is_placeholder(text) || envsubst || fill_in || token
}

impl Model {
    /// Builds the model from objects in path order, with each file's rank: a repeated object
    /// (same kind, namespace and name) is analysed once, in its most canonical declaration (the
    /// smallest [`FileRank`], then the first in path order); the other declarations are kept as
    /// [`Model::copies`], and returned file by file, in path order, as repeats.
    pub(crate) fn from_objects(per_file: Vec<Vec<Object>>, ranks: &[FileRank]) -> (Model, Vec<problem::Repeat>) {
        let mut model = Model::default();
        // Exact capacities: growing by doubling would briefly hold up to twice the model.
        let mut counts = [0usize; 10];
        for o in per_file.iter().flatten() {
            counts[o.variant_index()] += 1;
        }
        model.namespaces.reserve_exact(counts[0]);
        model.workloads.reserve_exact(counts[1]);
        model.services.reserve_exact(counts[2]);
        model.ingresses.reserve_exact(counts[3]);
        model.ingress_classes.reserve_exact(counts[4]);
        model.routes.reserve_exact(counts[5]);
        model.policies.reserve_exact(counts[6]);
        model.others.reserve_exact(counts[7]);
        model.tier_policies.reserve_exact(counts[9]);
        fn key_of(object: &Object) -> (&str, &str, &str) {
            let meta = object.meta();
            let namespace: &str = if object.namespaced() { &meta.namespace } else { "" };
            (&meta.kind, namespace, &meta.name)
        }
        // Where each file's objects start in path order, to find an object by its position.
        let starts: Vec<usize> = per_file
            .iter()
            .scan(0usize, |next, objects| {
                let start = *next;
                *next += objects.len();
                Some(start)
            })
            .collect();
        let at = |position: usize| -> Option<(FileRank, &Object)> {
            let file = starts.partition_point(|&start| start <= position).checked_sub(1)?;
            let object = per_file.get(file)?.get(position - starts[file])?;
            Some((ranks.get(file).copied().unwrap_or_default(), object))
        };
        // For each (kind, namespace, name): the position in path order of its first declaration.
        // Keys are borrowed, and only repeated objects get more (the position of the declaration
        // analysed): at the peak of memory, a million objects cost no copy of their names and a
        // small entry each.
        let total: usize = counts.iter().sum();
        let mut first: FxHashMap<(&str, &str, &str), u32> =
            FxHashMap::with_capacity_and_hasher(total, Default::default());
        let mut analysed: FxHashMap<u32, u32> = FxHashMap::default();
        let mut position = 0u32;
        for (fi, objects) in per_file.iter().enumerate() {
            let rank = ranks.get(fi).copied().unwrap_or_default();
            for object in objects {
                match first.entry(key_of(object)) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(position);
                    }
                    std::collections::hash_map::Entry::Occupied(o) => {
                        let best = analysed.entry(*o.get()).or_insert(*o.get());
                        let best_rank = at(*best as usize).map(|(r, _)| r).unwrap_or_default();
                        // The smallest rank, then the first in path order.
                        if rank < best_rank {
                            *best = position;
                        }
                    }
                }
                position = position.saturating_add(1);
            }
        }
        // Per repeated object in path order: where the analysed declaration is, when this one
        // repeats it.
        let repeat_of: FxHashMap<usize, Location> = if analysed.is_empty() {
            FxHashMap::default()
        } else {
            per_file
                .iter()
                .flatten()
                .enumerate()
                .filter_map(|(position, object)| {
                    let first = first.get(&key_of(object))?;
                    let best = analysed.get(first)?;
                    let kept = at(*best as usize)?.1.meta().location();
                    (kept != object.meta().location()).then_some((position, kept))
                })
                .collect()
        };
        drop(first);
        drop(analysed);
        // Repeats per file: `duplicate-object` notes a file once rather than each object (install
        // variants repeat whole files).
        let mut repeats: BTreeMap<FileId, Vec<problem::Repeated>> = BTreeMap::new();
        for (position, object) in per_file.into_iter().flatten().enumerate() {
            let meta = object.meta();
            if let Some(kept) = repeat_of.get(&position) {
                repeats.entry(meta.file).or_default().push(problem::Repeated {
                    kind: meta.kind.to_string(),
                    name: meta.name.to_string(),
                    key: meta.key(),
                    repeat: meta.location(),
                    kept: *kept,
                });
                model.copies.push(object);
                continue;
            }
            match object {
                Object::Namespace(o) => model.namespaces.push(o),
                Object::Workload(o) => model.workloads.push(o),
                Object::Service(o) => model.services.push(o),
                Object::Ingress(o) => model.ingresses.push(o),
                Object::IngressClass(o) => model.ingress_classes.push(o),
                Object::Route(o) => model.routes.push(o),
                Object::NetworkPolicy(o) => model.policies.push(o),
                Object::Other(o) => {
                    if let Some(cluster_wide) = other_policy_kind(&o.meta.kind, &o.meta.api_version) {
                        let scope: selector::Str = if cluster_wide { "".into() } else { o.meta.namespace.clone() };
                        model.other_policies.entry(scope).or_default().insert(o.meta.kind.clone());
                    }
                    if !o.meta.namespace.is_empty() && is_custom_resource(&o.meta.api_version) {
                        model.namespaces_with_custom_resources.insert(o.meta.namespace.clone());
                    }
                    model.others.push(o)
                }
                Object::Gateway(o) => {
                    // The experimental group is a custom resource, as it was before it was modelled.
                    if !o.meta().namespace.is_empty() && is_custom_resource(&o.meta().api_version) {
                        model.namespaces_with_custom_resources.insert(o.meta().namespace.clone());
                    }
                    model.gateway.push(o)
                }
                Object::TierPolicy(o) => model.tier_policies.push(o),
            }
        }
        let repeats = repeats.into_iter().map(|(file, objects)| problem::Repeat { file, objects }).collect();
        (model, repeats)
    }

    /// The identity under which repeats are recognised: kind, namespace (none for cluster-scoped
    /// kinds) and name.
    pub(crate) fn object_key(object: &Object) -> (String, String, String) {
        let meta = object.meta();
        let namespace = if object.namespaced() { meta.namespace.to_string() } else { String::new() };
        (meta.kind.to_string(), namespace, meta.name.to_string())
    }

    /// Replaces the objects of one file by `objects`, as [`Model::from_objects`] would place them:
    /// each kind's list stays in path order, given by `rank` (a file's position in path order).
    /// Valid only when neither the old nor the new objects repeat an object of another file (the
    /// caller checks; repeats need the whole model rebuilt).
    pub(crate) fn replace_file(&mut self, file: FileId, objects: Vec<Object>, rank: impl Fn(FileId) -> usize) {
        fn patch<T>(
            list: &mut Vec<T>,
            file: FileId,
            new: Vec<T>,
            meta: impl Fn(&T) -> &Meta,
            rank: &dyn Fn(FileId) -> usize,
        ) {
            list.retain(|o| meta(o).file != file);
            let at = rank(file);
            let position = list.partition_point(|o| rank(meta(o).file) < at);
            list.splice(position..position, new);
        }
        let mut by_kind: (Vec<Namespace>, Vec<Workload>, Vec<Service>, Vec<Ingress>) = Default::default();
        let mut rest: (Vec<IngressClass>, Vec<Route>, Vec<NetworkPolicy>, Vec<OtherObject>) = Default::default();
        let mut gateway_objects = Vec::new();
        let mut tier_objects = Vec::new();
        for object in objects {
            match object {
                Object::Namespace(o) => by_kind.0.push(o),
                Object::Workload(o) => by_kind.1.push(o),
                Object::Service(o) => by_kind.2.push(o),
                Object::Ingress(o) => by_kind.3.push(o),
                Object::IngressClass(o) => rest.0.push(o),
                Object::Route(o) => rest.1.push(o),
                Object::NetworkPolicy(o) => rest.2.push(o),
                Object::Other(o) => rest.3.push(o),
                Object::Gateway(o) => gateway_objects.push(o),
                Object::TierPolicy(o) => tier_objects.push(o),
            }
        }
        let rank: &dyn Fn(FileId) -> usize = &rank;
        patch(&mut self.namespaces, file, by_kind.0, |o| &o.meta, rank);
        patch(&mut self.workloads, file, by_kind.1, |o| &o.meta, rank);
        patch(&mut self.services, file, by_kind.2, |o| &o.meta, rank);
        patch(&mut self.ingresses, file, by_kind.3, |o| &o.meta, rank);
        patch(&mut self.ingress_classes, file, rest.0, |o| &o.meta, rank);
        patch(&mut self.routes, file, rest.1, |o| &o.meta, rank);
        patch(&mut self.policies, file, rest.2, |o| &o.meta, rank);
        patch(&mut self.others, file, rest.3, |o| &o.meta, rank);
        patch(&mut self.tier_policies, file, tier_objects, |o| &o.meta, rank);
        if !gateway_objects.is_empty() || self.gateway.metas().any(|m| m.file == file) {
            // Rare enough (a file of Gateway API objects edited) to rebuild the lists in path order.
            let mut all: Vec<gateway::GatewayObject> = std::mem::take(&mut self.gateway).into_objects();
            all.retain(|o| o.meta().file != file);
            all.extend(gateway_objects);
            all.sort_by_key(|o| rank(o.meta().file));
            for o in all {
                self.gateway.push(o);
            }
        }
        // A copy within the file may be gone (a repeat across files never gets here).
        self.copies.retain(|o| o.meta().file != file);
        self.namespaces_with_custom_resources.clear();
        self.other_policies.clear();
        for o in &self.others {
            if let Some(cluster_wide) = other_policy_kind(&o.meta.kind, &o.meta.api_version) {
                let scope: selector::Str = if cluster_wide { "".into() } else { o.meta.namespace.clone() };
                self.other_policies.entry(scope).or_default().insert(o.meta.kind.clone());
            }
            if !o.meta.namespace.is_empty() && is_custom_resource(&o.meta.api_version) {
                self.namespaces_with_custom_resources.insert(o.meta.namespace.clone());
            }
        }
        for meta in self.gateway.metas() {
            if !meta.namespace.is_empty() && is_custom_resource(&meta.api_version) {
                self.namespaces_with_custom_resources.insert(meta.namespace.clone());
            }
        }
    }

    /// The masters of a mergeable minion's `host`: the analysed master Ingresses that name it
    /// (NGINX Inc. merges by host, whatever the namespace).
    pub(crate) fn masters_of(&self, minion: &Ingress, host: Option<&str>) -> Vec<&Ingress> {
        let Some(host) = host.filter(|_| minion.mergeable() == Some(Mergeable::Minion)) else { return Vec::new() };
        self.ingresses.iter().filter(|i| i.mergeable() == Some(Mergeable::Master) && i.names_host(host)).collect()
    }

    /// The analysed minions that a mergeable master serves under `host`.
    pub(crate) fn minions_of(&self, master: &Ingress, host: &str) -> Vec<&Ingress> {
        if master.mergeable() != Some(Mergeable::Master) {
            return Vec::new();
        }
        self.ingresses.iter().filter(|i| i.mergeable() == Some(Mergeable::Minion) && i.names_host(host)).collect()
    }

    /// Whether requests for `host` through `ingress` are served over TLS: a mergeable minion is
    /// served in its master's server block, under the master's TLS (its own `tls` is ignored);
    /// a minion without a master in the repository is judged on its own.
    pub(crate) fn serves_tls(&self, ingress: &Ingress, host: Option<&str>) -> bool {
        let masters = self.masters_of(ingress, host);
        if masters.is_empty() {
            return ingress.tls_covers(host);
        }
        masters.iter().any(|m| m.tls_covers(host))
    }

    /// Every declared Service: the analysed ones, then the copies.
    pub(crate) fn declared_services(&self) -> impl Iterator<Item = &Service> {
        self.services.iter().chain(self.copies.iter().filter_map(|o| match o {
            Object::Service(s) => Some(s),
            _ => None,
        }))
    }

    /// Every declared Ingress: the analysed ones, then the copies.
    pub(crate) fn declared_ingresses(&self) -> impl Iterator<Item = &Ingress> {
        self.ingresses.iter().chain(self.copied_ingresses())
    }

    /// The Ingress declarations that are copies of an analysed one.
    pub(crate) fn copied_ingresses(&self) -> impl Iterator<Item = &Ingress> {
        self.copies.iter().filter_map(|o| match o {
            Object::Ingress(i) => Some(i),
            _ => None,
        })
    }
}

/// Custom resources are the kinds from API groups outside Kubernetes' own.
fn is_custom_resource(api_version: &str) -> bool {
    let Some((group, _)) = api_version.split_once('/') else {
        return false;
    };
    !(group.ends_with(".k8s.io") || matches!(group, "apps" | "batch" | "autoscaling" | "policy" | "extensions"))
}

#[cfg(test)]
mod tests {
    use super::net::{PortRef, Protocol};
    use super::{is_placeholder_value, tls_pattern_covers, FileRank, Model, Object, PolicyPort, PolicyRule};
    use crate::load::classify::{documents, Doc};
    use crate::span::FileId;

    /// The objects of one file's text.
    fn objects(file: FileId, text: &str) -> Vec<Object> {
        let stream = crate::load::yaml::parse_stream(text);
        let interner = super::Interner::default();
        let mut problems = Vec::new();
        let mut out = Vec::new();
        for doc in documents(&stream) {
            if let Doc::Object(root) = doc {
                out.extend(super::extract_document(file, root, "default", &interner, &mut problems));
            }
        }
        out
    }

    fn service(name: &str, selector: &str) -> String {
        format!("apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  selector: {{app: {selector}}}\n  ports: [{{port: 80}}]\n")
    }

    #[test]
    fn folders_set_aside_and_depth_rank_files() {
        let rank = |p: &str| FileRank::of_path(p);
        assert!(rank("deploy/web.yaml") < rank("examples/web.yaml"));
        assert!(rank("web.yaml") < rank("deploy/web.yaml"));
        assert!(rank("deploy/prod/web.yaml") < rank("old-manifests/web.yaml"));
        assert!(rank("a/b/web.yaml") < rank("e2e_tests/web.yaml"));
        // Words of a folder's name count, not parts of words, nor the file's own name.
        assert_eq!(rank("contest/web.yaml"), rank("deploy/web.yaml"));
        assert_eq!(rank("deploy/web-test.yaml"), rank("deploy/web.yaml"));
    }

    #[test]
    fn the_most_canonical_declaration_is_analysed_and_the_others_are_copies() {
        // Path order: a copy under a backup folder, a deeper copy, then the canonical one.
        let files = vec![
            objects(0, &service("web", "from-backup")),
            objects(1, &service("web", "from-deep")),
            objects(2, &service("web", "canonical")),
        ];
        let ranks =
            [FileRank::of_path("backup/web.yaml"), FileRank::of_path("a/b/web.yaml"), FileRank::of_path("a/web.yaml")];
        let (model, repeats) = Model::from_objects(files, &ranks);
        assert_eq!(model.services.len(), 1);
        let kept = &model.services[0];
        assert_eq!(kept.meta.file, 2);
        assert_eq!(kept.selector.as_ref().and_then(|(l, _)| l.get("app")), Some("canonical"));
        assert_eq!(model.copies.len(), 2);
        assert_eq!(model.declared_services().count(), 3);
        // One repeat per file holding a copy, each pointing at the analysed declaration.
        assert_eq!(repeats.iter().map(|r| r.file).collect::<Vec<_>>(), vec![0, 1]);
        assert!(repeats.iter().all(|r| r.objects[0].kept == kept.meta.location()));
    }

    #[test]
    fn equal_ranks_keep_path_order() {
        let files = vec![objects(0, &service("web", "first")), objects(1, &service("web", "second"))];
        let ranks = [FileRank::of_path("a/web.yaml"), FileRank::of_path("b/web.yaml")];
        let (model, repeats) = Model::from_objects(files, &ranks);
        assert_eq!(model.services[0].meta.file, 0);
        assert_eq!(repeats.len(), 1);
        assert_eq!(repeats[0].file, 1);
    }

    #[test]
    fn placeholders_filled_at_deploy_time() {
        for text in ["$INBOUND_CIDRS", "${MY_IP}/32", "<your-cidr>", "got.<DOMAIN>", "{{ .Values.cidr }}", "$_X"] {
            assert!(is_placeholder_value(text), "{text}");
        }
        for text in ["10.0.0.0/8", "shop.example.com", "a < b", "$", "$1", "price: 5$"] {
            assert!(!is_placeholder_value(text), "{text}");
        }
    }

    #[test]
    fn a_minion_is_served_under_its_masters_tls() {
        let text = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: master, namespace: shop, annotations: {nginx.org/mergeable-ingress-type: master}}
spec:
  tls: [{hosts: [cafe.example.com], secretName: s}]
  rules: [{host: cafe.example.com}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: minion, namespace: shop, annotations: {nginx.org/mergeable-ingress-type: minion}}
spec:
  rules:
    - host: cafe.example.com
      http: {paths: [{path: /tea, pathType: Prefix, backend: {service: {name: tea, port: {number: 80}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: orphan, namespace: shop, annotations: {nginx.org/mergeable-ingress-type: minion}}
spec:
  rules:
    - host: other.example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: tea, port: {number: 80}}}}]}
";
        let (model, _) = Model::from_objects(vec![objects(0, text)], &[FileRank::default()]);
        let [master, minion, orphan] = [0, 1, 2].map(|i| &model.ingresses[i]);
        assert!(!minion.tls_covers(Some("cafe.example.com")));
        assert!(model.serves_tls(minion, Some("cafe.example.com")));
        assert_eq!(model.minions_of(master, "cafe.example.com").len(), 1);
        // Without a master in the repository, a minion is judged on its own.
        assert!(!model.serves_tls(orphan, Some("other.example.com")));
    }

    #[test]
    fn rule_ports_in_words() {
        let port = |protocol, port, end_port| PolicyPort { protocol, port, end_port, span: Default::default() };
        let rule = |ports| PolicyRule { peers: None, ports, span: Default::default() };
        assert_eq!(rule(None).ports_text(), "on every port");
        let listed = rule(Some(vec![
            port(Protocol::Tcp, Some(PortRef::Number(8080)), None),
            port(Protocol::Tcp, Some(PortRef::Number(9000)), Some(9100)),
            port(Protocol::Udp, None, None),
            port(Protocol::Tcp, Some(PortRef::Name("metrics".into())), None),
        ]));
        assert_eq!(listed.ports_text(), "on TCP 8080, TCP 9000-9100, UDP every port, TCP `metrics`");
    }

    #[test]
    fn tls_wildcards_cover_one_label() {
        assert!(tls_pattern_covers("*.example.com", "shop.example.com"));
        assert!(!tls_pattern_covers("*.example.com", "a.shop.example.com"));
        assert!(!tls_pattern_covers("*.example.com", "example.com"));
        assert!(tls_pattern_covers("example.com", "example.com"));
    }
}

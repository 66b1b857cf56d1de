//! From one parsed document to typed objects.
//!
//! Every read goes through [`Reader`] (in [`super::read`]), which checks the field's type as the
//! API server would and records a mismatch as a typed problem at the field. A field that cannot be
//! read is treated as absent; the object is still modelled, so that one typo does not hide the rest
//! of the repository. Nothing here words a finding.

use std::collections::BTreeMap;

use super::net::{parse_cidr, PortRef};
use super::problem::{FieldProblem, InputProblem};
use super::read::Reader;
use super::selector::{Interner, Labels, Selector, Str};
use super::*;
use crate::load::classify::is_object;
use crate::load::yaml::{Node, Resolved};
use crate::span::FileId;
use crate::span::Span;

/// The annotation that suppresses findings on its object: `"rule-id[,rule-id]"`.
pub(crate) const IGNORE_ANNOTATION: &str = super::annotations::IGNORE;

/// Reads one document that [`is_object`] accepts: an object, or the items of a `List` kind.
/// Problems of its fields are added to `problems`.
pub(crate) fn extract_document(
    file: FileId,
    root: &Node,
    default_namespace: &str,
    interner: &Interner,
    problems: &mut Vec<InputProblem>,
) -> Vec<Object> {
    let mut r = Reader::new(file, interner, problems);
    let mut objects = Vec::new();
    extract_object(&mut r, root, default_namespace, &mut objects, 0, None);
    r.finish();
    objects
}

/// The kind and apiVersion a typed list (`PodList`, …) gives items that do not name their own.
type Inherited<'n> = Option<(&'n str, &'n str)>;

fn extract_object(
    r: &mut Reader,
    node: &Node,
    default_ns: &str,
    out: &mut Vec<Object>,
    depth: usize,
    inherited: Inherited,
) {
    let kind = match node.get("kind") {
        Some(k) => r.string(Some(k), "kind"),
        None => inherited.map(|(kind, _)| kind),
    };
    let Some(kind) = kind.filter(|k| !k.is_empty()) else {
        r.invalid(node.span, FieldProblem::EmptyKind);
        return;
    };
    if kind == "List" || (kind.ends_with("List") && node.get("items").is_some()) {
        if depth > 4 {
            r.invalid(node.span, FieldProblem::ListsTooDeep);
            return;
        }
        let api_version = node.get("apiVersion").and_then(Node::as_str).unwrap_or("v1");
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        let inherited = item_kind.map(|k| (k, api_version));
        for item in r.seq(node.get("items"), "items") {
            if item.as_map().is_some() && (is_object(item) || inherited.is_some()) {
                extract_object(r, item, default_ns, out, depth + 1, inherited);
            } else {
                r.invalid(item.span, FieldProblem::ListItemNotObject { list_kind: kind.to_string() });
            }
        }
        return;
    }
    let api_version = match node.get("apiVersion") {
        Some(a) => r.string(Some(a), "apiVersion").unwrap_or(""),
        None => inherited.map_or("", |(_, api)| api),
    };
    let Some(meta) = read_meta(r, node, kind, api_version, default_ns) else {
        return;
    };
    let spec = r.map(node.get("spec"), "spec");
    let object = match kind {
        "Namespace" => Object::Namespace(Namespace { meta }),
        "Service" => Object::Service(read_service(r, meta, spec)),
        "Ingress"
            if meta.api_version.starts_with("networking.k8s.io/") || meta.api_version.starts_with("extensions/") =>
        {
            Object::Ingress(read_ingress(r, meta, spec))
        }
        "IngressClass" => Object::IngressClass(read_ingress_class(r, meta, spec)),
        "Route" if meta.api_version.starts_with("route.openshift.io") || meta.api_version.as_ref() == "v1" => {
            Object::Route(read_route(r, meta, spec))
        }
        "NetworkPolicy"
            if meta.api_version.starts_with("networking.k8s.io") || meta.api_version.starts_with("extensions") =>
        {
            Object::NetworkPolicy(read_policy(r, meta, spec))
        }
        _ if meta.api_version.starts_with("policy.networking.k8s.io/")
            && super::tier::TierKind::parse(kind).is_some() =>
        {
            match super::tier::TierKind::parse(kind) {
                Some(tier_kind) => Object::TierPolicy(super::read_tier::read(r, tier_kind, meta, spec)),
                None => Object::Other(OtherObject { meta, controller_settings: None }),
            }
        }
        _ if super::gateway::is_gateway_api(&meta.api_version)
            && super::read_gateway::is_read_from(kind, &meta.api_version) =>
        {
            match super::read_gateway::read(r, kind, meta, spec) {
                Ok(object) => Object::Gateway(object),
                Err(meta) => Object::Other(OtherObject { meta: *meta, controller_settings: None }),
            }
        }
        _ => match WorkloadKind::parse(kind) {
            Some(wk) if is_core_api(&meta.api_version) => Object::Workload(read_workload(r, meta, wk, node, spec)),
            _ => {
                let controller_settings = read_controller_settings(r, &meta, spec).map(Box::new);
                Object::Other(OtherObject { meta, controller_settings })
            }
        },
    };
    out.push(object);
}

fn read_ingress_class(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> IngressClass {
    let controller_node = spec.and_then(|s| s.get("controller"));
    let controller = r.string(controller_node, "spec.controller").map(Into::into);
    let controller_span = controller.as_ref().and(controller_node).map(|n| n.span);
    let is_default = meta.annotations.get(super::annotations::DEFAULT_INGRESS_CLASS).is_some_and(|v| &**v == "true");
    let parameters = r.map(spec.and_then(|s| s.get("parameters")), "spec.parameters").and_then(|p| {
        let kind = r.string(p.get("kind"), "spec.parameters.kind")?;
        let name = r.string(p.get("name"), "spec.parameters.name")?;
        Some((kind.into(), name.into()))
    });
    IngressClass { meta, controller, controller_span, is_default, parameters }
}

/// The custom resources of ingress controllers that decide whether a class is internal: AKS
/// application routing's `NginxIngressController` and the AWS load balancer controller's (or EKS
/// Auto Mode's) `IngressClassParams`.
fn read_controller_settings(r: &mut Reader, meta: &Meta, spec: Option<&Node>) -> Option<ControllerSettings> {
    let group = meta.api_version.split('/').next().unwrap_or("");
    match (&*meta.kind, group) {
        ("NginxIngressController", "approuting.kubernetes.azure.com") => {
            let class_name = r.string(spec?.get("ingressClassName"), "spec.ingressClassName").map(Into::into);
            let annotations = r.string_map(spec?.get("loadBalancerAnnotations"), "spec.loadBalancerAnnotations");
            let internal = annotations
                .iter()
                .any(|(k, v)| &**k == super::annotations::AZURE_INTERNAL_LB && v.eq_ignore_ascii_case("true"));
            Some(ControllerSettings::AppRoutingNginx { class_name, internal })
        }
        ("IngressClassParams", "elbv2.k8s.aws" | "eks.amazonaws.com") => {
            let scheme = r.string(spec.and_then(|s| s.get("scheme")), "spec.scheme").map(Into::into);
            Some(ControllerSettings::AlbClassParams { scheme })
        }
        _ => None,
    }
}

fn is_modelled_kind(kind: &str) -> bool {
    WorkloadKind::parse(kind).is_some()
        || matches!(kind, "Namespace" | "Service" | "Ingress" | "IngressClass" | "Route" | "NetworkPolicy")
        || matches!(
            kind,
            "GatewayClass"
                | "Gateway"
                | "ListenerSet"
                | "XListenerSet"
                | "ReferenceGrant"
                | "HTTPRoute"
                | "GRPCRoute"
                | "TLSRoute"
                | "TCPRoute"
                | "UDPRoute"
                | "AdminNetworkPolicy"
                | "BaselineAdminNetworkPolicy"
                | "ClusterNetworkPolicy"
        )
}

fn is_core_api(api_version: &str) -> bool {
    matches!(api_version, "v1")
        || api_version.starts_with("apps/")
        || api_version.starts_with("batch/")
        || api_version.starts_with("extensions/")
        || api_version.starts_with("apps.openshift.io/")
}

fn read_meta(r: &mut Reader, node: &Node, kind: &str, api_version: &str, default_ns: &str) -> Option<Meta> {
    let api_version = r.interner.intern(api_version);
    let kind_span = node.get("kind").map_or(node.span, |n| n.span);
    let metadata = r.map(node.get("metadata"), "metadata");
    let name_node = metadata.and_then(|m| m.get("name"));
    let name = match r.string(name_node, "metadata.name") {
        Some(n) if !n.is_empty() => n,
        _ => match metadata.and_then(|m| m.get("generateName")).and_then(Node::as_str) {
            Some(g) => g,
            None => {
                // Configuration files of tools (kustomize, kind, component configs) carry
                // `apiVersion` and `kind` but no name; only the kinds kubereach models need one.
                if is_modelled_kind(kind) {
                    r.invalid(kind_span, FieldProblem::NoName { kind: kind.to_string() });
                }
                return None;
            }
        },
    };
    let namespace_node = metadata.and_then(|m| m.get_present("namespace"));
    let namespace = r.string(namespace_node, "metadata.namespace").filter(|n| !n.is_empty());
    // Every object's labels are checked; only a Namespace's and a Pod's are kept (a controller's
    // pods carry its template's labels, not its own), which keeps a large model small.
    let labels = r.labels(metadata.and_then(|m| m.get("labels")), "metadata.labels");
    let labels = if matches!(kind, "Namespace" | "Pod") { labels } else { Labels::default() };
    let annotations: BTreeMap<Str, Str> = r
        .string_map(metadata.and_then(|m| m.get("annotations")), "metadata.annotations")
        .into_iter()
        .filter(|(k, _)| super::annotations::is_read(k))
        .collect();
    Some(Meta {
        api_version,
        kind: r.interner.intern(kind),
        name: name.into(),
        namespace: r.interner.intern(namespace.unwrap_or(default_ns)),
        namespace_explicit: namespace.is_some(),
        labels,
        annotations,
        file: r.file,
        span: node.span,
        name_span: name_node.map_or(kind_span, |n| n.span),
        namespace_span: namespace_node.map(|n| n.span),
        kind_span,
        api_version_span: node.get("apiVersion").map_or(kind_span, |n| n.span),
        ignore_annotation: metadata
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .and_then(|v| v.as_str().map(|s| (s.into(), v.span))),
    })
}

fn read_workload(r: &mut Reader, meta: Meta, kind: WorkloadKind, node: &Node, spec: Option<&Node>) -> Workload {
    let (template_meta, pod_spec, template_path) = match kind {
        WorkloadKind::Pod => {
            if spec.is_none() {
                r.invalid(meta.kind_span, FieldProblem::PodWithoutSpec);
            }
            (node.get("metadata"), spec, "spec")
        }
        WorkloadKind::CronJob => {
            let job = r.map(spec.and_then(|s| s.get("jobTemplate")), "spec.jobTemplate");
            let job_spec = r.map(job.and_then(|j| j.get("spec")), "spec.jobTemplate.spec");
            let template = r.map(job_spec.and_then(|s| s.get("template")), "spec.jobTemplate.spec.template");
            (
                template.and_then(|t| t.get("metadata")),
                r.map(template.and_then(|t| t.get("spec")), "spec.jobTemplate.spec.template.spec"),
                "spec.jobTemplate.spec.template.spec",
            )
        }
        _ => {
            let template = r.map(spec.and_then(|s| s.get("template")), "spec.template");
            if template.is_none() {
                let at = spec.map_or(meta.kind_span, |s| s.span);
                r.invalid(at, FieldProblem::NoTemplate { kind: meta.kind.to_string() });
            }
            (
                template.and_then(|t| t.get("metadata")),
                r.map(template.and_then(|t| t.get("spec")), "spec.template.spec"),
                "spec.template.spec",
            )
        }
    };
    let (pod_labels, pod_labels_span) = if kind == WorkloadKind::Pod {
        let span = node.get("metadata").and_then(|m| m.get("labels")).map(|l| l.span);
        (meta.labels.clone(), span)
    } else {
        let labels_node = template_meta.and_then(|m| m.get("labels"));
        (r.labels(labels_node, "spec.template.metadata.labels"), labels_node.map(|l| l.span))
    };
    let mut ports = Vec::new();
    let mut host_network = None;
    let mut windows = None;
    let mut linux_only = false;
    if let Some(pod_spec) = pod_spec {
        for (field, sidecars_only) in [("containers", false), ("initContainers", true)] {
            let path = format!("{template_path}.{field}");
            for container in r.seq(pod_spec.get(field), &path) {
                let Some(container) = r.map(Some(container), &path) else {
                    continue;
                };
                // Init containers serve only as sidecars (restartPolicy: Always).
                if sidecars_only && container.get("restartPolicy").and_then(Node::as_str) != Some("Always") {
                    continue;
                }
                let ports_path = format!("{path}.ports");
                for port in r.seq(container.get("ports"), &ports_path) {
                    let Some(port) = r.map(Some(port), &ports_path) else {
                        continue;
                    };
                    let number = r.port_number(port.get("containerPort"), &format!("{ports_path}.containerPort"));
                    let name = r.string(port.get("name"), &format!("{ports_path}.name")).filter(|n| !n.is_empty());
                    let protocol = r.protocol(port.get("protocol"), &format!("{ports_path}.protocol"));
                    if let Some(number) = number {
                        ports.push(ContainerPort {
                            name: name.map(Into::into),
                            port: number,
                            protocol,
                            span: port.span,
                        });
                    }
                }
            }
        }
        if let Some(hn) = pod_spec.get("hostNetwork") {
            if r.bool(Some(hn), &format!("{template_path}.hostNetwork")) == Some(true) {
                host_network = Some(hn.span);
            }
        }
        windows = os_pin(pod_spec, OsPin::Windows);
        linux_only = os_pin(pod_spec, OsPin::Linux).is_some();
    }
    let replicas = match kind {
        WorkloadKind::Pod | WorkloadKind::DaemonSet | WorkloadKind::Job | WorkloadKind::CronJob => None,
        _ => r.int(spec.and_then(|s| s.get("replicas")), "spec.replicas"),
    };
    let owner = if kind == WorkloadKind::Pod { pod_owner(r, node) } else { None };
    Workload { meta, kind, pod_labels, pod_labels_span, ports, host_network, windows, linux_only, replicas, owner }
}

/// The owner a Pod is shown under: its controlling ownerReference. A Pod owned by a Node (a
/// static or mirror pod) is its own peer, as is a Pod whose owners do not control it.
fn pod_owner(r: &mut Reader, node: &Node) -> Option<Owner> {
    let refs = r.seq(node.get("metadata").and_then(|m| m.get("ownerReferences")), "metadata.ownerReferences");
    let controller = refs.iter().find(|o| {
        o.get("controller").and_then(|c| c.as_scalar()).is_some_and(|s| s.resolve() == Resolved::Bool(true))
    })?;
    let name = controller.get("name").and_then(Node::as_str).filter(|n| !n.is_empty())?;
    // An ownerReference without a kind (rejected by the API server, common in hand-written
    // samples) is shown as a Pod, as the reference analyzer's cases expect.
    let kind = controller.get("kind").and_then(Node::as_str).unwrap_or("Pod");
    if kind == "Node" {
        return None;
    }
    Some(Owner { kind: kind.into(), name: name.into() })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OsPin {
    Windows,
    Linux,
}

/// Where the pods are pinned to one operating system's nodes: a `nodeSelector` on the OS label,
/// or required node affinity whose every term does (`In [os]`, or for Linux `NotIn [windows]`).
fn os_pin(pod_spec: &Node, os: OsPin) -> Option<Span> {
    let wanted = match os {
        OsPin::Windows => "windows",
        OsPin::Linux => "linux",
    };
    const OS_KEYS: [&str; 2] = ["kubernetes.io/os", "beta.kubernetes.io/os"];
    let selector = pod_spec.get("nodeSelector");
    for key in OS_KEYS {
        if let Some(v) = selector.and_then(|s| s.get(key)) {
            if v.as_str() == Some(wanted) {
                return Some(v.span);
            }
        }
    }
    let terms = pod_spec
        .get("affinity")?
        .get("nodeAffinity")?
        .get("requiredDuringSchedulingIgnoredDuringExecution")?
        .get("nodeSelectorTerms")?
        .as_seq()?;
    let all_are = |values: Option<&Node>, value: &str| {
        values.and_then(Node::as_seq).is_some_and(|v| !v.is_empty() && v.iter().all(|x| x.as_str() == Some(value)))
    };
    // Required terms are ORed: pinned only when every term is.
    let mut pinned = None;
    for term in terms {
        let exprs = term.get("matchExpressions").and_then(Node::as_seq).unwrap_or_default();
        let pin = exprs.iter().find(|e| {
            let on_os = e.get("key").and_then(Node::as_str).is_some_and(|k| OS_KEYS.contains(&k));
            let operator = e.get("operator").and_then(Node::as_str);
            on_os
                && ((operator == Some("In") && all_are(e.get("values"), wanted))
                    || (os == OsPin::Linux && operator == Some("NotIn") && all_are(e.get("values"), "windows")))
        });
        match pin {
            Some(e) => pinned = pinned.or(Some(e.span)),
            None => return None,
        }
    }
    pinned
}

fn read_service(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> Service {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let type_node = get("type");
    let service_type = match r.string(type_node, "spec.type") {
        None | Some("ClusterIP") => ServiceType::ClusterIp,
        Some("NodePort") => ServiceType::NodePort,
        Some("LoadBalancer") => ServiceType::LoadBalancer,
        Some("ExternalName") => ServiceType::ExternalName,
        Some(other) => {
            if let Some(n) = type_node {
                r.invalid(
                    n.span,
                    FieldProblem::NotOneOf {
                        path: "spec.type".to_string(),
                        value: other.to_string(),
                        expected: "ClusterIP, NodePort, LoadBalancer or ExternalName",
                    },
                );
            }
            ServiceType::ClusterIp
        }
    };
    let selector_node = get("selector");
    let selector_pairs = r.string_map(selector_node, "spec.selector");
    let selector = match selector_node {
        Some(n) if !selector_pairs.is_empty() => Some((Labels::from_pairs(selector_pairs), n.span)),
        _ => None,
    };
    let mut ports = Vec::new();
    for p in r.seq(get("ports"), "spec.ports") {
        let Some(p) = r.map(Some(p), "spec.ports") else {
            continue;
        };
        let Some(port) = r.port_number(p.get("port"), "spec.ports.port") else {
            continue;
        };
        let target = r.port_ref(p.get("targetPort"), "spec.ports.targetPort").unwrap_or(PortRef::Number(port));
        let protocol = r.protocol(p.get("protocol"), "spec.ports.protocol");
        // `nodePort: 0` means "allocate one", as when it is absent.
        let node_port = match p.get("nodePort").and_then(|n| n.as_scalar()).map(|s| s.resolve()) {
            Some(Resolved::Int(0)) => None,
            _ => r.port_number(p.get("nodePort"), "spec.ports.nodePort"),
        };
        let name = r.string(p.get("name"), "spec.ports.name").filter(|n| !n.is_empty()).map(Into::into);
        ports.push(ServicePort { name, port, target, protocol, node_port, span: p.span });
    }
    let mut load_balancer_source_ranges = Vec::new();
    let mut source_range_placeholders = Vec::new();
    let mut source_range_host_bits = Vec::new();
    for n in r.seq(get("loadBalancerSourceRanges"), "spec.loadBalancerSourceRanges") {
        if let Some(text) = r.string(Some(n), "spec.loadBalancerSourceRanges") {
            match parse_cidr(text.trim()) {
                Ok(range) => {
                    load_balancer_source_ranges.push((range, n.span));
                    source_range_host_bits.extend(net::host_bits(text).map(|h| (h, n.span)));
                }
                // Filled at deploy time: the rules that judge source ranges say so (no generic
                // unrendered-template note on top).
                Err(_) if super::is_placeholder_value(text) => source_range_placeholders.push((text.into(), n.span)),
                Err(e) => r.invalid(n.span, FieldProblem::BadCidr(e)),
            }
        }
    }
    let external_traffic_policy_local =
        r.string(get("externalTrafficPolicy"), "spec.externalTrafficPolicy") == Some("Local");
    let external_ips = r
        .seq(get("externalIPs"), "spec.externalIPs")
        .iter()
        .filter_map(|n| n.as_str().map(|s| (s.into(), n.span)))
        .collect();
    let allocate_load_balancer_node_ports =
        r.bool(get("allocateLoadBalancerNodePorts"), "spec.allocateLoadBalancerNodePorts").unwrap_or(true);
    Service {
        meta,
        service_type,
        type_span: type_node.map(|n| n.span),
        selector,
        ports,
        load_balancer_source_ranges,
        source_range_placeholders,
        source_range_host_bits,
        external_traffic_policy_local,
        external_ips,
        allocate_load_balancer_node_ports,
    }
}

fn read_backend(r: &mut Reader, node: &Node, legacy: bool, path: &str) -> Option<Backend> {
    let node = r.map(Some(node), path)?;
    if legacy {
        let service = r.string(node.get("serviceName"), &format!("{path}.serviceName"))?;
        let port = match node.get("servicePort") {
            None => None,
            Some(p) => match r.port_ref(Some(p), &format!("{path}.servicePort")) {
                Some(PortRef::Number(n)) => Some(ServicePortRef::Number(n)),
                Some(PortRef::Name(n)) => Some(ServicePortRef::Name(n)),
                None => None,
            },
        };
        return Some(Backend { service: service.into(), port, span: node.span });
    }
    let svc = r.map(node.get("service"), &format!("{path}.service"))?;
    let service = r.string(svc.get("name"), &format!("{path}.service.name"))?;
    let port_node = r.map(svc.get("port"), &format!("{path}.service.port"));
    let port = port_node.and_then(|p| {
        if let Some(n) = p.get("number") {
            r.port_number(Some(n), &format!("{path}.service.port.number")).map(ServicePortRef::Number)
        } else {
            r.string(p.get("name"), &format!("{path}.service.port.name")).map(|n| ServicePortRef::Name(n.into()))
        }
    });
    Some(Backend { service: service.into(), port, span: node.span })
}

fn read_ingress(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> Ingress {
    let api = if meta.api_version.as_ref() == "networking.k8s.io/v1" { IngressApi::V1 } else { IngressApi::Legacy };
    let legacy = api == IngressApi::Legacy;
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let class_name =
        get("ingressClassName").and_then(|n| r.string(Some(n), "spec.ingressClassName").map(|s| (s.into(), n.span)));
    let class_annotation = meta.annotations.get(super::annotations::INGRESS_CLASS).map(|v| (**v).into());
    let default_key = if legacy { "backend" } else { "defaultBackend" };
    let default_backend = get(default_key)
        .filter(|n| !n.is_null())
        .and_then(|n| read_backend(r, n, legacy, &format!("spec.{default_key}")));
    let mut paths = Vec::new();
    let mut rule_hosts = Vec::new();
    for rule in r.seq(get("rules"), "spec.rules") {
        let Some(rule) = r.map(Some(rule), "spec.rules") else {
            continue;
        };
        let host: Option<Box<str>> = r.string(rule.get("host"), "spec.rules.host").map(Into::into);
        let host_span = rule.get("host").map(|h| h.span);
        if let (Some(h), Some(span)) = (&host, host_span) {
            rule_hosts.push((h.clone(), span));
        }
        let http = r.map(rule.get("http"), "spec.rules.http");
        for p in r.seq(http.and_then(|h| h.get("paths")), "spec.rules.http.paths") {
            let Some(p) = r.map(Some(p), "spec.rules.http.paths") else {
                continue;
            };
            let path = r.string(p.get("path"), "spec.rules.http.paths.path").map(Into::into);
            if let Some(b) = p.get("backend") {
                if let Some(backend) = read_backend(r, b, legacy, "spec.rules.http.paths.backend") {
                    paths.push(IngressPath { host: host.clone(), host_span, path, backend });
                }
            }
        }
    }
    let tls_node = get("tls");
    let mut tls_hosts = Vec::new();
    let mut tls_all_hosts = false;
    let tls_entries = r.seq(tls_node, "spec.tls");
    for entry in tls_entries {
        let hosts = r.seq(entry.get("hosts"), "spec.tls.hosts");
        if hosts.is_empty() {
            tls_all_hosts = true;
        }
        tls_hosts.extend(hosts.iter().filter_map(|h| h.as_str().map(Into::into)));
    }
    Ingress {
        meta,
        api,
        class_name,
        class_annotation,
        default_backend,
        paths,
        rule_hosts,
        tls_hosts,
        tls_all_hosts,
        tls_span: tls_node.filter(|_| !tls_entries.is_empty()).map(|n| n.span),
    }
}

fn read_route(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> Route {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let mut services = Vec::new();
    let mut backends: Vec<&Node> = get("to").into_iter().collect();
    backends.extend(r.seq(get("alternateBackends"), "spec.alternateBackends"));
    for b in backends {
        let Some(b) = r.map(Some(b), "spec.to") else {
            continue;
        };
        let kind = b.get("kind").and_then(Node::as_str).unwrap_or("Service");
        if kind != "Service" {
            continue;
        }
        if let Some(name) = r.string(b.get("name"), "spec.to.name") {
            services.push((name.into(), b.span));
        }
    }
    let port = r.map(get("port"), "spec.port");
    let target_port = port.and_then(|p| r.port_ref(p.get("targetPort"), "spec.port.targetPort"));
    // TLS that also serves plain HTTP (`insecureEdgeTerminationPolicy: Allow`) does not count.
    let tls = get("tls").is_some_and(|t| {
        !t.is_null() && t.get("insecureEdgeTerminationPolicy").and_then(Node::as_str) != Some("Allow")
    });
    Route { meta, services, target_port, tls }
}

fn read_policy(r: &mut Reader, meta: Meta, spec: Option<&Node>) -> NetworkPolicy {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let pod_selector = match get("podSelector") {
        Some(n) => r.selector(n, "spec.podSelector"),
        None => Selector { span: spec.map_or(meta.kind_span, |s| s.span), ..Selector::default() },
    };
    let types_node = get("policyTypes");
    let mut policy_types = Vec::new();
    for t in r.seq(types_node, "spec.policyTypes") {
        match r.string(Some(t), "spec.policyTypes") {
            Some("Ingress") => policy_types.push(Direction::Ingress),
            Some("Egress") => policy_types.push(Direction::Egress),
            Some(other) => r.invalid(
                t.span,
                FieldProblem::EntryNotOneOf {
                    path: "spec.policyTypes".to_string(),
                    value: other.to_string(),
                    expected: "Ingress or Egress",
                },
            ),
            None => {}
        }
    }
    let ingress_node = get("ingress");
    let egress_node = get("egress");
    let ingress = read_rules(r, ingress_node, Direction::Ingress);
    let egress = read_rules(r, egress_node, Direction::Egress);
    if policy_types.is_empty() {
        // The API server's defaulting: Ingress always, Egress when there is an egress rule.
        policy_types.push(Direction::Ingress);
        if !egress.is_empty() {
            policy_types.push(Direction::Egress);
        }
    }
    policy_types.sort();
    policy_types.dedup();
    NetworkPolicy {
        meta,
        pod_selector,
        policy_types,
        policy_types_span: types_node.map(|n| n.span),
        ingress,
        egress,
        ingress_span: ingress_node.map(|n| n.span),
        egress_span: egress_node.map(|n| n.span),
    }
}

fn read_rules(r: &mut Reader, node: Option<&Node>, direction: Direction) -> Vec<PolicyRule> {
    let (list_key, path) = match direction {
        Direction::Ingress => ("from", "spec.ingress"),
        Direction::Egress => ("to", "spec.egress"),
    };
    let mut rules = Vec::new();
    for rule in r.seq(node, path) {
        let Some(rule) = r.map(Some(rule), path).or_else(|| rule.is_null().then_some(rule)) else {
            continue;
        };
        let peers_path = format!("{path}.{list_key}");
        let peer_nodes = r.seq(rule.get(list_key), &peers_path);
        let peers = if peer_nodes.is_empty() {
            None
        } else {
            Some(peer_nodes.iter().filter_map(|p| read_peer(r, p, &peers_path)).collect())
        };
        let ports_path = format!("{path}.ports");
        let port_nodes = r.seq(rule.get("ports"), &ports_path);
        let ports = if port_nodes.is_empty() {
            None
        } else {
            Some(port_nodes.iter().filter_map(|p| read_policy_port(r, p, &ports_path)).collect())
        };
        rules.push(PolicyRule { peers, ports, span: rule.span });
    }
    rules
}

fn read_peer(r: &mut Reader, node: &Node, path: &str) -> Option<PeerSelector> {
    let node = r.map(Some(node), path)?;
    let pods = node.get_present("podSelector").map(|n| r.selector(n, &format!("{path}.podSelector")));
    let namespaces = node.get_present("namespaceSelector").map(|n| r.selector(n, &format!("{path}.namespaceSelector")));
    let ip_block = node.get_present("ipBlock");
    match (ip_block, pods.is_some() || namespaces.is_some()) {
        (Some(block), false) => read_ip_block(r, block, &format!("{path}.ipBlock"), node.span),
        (Some(block), true) => {
            r.invalid(block.span, FieldProblem::IpBlockWithSelector { path: path.to_string() });
            None
        }
        (None, true) => Some(PeerSelector::Pods { namespaces, pods, span: node.span }),
        (None, false) => {
            r.invalid(node.span, FieldProblem::EmptyPeer { path: path.to_string() });
            None
        }
    }
}

fn read_ip_block(r: &mut Reader, node: &Node, path: &str, peer_span: Span) -> Option<PeerSelector> {
    let node = r.map(Some(node), path)?;
    let cidr_node = node.get("cidr");
    let Some(cidr_text) = r.string(cidr_node, &format!("{path}.cidr")) else {
        r.invalid(node.span, FieldProblem::MissingKey { path: path.to_string(), key: "cidr" });
        return None;
    };
    let mut host_bits = Vec::new();
    let mut note_host_bits = |text: &str, span: Span, in_except: bool| {
        if let Some(cidr) = net::host_bits(text) {
            host_bits.push(HostBitsAt { cidr, span, in_except });
        }
    };
    let cidr = match parse_cidr(cidr_text.trim()) {
        Ok(c) => {
            note_host_bits(cidr_text, cidr_node.map_or(node.span, |n| n.span), false);
            c
        }
        Err(e) => {
            // A placeholder is noted once per document as an unrendered template.
            match cidr_node {
                Some(n) => r.invalid_value(n, FieldProblem::BadCidr(e)),
                None => r.invalid(node.span, FieldProblem::BadCidr(e)),
            }
            return None;
        }
    };
    let mut except = Vec::new();
    for e in r.seq(node.get("except"), &format!("{path}.except")) {
        let Some(text) = r.string(Some(e), &format!("{path}.except")) else {
            continue;
        };
        match parse_cidr(text.trim()) {
            Ok(x) if cidr.contains(&x) && x != cidr => {
                note_host_bits(text, e.span, true);
                except.push(x);
            }
            Ok(_) => r.invalid(
                e.span,
                FieldProblem::ExceptOutsideCidr {
                    path: path.to_string(),
                    entry: text.to_string(),
                    cidr: cidr_text.to_string(),
                },
            ),
            Err(err) => r.invalid_value(e, FieldProblem::BadCidr(err)),
        }
    }
    Some(PeerSelector::IpBlock { cidr, except, span: peer_span, host_bits })
}

fn read_policy_port(r: &mut Reader, node: &Node, path: &str) -> Option<PolicyPort> {
    let node = r.map(Some(node), path)?;
    let protocol = r.protocol(node.get("protocol"), &format!("{path}.protocol"));
    let port = r.port_ref(node.get_present("port"), &format!("{path}.port"));
    let end_node = node.get_present("endPort");
    let mut end_port = r.port_number(end_node, &format!("{path}.endPort"));
    if let (Some(end), Some(end_node)) = (end_port, end_node) {
        match &port {
            Some(PortRef::Number(start)) if end >= *start => {}
            Some(PortRef::Number(start)) => {
                r.invalid(end_node.span, FieldProblem::EndPortBelowPort { path: path.to_string(), end, start: *start });
                end_port = None;
            }
            _ => {
                r.invalid(end_node.span, FieldProblem::EndPortNeedsNumericPort { path: path.to_string() });
                end_port = None;
            }
        }
    }
    Some(PolicyPort { protocol, port, end_port, span: node.span })
}

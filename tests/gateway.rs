//! Gateway API ways in, end to end on `tests/data/gateway`: an Istio Gateway whose data-plane pods
//! a policy admits (shop) and does not admit (admin), a GKE external Gateway whose front ends an
//! ipBlock admits, and a GKE internal one. The graph names Gateways as peers, SARIF carries the
//! path listener → route rule → Service port → pods → admitting rule as a code flow, and `explain`
//! walks through the Gateway.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{kubereach_in_crate, RunExt as _};
use serde_json::Value;

const DATA: &str = "tests/data/gateway";

#[test]
fn the_connectivity_list_draws_gateways_as_peers() {
    let out = kubereach_in_crate(["graph", DATA]).run();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let text = out.ok();
    // The admin route's weight-zero backend sends nothing; admin's pods admit nothing of it.
    assert!(!text.contains("infra/public[Gateway] => web/admin"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn the_graph_json_names_a_gateway_endpoint() {
    let out = kubereach_in_crate(["graph", DATA, "--format", "json"]).run();
    let value: Value = serde_json::from_str(&out.ok()).unwrap();
    let gateway = value["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["src"]["id"] == "infra/public[Gateway]")
        .expect("an edge from the Gateway");
    assert_eq!(gateway["src"]["type"], "gateway");
    assert_eq!(gateway["src"]["namespace"], "infra");
    assert_eq!(gateway["src"]["name"], "public");
    assert_eq!(gateway["dst"]["id"], "web/shop[Deployment]");
    assert_eq!(gateway["summary"], "TCP 8080");
}

/// The internet exposures' messages and code flows (rule id, level, message, every step).
fn exposure_flows() -> Value {
    let out = kubereach_in_crate(["check", DATA, "--format", "sarif"]).run();
    assert!(matches!(out.code, Some(0 | 1)), "{}", out.stderr);
    let log: Value = serde_json::from_str(&out.stdout).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let flows: Vec<Value> = results
        .iter()
        // A guarded exposure (a note) is written under `internet-exposed-workload/note`.
        .filter(|r| r["ruleId"].as_str().is_some_and(|id| id.split('/').next() == Some("internet-exposed-workload")))
        .map(|r| {
            let steps: Vec<Value> = r["codeFlows"][0]["threadFlows"][0]["locations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|step| {
                    let location = &step["location"];
                    let region = &location["physicalLocation"]["region"];
                    Value::from(format!(
                        "{}:{}:{} {}",
                        location["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or(""),
                        region["startLine"],
                        region["startColumn"],
                        location["message"]["text"].as_str().unwrap_or("")
                    ))
                })
                .collect();
            serde_json::json!({ "level": r["level"], "message": r["message"]["text"], "steps": steps })
        })
        .collect();
    Value::from(flows)
}

#[test]
fn sarif_code_flows_walk_listener_route_service_pods_and_policy() {
    let flows = exposure_flows();
    // The internal GKE Gateway opens no way in from the internet; the two public ones do.
    assert_eq!(flows.as_array().unwrap().len(), 2, "{flows:#}");
    insta::assert_json_snapshot!(flows);
}

#[test]
fn a_route_the_data_plane_cannot_use_is_reported_once_per_gateway() {
    let out = kubereach_in_crate(["check", DATA, "--format", "json", "--select", "ingress-backend-blocked"]).run();
    let value: Value = serde_json::from_str(&out.stdout).unwrap();
    let findings = value["findings"].as_array().unwrap();
    // Attached to both listeners of one Gateway: one data plane, one finding.
    assert_eq!(findings.len(), 1, "{value:#}");
    let message = findings[0]["message"].as_str().unwrap();
    assert!(message.contains("HTTPRoute `admin` (rule 1, through Gateway `infra/public`)"), "{message}");
    assert!(message.contains("the Gateway's data-plane pods in namespace `infra`"), "{message}");
}

#[test]
fn explain_answers_through_the_gateway() {
    let out = kubereach_in_crate(["explain", DATA, "--from", "{internet}", "--to", "web/shop[Deployment]"]).run();
    let text = out.stdout;
    assert!(text.contains("allowed on TCP 8080"), "{text}");
    // The route rule, the listener and the admitting policy, each with its location.
    assert!(text.contains("through HTTPRoute `shop` rule 1 (tests/data/gateway/web.yaml:52:7)"), "{text}");
    assert!(
        text.contains("Gateway `infra/public` listener `https` (HTTPS, port 443) (tests/data/gateway/infra.yaml:27:7)"),
        "{text}"
    );
    assert!(text.contains("shop-from-gateway"), "{text}");
    assert!(text.contains("web.yaml:125:7"), "{text}");
}

/// Writes `manifest` to a temporary repository and returns its connectivity list.
fn graph_of(manifest: &str) -> String {
    run_on(manifest, &["graph"]).ok()
}

/// Runs `kubereach <args> <repository>` on a temporary repository holding `manifest`.
fn run_on(manifest: &str, args: &[&str]) -> common::Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("all.yaml"), manifest).unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    kubereach_in_crate(args.iter().copied().chain([path.as_str()])).run()
}

/// A backend in namespace `web` that admits only what `from` names, behind a Gateway of class
/// `class` in namespace `edge` (with `extra` appended to the Gateway's spec).
fn behind_gateway(class: &str, gateway_spec_extra: &str, from: &str, more: &str) -> String {
    format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: public, namespace: edge}}
spec:
  gatewayClassName: {class}
  listeners: [{{name: http, protocol: HTTP, port: 80, allowedRoutes: {{namespaces: {{from: All}}}}}}]
{gateway_spec_extra}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: app, namespace: web}}
spec:
  parentRefs: [{{name: public, namespace: edge}}]
  rules: [{{backendRefs: [{{name: app, port: 80}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: app, namespace: web}}
spec: {{selector: {{app: app}}, ports: [{{port: 80, targetPort: 8080}}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: web}}
spec:
  selector: {{matchLabels: {{app: app}}}}
  template:
    metadata: {{labels: {{app: app}}}}
    spec: {{containers: [{{name: app, image: app, ports: [{{containerPort: 8080}}]}}]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: only, namespace: web}}
spec:
  podSelector: {{}}
  ingress: [{{from: [{from}]}}]
{more}"#
    )
}

#[test]
fn envoy_gateway_sends_from_its_own_namespace() {
    let admits_envoy = "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: envoy-gateway-system}}, \
                        podSelector: {matchLabels: {gateway.envoyproxy.io/owning-gateway-name: public}}}";
    let text = graph_of(&behind_gateway("eg", "", admits_envoy, ""));
    assert!(text.contains("edge/public[Gateway] => web/app[Deployment] : TCP 8080"), "{text}");
    // Istio's proxies run in the Gateway's namespace, which this policy does not admit.
    let text = graph_of(&behind_gateway("istio", "", admits_envoy, ""));
    assert!(!text.contains("[Gateway]"), "{text}");
}

#[test]
fn infrastructure_labels_are_on_the_data_planes_pods() {
    let by_label = "{namespaceSelector: {}, podSelector: {matchLabels: {role: edge-proxy}}}";
    let labelled = "  infrastructure: {labels: {role: edge-proxy}}";
    let text = graph_of(&behind_gateway("istio", labelled, by_label, ""));
    assert!(text.contains("edge/public[Gateway] => web/app[Deployment] : TCP 8080"), "{text}");
    let text = graph_of(&behind_gateway("istio", "", by_label, ""));
    assert!(!text.contains("[Gateway]"), "{text}");
}

#[test]
fn a_declared_data_plane_is_the_source() {
    // The repository declares the proxies itself, with a label of its own the policy names.
    let admits_declared = "{namespaceSelector: {}, podSelector: {matchLabels: {tier: proxy}}}";
    let proxies = r#"---
apiVersion: apps/v1
kind: Deployment
metadata: {name: public-istio, namespace: edge}
spec:
  selector: {matchLabels: {gateway.networking.k8s.io/gateway-name: public}}
  template:
    metadata: {labels: {gateway.networking.k8s.io/gateway-name: public, tier: proxy}}
    spec: {containers: [{name: proxy, image: proxy}]}
"#;
    let text = graph_of(&behind_gateway("istio", "", admits_declared, proxies));
    assert!(text.contains("edge/public[Gateway] => web/app[Deployment] : TCP 8080"), "{text}");
    // The pods themselves reach every port the policy admits (it names none: all).
    assert!(text.contains("edge/public-istio[Deployment] => web/app[Deployment] : All Connections"), "{text}");
}

#[test]
fn cloud_managed_gateways_send_from_their_proxy_ranges() {
    let google = "{ipBlock: {cidr: 35.191.0.0/16}}";
    let text = graph_of(&behind_gateway("gke-l7-global-external-managed", "", google, ""));
    assert!(text.contains("edge/public[Gateway] => web/app[Deployment] : TCP 8080"), "{text}");
    let pods = "{namespaceSelector: {}}";
    let text = graph_of(&behind_gateway("gke-l7-global-external-managed", "", pods, ""));
    assert!(!text.contains("[Gateway]"), "{text}");
}

/// Findings of `check --format json` on `manifest`, as `rule: message` lines.
fn findings_of(manifest: &str) -> Vec<String> {
    let out = run_on(manifest, &["check", "--format", "json"]);
    let value: Value = serde_json::from_str(&out.stdout).unwrap();
    value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}: {}", f["rule"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect()
}

const SHOP: &str = r#"---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: web}
spec: {selector: {app: shop}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: web}
spec:
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: shop, image: shop, ports: [{containerPort: 8080}]}]}
"#;

#[test]
fn a_route_naming_a_gateway_does_not_attach_to_its_listener_sets() {
    let manifest = format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: web}}
spec:
  gatewayClassName: istio
  allowedListeners: {{namespaces: {{from: All}}}}
  listeners: [{{name: h, protocol: HTTPS, port: 443, tls: {{certificateRefs: [{{name: c}}]}}}}]
---
apiVersion: gateway.networking.x-k8s.io/v1alpha1
kind: XListenerSet
metadata: {{name: ls, namespace: web}}
spec:
  parentRef: {{name: gw}}
  listeners: [{{name: plain, protocol: HTTP, port: 8080}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: web}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{name: shop, port: 80}}]}}]
{SHOP}"#
    );
    let findings = findings_of(&manifest);
    assert!(!findings.iter().any(|f| f.contains("listener `plain`")), "{findings:#?}");
    assert!(findings.iter().any(|f| f.contains("listener `h`")), "{findings:#?}");
}

#[test]
fn listed_kinds_the_protocol_cannot_carry_attach_nothing_and_routes_keep_their_transport() {
    let manifest = format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: web}}
spec:
  gatewayClassName: istio
  listeners:
    - {{name: tcp, protocol: TCP, port: 9000, allowedRoutes: {{kinds: [{{kind: HTTPRoute}}]}}}}
    - {{name: dns, protocol: UDP, port: 53}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: web}}
spec:
  parentRefs: [{{name: gw, sectionName: tcp}}]
  rules: [{{backendRefs: [{{name: shop, port: 80}}]}}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {{name: dns, namespace: web}}
spec:
  parentRefs: [{{name: gw, sectionName: dns}}]
  rules: [{{backendRefs: [{{name: shop, port: 80}}]}}]
{SHOP}"#
    );
    let findings = findings_of(&manifest);
    // The HTTPRoute is not attached; the UDPRoute's backend has no UDP port: no way in at all.
    assert!(findings.iter().any(|f| f.starts_with("gateway-route-not-attached: HTTPRoute `r`")), "{findings:#?}");
    assert!(!findings.iter().any(|f| f.starts_with("internet-exposed-workload")), "{findings:#?}");
}

#[test]
fn an_undeclared_namespace_is_not_judged_by_labels_it_may_carry() {
    let manifest = format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: edge}}
spec:
  gatewayClassName: istio
  listeners:
    - name: h
      protocol: HTTP
      port: 80
      allowedRoutes: {{namespaces: {{from: Selector, selector: {{matchLabels: {{team: a}}}}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: web}}
spec:
  parentRefs: [{{name: gw, namespace: edge}}]
  rules: [{{backendRefs: [{{name: shop, port: 80}}]}}]
{SHOP}"#
    );
    let findings = findings_of(&manifest);
    assert!(!findings.iter().any(|f| f.starts_with("gateway-") || f.contains("[Gateway]")), "{findings:#?}");
}

#[test]
fn a_plain_listener_is_told_whatever_its_backends_are_and_cloud_classes_ignore_service_annotations() {
    let manifest = r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: web}
spec:
  gatewayClassName: gke-l7-global-external-managed
  infrastructure: {annotations: {networking.gke.io/load-balancer-type: Internal}}
  listeners: [{name: h, protocol: HTTP, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: web}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: api, namespace: elsewhere, port: 80}]}]
"#;
    let findings = findings_of(manifest);
    assert!(
        findings.iter().any(|f| f.starts_with("gateway-listener-without-tls: listener `h` of public Gateway `web/gw`")),
        "{findings:#?}"
    );
}

#[test]
fn envoy_gateways_proxies_carry_their_standard_labels() {
    let by_standard = "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: envoy-gateway-system}}, \
                       podSelector: {matchLabels: {app.kubernetes.io/name: envoy, app.kubernetes.io/component: proxy}}}";
    let text = graph_of(&behind_gateway("eg", "", by_standard, ""));
    assert!(text.contains("edge/public[Gateway] => web/app[Deployment] : TCP 8080"), "{text}");
}

#[test]
fn explain_takes_a_gateway_as_the_source() {
    let out =
        kubereach_in_crate(["explain", DATA, "--from", "infra/public[Gateway]", "--to", "web/admin[Deployment]"]).run();
    let text = out.stdout;
    assert!(text.starts_with("infra/public[Gateway] => web/admin[Deployment]: denied on every port"), "{text}");
    assert!(text.contains("listener `http` (HTTP, port 80) (tests/data/gateway/infra.yaml:21:7)"), "{text}");
    // Gateway routes are not `{ingress-controller}`'s.
    let out =
        kubereach_in_crate(["explain", DATA, "--from", "{ingress-controller}", "--to", "web/shop[Deployment]"]).run();
    assert!(out.stdout.contains("no way in leads to web/shop[Deployment]"), "{}", out.stdout);
}

#[test]
fn a_port_of_another_declaration_of_a_repeated_service_is_not_dangling() {
    // Two examples declare Service `coffee`, with different ports; the graph analyses one, and the
    // route names the other's port: which one the cluster holds is not known.
    let dir = tempfile::tempdir().unwrap();
    let service = |port: u16| {
        format!("apiVersion: v1\nkind: Service\nmetadata: {{name: coffee, namespace: default}}\nspec: {{selector: {{app: coffee}}, ports: [{{port: {port}}}]}}\n")
    };
    std::fs::create_dir_all(dir.path().join("http")).unwrap();
    std::fs::create_dir_all(dir.path().join("tcp")).unwrap();
    std::fs::write(dir.path().join("http/cafe.yaml"), service(80)).unwrap();
    std::fs::write(dir.path().join("tcp/cafe.yaml"), service(8081)).unwrap();
    let route = "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: TCPRoute\nmetadata: {name: tcp-coffee, namespace: default}\n\
                 spec: {parentRefs: [{name: gw}], rules: [{backendRefs: [{name: coffee, port: 8081}, {name: coffee, port: 9999}]}]}\n";
    std::fs::write(dir.path().join("tcp/routes.yaml"), route).unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    let out =
        kubereach_in_crate(["check", path.as_str(), "--format", "json", "--select", "dangling-ingress-backend"]).run();
    let value: Value = serde_json::from_str(&out.stdout).unwrap();
    let messages: Vec<&str> =
        value["findings"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap()).collect();
    // 9999 is in no declaration: still dangling; 8081 is in one of them: not told.
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(messages[0].contains("port `9999`"), "{messages:#?}");
}

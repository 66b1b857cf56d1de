//! The YAML of a namespace's suggested policies: one document per policy, each opened by a
//! comment saying why it is there, each rule by comments naming what it keeps (the way in, the
//! Service and the reference). Written by hand, not through a serializer, because comments are
//! the point; every string is double-quoted JSON, which YAML reads as written.

use std::fmt::Write as _;

use super::{AllowRule, PeerSpec, PolicySpec, SuggestedFile};
use crate::model::net::PortRef;
use crate::model::Direction;

/// A string as a YAML double-quoted scalar.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
}

/// One comment line per line of text.
fn comment(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{indent}# {line}");
    }
}

fn labels(out: &mut String, indent: &str, key: &str, labels: &[(String, String)]) {
    if labels.is_empty() {
        let _ = writeln!(out, "{indent}{key}: {{}}");
        return;
    }
    let _ = writeln!(out, "{indent}{key}:\n{indent}  matchLabels:");
    for (k, v) in labels {
        let _ = writeln!(out, "{indent}    {}: {}", quoted(k), quoted(v));
    }
}

fn rule(out: &mut String, direction: Direction, r: &AllowRule) {
    for why in &r.why {
        comment(out, "    ", why);
    }
    let peers_key = match direction {
        Direction::Ingress => "from",
        Direction::Egress => "to",
    };
    let _ = writeln!(out, "    - {peers_key}:");
    for peer in &r.peers {
        match peer {
            PeerSpec::Pods { namespace, labels: pod_labels } => {
                let mut first = true;
                if let Some(ns) = namespace {
                    let _ = writeln!(out, "        - namespaceSelector:\n            matchLabels:");
                    let _ =
                        writeln!(out, "              {}: {}", quoted(crate::model::NAMESPACE_NAME_LABEL), quoted(ns));
                    first = false;
                }
                let indent = if first { "        - " } else { "          " };
                let mut text = String::new();
                labels(&mut text, "", "podSelector", pod_labels);
                for (i, line) in text.lines().enumerate() {
                    let lead = if i == 0 { indent.to_string() } else { " ".repeat(indent.len()) };
                    let _ = writeln!(out, "{lead}{line}");
                }
            }
            PeerSpec::Block(cidr) => {
                let _ = writeln!(out, "        - ipBlock:\n            cidr: {}", quoted(cidr));
            }
        }
    }
    if !r.ports.is_empty() || !r.ranges.is_empty() {
        let _ = writeln!(out, "      ports:");
        for (protocol, first, last) in &r.ranges {
            let _ = writeln!(out, "        - protocol: {protocol}\n          port: {first}\n          endPort: {last}");
        }
        for (protocol, port) in &r.ports {
            let port = match port {
                PortRef::Number(n) => n.to_string(),
                PortRef::Name(name) => quoted(name),
            };
            let _ = writeln!(out, "        - protocol: {protocol}\n          port: {port}");
        }
    }
}

fn policy(out: &mut String, namespace: &str, p: &PolicySpec) {
    out.push_str("---\n");
    comment(out, "", &p.why);
    let _ = writeln!(out, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:");
    let _ = writeln!(out, "  name: {}\n  namespace: {}", quoted(&p.name), quoted(namespace));
    let _ = writeln!(out, "  labels:\n    \"app.kubernetes.io/managed-by\": \"kubereach-suggest\"");
    out.push_str("spec:\n");
    if p.pod_exclude.is_empty() {
        labels(out, "  ", "podSelector", &p.pod_selector);
    } else {
        out.push_str("  podSelector:\n");
        if !p.pod_selector.is_empty() {
            out.push_str("    matchLabels:\n");
            for (k, v) in &p.pod_selector {
                let _ = writeln!(out, "      {}: {}", quoted(k), quoted(v));
            }
        }
        out.push_str("    matchExpressions:\n");
        for (k, v) in &p.pod_exclude {
            let _ =
                writeln!(out, "      - key: {}\n        operator: NotIn\n        values: [{}]", quoted(k), quoted(v));
        }
    }
    out.push_str("  policyTypes:\n");
    for d in &p.types {
        let _ = writeln!(out, "    - {}", if *d == Direction::Ingress { "Ingress" } else { "Egress" });
    }
    for (direction, rules) in [(Direction::Ingress, &p.ingress), (Direction::Egress, &p.egress)] {
        if rules.is_empty() || !p.types.contains(&direction) {
            continue;
        }
        let _ = writeln!(out, "  {}:", direction.as_str());
        for r in rules {
            rule(out, direction, r);
        }
    }
}

/// The file of one namespace.
pub(super) fn file(namespace: &str, policies: &[PolicySpec]) -> SuggestedFile {
    let mut text = String::new();
    comment(
        &mut text,
        "",
        &format!(
            "NetworkPolicies that `kubereach suggest` derived for namespace `{namespace}`.\n\
             Existing policies stay as they are; review before applying (`kubectl apply -f`)."
        ),
    );
    for p in policies {
        policy(&mut text, namespace, p);
    }
    SuggestedFile {
        namespace: namespace.to_string(),
        file_name: format!("{namespace}.yaml"),
        text,
        policies: policies.iter().map(|p| p.name.clone()).collect(),
    }
}

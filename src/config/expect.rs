//! `expect:` in `.kubereach.yaml`: reachability expectations, read and validated into the
//! graph's [`Expectation`] type, every error located in the file.
//!
//! ```yaml
//! expect:
//!   - name: tenants-apart                 # optional; unique, not a number
//!     deny:
//!       from: {tenant: shop}              # needs `tenants.label`
//!       to: {tenant: billing}
//!   - allow:
//!       from: shop-web/frontend           # ns/name, ns/name[Kind], ns/*
//!       to: [shop-api/api, {namespace: shop-data, pod-labels: {app: postgres}}]
//!       ports: [8080, 5432/TCP, 9000-9100, metrics, UDP]
//!   - deny: {from: "*", to: {internet}}   # `{internet}` unquoted is a mapping: accepted
//! ```
//!
//! A peer is a string (`*`, `{internet}`, a CIDR or an address, `ns/name[Kind]`, `ns/*`, or a
//! bare namespace name) or a mapping (`namespace`, `namespace-labels`, `pod-labels`, `workload`,
//! `tenant`, `cidr`, `internet`); a side is one peer or a list of them. This module only parses:
//! what the statements mean is [`crate::graph::expect`]'s.

use std::collections::BTreeSet;

use super::{is_namespace_name, Located, NAMESPACE_NAME};
use crate::graph::expect::{Expectation, Namespaces, PeerForm, PeerSet, PortItem, Verdict};
use crate::load::yaml::Node;
use crate::model::net::{parse_cidr, IpRange, Protocol};
use crate::model::selector::Labels;
use crate::span::Span;

/// Reads `expect:`. Whether a tenant peer has `tenants.label` to go by is checked by the caller
/// once the whole file is read ([`uses_tenants`]).
pub(super) fn read(node: &Node) -> Located<Vec<Expectation>> {
    let items =
        node.as_seq().ok_or_else(|| (node.span.start, "`expect` must be a list of expectations".to_string()))?;
    let mut out: Vec<Expectation> = Vec::new();
    let mut names = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let entries = item.as_map().ok_or_else(|| {
            (
                item.span.start,
                "each of `expect` must be a mapping with `allow` or `deny` (and an optional `name`)".into(),
            )
        })?;
        let mut name = None;
        let mut statement: Option<(Verdict, &Node, Span)> = None;
        for (key, value) in entries {
            let k = key.as_str().unwrap_or_default();
            match k {
                "name" => {
                    let v = value.as_str().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                        (value.span.start, "an expectation's `name` must be a non-empty string".to_string())
                    })?;
                    if v.parse::<usize>().is_ok() {
                        return Err((
                            value.span.start,
                            format!("expectation name `{v}` is a number; numbers name expectations by position"),
                        ));
                    }
                    if !names.insert(v.to_string()) {
                        return Err((value.span.start, format!("expectation `{v}` is named twice; names are unique")));
                    }
                    name = Some(v.to_string());
                }
                "allow" | "deny" => {
                    if statement.is_some() {
                        return Err((key.span.start, "an expectation has one `allow` or `deny`, not both".to_string()));
                    }
                    let verdict = if k == "allow" { Verdict::Allow } else { Verdict::Deny };
                    statement = Some((verdict, value, key.span));
                }
                other => {
                    return Err((
                        key.span.start,
                        format!("unknown key `{other}` in `expect`; expected name, allow or deny"),
                    ))
                }
            }
        }
        let (verdict, body, span) =
            statement.ok_or_else(|| (item.span.start, "an expectation needs `allow` or `deny`".to_string()))?;
        out.push(read_statement(i + 1, name, verdict, body, span)?);
    }
    Ok(out)
}

/// The first expectation that names a tenant, and where: an error when `tenants.label` is unset.
pub(super) fn uses_tenants(list: &[Expectation]) -> Option<Span> {
    list.iter()
        .flat_map(|e| e.from.forms.iter().chain(&e.to.forms))
        .find(|(form, _)| matches!(form, PeerForm::Tenant(_)))
        .map(|(_, span)| *span)
}

fn read_statement(
    index: usize,
    name: Option<String>,
    verdict: Verdict,
    body: &Node,
    span: Span,
) -> Located<Expectation> {
    let what = verdict.as_str();
    let entries = body.as_map().ok_or_else(|| {
        (body.span.start, format!("`{what}` must be a mapping with `from`, `to` and optional `ports`"))
    })?;
    let (mut from, mut to, mut ports) = (None, None, None);
    for (key, value) in entries {
        match key.as_str().unwrap_or_default() {
            "from" => from = Some(peer_set(value)?),
            "to" => to = Some(peer_set(value)?),
            "ports" => ports = Some(read_ports(value)?),
            other => {
                return Err((key.span.start, format!("unknown key `{other}` in `{what}`; expected from, to or ports")))
            }
        }
    }
    let from = from.ok_or_else(|| (body.span.start, format!("`{what}` needs `from`")))?;
    let to = to.ok_or_else(|| (body.span.start, format!("`{what}` needs `to`")))?;
    let outside =
        |set: &PeerSet| set.forms.iter().all(|(f, _)| matches!(f, PeerForm::Internet | PeerForm::Addresses(_)));
    if outside(&from) && outside(&to) {
        return Err((body.span.start, format!("`{what}` joins addresses to addresses; one side must name workloads")));
    }
    let (ports, ports_text) = ports.unwrap_or_default();
    Ok(Expectation { index, name, verdict, from, to, ports, ports_text, file: 0, span })
}

fn peer_set(node: &Node) -> Located<PeerSet> {
    let items: Vec<&Node> = match node.as_seq() {
        Some([]) => return Err((node.span.start, "a peer list must not be empty".to_string())),
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    let mut forms = Vec::new();
    let mut texts = Vec::new();
    for item in items {
        let (form, text) = peer(item)?;
        forms.push((form, item.span));
        texts.push(text);
    }
    let text = if texts.len() == 1 { texts.remove(0) } else { format!("[{}]", texts.join(", ")) };
    Ok(PeerSet { forms, span: node.span, text })
}

/// `{k: v}` as written, for messages.
fn labels_text(labels: &Labels) -> String {
    let pairs: Vec<String> = labels.0.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn labels(node: &Node, what: &str) -> Located<Labels> {
    let pairs = node.as_map().ok_or_else(|| (node.span.start, format!("`{what}` must be a mapping of labels")))?;
    if pairs.is_empty() {
        return Err((node.span.start, format!("`{what}` names no label; use `*` for every workload")));
    }
    let mut out = Labels::default();
    for (k, v) in pairs {
        let key = k.as_str().ok_or_else(|| (k.span.start, format!("a `{what}` key must be a string")))?;
        // Label values are strings: the raw text, whatever YAML 1.1 would make of it.
        let value = v
            .as_scalar()
            .map(|s| &*s.text)
            .ok_or_else(|| (v.span.start, format!("a `{what}` value must be a string")))?;
        out = out.with(key, value);
    }
    Ok(out)
}

fn namespace_name(node: &Node, what: &str) -> Located<String> {
    let v = node.as_str().ok_or_else(|| (node.span.start, format!("`{what}` must be a string")))?;
    if !is_namespace_name(v) {
        return Err((node.span.start, format!("`{what}` is `{v}`; {NAMESPACE_NAME}")));
    }
    Ok(v.to_string())
}

/// One peer, and how messages write it.
fn peer(node: &Node) -> Located<(PeerForm, String)> {
    if let Some(text) = node.as_str() {
        return peer_text(text.trim()).map(|f| (f, text.trim().to_string())).map_err(|m| (node.span.start, m));
    }
    let Some(entries) = node.as_map() else {
        return Err((node.span.start, format!("a peer must be a string or a mapping, found {}", node.kind_name())));
    };
    let (mut namespace, mut namespace_labels, mut pods, mut single): (_, _, _, Option<(PeerForm, String, &str)>) =
        (None, None, None, None);
    let mut keys = Vec::new();
    for (key, value) in entries {
        let k = key.as_str().unwrap_or_default();
        keys.push((k, key.span));
        match k {
            "namespace" => namespace = Some(namespace_name(value, "namespace")?),
            "namespace-labels" => namespace_labels = Some(labels(value, "namespace-labels")?),
            "pod-labels" => pods = Some(labels(value, "pod-labels")?),
            "workload" => {
                let v = value.as_str().ok_or_else(|| (value.span.start, "`workload` must be a string".to_string()))?;
                let form = match peer_text(v.trim()) {
                    Ok(form @ PeerForm::Workload { .. }) => form,
                    _ => {
                        return Err((
                            value.span.start,
                            format!("`workload` is `{v}`; expected `namespace/name` or `namespace/name[Kind]`"),
                        ))
                    }
                };
                single = Some((form, v.trim().to_string(), "workload"));
            }
            "tenant" => {
                let v = value.as_scalar().map(|s| s.text.to_string()).filter(|v| !v.is_empty());
                let v = v.ok_or_else(|| (value.span.start, "`tenant` must be a label value".to_string()))?;
                single = Some((PeerForm::Tenant(v.clone()), format!("tenant {v}"), "tenant"));
            }
            "cidr" => {
                let v = value.as_str().ok_or_else(|| (value.span.start, "`cidr` must be a string".to_string()))?;
                let range = addresses(v.trim())
                    .ok_or_else(|| (value.span.start, format!("`{v}` is not a CIDR or an address")))?;
                single = Some((PeerForm::Addresses(range), v.trim().to_string(), "cidr"));
            }
            "internet" => {
                if !value.is_null() {
                    return Err((value.span.start, "`internet` takes no value: write `{internet}`".to_string()));
                }
                single = Some((PeerForm::Internet, "{internet}".to_string(), "internet"));
            }
            other => {
                return Err((
                    key.span.start,
                    format!(
                    "unknown peer key `{other}`; expected namespace, namespace-labels, pod-labels, workload, tenant, \
                         cidr or internet"
                ),
                ))
            }
        }
    }
    if let Some((form, text, what)) = single {
        if keys.len() > 1 {
            let other = keys.iter().find(|(k, _)| *k != what).map_or(keys[0], |k| *k);
            return Err((other.1.start, format!("`{what}` stands alone in a peer; `{}` cannot join it", other.0)));
        }
        return Ok((form, text));
    }
    let namespaces = match (namespace, namespace_labels) {
        (Some(_), Some(_)) => {
            let at = keys.iter().find(|(k, _)| *k == "namespace-labels").map_or(node.span, |k| k.1);
            return Err((at.start, "a peer takes `namespace` or `namespace-labels`, not both".to_string()));
        }
        (Some(n), None) => Namespaces::Named(n),
        (None, Some(l)) => Namespaces::Labelled(l),
        (None, None) if pods.is_some() => Namespaces::Any,
        (None, None) => return Err((node.span.start, "a peer mapping names nothing".to_string())),
    };
    let mut text = match &namespaces {
        Namespaces::Named(n) => format!("namespace {n}"),
        Namespaces::Labelled(l) => format!("namespaces {}", labels_text(l)),
        Namespaces::Any => String::new(),
    };
    if let Some(p) = &pods {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("pods {}", labels_text(p)));
    }
    Ok((PeerForm::Pods { namespaces, pods }, text))
}

/// A peer written as a string.
fn peer_text(text: &str) -> Result<PeerForm, String> {
    match text {
        "*" => return Ok(PeerForm::Any),
        "{internet}" => return Ok(PeerForm::Internet),
        "" => return Err("a peer must not be empty".to_string()),
        _ => {}
    }
    if let Some(range) = addresses(text) {
        return Ok(PeerForm::Addresses(range));
    }
    let Some((namespace, rest)) = text.split_once('/') else {
        if is_namespace_name(text) {
            return Ok(PeerForm::Pods { namespaces: Namespaces::Named(text.to_string()), pods: None });
        }
        return Err(format!(
            "`{text}` is no peer; expected `*`, `{{internet}}`, a CIDR, `namespace/name[Kind]` or a namespace name"
        ));
    };
    if !is_namespace_name(namespace) {
        return Err(format!("`{text}`: `{namespace}` is no namespace name ({NAMESPACE_NAME})"));
    }
    if rest == "*" {
        return Ok(PeerForm::Pods { namespaces: Namespaces::Named(namespace.to_string()), pods: None });
    }
    let (name, kind) = match rest.split_once('[') {
        Some((name, kind)) => {
            let kind = kind.strip_suffix(']').filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()));
            let kind = kind.ok_or_else(|| format!("`{text}`: a kind is written `[Kind]`, e.g. `[Deployment]`"))?;
            (name, Some(kind.to_string()))
        }
        None => (rest, None),
    };
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !valid {
        return Err(format!("`{text}`: `{name}` is no workload name"));
    }
    Ok(PeerForm::Workload { namespace: namespace.to_string(), name: name.to_string(), kind })
}

/// A CIDR or a single address.
fn addresses(text: &str) -> Option<IpRange> {
    if let Ok(r) = parse_cidr(text) {
        return Some(r);
    }
    if !text.chars().all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':') || !text.contains(['.', ':']) {
        return None;
    }
    let bits = if text.contains(':') { 128 } else { 32 };
    parse_cidr(&format!("{text}/{bits}")).ok()
}

/// `ports:` one item or a list: numbers, ranges, names, protocols; and how they are written.
fn read_ports(node: &Node) -> Located<(Vec<PortItem>, String)> {
    let items: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    if items.is_empty() {
        return Err((node.span.start, "`ports` must not be empty; leave it out for any connection".to_string()));
    }
    let mut out = Vec::new();
    let mut texts = Vec::new();
    for item in items {
        let text = item
            .as_scalar()
            .map(|s| s.text.trim().to_string())
            .ok_or_else(|| (item.span.start, "a port is a number, a range, a name or a protocol".to_string()))?;
        let port = port_item(&text).map_err(|m| (item.span.start, m))?;
        texts.push(match &port {
            PortItem::Numbers(p, a, b) if a == b => format!("{p} {a}"),
            PortItem::Numbers(p, a, b) => format!("{p} {a}-{b}"),
            PortItem::Named(p, n) => format!("{p} `{n}`"),
            PortItem::Protocol(p) => format!("{p} every port"),
        });
        out.push(port);
    }
    Ok((out, texts.join(", ")))
}

fn port_item(text: &str) -> Result<PortItem, String> {
    if let Some(p) = Protocol::parse(text) {
        return Ok(PortItem::Protocol(p));
    }
    let (port, protocol) = match text.split_once('/') {
        Some((port, proto)) => {
            let p = Protocol::parse(proto)
                .ok_or_else(|| format!("`{text}`: protocol `{proto}`; expected TCP, UDP or SCTP"))?;
            (port, p)
        }
        None => (text, Protocol::Tcp),
    };
    let number = |s: &str| -> Result<u16, String> {
        match s.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(format!("`{text}`: `{s}` is no port number (1 to 65535)")),
        }
    };
    if port.chars().all(|c| c.is_ascii_digit()) {
        let n = number(port)?;
        return Ok(PortItem::Numbers(protocol, n, n));
    }
    if let Some((a, b)) = port.split_once('-').filter(|(a, b)| {
        a.chars().all(|c| c.is_ascii_digit()) && !a.is_empty() && !b.is_empty() && b.chars().all(|c| c.is_ascii_digit())
    }) {
        let (a, b) = (number(a)?, number(b)?);
        if a > b {
            return Err(format!("`{text}`: the range is empty"));
        }
        return Ok(PortItem::Numbers(protocol, a, b));
    }
    // A container port name (IANA service name): lowercase letters, digits and `-`, a letter.
    let valid = !port.is_empty()
        && port.len() <= 15
        && port.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && port.chars().any(|c| c.is_ascii_lowercase());
    if !valid {
        return Err(format!("`{text}` is no port: expected a number, a range `a-b`, a port name or a protocol, with an optional `/TCP`, `/UDP` or `/SCTP`"));
    }
    Ok(PortItem::Named(protocol, port.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
    use crate::span::Pos;
    use std::path::Path;

    fn read_ok(text: &str) -> Vec<Expectation> {
        parse(Path::new("c.yaml"), text).unwrap_or_else(|e| panic!("{e}")).expect
    }

    fn error_at(text: &str) -> ((u32, u32), String) {
        let e = parse(Path::new("c.yaml"), text).unwrap_err();
        let at = e.at.unwrap_or(Pos { line: 0, col: 0 });
        ((at.line, at.col), e.message)
    }

    #[test]
    fn every_peer_form_reads() {
        let list = read_ok(
            "tenants: {label: tenant}\nexpect:\n  - name: all-forms\n    deny:\n      from: ['*', '{internet}', 10.0.0.0/8, 192.168.1.1, shop-web/frontend, 'shop-api/api[Deployment]', shop-data/*, billing]\n      to:\n        - {namespace: shop-web}\n        - {namespace-labels: {team: a}, pod-labels: {app: web}}\n        - {pod-labels: {app: db}}\n        - {workload: shop/api}\n        - {tenant: shop}\n        - {cidr: 0.0.0.0/0}\n        - {internet}\n      ports: [443, 8000-8100/UDP, http, SCTP]\n",
        );
        let e = &list[0];
        assert_eq!(e.index, 1);
        assert_eq!(e.name.as_deref(), Some("all-forms"));
        assert_eq!(e.verdict, Verdict::Deny);
        assert_eq!(e.span.start, Pos { line: 4, col: 5 });
        let from: Vec<&PeerForm> = e.from.forms.iter().map(|(f, _)| f).collect();
        assert_eq!(from[0], &PeerForm::Any);
        assert_eq!(from[1], &PeerForm::Internet);
        assert!(matches!(from[2], PeerForm::Addresses(_)));
        assert!(matches!(from[3], PeerForm::Addresses(r) if r.first == r.last));
        assert_eq!(from[4], &PeerForm::Workload { namespace: "shop-web".into(), name: "frontend".into(), kind: None });
        assert_eq!(
            from[5],
            &PeerForm::Workload { namespace: "shop-api".into(), name: "api".into(), kind: Some("Deployment".into()) }
        );
        assert_eq!(from[6], &PeerForm::Pods { namespaces: Namespaces::Named("shop-data".into()), pods: None });
        assert_eq!(from[7], &PeerForm::Pods { namespaces: Namespaces::Named("billing".into()), pods: None });
        let to: Vec<&PeerForm> = e.to.forms.iter().map(|(f, _)| f).collect();
        assert!(matches!(to[1], PeerForm::Pods { namespaces: Namespaces::Labelled(_), pods: Some(_) }));
        assert!(matches!(to[2], PeerForm::Pods { namespaces: Namespaces::Any, pods: Some(_) }));
        assert_eq!(to[4], &PeerForm::Tenant("shop".into()));
        assert_eq!(to[6], &PeerForm::Internet);
        assert_eq!(
            e.ports,
            vec![
                PortItem::Numbers(Protocol::Tcp, 443, 443),
                PortItem::Numbers(Protocol::Udp, 8000, 8100),
                PortItem::Named(Protocol::Tcp, "http".into()),
                PortItem::Protocol(Protocol::Sctp)
            ]
        );
        assert_eq!(e.ports_text, "TCP 443, UDP 8000-8100, TCP `http`, SCTP every port");
    }

    #[test]
    fn malformed_expectations_are_located_errors() {
        let cases: &[(&str, (u32, u32), &str)] = &[
            ("expect: {a: 1}\n", (1, 9), "must be a list"),
            ("expect:\n  - from: a\n", (2, 5), "unknown key `from`"),
            ("expect:\n  - name: x\n", (2, 5), "needs `allow` or `deny`"),
            ("expect:\n  - allow: {from: a, to: b}\n    deny: {from: a, to: b}\n", (3, 5), "not both"),
            ("expect:\n  - deny: {from: a}\n", (2, 11), "needs `to`"),
            ("expect:\n  - deny: {from: a, to: b, port: [1]}\n", (2, 28), "unknown key `port`"),
            ("expect:\n  - deny: {from: Shop, to: b}\n", (2, 18), "is no peer"),
            ("expect:\n  - deny: {from: a/B_c, to: b}\n", (2, 18), "no workload name"),
            ("expect:\n  - deny: {from: 'a/b[', to: b}\n", (2, 18), "[Kind]"),
            ("expect:\n  - deny: {from: {namespace: a, tenant: x}, to: b}\n", (2, 19), "stands alone"),
            ("expect:\n  - deny: {from: {namespace: a, namespace-labels: {x: y}}, to: b}\n", (2, 33), "not both"),
            ("expect:\n  - deny: {from: {pods: {a: b}}, to: b}\n", (2, 19), "unknown peer key `pods`"),
            ("expect:\n  - deny: {from: {pod-labels: {}}, to: b}\n", (2, 31), "names no label"),
            ("expect:\n  - deny: {from: {cidr: 10.0.0.0/33}, to: b}\n", (2, 25), "not a CIDR"),
            ("expect:\n  - deny: {from: [], to: b}\n", (2, 18), "must not be empty"),
            ("expect:\n  - deny: {from: a, to: b, ports: [70000]}\n", (2, 36), "no port number"),
            ("expect:\n  - deny: {from: a, to: b, ports: [9-1]}\n", (2, 36), "range is empty"),
            ("expect:\n  - deny: {from: a, to: b, ports: [80/ICMP]}\n", (2, 36), "protocol `ICMP`"),
            ("expect:\n  - deny: {from: a, to: b, ports: [Http_Port]}\n", (2, 36), "is no port"),
            ("expect:\n  - deny: {from: a, to: b, ports: []}\n", (2, 35), "must not be empty"),
            ("expect:\n  - deny: {from: '{internet}', to: 10.0.0.0/8}\n", (2, 11), "one side must name workloads"),
            (
                "expect:\n  - {name: x, deny: {from: a, to: b}}\n  - {name: x, deny: {from: a, to: b}}\n",
                (3, 12),
                "named twice",
            ),
            ("expect:\n  - {name: '3', deny: {from: a, to: b}}\n", (2, 12), "is a number"),
            ("expect:\n  - deny: {from: {tenant: a}, to: b}\n", (2, 18), "tenants.label"),
            ("expect:\n  - deny: {from: {internet: yes}, to: b}\n", (2, 29), "takes no value"),
        ];
        let mut wrong = Vec::new();
        for (text, at, message) in cases {
            let (pos, m) = error_at(text);
            if !m.contains(message) || pos != *at {
                wrong.push(format!("{text:?}: {pos:?} `{m}`, expected {at:?} `{message}`"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}

//! `kubereach explain`: a verdict and the policies and rules behind it, per direction, with
//! their locations. The graph answers in types ([`Explanation`], the entries' typed sources,
//! guards and request matches); every word of the answer is chosen here.

use std::io::{self, Write};

use crate::graph::explain::{Explanation, Party, Side};
use crate::graph::routes::EntryKind;
use crate::graph::{Conns, Graph};
use crate::load::Files;
use crate::model::net::Protocol;
use crate::model::{Direction, Model};
use crate::rules::words::{guard_words, object_words, request_words, seen_source_words, via_words};
use crate::span::Location;

/// A port asked about: `8080/TCP` (TCP when no protocol is given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortQuery {
    pub port: u16,
    pub protocol: Protocol,
}

impl PortQuery {
    pub fn parse(s: &str) -> Option<PortQuery> {
        match PortArg::parse(s)? {
            PortArg::Number(q) => Some(q),
            PortArg::Named(..) => None,
        }
    }
}

/// Written as the connections are (`TCP 8080`), so that the question and the answer's rules
/// print a port one way.
impl std::fmt::Display for PortQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.protocol, self.port)
    }
}

/// `--port` as written: a number, or a container port's name (`http`, `metrics/TCP`), with an
/// optional protocol (`/TCP`, `/udp`; the number's default is TCP, a name's is the named port's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortArg {
    Number(PortQuery),
    Named(String, Option<Protocol>),
}

impl PortArg {
    pub fn parse(s: &str) -> Option<PortArg> {
        let s = s.trim();
        let (port, protocol) = match s.split_once('/') {
            Some((p, proto)) => (p, Some(Protocol::parse(&proto.to_ascii_uppercase())?)),
            None => (s, None),
        };
        if port.bytes().all(|b| b.is_ascii_digit()) {
            let port = port.parse().ok().filter(|p| *p > 0)?;
            return Some(PortArg::Number(PortQuery { port, protocol: protocol.unwrap_or(Protocol::Tcp) }));
        }
        // A container port's name: an IANA service name (lowercase letters, digits and `-`).
        let named = !port.is_empty()
            && port.len() <= 15
            && port.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        named.then(|| PortArg::Named(port.to_string(), protocol))
    }
}

pub fn party_name(graph: &Graph, party: &Party) -> String {
    match party {
        Party::Peer(p) => graph.peers[p.index()].name.clone(),
        Party::Addresses(range) => format!("{range}[External]"),
        Party::Internet => "{internet}".to_string(),
        Party::IngressController => crate::graph::INGRESS_CONTROLLER.to_string(),
        Party::Gateway(g) => graph.endpoint_name(&crate::graph::Endpoint::Gateway(*g)),
    }
}

fn at(files: &Files, location: Location) -> String {
    // A rendered object's place is where it was rendered from.
    let location = files.resolve(location);
    format!("{}:{}:{}", files.display(location.file), location.span.start.line, location.span.start.col)
}

fn verdict(conns: &Conns, port: Option<PortQuery>) -> String {
    match port {
        Some(q) if conns.allows(q.protocol, q.port) => format!("allowed on {q}"),
        Some(q) => format!("denied on {q}"),
        None if conns.is_empty() => "denied on every port".to_string(),
        None if conns.is_all() => "allowed on every port and protocol".to_string(),
        None => format!("allowed on {conns}"),
    }
}

/// Writes the explanation. Returns whether the connection (or the asked port) is allowed.
pub fn write(
    explanation: &Explanation,
    graph: &Graph,
    model: &Model,
    files: &Files,
    port: Option<PortQuery>,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let from = party_name(graph, &explanation.from);
    let to = party_name(graph, &explanation.to);
    let allowed = match port {
        Some(q) => explanation.allowed.allows(q.protocol, q.port),
        None => !explanation.allowed.is_empty(),
    };
    writeln!(out, "{from} => {to}: {}", verdict(&explanation.allowed, port))?;
    if !graph.profile.dataplane.enforces() {
        writeln!(
            out,
            "  {}: the dataplane enforces no NetworkPolicy, so no policy below filters anything",
            graph.profile.describe()
        )?;
    }
    let several = explanation.pairs.len() > 1;
    for pair in &explanation.pairs {
        if several {
            let (sc, dc) = (pair.egress.as_ref().map(|s| s.class), pair.ingress.as_ref().map(|s| s.class));
            writeln!(
                out,
                "\npods {} to pods {}: {}",
                class_text(graph, sc),
                class_text(graph, dc),
                verdict(&pair.allowed, port)
            )?;
        }
        for side in pair.egress.iter().chain(pair.ingress.iter()) {
            let whose = match side.direction {
                Direction::Egress => &from,
                Direction::Ingress => &to,
            };
            write_side(side, whose, model, files, port, out)?;
        }
    }
    if matches!(explanation.from, Party::Internet | Party::IngressController | Party::Gateway(_))
        && explanation.entries.is_empty()
    {
        writeln!(out, "\nno way in leads to {to}: no public LoadBalancer, NodePort, external IP, Ingress, Route or Gateway API route leads to its pods")?;
    }
    for e in &explanation.entries {
        let entry = &graph.entries[e.exposure.entry];
        let kind = match entry.kind {
            EntryKind::LoadBalancer => "public LoadBalancer ",
            EntryKind::NodePort => "NodePorts of ",
            EntryKind::ExternalIp => "external IP of ",
            EntryKind::Ingress | EntryKind::Route | EntryKind::Gateway => "",
        };
        let route = match (&entry.request, entry.via) {
            (Some(r), _) => format!(", {},", request_words(r)),
            (None, Some(via)) => {
                let rule = &model.gateway.routes[via.route].rules[via.rule];
                format!(
                    " rule {} ({}) on {} ({}),",
                    via.rule + 1,
                    at(files, entry.opener.meta(model).at(rule.span)),
                    via_words(entry, model).unwrap_or_default(),
                    at(files, via.listener.location(model))
                )
            }
            (None, None) => String::new(),
        };
        let service = &model.services[entry.service];
        let to_service = if entry.kind.through_controller() {
            format!(" to Service `{}`", service.meta.name)
        } else {
            String::new()
        };
        writeln!(
            out,
            "\nthrough {kind}{}{route}{to_service} ({}){}",
            object_words(entry, model),
            at(files, entry.at),
            if entry.from_internet { "" } else { " [controller not public]" }
        )?;
        writeln!(
            out,
            "  forwards to {} on the pods; the pods see {}",
            e.exposure.wanted,
            seen_source_words(&entry.seen_source)
        )?;
        // A controller the repository does not show is judged two ways, and the answer says which.
        if entry.source == crate::graph::Source::Class(graph.ingress_controller) {
            let assumption = match explanation.from {
                Party::IngressController => {
                    "as in the connectivity list: one unlabelled pod in namespace `ingress-controller-ns`"
                }
                Party::Gateway(_) => "as in the connectivity list: one unlabelled pod of an unknown implementation",
                _ => "which is not known: admitted where a rule could match some controller (another namespace, other labels)",
            };
            writeln!(out, "  {assumption}")?;
        }
        if let Some(guard) = &entry.guard {
            writeln!(out, "  guarded by {}", guard_words(guard))?;
        }
        // A port the entry does not forward is decided here, before any policy.
        if let Some(q) = port.filter(|q| !e.exposure.wanted.allows(q.protocol, q.port)) {
            writeln!(out, "  does not forward {q}: this way in does not reach the pods on it")?;
            continue;
        }
        write_side(&e.ingress, &to, model, files, port, out)?;
    }
    Ok(allowed)
}

/// One decision of a cluster tier's rule: which policy, tier and rule, where, and what it did.
fn write_tier_decision(
    d: &crate::graph::tiers::TierDecision,
    model: &Model,
    files: &Files,
    out: &mut dyn Write,
) -> io::Result<()> {
    use crate::model::tier::Action;
    let p = &model.tier_policies[d.policy];
    let rule = &p.rules(d.direction)[d.rule];
    let verb = match d.action {
        Action::Allow => format!("{}s", p.kind.allow_word().to_ascii_lowercase()),
        Action::Deny => "denies".to_string(),
        Action::Pass => "passes on".to_string(),
    };
    let priority = p.priority.map(|n| format!(", priority {n}")).unwrap_or_default();
    writeln!(
        out,
        "  {} tier{priority}: {} {} rule {} ({}) {verb} {}",
        p.tier.as_str(),
        p.describe(),
        d.direction.as_str(),
        rule.label(d.rule),
        at(files, p.meta.at(rule.span)),
        d.conns
    )
}

fn class_text(graph: &Graph, class: Option<crate::graph::ClassId>) -> String {
    match class {
        None => "outside the cluster".to_string(),
        Some(c) => {
            let labels = &graph.classes[c.index()].labels;
            let text: Vec<String> = labels.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{{{}}}", text.join(","))
        }
    }
}

fn write_side(
    side: &Side,
    whose: &str,
    model: &Model,
    files: &Files,
    port: Option<PortQuery>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let direction = side.direction.as_str();
    writeln!(out, "\n{direction} of {whose}: {}", verdict(&side.allows, port))?;
    for &pi in &side.inert_tiers {
        let p = &model.tier_policies[pi];
        writeln!(
            out,
            "  {} ({}) applies to these pods, but the profile's dataplane does not enforce the cluster tiers",
            p.describe(),
            at(files, p.meta.location())
        )?;
    }
    for &pi in &side.inert {
        let p = &model.policies[pi];
        writeln!(
            out,
            "  selected by NetworkPolicy `{}` ({}), which the profile's dataplane does not enforce on these pods",
            p.meta.name,
            at(files, p.meta.location())
        )?;
    }
    // The Admin tier first, then (for what it leaves) the NetworkPolicies, then the Baseline tier.
    let (admin, baseline): (Vec<_>, Vec<_>) =
        side.tiers.iter().partition(|d| model.tier_policies[d.policy].tier == crate::model::tier::Tier::Admin);
    for d in &admin {
        write_tier_decision(d, model, files, out)?;
    }
    if let Some(left) = &side.to_network_policies {
        if left.is_empty() && side.isolating.is_empty() && baseline.is_empty() && side.by_default.is_empty() {
            writeln!(out, "  the Admin tier decided every connection")?;
            return Ok(());
        }
        if left.is_empty() && !side.isolating.is_empty() {
            writeln!(out, "  the Admin tier decided every connection before NetworkPolicies")?;
            return Ok(());
        }
    }
    if side.isolating.is_empty() {
        if side.to_network_policies.is_none() {
            writeln!(out, "  not isolated: no enforced NetworkPolicy selects these pods for {direction}")?;
            return Ok(());
        }
        if !baseline.is_empty() {
            writeln!(out, "  no enforced NetworkPolicy selects these pods for {direction}: the Baseline tier decides")?;
        }
        for d in &baseline {
            write_tier_decision(d, model, files, out)?;
        }
        if !side.by_default.is_empty() {
            writeln!(out, "  allowed by default (no tier rule matches): {}", side.by_default)?;
        }
        return Ok(());
    }
    for &pi in &side.isolating {
        let p = &model.policies[pi];
        writeln!(out, "  isolated by NetworkPolicy `{}` ({})", p.meta.name, at(files, p.meta.location()))?;
    }
    if side.admitting.is_empty() {
        match &side.to_network_policies {
            Some(left) => writeln!(
                out,
                "  no {direction} rule of these policies admits what the Admin tier left to them ({left}): denied"
            )?,
            None => writeln!(out, "  no {direction} rule of these policies admits the other side: denied")?,
        }
    }
    // With a port asked about, a rule that admits the other side on other ports only does not
    // admit it: said so, never as "admitted by".
    let admits = |a: &&crate::graph::explain::Admitting| port.is_none_or(|q| a.conns.allows(q.protocol, q.port));
    for a in side.admitting.iter().filter(admits) {
        let p = &model.policies[a.policy];
        let rule = &p.rules(side.direction)[a.rule];
        writeln!(
            out,
            "  admitted by NetworkPolicy `{}` {direction} rule {} ({}): {}",
            p.meta.name,
            a.rule + 1,
            at(files, p.meta.at(rule.span)),
            a.conns
        )?;
    }
    if let Some(q) = port {
        let others: Vec<_> = side.admitting.iter().filter(|a| !admits(a)).collect();
        for a in &others {
            let p = &model.policies[a.policy];
            let rule = &p.rules(side.direction)[a.rule];
            writeln!(
                out,
                "  NetworkPolicy `{}` {direction} rule {} ({}) admits the other side on {}, not on {q}",
                p.meta.name,
                a.rule + 1,
                at(files, p.meta.at(rule.span)),
                a.conns
            )?;
        }
        if !others.is_empty() && !side.admitting.iter().any(|a| admits(&a)) {
            writeln!(out, "  no {direction} rule of these policies admits {q}: denied")?;
        }
    }
    Ok(())
}

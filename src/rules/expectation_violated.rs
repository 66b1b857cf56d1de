//! `expectation-violated`: a reachability expectation of the configuration (`expect:`) that the
//! graph breaks. One finding per expectation and scope, at its `allow` or `deny` key in the
//! configuration file, with the first offending pair as the path: for a `deny`, the source, the
//! rules that admit the connection on each side (or the absence of isolation, or the way in from
//! the internet); for an `allow`, what blocks it. The other offending pairs are related locations.
//!
//! The evaluation is the graph's ([`crate::graph::expect`]); this file only words it. A blocked
//! `allow` is worded cause by cause ([`Block`]), so a new kind of cause gets its own words here.

use super::ids::ExpectationViolated;
use super::words::object_words;
use super::{Context, Rule};
use crate::finding::{Finding, Related};
use crate::graph::expect::{Block, Evidence, Expectation, Status, Verdict, Violation};
use crate::graph::explain::{Party, Side};
use crate::graph::{ClassId, Conns, Graph};
use crate::model::Direction;
use crate::span::Location;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let Some(expectations) = cx.expectations else { return };
    for (i, e) in expectations.list.iter().enumerate() {
        // A side that names nothing anywhere checks nothing: `expectation-matches-nothing` says so.
        if expectations.side_names_nothing(i) {
            continue;
        }
        let Status::Violated { count, violations } = cx.graph.check_expectation(cx.model, e) else { continue };
        let Some(first) = violations.first() else { continue };
        let more = match count - 1 {
            0 => String::new(),
            1 => ", and 1 more pair breaks it".to_string(),
            n => format!(", and {n} more pairs break it"),
        };
        let message = format!("expectation {} (`{}`) is broken: {}{more}", e.label(), e.statement(), what(cx.graph, e, first));
        let mut finding = ExpectationViolated::finding(e.location(), message).with_key(
            format!("Expectation/{}", e.name.clone().unwrap_or_else(|| e.statement())),
            e.verdict.as_str(),
            "",
        );
        finding.path = path(cx, e, first);
        for v in violations.iter().skip(1) {
            if let Some(location) = party_location(cx, &v.to).or_else(|| party_location(cx, &v.from)) {
                finding = finding.with_related(location, what(cx.graph, e, v));
            }
        }
        out.push(finding);
    }
}

fn name(graph: &Graph, party: &Party) -> String {
    match party {
        Party::Peer(p) => graph.peers[p.index()].name.clone(),
        Party::Addresses(r) => format!("{r}[External]"),
        Party::Internet => "{internet}".to_string(),
        Party::IngressController => crate::graph::INGRESS_CONTROLLER.to_string(),
        Party::Gateway(g) => graph.gateway_meta(*g).map(|(ns, n)| format!("{ns}/{n}[Gateway]")).unwrap_or_default(),
    }
}

/// `` `a` can reach `b` on TCP 80 `` (deny), `` `a` cannot reach `b` on TCP 80 `` (allow).
fn what(graph: &Graph, e: &Expectation, v: &Violation) -> String {
    let from = name(graph, &v.from);
    // The destination, quoted: addresses that stand for `{internet}` say so.
    let to = match (&v.to, v.internet) {
        (Party::Addresses(r), true) => format!("`{{internet}}` (at {r})"),
        _ => format!("`{}`", name(graph, &v.to)),
    };
    match e.verdict {
        Verdict::Deny => format!("`{from}` can reach {to} on {}", v.conns),
        Verdict::Allow if v.conns.is_empty() => {
            let names: Vec<String> = match &v.evidence {
                Evidence::Blocked(blocks) => blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::NoSuchPort { protocol, name, .. } => Some(format!("{protocol} `{name}`")),
                        _ => None,
                    })
                    .collect(),
                Evidence::Admitted(_) => Vec::new(),
            };
            format!("{to} declares no port {}", names.join(", "))
        }
        Verdict::Allow if e.ports.is_empty() => format!("`{from}` cannot reach {to} at all"),
        Verdict::Allow => format!("`{from}` cannot reach {to} on {}", v.conns),
    }
}

/// Where a party is written: a workload's name (its first workload).
fn party_location(cx: &Context, party: &Party) -> Option<Location> {
    let Party::Peer(p) = party else { return None };
    let w = *cx.graph.peers[p.index()].workloads.first()?;
    Some(cx.model.workloads[w].meta.location())
}

fn class_location(cx: &Context, class: ClassId) -> Option<Location> {
    let w = *cx.graph.classes[class.index()].workloads.first()?;
    Some(cx.model.workloads[w].meta.location())
}

/// The steps of one side that let `conns` through: its admitting rules, or why nothing filters.
fn admitting_steps(cx: &Context, side: &Side, conns: &Conns, whose: &str, steps: &mut Vec<Related>) {
    let direction = side.direction.as_str();
    // A cluster tier that allows the connections decides before any NetworkPolicy.
    for d in side.tiers.iter().filter(|d| d.action == crate::model::tier::Action::Allow) {
        let admitted = d.conns.intersect(conns);
        if admitted.is_empty() {
            continue;
        }
        let policy = &cx.model.tier_policies[d.policy];
        let rule = &policy.rules(d.direction)[d.rule];
        steps.push(Related {
            location: policy.meta.at(rule.span),
            message: format!(
                "{} {direction} rule {} allows {admitted}, before any NetworkPolicy",
                policy.describe(),
                rule.label(d.rule)
            ),
        });
    }
    let conns = &side.to_network_policies.as_ref().map_or_else(|| conns.clone(), |c| c.intersect(conns));
    if conns.is_empty() {
        return;
    }
    if side.isolating.is_empty() {
        let reason = if !cx.graph.profile.dataplane.enforces() {
            format!("{} enforces no NetworkPolicy", cx.graph.profile.describe())
        } else if !side.inert.is_empty() {
            format!("{} enforces no policy on its pods", cx.graph.profile.describe())
        } else {
            format!("no NetworkPolicy isolates it for {direction}")
        };
        if let Some(location) = class_location(cx, side.class) {
            steps.push(Related { location, message: format!("nothing filters the {direction} of `{whose}`: {reason}") });
        }
        return;
    }
    for a in &side.admitting {
        let admitted = a.conns.intersect(conns);
        if admitted.is_empty() {
            continue;
        }
        let policy = &cx.model.policies[a.policy];
        let rule = &policy.rules(side.direction)[a.rule];
        steps.push(Related {
            location: policy.meta.at(rule.span),
            message: format!("NetworkPolicy `{}` {direction} rule {} admits it on {admitted}", policy.meta.name, a.rule + 1),
        });
    }
}

/// The offending path: the connection and what lets it through, or what blocks it.
fn path(cx: &Context, e: &Expectation, v: &Violation) -> Vec<Related> {
    let graph = cx.graph;
    let (from, to) = (name(graph, &v.from), name(graph, &v.to));
    let mut steps = Vec::new();
    if let Some(location) = party_location(cx, &v.from) {
        let verb = if e.verdict == Verdict::Deny { "opens" } else { "would open" };
        steps.push(Related { location, message: format!("`{from}` {verb} a connection to `{to}`") });
    }
    match &v.evidence {
        Evidence::Admitted(x) => {
            // The first pair of classes (or way in) that lets some of it through.
            if let Some(pair) = x.pairs.iter().find(|p| !p.allowed.intersect(&v.conns).is_empty()) {
                let conns = pair.allowed.intersect(&v.conns);
                if let Some(side) = &pair.egress {
                    admitting_steps(cx, side, &conns, &from, &mut steps);
                }
                if let Some(side) = &pair.ingress {
                    admitting_steps(cx, side, &conns, &to, &mut steps);
                }
            } else if let Some(entry) = x.entries.iter().find(|en| !en.ingress.allows.intersect(&v.conns).is_empty()) {
                let way = &graph.entries[entry.exposure.entry];
                steps.push(Related {
                    location: way.at,
                    message: format!("{} opens a way in from the internet", object_words(way, cx.model)),
                });
                let conns = entry.ingress.allows.intersect(&v.conns);
                admitting_steps(cx, &entry.ingress, &conns, &to, &mut steps);
            }
        }
        Evidence::Blocked(blocks) => {
            for block in blocks {
                match block {
                    Block::Isolation(side) => {
                        let whose = if side.direction == Direction::Egress { &from } else { &to };
                        let direction = side.direction.as_str();
                        for &pi in &side.isolating {
                            let policy = &cx.model.policies[pi];
                            let mut admits = Conns::none();
                            for a in side.admitting.iter().filter(|a| a.policy == pi) {
                                admits.union_with(&a.conns);
                            }
                            let admits = admits.intersect(&v.conns);
                            let verdict = if admits.is_empty() {
                                format!("admits none of {}", v.conns)
                            } else {
                                format!("admits only {admits} of {}", v.conns)
                            };
                            steps.push(Related {
                                location: policy.meta.location(),
                                message: format!(
                                    "NetworkPolicy `{}` isolates `{whose}` for {direction} and {verdict}",
                                    policy.meta.name
                                ),
                            });
                        }
                    }
                    Block::NoSuchPort { class, protocol, name } => {
                        if let Some(location) = class_location(cx, *class) {
                            steps.push(Related {
                                location,
                                message: format!("`{to}` declares no {protocol} port named `{name}`"),
                            });
                        }
                    }
                    Block::Tier(d) => {
                        let policy = &cx.model.tier_policies[d.policy];
                        let rule = &policy.rules(d.direction)[d.rule];
                        let whose = if d.direction == Direction::Egress { &from } else { &to };
                        steps.push(Related {
                            location: policy.meta.at(rule.span),
                            message: format!(
                                "{} {} rule {} denies {} of `{whose}`, before any NetworkPolicy",
                                policy.describe(),
                                d.direction.as_str(),
                                rule.label(d.rule),
                                d.conns.intersect(&v.conns)
                            ),
                        });
                    }
                    Block::NoWayIn => {
                        if let Some(location) = party_location(cx, &v.to) {
                            steps.push(Related {
                                location,
                                message: format!("no way in from the internet leads to `{to}`"),
                            });
                        }
                    }
                }
            }
        }
    }
    steps
}

//! `internet-exposed-workload`: a path from the internet to a workload that its policies let
//! through: a public LoadBalancer, public NodePorts, an external IP, or an Ingress or Route whose
//! controller faces the internet. One finding per entry and workload, located at the entry, with
//! the path (entry, Service port, workload, the rule that admits or the absence of isolation).
//!
//! Levels (DESIGN §6): an error when nothing isolates the pods for ingress; a note when they are
//! isolated and the entry is guarded (TLS-terminated, or restricted to some client addresses by
//! the Service or by the admitting rules); a warning otherwise.
//!
//! The graph describes ways in with types (the opening object, what the pods see as the source,
//! the guard, the request match); the words for them are chosen here, and `ingress-backend-blocked`
//! borrows them so that both rules name a way in alike. `kubereach explain` words its answer in
//! the report stage.

use std::collections::BTreeMap;

use super::Context;
use super::ids::InternetExposedWorkload;
use super::Rule;
use super::words::{guard_words, object_words, request_words, seen_source_words, via_words};
use crate::finding::{Finding, Level, Related};
use crate::graph::routes::{Entry, EntryKind, Guard};
use crate::graph::{ClassId, Conns, PeerId, Source};
use crate::model::net::{Family, IpRange};
use crate::model::{Direction, Model};

/// The words for an entry at the start of a message: ``public LoadBalancer Service `promo` ``.
fn entry_words(entry: &Entry, model: &Model) -> String {
    let object = object_words(entry, model);
    match entry.kind {
        EntryKind::LoadBalancer => format!("public LoadBalancer {object}"),
        EntryKind::NodePort => format!("the NodePorts of {object}"),
        EntryKind::ExternalIp => format!("an external IP of {object}"),
        EntryKind::Ingress | EntryKind::Route => match &entry.request {
            Some(request) => format!("{object} ({})", request_words(request)),
            None => object,
        },
        EntryKind::Gateway => match via_words(entry, model) {
            Some(via) => format!("{object} on {via}"),
            None => object,
        },
    }
}

/// A way in from the internet to a workload, judged: the level and the reason of its finding.
struct Judged {
    entry: usize,
    peer: PeerId,
    /// The workload's classes behind the entry, with what each admits of it.
    classes: Vec<(ClassId, Conns)>,
    admitted: Conns,
    isolated: bool,
    level: Level,
    why: String,
    /// Why nothing filters the traffic at the pods, when nothing does (`why` but for an entry
    /// whose source ranges are a placeholder).
    unfiltered: String,
}

/// Every way in from the internet that some pods admit, per workload, judged.
fn judge_all(cx: &Context) -> Vec<Judged> {
    let graph = cx.graph;
    // (entry, peer) → classes and what they admit.
    let internet = crate::graph::internet::internet_ranges();
    let mut groups: BTreeMap<(usize, PeerId), Vec<(ClassId, Conns)>> = BTreeMap::new();
    for x in &graph.exposures {
        if !graph.entries[x.entry].from_internet || x.admitted.is_empty() {
            continue;
        }
        for &peer in &graph.classes[x.class.index()].peers {
            groups.entry((x.entry, peer)).or_default().push((x.class, x.admitted.clone()));
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    // A Gateway API backend is one entry per listener: listeners of one Gateway that give the same
    // verdict (same guard, same ports) are one finding, at the first.
    let mut said: std::collections::BTreeSet<(crate::span::Location, usize, PeerId, String)> = Default::default();
    for ((ei, peer), classes) in groups {
        let entry = &graph.entries[ei];
        if let Some(via) = entry.via {
            let mut admitted = Conns::none();
            for (_, c) in &classes {
                admitted.union_with(c);
            }
            let verdict = format!("{:?} {admitted}", entry.guard);
            if !said.insert((entry.at, via.listener.gateway, peer, verdict)) {
                continue;
            }
        }
        let mut admitted = Conns::none();
        for (_, c) in &classes {
            admitted.union_with(c);
        }
        let isolated = classes.iter().all(|(c, _)| graph.isolated_by_any_tier(*c, Direction::Ingress));
        let restricted_by_policy = isolated && restricted_by_rules(cx, entry, &classes, &internet);
        let guard = entry
            .guard
            .as_ref()
            .map(guard_words)
            .or_else(|| restricted_by_policy.then(|| "client ranges of its policies".to_string()));
        // Selected by a policy whose rule admits every source on every port (`ingress: [{}]`):
        // isolated in name only, as `workload-not-isolated` says too.
        let open_by_policy = isolated && classes.iter().any(|(c, _)| graph.admits_everything(*c, Direction::Ingress));
        let (level, why) = if !isolated {
            let reason = if !graph.profile.dataplane.enforces() {
                format!("{} enforces no NetworkPolicy", graph.profile.describe())
            } else if classes.iter().any(|(c, _)| graph.classes[c.index()].windows) && !graph.profile.windows_enforced {
                format!("its pods run on Windows nodes, where {} enforces no policy", graph.profile.describe())
            } else {
                "no NetworkPolicy isolates its pods for ingress".to_string()
            };
            (Level::Error, reason)
        } else if open_by_policy {
            (Level::Error, "a NetworkPolicy selects its pods but admits every source on every port".to_string())
        } else if let Some(g) = &guard {
            (Level::Note, format!("its policies admit it, guarded by {g}"))
        } else {
            (
                InternetExposedWorkload::DOC.level,
                "its policies admit it, and the entry is neither TLS-terminated nor source-restricted".to_string(),
            )
        };
        // Source ranges filled at deploy time: the entry may admit a few clients or every address.
        let unfiltered = why.clone();
        let (level, why) = match &entry.guard {
            Some(Guard::Placeholder(text)) => (
                Level::Note,
                format!("its source ranges are a placeholder (`{text}`) filled at deploy time: cannot be judged"),
            ),
            // An error despite source restrictions of the entry (DESIGN §6: the pods are not
            // isolated): the ranges are a fact of the path, as `explain` shows it, so the message
            // names them too. TLS restricts no client, so it is left to `explain`.
            Some(g @ (Guard::SourceRanges(_) | Guard::ControllerAllowlist(_))) if level == Level::Error => {
                (level, format!("{why}, though the entry is guarded by {}", guard_words(g)))
            }
            _ => (level, why),
        };
        out.push(Judged { entry: ei, peer, classes, admitted, isolated, level, why, unfiltered });
    }
    out
}

/// A workload reachable from the internet, as pictures highlight it: the entry (an index of the
/// graph's entries), the workload's peer and the level `check` reports it at by default.
pub(crate) struct InternetExposure {
    pub(crate) entry: usize,
    pub(crate) peer: PeerId,
    pub(crate) level: Level,
}

/// Exactly the exposures this rule reports, typed.
pub(crate) fn internet_exposures(cx: &Context) -> Vec<InternetExposure> {
    judge_all(cx).into_iter().map(|j| InternetExposure { entry: j.entry, peer: j.peer, level: j.level }).collect()
}

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let graph = cx.graph;
    let model = cx.model;
    let mut exposure_of: BTreeMap<(usize, ClassId), usize> = BTreeMap::new();
    for (xi, x) in graph.exposures.iter().enumerate() {
        exposure_of.insert((x.entry, x.class), xi);
    }
    for Judged { entry: ei, peer, classes, admitted, isolated, level, why, unfiltered } in judge_all(cx) {
        let entry = &graph.entries[ei];
        let peer_name = &graph.peers[peer.index()].name;
        let verdicts: Vec<_> = classes
            .iter()
            .filter_map(|(c, _)| exposure_of.get(&(ei, *c)))
            .map(|&xi| {
                let x = &graph.exposures[xi];
                (x, graph.entry_side(model, x, true))
            })
            .collect();
        let service = &model.services[entry.service];
        let mut path = match entry.via {
            // Listener, then the route rule and its backend.
            Some(via) => {
                let route = &model.gateway.routes[via.route];
                let gateway = &model.gateway.gateways[via.listener.gateway];
                vec![
                    Related {
                        location: via.listener.location(model),
                        message: format!(
                            "{} opens a way in from the internet",
                            via_words(entry, model).unwrap_or_default()
                        ),
                    },
                    Related {
                        location: route.meta.at(route.rules[via.rule].span),
                        message: format!(
                            "{} `{}` rule {}, attached to Gateway `{}`, matches requests",
                            route.kind.as_str(),
                            route.meta.name,
                            via.rule + 1,
                            gateway.meta.name
                        ),
                    },
                    Related {
                        location: entry.at,
                        message: format!("its backendRef sends them to Service `{}`", service.meta.name),
                    },
                ]
            }
            None => vec![Related {
                location: entry.at,
                message: {
                    // "the NodePorts of …" are several.
                    let verb = if entry.kind == EntryKind::NodePort { "open" } else { "opens" };
                    format!("{} {verb} a way in from the internet", entry_words(entry, model))
                },
            }],
        };
        if let Some(&first) = entry.ports.first() {
            let forwards: Vec<String> = entry
                .ports
                .iter()
                .map(|&pi| {
                    let p = &service.ports[pi];
                    format!("port {}/{} to target port {}", p.port, p.protocol, p.target)
                })
                .collect();
            path.push(Related {
                location: service.meta.at(service.ports[first].span),
                message: format!("Service `{}` forwards {} of its pods", service.meta.name, forwards.join(", ")),
            });
        }
        let workload = classes
            .iter()
            .flat_map(|(c, _)| graph.classes[c.index()].workloads.iter())
            .copied()
            .find(|w| graph.peers[peer.index()].workloads.contains(w));
        if let Some(w) = workload.map(|w| &model.workloads[w]) {
            path.push(Related {
                location: w.meta.at(w.pod_labels_span.unwrap_or(w.meta.name_span)),
                message: format!(
                    "{} `{}` runs the pods, which see {}",
                    w.meta.kind,
                    w.meta.name,
                    seen_source_words(&entry.seen_source)
                ),
            });
            if isolated {
                for (x, side) in &verdicts {
                    for a in &side.admitting {
                        let policy = &model.policies[a.policy];
                        let rule = &policy.ingress[a.rule];
                        path.push(Related {
                            location: policy.meta.at(rule.span),
                            message: format!(
                                "NetworkPolicy `{}` ingress rule {} admits it on {}",
                                policy.meta.name,
                                a.rule + 1,
                                a.conns.intersect(&x.wanted)
                            ),
                        });
                    }
                }
            } else {
                path.push(Related {
                    location: w.meta.location(),
                    message: format!("nothing filters traffic to {} `{}`: {unfiltered}", w.meta.kind, w.meta.name),
                });
            }
        }
        let mut finding = Finding::new(InternetExposedWorkload::ID,
            level,
            entry.at,
            format!(
                "`{peer_name}` {} from the internet through {} on {admitted}: {why}",
                // Placeholder source ranges: reachable or not depends on the value.
                if matches!(entry.guard, Some(Guard::Placeholder(_))) { "may be reachable" } else { "is reachable" },
                entry_words(entry, model)
            ),
        )
        // The route and the admitted ports are part of the identity: a change that opens another
        // path or another port of the same workload is a new exposure (`--diff-base`, baselines).
        .with_key(
            entry.opener.meta(model).key(),
            match (entry.request.as_ref().map(request_words), entry.via) {
                (Some(route), _) => format!("{}:{}:{route}", entry.field, entry.kind.as_str()),
                (None, Some(via)) => {
                    let gateway = &model.gateway.gateways[via.listener.gateway].meta;
                    let listener = via.listener.listener(model);
                    format!(
                        "{}:{}:rule {}:{}/{}/{}",
                        entry.field,
                        entry.kind.as_str(),
                        via.rule + 1,
                        gateway.namespace,
                        gateway.name,
                        listener.name
                    )
                }
                (None, None) => format!("{}:{}", entry.field, entry.kind.as_str()),
            },
            format!("{peer_name} {admitted}"),
        );
        finding.path = path;
        out.push(finding);
    }
}

/// Whether the rules that admit the entry's clients admit only some addresses: the pods see the
/// client (not a node or a controller), and no admitting rule covers every address.
fn restricted_by_rules(cx: &Context, entry: &Entry, classes: &[(ClassId, Conns)], internet: &[IpRange]) -> bool {
    // Only where the pods see every internet client: not a node's address, nor clients the
    // Service already restricts.
    let Source::Addresses(ranges) = &entry.source else { return false };
    if ranges.as_slice() != internet {
        return false;
    }
    // Restricted when, in each address family, no admitted port is open to every internet client
    // (`0.0.0.0/0 except 10.0.0.0/8` and `::/0` restrict nothing).
    classes.iter().all(|(c, admitted)| {
        [Family::V4, Family::V6].iter().all(|family| {
            let mut open_to_all: Option<Conns> = None;
            for range in ranges.iter().filter(|r| r.family == *family) {
                let here = cx.graph.admits_every_address(cx.model, *c, range);
                open_to_all = Some(match open_to_all {
                    None => here,
                    Some(prev) => prev.intersect(&here),
                });
            }
            open_to_all.is_none_or(|conns| conns.intersect(admitted).is_empty())
        })
    })
}

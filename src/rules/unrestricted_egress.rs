//! `unrestricted-egress`: a workload whose egress a policy isolates, yet that may still connect
//! to every external address on every port. When the rules that open everything do so through a
//! CIDR written with host bits (`52.207.37.75/0`), the message names that CIDR.

use super::Context;
use super::ids::UnrestrictedEgress;
use super::words::host_bits_words;
use super::Rule;
use crate::finding::Finding;
use crate::model::net::{Family, HostBits, IpRange};
use crate::model::{Direction, PeerSelector};
use rustc_hash::FxHashMap;

pub fn check(cx: &Context, out: &mut Vec<Finding>) {
    let anywhere = IpRange::whole(Family::V4);
    // What a class's egress admits towards addresses depends only on the policies that isolate
    // it (their `ipBlock`s and numeric ports): classes selected by the same policies share the
    // answer, which costs a pass over every address range of the repository.
    let mut everywhere_by_policies: FxHashMap<&[usize], bool> = FxHashMap::default();
    for (id, class) in cx.graph.classes.iter().enumerate() {
        if class.pseudo || !cx.graph.isolated(crate::graph::ClassId::new(id), Direction::Egress) {
            continue;
        }
        let everywhere = *everywhere_by_policies
            .entry(&class.egress_policies)
            .or_insert_with(|| cx.graph.egress_to_external(crate::graph::ClassId::new(id), &anywhere).is_all());
        if !everywhere {
            continue;
        }
        // The rules that open everything, for the related locations.
        // With the CIDR written with host bits when that typo is what opens the rule to everything.
        let mut admitting = Vec::new();
        for &pi in &class.egress_policies {
            let policy = &cx.model.policies[pi];
            for rule in &policy.egress {
                if rule.ports.is_some() {
                    continue;
                }
                let (everywhere, typo) = match &rule.peers {
                    None => (true, None),
                    Some(peers) => {
                        let whole: Vec<&PeerSelector> = peers
                            .iter()
                            .filter(|p| {
                                matches!(p, PeerSelector::IpBlock { cidr, except, .. } if cidr.is_whole() && except.is_empty())
                            })
                            .collect();
                        let typos: Vec<&HostBits> = whole.iter().filter_map(|p| p.cidr_host_bits()).collect();
                        (!whole.is_empty(), typos.first().copied().filter(|_| typos.len() == whole.len()))
                    }
                };
                if everywhere {
                    admitting.push((policy.meta.at(rule.span), policy.meta.name.clone(), typo));
                }
            }
        }
        // Every rule that opens everything does so through a typo: the message names it.
        let cause = match admitting.as_slice() {
            [(_, name, Some(h)), rest @ ..] if rest.iter().all(|(_, _, t)| t.is_some()) => {
                format!(": NetworkPolicy `{name}` admits it {}", host_bits_words(h))
            }
            _ => String::new(),
        };
        for &w in &class.workloads {
            let workload = &cx.model.workloads[w];
            let mut finding = UnrestrictedEgress::finding(workload.meta.location(),
                format!(
                    "{} `{}` may connect to every external address on every port, although a NetworkPolicy isolates its egress{cause}",
                    workload.meta.kind, workload.meta.name
                ),
            )
            .with_key(workload.meta.key(), "metadata.name", "0.0.0.0/0");
            for (location, name, typo) in &admitting {
                let how = typo.map(|h| format!(" {}", host_bits_words(h))).unwrap_or_default();
                finding = finding.with_related(*location, format!("NetworkPolicy `{name}` allows all egress here{how}"));
            }
            out.push(finding);
        }
    }
}

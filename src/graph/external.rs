//! Each peer's connections to and from addresses outside the cluster: the allowances read over
//! the address atoms, merged into maximal ranges with equal connections. Computed once while the
//! graph is built; [`super::edges`] streams them. It reads allowances, never policies: what a
//! rule admits is decided in [`super::admissions`] alone.

use rayon::prelude::*;

use super::admissions::Allowance;
use super::{Builder, Conns};
use crate::model::net::IpRange;
use crate::model::Direction;

/// Connections towards the external atoms, as a step function: each segment starts at an atom
/// index and holds until the next segment's start (the last until the last atom). Segments are
/// sorted by start, and the first starts at 0. An allowance changes only where one of its
/// ipBlock runs begins or ends, so a peer has a few segments where there are thousands of atoms.
type Segments = Vec<(usize, Conns)>;

impl Builder<'_> {
    /// The connections of a class towards (egress) or from (ingress) the external atoms. Tier
    /// steps match addresses only through `networks`, on egress: a chain without them leaves the
    /// NetworkPolicy answer as it is (its steps match no address, so what is not isolated stays
    /// open and what is isolated is decided by NetworkPolicies).
    fn class_atom_conns(&self, class: super::ClassId, direction: Direction, allowance: Option<&Allowance>) -> Segments {
        let networks = direction == Direction::Egress && self.g.chain(class, direction).any(|s| !s.atoms.is_empty());
        if !networks {
            return self.atom_conns(allowance);
        }
        let mut segments: Segments = Vec::new();
        for i in 0..self.g.ip_space.atoms.len() {
            let conns = self.g.egress_to_atom(class, allowance, i);
            if segments.last().is_none_or(|(_, last)| *last != conns) {
                segments.push((i, conns));
            }
        }
        segments
    }

    /// What an allowance admits per atom: what its peer-less rules give everywhere, and its
    /// ipBlock runs where they lie, evaluated once per segment between run boundaries.
    fn atom_conns(&self, allowance: Option<&Allowance>) -> Segments {
        let Some(a) = allowance else {
            return vec![(0, Conns::all())];
        };
        if a.by_atoms.is_empty() {
            return vec![(0, a.everyone.clone())];
        }
        let n = self.g.ip_space.atoms.len();
        let mut starts: Vec<usize> = Vec::with_capacity(2 * a.by_atoms.len() + 1);
        starts.push(0);
        for (first, last, _) in &a.by_atoms {
            starts.push(*first);
            if last + 1 < n {
                starts.push(last + 1);
            }
        }
        starts.sort_unstable();
        starts.dedup();
        starts
            .into_iter()
            .map(|start| {
                let mut conns = a.everyone.clone();
                for (first, last, c) in &a.by_atoms {
                    if *first <= start && start <= *last {
                        conns.union_with(&self.g.conns[c.index()]);
                    }
                }
                (start, conns)
            })
            .collect()
    }

    /// Each peer's connections to and from addresses outside the cluster, as maximal ranges.
    ///
    /// Peers are computed in parallel, a chunk at a time; their ranges are then interned in peer
    /// order (egress before ingress), so that ids do not depend on the number of threads.
    pub(super) fn external_edges(&mut self, inbound: &[Option<Allowance>], outbound: &[Option<Allowance>]) {
        const CHUNK: usize = 4096;
        let n = self.g.peers.len();
        self.g.external_out = Vec::with_capacity(n);
        self.g.external_in = Vec::with_capacity(n);
        for start in (0..n).step_by(CHUNK) {
            let this = &*self;
            let ranges: Vec<[Vec<(IpRange, Conns)>; 2]> = (start..(start + CHUNK).min(n))
                .into_par_iter()
                .map(|p| {
                    [(Direction::Egress, outbound), (Direction::Ingress, inbound)]
                        .map(|(direction, allowances)| this.peer_ranges(p, direction, allowances))
                })
                .collect();
            for [egress, ingress] in ranges {
                let egress = egress.into_iter().map(|(range, conns)| (range, self.intern(conns))).collect();
                let ingress = ingress.into_iter().map(|(range, conns)| (range, self.intern(conns))).collect();
                self.g.external_out.push(egress);
                self.g.external_in.push(ingress);
            }
        }
    }

    /// One peer's connections towards (egress) or from (ingress) external addresses, as maximal
    /// ranges: the union over its classes.
    fn peer_ranges(&self, p: usize, direction: Direction, allowances: &[Option<Allowance>]) -> Vec<(IpRange, Conns)> {
        let mut combined: Option<Segments> = None;
        for &c in &self.g.peers[p].classes {
            let this = self.class_atom_conns(c, direction, allowances[c.index()].as_ref());
            combined = Some(match combined {
                None => this,
                Some(prev) => union_segments(&prev, &this),
            });
        }
        combined.map(|combined| merge_ranges(&self.g.ip_space.atoms, &combined)).unwrap_or_default()
    }
}

/// The union of two step functions over the same atoms: a segment starts wherever one of them
/// does.
fn union_segments(a: &Segments, b: &Segments) -> Segments {
    if a.is_empty() || b.is_empty() {
        return if a.is_empty() { b.clone() } else { a.clone() };
    }
    let mut starts: Vec<usize> = a.iter().chain(b.iter()).map(|(start, _)| *start).collect();
    starts.sort_unstable();
    starts.dedup();
    let at = |segments: &'_ Segments, i: usize| -> usize {
        segments.partition_point(|(start, _)| *start <= i).saturating_sub(1)
    };
    let mut out: Segments = Vec::with_capacity(starts.len());
    for start in starts {
        let mut conns = a[at(a, start)].1.clone();
        conns.union_with(&b[at(b, start)].1);
        if out.last().is_none_or(|(_, last)| *last != conns) {
            out.push((start, conns));
        }
    }
    out
}

/// Maximal ranges of adjacent atoms (of one family) with equal, non-empty connections. The atoms
/// of a family are adjacent from its first address to its last, so a segment is one range per
/// family it spans, found without reading the atoms between its ends.
fn merge_ranges(atoms: &[IpRange], segments: &Segments) -> Vec<(IpRange, Conns)> {
    let mut out: Vec<(IpRange, Conns)> = Vec::new();
    let mut push = |range: IpRange, c: &Conns| {
        if c.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((prev, pc))
                if prev.family == range.family && prev.last.checked_add(1) == Some(range.first) && pc == c =>
            {
                prev.last = range.last;
            }
            _ => out.push((range, c.clone())),
        }
    };
    for (k, (start, conns)) in segments.iter().enumerate() {
        let end = segments.get(k + 1).map_or(atoms.len(), |(next, _)| *next);
        let Some(segment) = atoms.get(*start..end) else { continue };
        let (Some(first), Some(last)) = (segment.first(), segment.last()) else { continue };
        if first.family == last.family {
            push(IpRange { last: last.last, ..*first }, conns);
        } else {
            let split = segment.partition_point(|a| a.family == first.family);
            for family in [&segment[..split], &segment[split..]] {
                if let (Some(f), Some(l)) = (family.first(), family.last()) {
                    push(IpRange { last: l.last, ..*f }, conns);
                }
            }
        }
    }
    out
}

//! Each peer's connections to and from addresses outside the cluster: the allowances read over
//! the address atoms, merged into maximal ranges with equal connections. Computed once while the
//! graph is built; [`super::edges`] streams them. It reads allowances, never policies: what a
//! rule admits is decided in [`super::admissions`] alone.

use super::admissions::Allowance;
use super::{Builder, Conns};
use crate::model::net::IpRange;
use crate::model::Direction;

/// Connections towards a run of external atoms, possibly different per atom.
#[derive(Clone, Debug)]
enum AtomConns {
    Uniform(Conns),
    PerAtom(Vec<Conns>),
}

impl Builder<'_> {
    /// The connections of a class towards (egress) or from (ingress) each external atom. Tier
    /// steps match addresses only through `networks`, on egress: a chain without them leaves the
    /// NetworkPolicy answer as it is (its steps match no address, so what is not isolated stays
    /// open and what is isolated is decided by NetworkPolicies).
    fn class_atom_conns(
        &self,
        class: super::ClassId,
        direction: Direction,
        allowance: Option<&Allowance>,
    ) -> AtomConns {
        let networks = direction == Direction::Egress && self.g.chain(class, direction).any(|s| !s.atoms.is_empty());
        if !networks {
            return self.atom_conns(allowance);
        }
        let per = (0..self.g.ip_space.atoms.len()).map(|i| self.g.egress_to_atom(class, allowance, i)).collect();
        AtomConns::PerAtom(per)
    }

    fn atom_conns(&self, allowance: Option<&Allowance>) -> AtomConns {
        let Some(a) = allowance else {
            return AtomConns::Uniform(Conns::all());
        };
        if a.by_atoms.is_empty() {
            return AtomConns::Uniform(a.everyone.clone());
        }
        let mut per = vec![a.everyone.clone(); self.g.ip_space.atoms.len()];
        for (first, last, conns) in &a.by_atoms {
            let conns = &self.g.conns[conns.index()];
            for slot in &mut per[*first..=*last] {
                slot.union_with(conns);
            }
        }
        AtomConns::PerAtom(per)
    }

    /// Each peer's connections to and from addresses outside the cluster, as maximal ranges.
    pub(super) fn external_edges(&mut self, inbound: &[Option<Allowance>], outbound: &[Option<Allowance>]) {
        let atoms = self.g.ip_space.atoms.clone();
        self.g.external_out = vec![Vec::new(); self.g.peers.len()];
        self.g.external_in = vec![Vec::new(); self.g.peers.len()];
        for p in 0..self.g.peers.len() {
            let classes = self.g.peers[p].classes.clone();
            for direction in [Direction::Egress, Direction::Ingress] {
                let mut combined: Option<AtomConns> = None;
                for &c in &classes {
                    let allowance = match direction {
                        Direction::Egress => outbound[c.index()].as_ref(),
                        Direction::Ingress => inbound[c.index()].as_ref(),
                    };
                    let this = self.class_atom_conns(c, direction, allowance);
                    combined = Some(match combined {
                        None => this,
                        Some(prev) => union_atoms(prev, this, atoms.len()),
                    });
                }
                let Some(combined) = combined else { continue };
                for (range, conns) in merge_ranges(&atoms, combined) {
                    let conns = self.intern(conns);
                    match direction {
                        Direction::Egress => self.g.external_out[p].push((range, conns)),
                        Direction::Ingress => self.g.external_in[p].push((range, conns)),
                    }
                }
            }
        }
    }
}

fn union_atoms(a: AtomConns, b: AtomConns, n: usize) -> AtomConns {
    match (a, b) {
        (AtomConns::Uniform(mut x), AtomConns::Uniform(y)) => {
            x.union_with(&y);
            AtomConns::Uniform(x)
        }
        (AtomConns::PerAtom(mut v), AtomConns::Uniform(u)) | (AtomConns::Uniform(u), AtomConns::PerAtom(mut v)) => {
            v.iter_mut().for_each(|c| c.union_with(&u));
            AtomConns::PerAtom(v)
        }
        (AtomConns::PerAtom(mut v), AtomConns::PerAtom(w)) => {
            for i in 0..n {
                v[i].union_with(&w[i]);
            }
            AtomConns::PerAtom(v)
        }
    }
}

/// Maximal ranges of adjacent atoms (of one family) with equal, non-empty connections.
fn merge_ranges(atoms: &[IpRange], conns: AtomConns) -> Vec<(IpRange, Conns)> {
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
    match &conns {
        // The atoms of a family are adjacent from its first address to its last: with the same
        // connections everywhere they merge into one range per family, found without reading
        // every atom (most peers have no ipBlock rule, and the atoms are many).
        AtomConns::Uniform(c) => {
            if let (Some(first), Some(last)) = (atoms.first(), atoms.last()) {
                if first.family == last.family {
                    push(IpRange { last: last.last, ..*first }, c);
                } else {
                    let split = atoms.partition_point(|a| a.family == first.family);
                    for family in [&atoms[..split], &atoms[split..]] {
                        if let (Some(f), Some(l)) = (family.first(), family.last()) {
                            push(IpRange { last: l.last, ..*f }, c);
                        }
                    }
                }
            }
        }
        AtomConns::PerAtom(v) => atoms.iter().zip(v.iter()).for_each(|(a, c)| push(*a, c)),
    }
    out
}

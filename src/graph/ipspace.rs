//! The external address space, cut into atoms at every ipBlock boundary.
//!
//! Every `cidr` and `except` of every policy contributes its first address and the address after
//! its last as cut points; between two cut points, every address is treated alike by every rule,
//! so the engine computes once per atom and the report merges adjacent atoms with equal
//! connections back into maximal ranges.

use std::collections::BTreeSet;

use crate::model::net::{Family, IpRange};

#[derive(Debug, Default)]
pub struct IpSpace {
    /// Atoms in address order, IPv4 first.
    pub atoms: Vec<IpRange>,
}

impl IpSpace {
    /// Atoms for `blocks`. IPv4 is always present (the whole space at least); IPv6 only when some
    /// block is IPv6, so that IPv4-only repositories print no IPv6 lines.
    pub fn new<'a>(blocks: impl IntoIterator<Item = &'a IpRange>) -> IpSpace {
        let mut cuts: [BTreeSet<u128>; 2] = [BTreeSet::new(), BTreeSet::new()];
        let mut has_v6 = false;
        for block in blocks {
            let i = match block.family {
                Family::V4 => 0,
                Family::V6 => {
                    has_v6 = true;
                    1
                }
            };
            cuts[i].insert(block.first);
            if block.last < block.family.max() {
                cuts[i].insert(block.last + 1);
            }
        }
        let mut atoms = Vec::new();
        for (family, set) in [(Family::V4, &cuts[0]), (Family::V6, &cuts[1])] {
            if family == Family::V6 && !has_v6 {
                continue;
            }
            let mut starts: Vec<u128> = set.iter().copied().collect();
            if starts.first() != Some(&0) {
                starts.insert(0, 0);
            }
            for (i, &first) in starts.iter().enumerate() {
                let last = starts.get(i + 1).map_or(family.max(), |next| next - 1);
                atoms.push(IpRange { family, first, last });
            }
        }
        IpSpace { atoms }
    }

    /// The contiguous runs of atoms (first index, last index) covered by `cidr` minus `except`.
    pub fn runs(&self, cidr: &IpRange, except: &[IpRange]) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let start = self.atoms.partition_point(|a| (a.family, a.last) < (cidr.family, cidr.first));
        for (i, atom) in self.atoms.iter().enumerate().skip(start) {
            if !cidr.contains(atom) {
                break;
            }
            if except.iter().any(|e| e.contains(atom)) {
                continue;
            }
            match runs.last_mut() {
                Some(run) if run.1 + 1 == i => run.1 = i,
                _ => runs.push((i, i)),
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::net::parse_cidr;

    #[test]
    fn atoms_cover_the_space_and_except_is_subtracted() {
        let cidr = parse_cidr("10.0.0.0/8").unwrap();
        let except = parse_cidr("10.11.0.0/16").unwrap();
        let space = IpSpace::new([&cidr, &except]);
        let shown: Vec<String> = space.atoms.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "0.0.0.0-9.255.255.255",
                "10.0.0.0-10.10.255.255",
                "10.11.0.0-10.11.255.255",
                "10.12.0.0-10.255.255.255",
                "11.0.0.0-255.255.255.255"
            ]
        );
        assert_eq!(space.runs(&cidr, &[except]), vec![(1, 1), (3, 3)]);
        assert_eq!(space.runs(&cidr, &[]), vec![(1, 3)]);
    }

    #[test]
    fn ipv6_appears_only_when_named() {
        let v4 = IpSpace::new([&parse_cidr("0.0.0.0/0").unwrap()]);
        assert_eq!(v4.atoms.len(), 1);
        let v6 = parse_cidr("fd00::/8").unwrap();
        let both = IpSpace::new([&v6]);
        assert_eq!(both.atoms.len(), 4);
        assert_eq!(both.runs(&v6, &[]), vec![(2, 2)]);
        assert_eq!(both.runs(&IpRange::whole(Family::V6), &[]), vec![(1, 3)]);
    }
}

//! Sets of connections: for each of TCP, UDP and SCTP, a set of destination ports.
//!
//! Written by hand: a port set is at most a handful of intervals over 1–65535, and the engine
//! needs union, intersection and an exact canonical form (for equality, hashing and output), which
//! a general interval crate does not make cheaper.

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use smallvec::SmallVec;

use crate::model::net::Protocol;

pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = 65535;

/// Sorted, disjoint, non-adjacent inclusive intervals of ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortSet(SmallVec<[(u16, u16); 2]>);

impl PortSet {
    pub fn all() -> PortSet {
        PortSet(smallvec::smallvec![(MIN_PORT, MAX_PORT)])
    }

    pub fn range(first: u16, last: u16) -> PortSet {
        let first = first.max(MIN_PORT);
        if first > last {
            return PortSet::default();
        }
        PortSet(smallvec::smallvec![(first, last)])
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_all(&self) -> bool {
        self.0.as_slice() == [(MIN_PORT, MAX_PORT)]
    }

    pub fn intervals(&self) -> &[(u16, u16)] {
        &self.0
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(a, b)| a <= port && port <= b)
    }

    pub fn union_with(&mut self, other: &PortSet) {
        if other.0.is_empty() || self.is_all() {
            return;
        }
        if self.0.is_empty() {
            self.0 = other.0.clone();
            return;
        }
        let mut all: SmallVec<[(u16, u16); 4]> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_unstable();
        let mut out: SmallVec<[(u16, u16); 2]> = SmallVec::new();
        for (a, b) in all {
            match out.last_mut() {
                Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        self.0 = out;
    }

    /// The ports of `self` that `other` does not hold.
    pub fn subtract(&self, other: &PortSet) -> PortSet {
        if other.0.is_empty() || self.0.is_empty() {
            return self.clone();
        }
        let mut out: SmallVec<[(u16, u16); 2]> = SmallVec::new();
        for &(a, b) in &self.0 {
            let mut first = u32::from(a);
            let last = u32::from(b);
            for &(x, y) in &other.0 {
                let (x, y) = (u32::from(x), u32::from(y));
                if y < first || x > last {
                    continue;
                }
                if x > first {
                    out.push((first as u16, (x - 1) as u16));
                }
                first = y + 1;
                if first > last {
                    break;
                }
            }
            if first <= last {
                out.push((first as u16, last as u16));
            }
        }
        PortSet(out)
    }

    pub fn intersect(&self, other: &PortSet) -> PortSet {
        if self.is_all() {
            return other.clone();
        }
        if other.is_all() {
            return self.clone();
        }
        let mut out = SmallVec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a1, b1) = self.0[i];
            let (a2, b2) = other.0[j];
            let (lo, hi) = (a1.max(a2), b1.min(b2));
            if lo <= hi {
                out.push((lo, hi));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        PortSet(out)
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, &(a, b)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if a == b {
                write!(f, "{a}")?;
            } else {
                write!(f, "{a}-{b}")?;
            }
        }
        Ok(())
    }
}

/// Allowed connections: a port set per protocol, indexed by [`Protocol::index`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Conns([PortSet; 3]);

impl Conns {
    pub fn none() -> Conns {
        Conns::default()
    }

    pub fn all() -> Conns {
        Conns([PortSet::all(), PortSet::all(), PortSet::all()])
    }

    pub fn single(protocol: Protocol, ports: PortSet) -> Conns {
        let mut c = Conns::none();
        c.0[protocol.index()] = ports;
        c
    }

    pub fn ports(&self, protocol: Protocol) -> &PortSet {
        &self.0[protocol.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(PortSet::is_empty)
    }

    pub fn is_all(&self) -> bool {
        self.0.iter().all(PortSet::is_all)
    }

    pub fn allows(&self, protocol: Protocol, port: u16) -> bool {
        self.0[protocol.index()].contains(port)
    }

    pub fn union_with(&mut self, other: &Conns) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter()) {
            mine.union_with(theirs);
        }
    }

    pub fn add(&mut self, protocol: Protocol, ports: &PortSet) {
        self.0[protocol.index()].union_with(ports);
    }

    /// The connections of `self` that `other` does not hold.
    pub fn subtract(&self, other: &Conns) -> Conns {
        Conns([self.0[0].subtract(&other.0[0]), self.0[1].subtract(&other.0[1]), self.0[2].subtract(&other.0[2])])
    }

    pub fn intersect(&self, other: &Conns) -> Conns {
        Conns([self.0[0].intersect(&other.0[0]), self.0[1].intersect(&other.0[1]), self.0[2].intersect(&other.0[2])])
    }
}

impl fmt::Display for Conns {
    /// `All Connections`, `No Connections`, or the protocols in alphabetical order with their
    /// ports: `SCTP 9003,TCP 80,443-450,UDP 53`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut first = true;
        for protocol in Protocol::ALL {
            let ports = self.ports(protocol);
            if ports.is_empty() {
                continue;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{protocol} {ports}")?;
        }
        Ok(())
    }
}

impl Serialize for Conns {
    /// `{"TCP": [[80, 80], [443, 450]], ...}`: protocols with allowed ports only.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let present: Vec<Protocol> = Protocol::ALL.into_iter().filter(|p| !self.ports(*p).is_empty()).collect();
        let mut map = serializer.serialize_map(Some(present.len()))?;
        for protocol in present {
            let ranges: Vec<[u16; 2]> = self.ports(protocol).intervals().iter().map(|&(a, b)| [a, b]).collect();
            map.serialize_entry(protocol.as_str(), &ranges)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ps(intervals: &[(u16, u16)]) -> PortSet {
        let mut s = PortSet::default();
        for &(a, b) in intervals {
            s.union_with(&PortSet::range(a, b));
        }
        s
    }

    #[test]
    fn union_merges_overlapping_and_adjacent_intervals() {
        assert_eq!(ps(&[(80, 80), (81, 90), (100, 200), (150, 300)]).intervals(), &[(80, 90), (100, 300)]);
        assert!(ps(&[(1, 100), (101, 65535)]).is_all());
    }

    #[test]
    fn subtraction_cuts_holes_and_edges() {
        let a = ps(&[(1, 10), (20, 30), (40, 50)]);
        assert_eq!(a.subtract(&ps(&[(5, 25), (45, 45)])).intervals(), &[(1, 4), (26, 30), (40, 44), (46, 50)]);
        assert_eq!(a.subtract(&PortSet::default()), a);
        assert!(a.subtract(&PortSet::all()).is_empty());
        assert_eq!(PortSet::all().subtract(&ps(&[(1, 1), (65535, 65535)])).intervals(), &[(2, 65534)]);
        assert_eq!(PortSet::all().subtract(&ps(&[(80, 80)])).intervals(), &[(1, 79), (81, 65535)]);
    }

    #[test]
    fn intersection_of_interval_lists() {
        let a = ps(&[(1, 10), (20, 30), (40, 50)]);
        let b = ps(&[(5, 25), (45, 45)]);
        assert_eq!(a.intersect(&b).intervals(), &[(5, 10), (20, 25), (45, 45)]);
        assert!(a.intersect(&PortSet::default()).is_empty());
        assert_eq!(a.intersect(&PortSet::all()), a);
    }

    #[test]
    fn display_matches_the_connectivity_list_format() {
        let mut c = Conns::single(Protocol::Tcp, ps(&[(80, 80), (443, 450)]));
        c.add(Protocol::Udp, &ps(&[(53, 53)]));
        c.add(Protocol::Sctp, &ps(&[(9003, 9003)]));
        assert_eq!(c.to_string(), "SCTP 9003,TCP 80,443-450,UDP 53");
        assert_eq!(Conns::all().to_string(), "All Connections");
        assert_eq!(Conns::single(Protocol::Tcp, PortSet::all()).to_string(), "TCP 1-65535");
    }
}

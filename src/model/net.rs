//! Network vocabulary of the model: protocols, port references and CIDR blocks.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Protocol {
    #[serde(rename = "SCTP")]
    Sctp,
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// In the alphabetical order the connectivity list uses.
    pub const ALL: [Protocol; 3] = [Protocol::Sctp, Protocol::Tcp, Protocol::Udp];

    pub(crate) fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A port given by number or by name (an `IntOrString` port field).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortRef {
    Number(u16),
    Name(Box<str>),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(n) => f.write_str(n),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub(crate) fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }

    pub(crate) fn bits(self) -> u32 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpRange {
    pub family: Family,
    pub first: u128,
    pub last: u128,
}

impl IpRange {
    pub(crate) fn whole(family: Family) -> IpRange {
        IpRange { family, first: 0, last: family.max() }
    }

    pub(crate) fn contains(&self, other: &IpRange) -> bool {
        self.family == other.family && self.first <= other.first && other.last <= self.last
    }

    pub(crate) fn is_whole(&self) -> bool {
        self.first == 0 && self.last == self.family.max()
    }
}

pub(crate) fn format_addr(family: Family, addr: u128) -> String {
    match family {
        Family::V4 => Ipv4Addr::from(u32::try_from(addr).unwrap_or(u32::MAX)).to_string(),
        Family::V6 => Ipv6Addr::from(addr).to_string(),
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", format_addr(self.family, self.first), format_addr(self.family, self.last))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("`{0}` is not a CIDR (expected an address, a slash and a prefix length)")]
    Syntax(String),
    #[error("prefix length /{len} is too long for `{cidr}`")]
    PrefixTooLong { cidr: String, len: u32 },
}

/// Parses `a.b.c.d/n` or an IPv6 CIDR into the range it covers. Host bits are masked away, as the
/// API server's parser does ([`host_bits`] tells whether there were any).
pub(crate) fn parse_cidr(s: &str) -> Result<IpRange, CidrError> {
    parse_cidr_written(s).map(|(range, _)| range)
}

/// A CIDR written with bits set after its prefix (`52.207.37.75/0`, meant as `/32`): what was
/// written and the block it covers once those bits are ignored, as the API server and most
/// dataplanes read it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostBits {
    pub written: Box<str>,
    pub block: IpRange,
    /// The address as written.
    pub address: u128,
    /// The shortest prefix at which the written address starts a block (`/32` for
    /// `52.207.37.75`): what the author probably meant, or a prefix beyond it.
    pub aligned_prefix: u32,
}

/// The host bits of a CIDR as written, if it has any (`None` too when it is no CIDR: that is
/// [`parse_cidr`]'s error to report).
pub(crate) fn host_bits(s: &str) -> Option<HostBits> {
    let s = s.trim();
    let (block, address) = parse_cidr_written(s).ok()?;
    if address == block.first {
        return None;
    }
    let aligned_prefix = block.family.bits() - address.trailing_zeros().min(block.family.bits());
    Some(HostBits { written: s.into(), block, address, aligned_prefix })
}

/// The range a CIDR covers, and the address as written.
fn parse_cidr_written(s: &str) -> Result<(IpRange, u128), CidrError> {
    let (addr, len) = s.split_once('/').ok_or_else(|| CidrError::Syntax(s.to_string()))?;
    let len: u32 = len.parse().map_err(|_| CidrError::Syntax(s.to_string()))?;
    let (family, value) = if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        (Family::V4, u128::from(u32::from(v4)))
    } else if let Ok(v6) = addr.parse::<Ipv6Addr>() {
        (Family::V6, u128::from(v6))
    } else {
        return Err(CidrError::Syntax(s.to_string()));
    };
    let bits = family.bits();
    if len > bits {
        return Err(CidrError::PrefixTooLong { cidr: s.to_string(), len });
    }
    let host_bits = bits - len;
    let host_mask: u128 = if host_bits == 0 {
        0
    } else if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let first = value & !host_mask & family.max();
    Ok((IpRange { family, first, last: first | host_mask }, value))
}

/// Private networks: RFC 1918 and IPv6 unique local addresses. Where nodes live when nothing
/// says otherwise (every managed Kubernetes offering puts its nodes in a private network).
pub const PRIVATE_NETWORKS: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

/// Special-purpose ranges that are not private networks but that no internet client has either:
/// shared address space (RFC 6598), loopback and link-local.
pub const SPECIAL_PURPOSE: [&str; 4] = ["100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "fe80::/10"];

/// [`PRIVATE_NETWORKS`] as ranges.
pub fn private_networks() -> Vec<IpRange> {
    PRIVATE_NETWORKS.iter().filter_map(|c| parse_cidr(c).ok()).collect()
}

/// Every address no internet client has: [`PRIVATE_NETWORKS`] and [`SPECIAL_PURPOSE`].
pub fn non_internet_ranges() -> Vec<IpRange> {
    PRIVATE_NETWORKS.iter().chain(SPECIAL_PURPOSE.iter()).filter_map(|c| parse_cidr(c).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_become_ranges_with_host_bits_masked() {
        let r = parse_cidr("10.1.2.3/8").unwrap();
        assert_eq!(r.to_string(), "10.0.0.0-10.255.255.255");
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap(), IpRange::whole(Family::V4));
        assert_eq!(parse_cidr("169.254.169.254/32").unwrap().to_string(), "169.254.169.254-169.254.169.254");
        assert_eq!(parse_cidr("::/0").unwrap(), IpRange::whole(Family::V6));
        assert_eq!(
            parse_cidr("2001:db8::/32").unwrap().to_string(),
            "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
        );
        assert!(parse_cidr("10.0.0.0").is_err());
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("web/8").is_err());
    }

    #[test]
    fn host_bits_are_noticed_with_the_block_they_leave() {
        let typo = host_bits("52.207.37.75/0").unwrap();
        assert_eq!(typo.block, IpRange::whole(Family::V4));
        assert_eq!((&*typo.written, typo.aligned_prefix), ("52.207.37.75/0", 32));
        let wide = host_bits(" 20.0.0.0/2 ").unwrap();
        assert_eq!((wide.block.to_string(), wide.aligned_prefix), ("0.0.0.0-63.255.255.255".to_string(), 6));
        assert_eq!(host_bits("2001:db8::1/64").map(|h| h.aligned_prefix), Some(128));
        for aligned in
            ["0.0.0.0/0", "10.0.0.0/8", "169.254.169.254/32", "::/0", "2001:db8::/32", "web/8", "10.0.0.0/40"]
        {
            assert_eq!(host_bits(aligned), None, "{aligned}");
        }
    }
}

//! Which addresses are the internet's: everything outside the private and special-purpose ranges.
//! Ways in use it to tell a public external IP from a private one and to model the clients of a
//! Service that keeps their addresses; rules, to tell a client allowlist from every client. It
//! knows nothing of objects.

use crate::model::net::{non_internet_ranges, Family, IpRange};

/// Whether an address is outside the private and special-purpose ranges: reachable from the
/// internet when a node answers for it.
pub(super) fn is_public_address(range: &IpRange) -> bool {
    !non_internet_ranges().iter().any(|p| p.contains(range))
}

/// The addresses of internet clients: every address outside the private ranges, per family.
pub(crate) fn internet_ranges() -> Vec<IpRange> {
    let mut private = non_internet_ranges();
    private.sort();
    let mut out = Vec::new();
    for family in [Family::V4, Family::V6] {
        let mut next: u128 = 0;
        let mut done = false;
        for p in private.iter().filter(|p| p.family == family) {
            if p.first > next {
                out.push(IpRange { family, first: next, last: p.first - 1 });
            }
            match p.last.checked_add(1) {
                Some(n) => next = next.max(n),
                None => done = true,
            }
        }
        if !done && next <= family.max() {
            out.push(IpRange { family, first: next, last: family.max() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::net::parse_cidr;

    #[test]
    fn internet_ranges_leave_out_exactly_the_private_ones() {
        let internet = internet_ranges();
        let at = |s: &str| parse_cidr(s).unwrap();
        for public in ["8.8.8.8/32", "0.0.0.0/32", "255.255.255.255/32", "172.32.0.0/16", "2001:db8::/32"] {
            assert!(internet.iter().any(|r| r.contains(&at(public))), "{public}");
        }
        for private in ["10.1.2.3/32", "172.16.5.0/24", "192.168.1.1/32", "169.254.169.254/32", "fd00::1/128"] {
            assert!(
                !internet.iter().any(|r| at(private).first <= r.last
                    && r.first <= at(private).last
                    && r.family == at(private).family),
                "{private}"
            );
        }
    }
}

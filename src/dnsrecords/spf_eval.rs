//! Judging a fetched SPF tree without DNS: the worst-case lookup count,
//! void lookups (RFC 7208 §4.6.4) and the result for one address (§4.6).

use std::net::IpAddr;

use ipnet::IpNet;

use super::spf_walk::{Mech, Node, Resolved, SpfResult, SpfTree};

/// The DNS lookups evaluating the tree may take in the worst case, and
/// whether the count is complete (false when part was not fetched).
pub fn lookups(tree: &SpfTree) -> (usize, bool) {
    let Node::Record(r) = &tree.node else {
        return (0, !matches!(tree.node, Node::NotFetched));
    };
    let mut n = 0;
    let mut complete = true;
    let subtrees = r
        .terms
        .iter()
        .filter_map(|term| match &term.mech {
            Mech::Include(t) => Some(&**t),
            _ => None,
        })
        .chain(r.redirect.as_deref());
    for t in subtrees {
        let (c, ok) = lookups(t);
        n += 1 + c;
        complete &= ok;
    }
    for term in &r.terms {
        match &term.mech {
            Mech::A { addrs, .. } | Mech::Mx { addrs, .. } | Mech::Exists(addrs) => {
                complete &= *addrs != Resolved::NotFetched;
                n += 1;
            }
            Mech::Ptr | Mech::Macro(_) => n += 1,
            Mech::Include(_) | Mech::All | Mech::Ip(_) => {}
        }
    }
    (n, complete)
}

/// Void lookups (`a`/`mx` finding nothing, includes of domains without
/// SPF) in the tree.
pub fn void_lookups(tree: &SpfTree) -> usize {
    let Node::Record(r) = &tree.node else {
        return 0;
    };
    let sub = |t: &SpfTree| match t.node {
        Node::NoRecord => 1,
        _ => void_lookups(t),
    };
    let terms: usize = r
        .terms
        .iter()
        .map(|term| match &term.mech {
            Mech::Include(t) => sub(t),
            Mech::A { addrs, .. } | Mech::Mx { addrs, .. } => usize::from(*addrs == Resolved::Void),
            _ => 0,
        })
        .sum();
    terms + r.redirect.as_deref().map_or(0, sub)
}

/// What the policy says about mail from `ip` (§4.6).
pub fn evaluate(tree: &SpfTree, ip: IpAddr) -> SpfResult {
    let ip = ip.to_canonical();
    let r = match &tree.node {
        Node::Record(r) => r,
        Node::NoRecord => return SpfResult::None,
        Node::Multiple(_) => return SpfResult::PermError("several SPF records".into()),
        Node::Syntax { error, .. } => return SpfResult::PermError(error.clone()),
        Node::TempError(e) => return SpfResult::TempError(e.clone()),
        Node::NotFetched => return SpfResult::PermError("too many DNS lookups".into()),
    };
    for term in &r.terms {
        let matched = match &term.mech {
            Mech::All => true,
            Mech::Ip(net) => net.contains(&ip),
            Mech::Ptr | Mech::Macro(_) => false,
            Mech::Include(t) => match evaluate(t, ip) {
                SpfResult::Pass => true,
                SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => false,
                SpfResult::TempError(e) => return SpfResult::TempError(e),
                SpfResult::PermError(e) => {
                    return SpfResult::PermError(format!("include:{}: {e}", t.domain));
                }
                SpfResult::None => {
                    return SpfResult::PermError(format!("include:{} has no SPF record", t.domain));
                }
            },
            Mech::A {
                cidr4,
                cidr6,
                addrs,
            }
            | Mech::Mx {
                cidr4,
                cidr6,
                addrs,
            } => match addrs {
                Resolved::Addrs(v) => v.iter().any(|a| in_prefix(*a, ip, *cidr4, *cidr6)),
                Resolved::Void => false,
                Resolved::TempError(e) => return SpfResult::TempError(e.clone()),
                Resolved::NotFetched => {
                    return SpfResult::PermError("too many DNS lookups".into());
                }
            },
            Mech::Exists(addrs) => match addrs {
                Resolved::Addrs(_) => true,
                Resolved::Void => false,
                Resolved::TempError(e) => return SpfResult::TempError(e.clone()),
                Resolved::NotFetched => {
                    return SpfResult::PermError("too many DNS lookups".into());
                }
            },
        };
        if matched {
            return term.qualifier.clone();
        }
    }
    match &r.redirect {
        Some(t) => match evaluate(t, ip) {
            SpfResult::None => {
                SpfResult::PermError(format!("redirect={} has no SPF record", t.domain))
            }
            other => other,
        },
        None => SpfResult::Neutral,
    }
}

/// Whether `ip` is in `net_ip`'s prefix of the matching family's length.
fn in_prefix(net_ip: IpAddr, ip: IpAddr, cidr4: u8, cidr6: u8) -> bool {
    let net_ip = net_ip.to_canonical();
    let len = if net_ip.is_ipv4() { cidr4 } else { cidr6 };
    IpNet::new(net_ip, len).is_ok_and(|n| n.trunc().contains(&ip))
}

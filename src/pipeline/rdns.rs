//! Reverse-DNS stage: forward-confirmed reverse DNS ("iprev", RFC 8601
//! §3; the check RFC 5321 §4.1.4 allows and Postfix calls
//! `reject_unknown_client_hostname`), at connect time.
//!
//! The client's PTR names are looked up; a name counts only if it
//! resolves back (A/AAAA) to the client's address. That name is what the
//! Received header shows — `(mail.example.com [192.0.2.1])` — otherwise
//! `(unknown [192.0.2.1])`. With `[auth] reverse_dns = "require"` a client
//! without one is refused: `550 5.7.25` when the DNS says so, `450 4.7.25`
//! when it could not be asked (RFC 7372).

use std::net::IpAddr;

use crate::dns::{LookupError, Resolver};

use super::settings::ReverseDns;
use super::verdict::{EnhancedStatus, Reply, Verdict};

/// At most this many PTR names are tried (RFC 7208 §5.5 uses the same
/// bound, for the same reason: a hostile PTR set must not fan out).
const MAX_PTR_NAMES: usize = 10;

/// The outcome of the check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Iprev {
    /// Not checked (`reverse_dns = "off"`, or not yet).
    #[default]
    NotChecked,
    /// A PTR name resolves back to the address.
    Pass(String),
    /// No PTR, or none resolves back.
    Fail,
    /// A lookup failed temporarily.
    TempError,
}

impl Iprev {
    /// The confirmed name, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Iprev::Pass(name) => Some(name),
            _ => None,
        }
    }

    /// The `iprev=` entry, or `None` when not checked.
    pub fn auth_result(&self, ip: IpAddr) -> Option<String> {
        let ip = ip.to_canonical();
        match self {
            Iprev::NotChecked => None,
            Iprev::Pass(name) => Some(format!("iprev=pass policy.iprev={ip} ({name})")),
            Iprev::Fail => Some(format!("iprev=fail policy.iprev={ip}")),
            Iprev::TempError => Some(format!("iprev=temperror policy.iprev={ip}")),
        }
    }
}

/// Looks up and forward-confirms the client's name.
pub async fn lookup(resolver: &Resolver, ip: IpAddr) -> Iprev {
    let ip = ip.to_canonical();
    let names = match resolver.ptr(ip).await {
        Ok(names) => names,
        Err(LookupError::Temporary(_)) => return Iprev::TempError,
        Err(_) => return Iprev::Fail,
    };
    let mut temporary = false;
    for name in names.into_iter().take(MAX_PTR_NAMES) {
        match resolver.ips(&name).await {
            Ok(addrs) if addrs.iter().any(|a| a.to_canonical() == ip) => {
                return Iprev::Pass(name);
            }
            Ok(_) | Err(LookupError::NotFound | LookupError::InvalidName(_)) => {}
            Err(LookupError::Temporary(_)) => temporary = true,
        }
    }
    if temporary {
        Iprev::TempError
    } else {
        Iprev::Fail
    }
}

/// The stage verdict for `mode`.
pub fn verdict(mode: ReverseDns, iprev: &Iprev, ip: IpAddr) -> Verdict {
    if mode != ReverseDns::Require {
        return Verdict::Accept;
    }
    let ip = ip.to_canonical();
    match iprev {
        Iprev::Pass(_) | Iprev::NotChecked => Verdict::Accept,
        Iprev::Fail => Verdict::Reject(Reply::new(
            550,
            EnhancedStatus(5, 7, 25),
            format!("Reverse DNS validation failed: client [{ip}] has no confirmed host name"),
        )),
        Iprev::TempError => Verdict::TempFail(Reply::new(
            450,
            EnhancedStatus(4, 7, 25),
            format!("Temporary DNS error checking the host name of [{ip}], please try again later"),
        )),
    }
}

//! `postel dns check`: every record of [`super::plan`] looked up through
//! the configured resolvers, each reported OK, missing or wrong (with what
//! was expected and what was found), plus forward-confirmed reverse DNS of
//! the server's addresses, the SPF evaluation and lookup count, the DKIM
//! keys against the private keys in the database, and the DMARC syntax.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::check_txt::{dkim, dmarc_record, spf, tagged};
use super::records::{Plan, plan};
use super::{Check, Data, DmarcPolicy, Record, SpfAll, absolute};
use crate::config::ListenConfig;
use crate::dkim::{DkimError, KeyInfo, Keys};
use crate::dns::{LookupError, Resolver};

/// What `check` compares the DNS with.
#[derive(Debug, Clone)]
pub struct CheckInput<'a> {
    /// The mail domain.
    pub domain: &'a str,
    /// `server.hostname`.
    pub hostname: &'a str,
    /// `[listen]`.
    pub listen: &'a ListenConfig,
    /// Active DKIM keys, `public_key` derived from the private key
    /// ([`keys_for_check`]).
    pub dkim: &'a [KeyInfo],
    /// The suggested SPF `all`.
    pub spf_all: SpfAll,
    /// The suggested DMARC policy.
    pub dmarc: DmarcPolicy,
    /// Public addresses of the server besides the host name's A/AAAA
    /// (`--address`, e.g. behind NAT): SPF must authorise them and their
    /// reverse DNS must name the host.
    pub addresses: &'a [IpAddr],
    /// The MTA-STS policy id, when a policy is served.
    pub mta_sts_id: Option<&'a str>,
}

/// The verdict on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Published as needed.
    Ok,
    /// Works, but not as suggested.
    Warning,
    /// Not published.
    Missing,
    /// Published with a wrong value.
    Wrong,
    /// The lookup failed (timeout, SERVFAIL): nothing is known.
    Error,
}

impl Status {
    /// Upper-case label for the text report.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Missing => "MISSING",
            Status::Wrong => "WRONG",
            Status::Error => "ERROR",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Owner name, without the final dot.
    pub name: String,
    /// Record type.
    pub rtype: &'static str,
    /// Whether the record is required.
    pub required: bool,
    /// The verdict.
    pub status: Status,
    /// The expected value (presentation form).
    pub expected: String,
    /// What the DNS holds.
    pub found: Vec<String>,
    /// Why, in a few words (empty when OK needs no comment).
    pub detail: String,
}

impl Finding {
    /// Whether this makes `dns check` exit non-zero: wrong, failed, or a
    /// required record missing.
    pub fn fails(&self) -> bool {
        match self.status {
            Status::Wrong | Status::Error => true,
            Status::Missing => self.required,
            Status::Ok | Status::Warning => false,
        }
    }
}

/// Active keys of `domain` with `public_key` replaced by the key derived
/// from the stored private key, so that the check compares the DNS with
/// what signatures are made with.
///
/// # Errors
/// Invalid domain, unusable stored key, database failure.
pub async fn keys_for_check(keys: &Keys, domain: &str) -> Result<Vec<KeyInfo>, DkimError> {
    let mut out = Vec::new();
    for key in keys.active(domain).await? {
        let public_key = keys.public_key_of_private(&key).await?;
        out.push(KeyInfo { public_key, ..key });
    }
    Ok(out)
}

/// What the checks of one record share.
pub(super) struct Ctx<'a> {
    pub(super) resolver: &'a Resolver,
    pub(super) input: &'a CheckInput<'a>,
    /// A/AAAA of the host name.
    pub(super) host_ips: Vec<IpAddr>,
    /// `host_ips` and `--address`: the addresses SPF must authorise.
    pub(super) server_ips: Vec<IpAddr>,
}

/// Checks every record the domain needs.
pub async fn check(resolver: &Resolver, input: &CheckInput<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let host_ips = match resolver.ips(input.hostname).await {
        Ok(v) => v,
        Err(LookupError::NotFound) => Vec::new(),
        Err(e) => {
            findings.push(Finding {
                name: input.hostname.to_string(),
                rtype: "A",
                required: true,
                status: Status::Error,
                expected: "the server's addresses".into(),
                found: Vec::new(),
                detail: e.to_string(),
            });
            Vec::new()
        }
    };
    let mut server_ips: Vec<IpAddr> = host_ips.iter().map(|ip| ip.to_canonical()).collect();
    for ip in input.addresses {
        if !server_ips.contains(&ip.to_canonical()) {
            server_ips.push(ip.to_canonical());
        }
    }
    let records = plan(&Plan {
        domain: input.domain,
        hostname: input.hostname,
        listen: input.listen,
        dkim: input.dkim,
        spf_all: input.spf_all,
        dmarc: input.dmarc,
        addresses: &server_ips,
        mta_sts_id: input.mta_sts_id,
    });
    let ctx = Ctx {
        resolver,
        input,
        host_ips,
        server_ips,
    };
    for record in &records {
        findings.push(check_record(&ctx, record).await);
    }
    findings
}

async fn check_record(ctx: &Ctx<'_>, record: &Record) -> Finding {
    let mut f = Finding {
        name: record.name.clone(),
        rtype: record.data.rtype(),
        required: record.required,
        status: Status::Ok,
        expected: record.data.value(),
        found: Vec::new(),
        detail: String::new(),
    };
    let outcome = match record.check {
        Check::Exact => exact(ctx, record, &mut f).await,
        Check::HostAddress => host_address(ctx, record, &mut f).await,
        Check::ReverseDns => reverse_dns(ctx, record, &mut f).await,
        Check::Spf => spf(ctx, &mut f).await,
        Check::Dmarc => dmarc_record(ctx, record, &mut f).await,
        Check::Dkim => dkim(ctx, record, &mut f).await,
        Check::TaggedTxt(tag) => tagged(ctx, record, tag, &mut f).await,
    };
    if let Err(e) = outcome {
        f.status = match e {
            LookupError::NotFound => Status::Missing,
            _ => Status::Error,
        };
        if f.detail.is_empty() && f.status == Status::Error {
            f.detail = e.to_string();
        }
    }
    f
}

/// Sets `status`/`detail` on `f`.
pub(super) fn verdict(f: &mut Finding, status: Status, detail: impl Into<String>) {
    f.status = status;
    f.detail = detail.into();
}

async fn exact(ctx: &Ctx<'_>, record: &Record, f: &mut Finding) -> Result<(), LookupError> {
    let r = ctx.resolver;
    let name = record.name.as_str();
    let ok = match &record.data {
        Data::Mx { exchange, .. } => {
            let mx = r.mx(name).await?;
            f.found = mx
                .iter()
                .map(|(p, h)| format!("{p} {}", absolute(h)))
                .collect();
            mx.iter().any(|(_, h)| h.eq_ignore_ascii_case(exchange))
        }
        Data::A(_) | Data::Aaaa(_) => {
            let ips = r.ips(name).await?;
            f.found = ips.iter().map(ToString::to_string).collect();
            let want = f.expected.parse::<IpAddr>().ok();
            ips.iter().any(|ip| Some(*ip) == want)
        }
        Data::Txt(value) => {
            f.found = r.txt(name).await?;
            f.found.iter().any(|t| t.trim() == value.trim())
        }
        Data::Srv { port, target, .. } => {
            let srv = r.srv(name).await?;
            f.found = srv
                .iter()
                .map(|(p, w, port, t)| format!("{p} {w} {port} {}", absolute(t)))
                .collect();
            srv.iter()
                .any(|(_, _, p, t)| p == port && t.eq_ignore_ascii_case(target))
        }
        Data::Ptr(target) => {
            let ip = ip_from_reverse(name).ok_or_else(|| LookupError::InvalidName(name.into()))?;
            let names = r.ptr(ip).await?;
            f.found = names.iter().map(|n| absolute(n)).collect();
            names.iter().any(|n| n.eq_ignore_ascii_case(target))
        }
        Data::Cname(target) => {
            let names = r.cname(name).await?;
            f.found = names.iter().map(|n| absolute(n)).collect();
            names.iter().any(|n| n.eq_ignore_ascii_case(target))
        }
        Data::Placeholder { .. } => return Err(LookupError::NotFound),
    };
    if !ok {
        verdict(f, Status::Wrong, "the published value differs");
    }
    Ok(())
}

async fn host_address(ctx: &Ctx<'_>, record: &Record, f: &mut Finding) -> Result<(), LookupError> {
    let v4 = record.data.rtype() == "A";
    let ips: Vec<IpAddr> = ctx
        .resolver
        .ips(&record.name)
        .await?
        .into_iter()
        .filter(|ip| ip.is_ipv4() == v4)
        .collect();
    f.found = ips.iter().map(ToString::to_string).collect();
    if ips.is_empty() {
        return Err(LookupError::NotFound);
    }
    Ok(())
}

async fn reverse_dns(ctx: &Ctx<'_>, record: &Record, f: &mut Finding) -> Result<(), LookupError> {
    let host = ctx.input.hostname;
    let Some(ip) = ip_from_reverse(&record.name) else {
        f.detail = format!("{host} has no address and no --address was given");
        return Err(LookupError::NotFound);
    };
    let names = ctx.resolver.ptr(ip).await?;
    f.found = names.iter().map(|n| absolute(n)).collect();
    if !names.iter().any(|n| n.eq_ignore_ascii_case(host)) {
        verdict(
            f,
            Status::Wrong,
            format!("the PTR of {ip} must name {host}"),
        );
    } else if !ctx.host_ips.iter().any(|h| h.to_canonical() == ip) {
        let detail = format!("{host} does not resolve back to {ip} (not forward-confirmed)");
        verdict(f, Status::Wrong, detail);
    } else {
        f.detail = format!("forward-confirmed: {ip} -> {host} -> {ip}");
    }
    Ok(())
}

/// The address a reverse name (`7.2.0.192.in-addr.arpa`, nibbles under
/// `ip6.arpa`) stands for.
pub fn ip_from_reverse(name: &str) -> Option<IpAddr> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = name.strip_suffix(".in-addr.arpa") {
        let mut octets: Vec<u8> = rest
            .split('.')
            .map(|o| o.parse().ok())
            .collect::<Option<_>>()?;
        octets.reverse();
        let octets: [u8; 4] = octets.try_into().ok()?;
        return Some(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    let rest = name.strip_suffix(".ip6.arpa")?;
    let nibbles: Vec<u8> = rest
        .split('.')
        .map(|n| {
            (n.len() == 1)
                .then(|| u8::from_str_radix(n, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    if nibbles.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, pair) in nibbles.rchunks(2).enumerate() {
        bytes[i] = (pair[1] << 4) | pair[0];
    }
    Some(IpAddr::V6(Ipv6Addr::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnsrecords::check_txt::dkim_tags;
    use crate::dnsrecords::reverse_name;

    #[test]
    fn reverse_names_round_trip() {
        for s in ["192.0.2.7", "10.0.0.255", "2001:db8::7", "fe80::1:2:3:4"] {
            let ip: IpAddr = s.parse().unwrap_or_else(|_| unreachable!());
            assert_eq!(ip_from_reverse(&reverse_name(ip)), Some(ip), "{s}");
        }
        assert_eq!(ip_from_reverse("1.2.3.in-addr.arpa"), None);
        assert_eq!(ip_from_reverse("<reverse name of each address>"), None);
        assert_eq!(ip_from_reverse("300.2.0.192.in-addr.arpa"), None);
    }

    #[test]
    fn dkim_tags_ignore_whitespace() {
        let tags = dkim_tags("v=DKIM1; k=rsa;\tp=AB CD\n EF");
        assert_eq!(tags[2], ("p".into(), "ABCDEF".into()));
        assert_eq!(tags.len(), 3);
    }

    #[test]
    fn what_fails() {
        let f = |status, required| Finding {
            name: "x".into(),
            rtype: "TXT",
            required,
            status,
            expected: String::new(),
            found: vec![],
            detail: String::new(),
        };
        assert!(!f(Status::Ok, true).fails());
        assert!(!f(Status::Warning, true).fails());
        assert!(f(Status::Missing, true).fails());
        assert!(!f(Status::Missing, false).fails());
        assert!(f(Status::Wrong, false).fails());
        assert!(f(Status::Error, false).fails());
    }
}

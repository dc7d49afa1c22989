//! SPF stage (RFC 7208), run at MAIL FROM.
//!
//! The checked identity is the MAIL FROM domain; for a null reverse-path
//! (bounces) it is the HELO name (§2.3, §2.4). `mail-auth` evaluates the
//! record with the §4.6.4 limits (10 DNS-querying terms, 2 void lookups)
//! and the `%{…}` macros (§7), our hostname being `%{r}`.
//!
//! Verdicts here: `temperror` (§2.6.6, a DNS failure) refuses the
//! transaction with `451 4.7.24` (RFC 7372) so the sender retries — never
//! a silent pass. `fail` is decided later, at end of DATA, together with
//! DMARC: RFC 7489 §10.1 asks receivers not to reject on SPF alone when
//! the author domain publishes DMARC, so only without a DMARC record does
//! `[auth] spf_fail` apply ([`fail_verdict`], `550 5.7.23`).

use std::net::IpAddr;

use mail_auth::spf::verify::SpfParameters;
use mail_auth::{SpfOutput, SpfResult};

use super::headers::auth_results::pvalue;
use super::settings::FailAction;
use super::verdict::{EnhancedStatus, Reply, Verdict};

/// Which identity SPF was evaluated for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpfIdentity {
    /// The MAIL FROM address (`local@domain`).
    MailFrom(String),
    /// The HELO name, for a null reverse-path.
    Helo(String),
}

/// The SPF outcome of one transaction, kept for DMARC and greylisting.
#[derive(Debug, Clone)]
pub struct SpfCheck {
    /// What was checked.
    pub identity: SpfIdentity,
    /// `mail-auth`'s output (result and domain).
    pub output: SpfOutput,
}

/// The domain part of an address (`""` for a null or local-only path).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Runs SPF for `mail_from` (empty for `<>`) from `ip` that said `helo`.
pub async fn check(
    resolver: &crate::dns::Resolver,
    ip: IpAddr,
    helo: &str,
    mail_from: &str,
    hostname: &str,
) -> SpfCheck {
    if mail_from.is_empty() {
        let output = resolver
            .authenticator()
            .verify_spf(resolver.auth_params(SpfParameters::verify_ehlo(ip, helo, hostname)))
            .await;
        SpfCheck {
            identity: SpfIdentity::Helo(helo.to_string()),
            output,
        }
    } else {
        let output = resolver
            .authenticator()
            .verify_spf(resolver.auth_params(SpfParameters::verify_mail_from(
                ip, helo, hostname, mail_from,
            )))
            .await;
        SpfCheck {
            identity: SpfIdentity::MailFrom(mail_from.to_string()),
            output,
        }
    }
}

impl SpfCheck {
    /// The result.
    pub fn result(&self) -> SpfResult {
        self.output.result()
    }

    /// The domain SPF spoke for (MAIL FROM domain or HELO name),
    /// lowercased.
    pub fn domain(&self) -> String {
        match &self.identity {
            SpfIdentity::MailFrom(a) => domain_of(a).to_ascii_lowercase(),
            SpfIdentity::Helo(h) => h.to_ascii_lowercase(),
        }
    }

    /// The domain SPF authenticated, when the result is `pass`.
    pub fn authenticated_domain(&self) -> Option<String> {
        (self.result() == SpfResult::Pass)
            .then(|| self.domain())
            .filter(|d| !d.is_empty())
    }

    /// Verdict at MAIL FROM: a temporary DNS error refuses the
    /// transaction for now; anything else waits for end of DATA.
    pub fn verdict_at_mail(&self) -> Verdict {
        if self.result() == SpfResult::TempError {
            Verdict::TempFail(Reply::new(
                451,
                EnhancedStatus(4, 7, 24),
                format!(
                    "Temporary DNS error while checking SPF for {}, please try again later",
                    self.domain()
                ),
            ))
        } else {
            Verdict::Accept
        }
    }

    /// The `spf=` entry of Authentication-Results (RFC 8601 §2.7.2).
    pub fn auth_result(&self) -> String {
        match &self.identity {
            SpfIdentity::MailFrom(a) => {
                format!("spf={} smtp.mailfrom={}", word(self.result()), pvalue(a))
            }
            SpfIdentity::Helo(h) => format!("spf={} smtp.helo={}", word(self.result()), pvalue(h)),
        }
    }
}

/// RFC 8601 result keyword.
pub fn word(result: SpfResult) -> &'static str {
    match result {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

/// The `[auth] spf_fail` action for an SPF `fail` when no DMARC policy
/// applies (RFC 7208 §8.4: a receiver may reject with 550 5.7.23).
pub fn fail_verdict(action: FailAction, spf: &SpfCheck, ip: IpAddr) -> Verdict {
    if spf.result() != SpfResult::Fail {
        return Verdict::Accept;
    }
    match action {
        FailAction::Reject => Verdict::Reject(Reply::new(
            550,
            EnhancedStatus(5, 7, 23),
            format!(
                "SPF validation failed: {} does not designate {} as permitted sender",
                spf.domain(),
                ip
            ),
        )),
        FailAction::Junk => Verdict::Junk,
        FailAction::Mark => Verdict::Accept,
    }
}

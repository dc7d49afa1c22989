//! DMARC stage (RFC 7489), at end of DATA, and the final sender-policy
//! decision.
//!
//! `mail-auth` finds the policy record of the RFC 5322.From domain (with
//! the organizational-domain fallback, `sp=`/`np=` for subdomains, and the
//! `t=y` test mode of the DMARCbis revision it implements, which replaces
//! `pct`: a record in test mode is enforced one level lower), and checks
//! identifier alignment (§3.1, `adkim`/`aspf` relaxed or strict) of the
//! SPF-authenticated MAIL FROM domain (§4.2; the HELO name for a null
//! sender) and of every passing DKIM signature.
//!
//! Decision ([`verdict`]):
//! - `pass` → accept.
//! - `fail` under `p=reject` → `[auth] dmarc_reject` (default: `550 5.7.1`
//!   naming DMARC); under `p=quarantine` → `[auth] dmarc_quarantine`
//!   (default: the Junk folder); under `p=none` → accept.
//! - `temperror` (the policy could not be fetched, or an aligned
//!   identifier's check hit a DNS error and nothing passed) → `451 4.7.1`:
//!   never a silent pass.
//! - no policy (`none`, or a `permerror` record, which §6.6.3 says to
//!   ignore) → SPF `fail` alone decides, through `[auth] spf_fail`.

use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::{AuthenticatedMessage, DkimOutput, DmarcResult};

use super::headers::auth_results::pvalue;
use super::settings::{AuthConfig, FailAction};
use super::spf::{self, SpfCheck};
use super::verdict::{EnhancedStatus, Reply, Verdict};

/// RFC 8601 DMARC result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmarcWord {
    /// An aligned identifier passed.
    Pass,
    /// A policy exists and nothing aligned passed.
    Fail,
    /// DNS trouble; try again later.
    TempError,
    /// The policy record is broken.
    PermError,
    /// No policy (or no usable From).
    None,
}

impl DmarcWord {
    /// The keyword written in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcWord::Pass => "pass",
            DmarcWord::Fail => "fail",
            DmarcWord::TempError => "temperror",
            DmarcWord::PermError => "permerror",
            DmarcWord::None => "none",
        }
    }
}

/// The DMARC outcome of one message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcCheck {
    /// The result.
    pub result: DmarcWord,
    /// The RFC 5322.From domain (empty when there is none, or several).
    pub from_domain: String,
    /// The policy that applies to that domain.
    pub policy: Policy,
}

/// Evaluates DMARC for a parsed message.
pub async fn check(
    resolver: &crate::dns::Resolver,
    message: &AuthenticatedMessage<'_>,
    dkim: &[DkimOutput<'_>],
    spf: &SpfCheck,
) -> DmarcCheck {
    let mail_from_domain = spf.domain();
    let output = resolver
        .authenticator()
        .verify_dmarc(resolver.auth_params(DmarcParameters::new(
            message,
            dkim,
            &mail_from_domain,
            &spf.output,
        )))
        .await;
    let result = match output.result() {
        DmarcResult::Pass => DmarcWord::Pass,
        DmarcResult::Fail(_) => DmarcWord::Fail,
        DmarcResult::TempError(_) => DmarcWord::TempError,
        DmarcResult::PermError(_) => DmarcWord::PermError,
        DmarcResult::None => DmarcWord::None,
    };
    DmarcCheck {
        result,
        from_domain: output.domain().to_ascii_lowercase(),
        policy: output.policy(),
    }
}

impl DmarcCheck {
    /// The `dmarc=` entry (RFC 7489 §11.2).
    pub fn auth_result(&self) -> String {
        if self.from_domain.is_empty() {
            format!("dmarc={}", self.result.as_str())
        } else {
            format!(
                "dmarc={} header.from={}",
                self.result.as_str(),
                pvalue(&self.from_domain)
            )
        }
    }
}

/// The sender-policy verdict from DMARC, or SPF alone without a policy.
pub fn verdict(
    dmarc: &DmarcCheck,
    spf: &SpfCheck,
    config: &AuthConfig,
    ip: std::net::IpAddr,
) -> Verdict {
    match dmarc.result {
        DmarcWord::Pass => Verdict::Accept,
        DmarcWord::TempError => Verdict::TempFail(Reply::new(
            451,
            EnhancedStatus(4, 7, 1),
            format!(
                "Temporary DNS error while checking DMARC for {}, please try again later",
                dmarc.from_domain
            ),
        )),
        DmarcWord::Fail => {
            let action = match dmarc.policy {
                Policy::Reject => config.dmarc_reject,
                Policy::Quarantine => config.dmarc_quarantine,
                Policy::None | Policy::Unspecified => FailAction::Mark,
            };
            match action {
                FailAction::Reject => Verdict::Reject(Reply::new(
                    550,
                    EnhancedStatus(5, 7, 1),
                    format!(
                        "Rejected by DMARC policy for {}: the message is not authenticated \
                         by the sender's domain",
                        dmarc.from_domain
                    ),
                )),
                FailAction::Junk => Verdict::Junk,
                FailAction::Mark => Verdict::Accept,
            }
        }
        DmarcWord::None | DmarcWord::PermError => spf::fail_verdict(config.spf_fail, spf, ip),
    }
}

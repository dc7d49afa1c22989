//! Inbound checks as stages, each returning a typed [`Verdict`] and its
//! Authentication-Results part, merged deterministically (reject >
//! tempfail > junk > accept, see [`verdict`]).
//!
//! Owns: the checks an MTA applies to mail from the Internet, and the
//! trace/authentication headers it adds. Must not: speak SMTP (replies
//! are returned as parts, [`Reply`]), deliver, or decide relaying.
//!
//! The session calls, in this order:
//! 1. [`Pipeline::check_client`] after accepting a connection on the MTA
//!    listener (not on submission: those clients authenticate):
//!    DNS blocklists ([`dnsbl`], RFC 5782) and forward-confirmed reverse
//!    DNS ([`rdns`]). A refusal may be answered at once or at each RCPT;
//!    it is also kept in the [`SessionCtx`] and merged at end of DATA.
//! 2. [`Pipeline::on_mail`] at MAIL FROM: SPF ([`spf`], RFC 7208) for the
//!    sender, or for the HELO name when the sender is null. A DNS failure
//!    answers `451 4.7.24` here.
//! 3. [`Pipeline::on_data`] at end of DATA, once per message: DKIM
//!    ([`dkim`], RFC 6376/8463), ARC (RFC 8617, recorded only), DMARC
//!    ([`dmarc`], RFC 7489, with SPF's fail action when no policy
//!    applies), then greylisting ([`greylist`]) for all recipients at
//!    once. It returns the verdict, the `Authentication-Results` (RFC
//!    8601) and `Received` (RFC 5321 §4.4) fields to prepend, and the
//!    byte ranges of forged Authentication-Results to drop.
//!
//! Who is checked: every unauthenticated client, relay networks included
//! (they may relay, not forge a domain's mail); relay networks and
//! authenticated sessions are exempt from greylisting, and authenticated
//! sessions from SPF/DKIM/DMARC too (their A-R entry is `auth=pass`,
//! RFC 8601 §2.7.4).

pub mod dkim;
pub mod dmarc;
pub mod dnsbl;
pub mod error;
pub mod greylist;
pub mod headers;
pub mod rdns;
pub mod session;
pub mod settings;
pub mod spf;
pub mod verdict;

mod data;

use std::sync::Arc;

use crate::db::Db;
use crate::dns::Resolver;

pub use data::DataOutcome;
pub use error::PipelineError;
pub use greylist::Greylist;
pub use headers::TlsInfo;
pub use session::SessionCtx;
pub use settings::{AuthConfig, FailAction, PipelineSettings, ReverseDns};
pub use verdict::{EnhancedStatus, Reply, Stage, StageOutcome, Verdict};

/// The inbound checks of one server; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pipeline {
    settings: Arc<PipelineSettings>,
    resolver: Resolver,
    greylist: Greylist,
}

impl Pipeline {
    /// A pipeline over the shared database and resolver.
    pub fn new(settings: PipelineSettings, db: Db, resolver: Resolver) -> Pipeline {
        let greylist = Greylist::new(db, settings.greylist.clone());
        Pipeline {
            settings: Arc::new(settings),
            resolver,
            greylist,
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    /// The greylisting stage (for expiry and administration).
    pub fn greylist(&self) -> &Greylist {
        &self.greylist
    }

    /// Connect-time checks: DNSBL, then reverse DNS. The outcome is also
    /// kept in `ctx` (and merged again at end of DATA); the confirmed
    /// host name goes into the Received header.
    pub async fn check_client(&self, ctx: &mut SessionCtx) -> Verdict {
        let ip = ctx.ip();
        let auth = &self.settings.auth;
        let dnsbl = dnsbl::check(&self.resolver, ip, &auth.dnsbl).await;
        let iprev = match auth.reverse_dns {
            ReverseDns::Off => rdns::Iprev::NotChecked,
            ReverseDns::Check | ReverseDns::Require => rdns::lookup(&self.resolver, ip).await,
        };
        let rdns_verdict = rdns::verdict(auth.reverse_dns, &iprev, ip);
        ctx.client_outcomes = vec![
            StageOutcome {
                stage: Stage::Dnsbl,
                verdict: dnsbl,
                auth_results: Vec::new(),
            },
            StageOutcome {
                stage: Stage::ReverseDns,
                verdict: rdns_verdict,
                auth_results: iprev.auth_result(ip).into_iter().collect(),
            },
        ];
        ctx.iprev = iprev;
        verdict::merge_outcomes(&ctx.client_outcomes)
    }

    /// MAIL FROM: records the sender and runs SPF (skipped for
    /// authenticated sessions). `mail_from` is the reverse-path without
    /// angle brackets, empty for `<>`. Only a temporary DNS error refuses
    /// here; SPF `fail` is judged with DMARC at end of DATA.
    pub async fn on_mail(&self, ctx: &mut SessionCtx, mail_from: &str) -> Verdict {
        ctx.reset_transaction();
        ctx.mail_from = Some(mail_from.to_string());
        if ctx.authenticated.is_some() {
            return Verdict::Accept;
        }
        let check = spf::check(
            &self.resolver,
            ctx.ip(),
            &ctx.helo,
            mail_from,
            &self.settings.hostname,
        )
        .await;
        let verdict = check.verdict_at_mail();
        ctx.spf = Some(check);
        verdict
    }

    /// End of DATA: see the module docs. `id` is the session's id for the
    /// message (the one in its `250` reply), `recipients` the accepted
    /// envelope recipients, `message` the message as received (after
    /// dot-unstuffing, CRLF line endings).
    pub async fn on_data(
        &self,
        ctx: &SessionCtx,
        id: &str,
        recipients: &[String],
        message: &[u8],
    ) -> DataOutcome {
        data::run(self, ctx, id, recipients, message).await
    }

    /// Forgets greylisting state older than `greylist.max_age`; the
    /// daemon calls this periodically.
    ///
    /// # Errors
    /// The database failed.
    pub async fn expire(&self) -> Result<greylist::admin::PurgeCounts, PipelineError> {
        let config = self.greylist.config();
        greylist::admin::expire(self.greylist_db(), config.max_age.get()).await
    }

    fn greylist_db(&self) -> &Db {
        self.greylist.db()
    }
}

//! Greylisting stage, Postgrey semantics, state in SQL.
//!
//! A triplet (client, sender, recipient) never seen, or first seen less
//! than `greylist.delay` ago, is refused with `451 4.7.1 Greylisted,
//! please try again in N seconds`; a retry after the delay passes, and
//! the triplet is remembered (later mail passes at once) until it goes
//! unseen for `greylist.max_age` ([`admin::expire`], which the daemon
//! calls periodically; an expired row is also treated as new on sight).
//!
//! Where it runs: at end of DATA, once for all recipients of the
//! message, after SPF, DKIM and DMARC. Only there are both big-sender
//! exemptions known — the SPF-authenticated domain (known at MAIL) and
//! the DKIM signature (known only with the message). Refusing after DATA
//! costs the sender one transfer, but the message is never lost: a 451
//! at end of DATA leaves it in the sender's queue (RFC 5321 §4.2.5), and
//! nothing refused is ever delivered. A message is refused if any of its
//! triplets must wait (every triplet's clock starts at the same attempt,
//! so the retry passes for all). It is skipped when another stage already
//! refuses the message, so a rejected or temp-failed attempt starts no
//! clock.
//!
//! Keys ([`key`]): the client is its /24 (IPv4) or /64 (IPv6) network —
//! or, when SPF passed, `spf:<domain>`, so a retry from any host that
//! domain authorises matches. The sender is normalised (case, VERP
//! numbers, BATV tags, `+ext`).
//!
//! Not delayed, in order:
//! 1. relay networks and authenticated sessions (decided by the caller);
//! 2. `greylist.allow_networks` and networks of `postel greylist allow`;
//! 3. `greylist.allow_domains` and allowed domains — the SPF-authenticated
//!    sender domain or a subdomain of it (an unauthenticated sender
//!    domain gains nothing);
//! 4. a client network that passed `auto_allow_after` times;
//! 5. a message whose DKIM signature passes and aligns with From, for a
//!    signing domain whose mail passed greylisting before.

pub mod admin;
pub mod key;
mod store;

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

use self::store::{Counter, TripletState};
use super::error::PipelineError;
use super::verdict::{EnhancedStatus, Reply, Verdict};
use crate::config::GreylistConfig;
use crate::db::Db;

/// What the stage knows about one message.
#[derive(Debug, Clone, Copy)]
pub struct GreylistRequest<'a> {
    /// The client address.
    pub ip: IpAddr,
    /// The envelope sender (empty for `<>`).
    pub sender: &'a str,
    /// The envelope recipients.
    pub recipients: &'a [String],
    /// The domain SPF authenticated, if SPF passed.
    pub spf_domain: Option<&'a str>,
    /// Signing domains whose DKIM signature passed and aligns with From.
    pub dkim_domains: &'a [String],
}

/// Why a message was not delayed, or how long it must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Never greylisted: allowed network or domain.
    Exempt,
    /// The client network passed often enough before.
    AutoAllowed,
    /// Signed by a DKIM domain that passed before.
    KnownDkimDomain(String),
    /// Every triplet is known and old enough.
    Passed,
    /// At least one triplet must wait this many more seconds.
    Delay(u64),
}

impl Decision {
    /// The stage's verdict.
    pub fn verdict(&self) -> Verdict {
        match self {
            Decision::Delay(secs) => Verdict::TempFail(Reply::new(
                451,
                EnhancedStatus(4, 7, 1),
                format!("Greylisted, please try again in {secs} seconds"),
            )),
            _ => Verdict::Accept,
        }
    }
}

/// The stage: configuration plus the shared database.
#[derive(Debug, Clone)]
pub struct Greylist {
    db: Db,
    config: GreylistConfig,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How stale an auto-allowed network's last-seen time may get before a
/// message refreshes it (one hour).
const SEEN_REFRESH_MS: i64 = 3_600_000;

impl Greylist {
    /// The stage over `db`.
    pub fn new(db: Db, config: GreylistConfig) -> Greylist {
        Greylist { db, config }
    }

    /// The configuration in force.
    pub fn config(&self) -> &GreylistConfig {
        &self.config
    }

    /// The database holding the state.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Decides for one message now.
    ///
    /// # Errors
    /// The database failed; the caller refuses the message temporarily.
    pub async fn check(&self, req: &GreylistRequest<'_>) -> Result<Decision, PipelineError> {
        self.check_at(req, now_ms()).await
    }

    /// Whether `network` is auto-allowed and its last-seen time is fresh
    /// enough that refreshing it can wait: then no write transaction (and
    /// no fsync) is needed for this message. `last_seen` only drives
    /// expiry after `max_age` (days), so refreshing it at most every
    /// [`SEEN_REFRESH_MS`] loses nothing.
    async fn auto_allowed_recently(&self, network: &str, now: i64) -> Result<bool, PipelineError> {
        let threshold = i64::from(self.config.auto_allow_after);
        if threshold == 0 {
            return Ok(false);
        }
        let row = store::peek(&self.db, Counter::Client, network).await?;
        Ok(row.is_some_and(|(passes, seen)| passes >= threshold && now - seen < SEEN_REFRESH_MS))
    }

    /// Decides for one message at `now` (unix milliseconds).
    ///
    /// # Errors
    /// The database failed.
    pub async fn check_at(
        &self,
        req: &GreylistRequest<'_>,
        now: i64,
    ) -> Result<Decision, PipelineError> {
        if self.is_allowed(req).await? {
            return Ok(Decision::Exempt);
        }
        let cutoff = now.saturating_sub(millis(self.config.max_age.get()));
        let network = key::network_of(req.ip).to_string();
        if self.auto_allowed_recently(&network, now).await? {
            return Ok(Decision::AutoAllowed);
        }
        let mut w = self.db.begin_write().await?;
        let tx = &mut w.tx;
        if self.config.auto_allow_after > 0 {
            let passes =
                store::passes_since(&self.db, tx, Counter::Client, &network, cutoff).await?;
            if passes.is_some_and(|p| p >= i64::from(self.config.auto_allow_after)) {
                store::bump(tx, Counter::Client, &network, 0, now, cutoff).await?;
                w.commit().await?;
                return Ok(Decision::AutoAllowed);
            }
        }
        for domain in req.dkim_domains {
            if store::passes_since(&self.db, tx, Counter::Domain, domain, cutoff)
                .await?
                .is_some()
            {
                store::bump(tx, Counter::Domain, domain, 1, now, cutoff).await?;
                w.commit().await?;
                return Ok(Decision::KnownDkimDomain(domain.clone()));
            }
        }
        let client = key::client_key(req.ip, req.spf_domain);
        let sender = key::normalize_sender(req.sender);
        let mut recipients: Vec<String> = req
            .recipients
            .iter()
            .map(|r| key::normalize_recipient(r))
            .collect();
        recipients.sort();
        recipients.dedup();
        let delay = millis(self.config.delay.get());
        let mut wait_ms = 0i64;
        for rcpt in &recipients {
            let k = (client.as_str(), sender.as_str(), rcpt.as_str());
            let old = store::triplet(&self.db, tx, k).await?;
            let (state, wait) = next_state(old, now, delay, cutoff);
            store::put_triplet(tx, k, state).await?;
            wait_ms = wait_ms.max(wait);
        }
        let decision = if wait_ms > 0 {
            Decision::Delay(u64::try_from(wait_ms).unwrap_or(1).div_ceil(1000).max(1))
        } else {
            store::bump(tx, Counter::Client, &network, 1, now, cutoff).await?;
            for domain in req.dkim_domains {
                store::bump(tx, Counter::Domain, domain, 1, now, cutoff).await?;
            }
            Decision::Passed
        };
        w.commit().await?;
        Ok(decision)
    }

    /// Configured or administrator-allowed network, or SPF-authenticated
    /// allowed domain.
    async fn is_allowed(&self, req: &GreylistRequest<'_>) -> Result<bool, PipelineError> {
        let ip = req.ip.to_canonical();
        if self.config.allow_networks.iter().any(|n| n.contains(&ip)) {
            return Ok(true);
        }
        let spf = req.spf_domain.unwrap_or("");
        if !spf.is_empty()
            && self
                .config
                .allow_domains
                .iter()
                .any(|d| key::domain_matches(spf, d))
        {
            return Ok(true);
        }
        for (kind, value) in store::allow_rows(&self.db).await? {
            let hit = match kind.as_str() {
                "network" => IpNet::from_str(&value).is_ok_and(|n| n.contains(&ip)),
                "domain" => !spf.is_empty() && key::domain_matches(spf, &value),
                _ => false,
            };
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Postgrey's rule for one triplet: its new state, and how many
/// milliseconds it must still wait (0 = passes).
fn next_state(old: Option<TripletState>, now: i64, delay: i64, cutoff: i64) -> (TripletState, i64) {
    let s = match old {
        Some(s) if s.last_seen >= cutoff => s,
        _ => TripletState {
            first_seen: now,
            last_seen: now,
            passes: 0,
        },
    };
    let elapsed = now.saturating_sub(s.first_seen);
    if s.passes == 0 && elapsed < delay {
        (
            TripletState {
                last_seen: now,
                ..s
            },
            delay - elapsed,
        )
    } else {
        let passes = s.passes.saturating_add(1);
        (
            TripletState {
                last_seen: now,
                passes,
                ..s
            },
            0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplet_rule() {
        let (s, wait) = next_state(None, 1_000, 300_000, 0);
        assert_eq!((s.first_seen, s.passes, wait), (1_000, 0, 300_000));
        let (s, wait) = next_state(Some(s), 61_000, 300_000, 0);
        assert_eq!((s.first_seen, s.last_seen, wait), (1_000, 61_000, 240_000));
        let (s, wait) = next_state(Some(s), 301_000, 300_000, 0);
        assert_eq!((s.passes, wait), (1, 0));
        let (s, wait) = next_state(Some(s), 301_500, 300_000, 0);
        assert_eq!((s.passes, wait), (2, 0));
        let (s, wait) = next_state(Some(s), 999_999, 300_000, 400_000);
        assert_eq!((s.first_seen, s.passes, wait), (999_999, 0, 300_000));
    }

    #[test]
    fn delay_reply() {
        let v = Decision::Delay(42).verdict();
        assert_eq!(
            v.reply().map(ToString::to_string).unwrap_or_default(),
            "451 4.7.1 Greylisted, please try again in 42 seconds"
        );
    }
}

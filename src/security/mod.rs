//! Abuse protection, shared by every protocol: failed-login tracking
//! and bans (fail2ban / hMailServer's autoban, built in), connection
//! limits per listener and per client address, sending rates, and the
//! SMTP tarpit. The operator's view is `docs/security.md`.
//!
//! Owns: the `auth_failures` and `bans` tables ([`bans`]), the
//! in-process copy of the active bans (refreshed from the database every
//! [`BAN_REFRESH`], so a ban made by another process or node is honoured
//! within seconds), the connection counts ([`limits`]), the sending-rate
//! windows ([`rate`]) and the refusal words ([`gate`]).
//!
//! Must not: verify passwords (that is `directory`) or run sessions. The
//! sessions call [`Security::login_failed`] / [`Security::login_succeeded`]
//! around their password checks, [`Security::is_banned`] before them, and
//! the SMTP session asks [`Security::take_message`] /
//! [`Security::take_recipient`]; the listener asks its [`gate::Gate`].

pub mod bans;
pub mod gate;
pub mod limits;
pub mod rate;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnet::IpNet;
use tokio::sync::Mutex;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::protocol::smtp::{EnhancedStatus, Reply};

pub use bans::Ban;
pub use gate::Gate;
pub use limits::Refusal;

/// How old the in-process copy of the bans may get.
pub const BAN_REFRESH: Duration = Duration::from_secs(2);
/// Failed logins forgiven before delays start.
const FREE_FAILURES: u32 = 2;
/// The window of the sending rates.
const RATE_WINDOW: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
struct BanCache {
    loaded: Option<Instant>,
    /// Active bans: network and end (unix ms, `None` until deleted).
    bans: Vec<(IpNet, Option<i64>)>,
}

struct Inner {
    db: Db,
    config: Arc<Config>,
    cache: Mutex<BanCache>,
    messages: rate::RateLimiter,
    recipients: rate::RateLimiter,
}

/// Abuse protection for the whole process; cheap to clone.
#[derive(Clone)]
pub struct Security {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security").finish_non_exhaustive()
    }
}

impl Security {
    /// Protection configured by `[security]` and `[limits]`, its state in `db`.
    pub fn new(db: Db, config: Arc<Config>) -> Security {
        let limits = &config.limits;
        Security {
            inner: Arc::new(Inner {
                messages: rate::RateLimiter::new(limits.messages_per_hour, RATE_WINDOW),
                recipients: rate::RateLimiter::new(limits.recipients_per_hour, RATE_WINDOW),
                db,
                config,
                cache: Mutex::new(BanCache::default()),
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    fn ban_exempt(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let nets = &self.inner.config.security.ban_exceptions;
        nets.iter().any(|n| n.contains(&ip))
    }

    /// Whether `ip` is banned now. Addresses in `security.ban_exceptions`
    /// never are. Reads the in-process copy, reloading it from the
    /// database when older than [`BAN_REFRESH`]; if the database fails,
    /// the last copy stays in force.
    pub async fn is_banned(&self, ip: IpAddr) -> bool {
        if self.ban_exempt(ip) {
            return false;
        }
        let ip = ip.to_canonical();
        let now = bans::now_ms();
        let mut cache = self.inner.cache.lock().await;
        if cache.loaded.is_none_or(|t| t.elapsed() >= BAN_REFRESH) {
            match bans::active(&self.inner.db, now).await {
                Ok(list) => {
                    cache.bans = list
                        .iter()
                        .filter_map(|b| Some((b.network()?, b.until)))
                        .collect();
                }
                Err(e) => tracing::warn!(error = %e, "cannot read bans; using the last copy"),
            }
            cache.loaded = Some(Instant::now());
        }
        cache
            .bans
            .iter()
            .any(|(net, until)| net.contains(&ip) && until.is_none_or(|u| u > now))
    }

    /// Records a failed login from `ip` and returns how long to wait
    /// before answering: nothing for the first failures in the window,
    /// then `auth_fail_delay`, doubling up to `auth_fail_delay_max`. The
    /// failure that reaches `auth_fail_limit` bans the address for
    /// `ban_time`. A database failure is logged and costs the delay cap.
    pub async fn login_failed(&self, ip: IpAddr) -> Duration {
        let s = &self.inner.config.security;
        let now = bans::now_ms();
        let window = bans::ms(s.auth_fail_window.get());
        let failures = match bans::record_failure(&self.inner.db, ip, now, window).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cannot record a failed login");
                return s.auth_fail_delay_max.get();
            }
        };
        if s.auth_fail_limit > 0
            && failures >= s.auth_fail_limit
            && !self.ban_exempt(ip)
            && let Err(e) = self.ban_after_failures(ip, failures, now).await
        {
            tracing::warn!(error = %e, "cannot record a ban");
        }
        failure_delay(
            failures.saturating_sub(1),
            s.auth_fail_delay.get(),
            s.auth_fail_delay_max.get(),
        )
    }

    async fn ban_after_failures(&self, ip: IpAddr, n: u32, now: i64) -> Result<(), DbError> {
        let s = &self.inner.config.security;
        let net = IpNet::from(ip.to_canonical());
        let until = now.saturating_add(bans::ms(s.ban_time.get()));
        let reason = format!(
            "{n} failed logins within {}",
            crate::config::HumanDuration(s.auth_fail_window.get())
        );
        bans::add(&self.inner.db, &net, &reason, now, Some(until)).await?;
        bans::clear_failures(&self.inner.db, ip).await?;
        tracing::warn!(client = %ip, %reason, until_ms = until, "address banned");
        self.inner.cache.lock().await.bans.push((net, Some(until)));
        Ok(())
    }

    /// Forgets the failures of `ip` after a successful login.
    pub async fn login_succeeded(&self, ip: IpAddr) {
        if let Err(e) = bans::clear_failures(&self.inner.db, ip).await {
            tracing::warn!(error = %e, "cannot clear failed logins");
        }
    }

    /// Counts one message (an accepted MAIL) from `user` when
    /// authenticated, else from client `ip` unless it is exempt
    /// (`limits.exceptions`).
    ///
    /// # Errors
    /// `450 4.7.1` when `limits.messages_per_hour` is used up.
    pub fn take_message(&self, ip: IpAddr, user: Option<&str>) -> Result<(), Reply> {
        let Some(key) = self.rate_key(ip, user) else {
            return Ok(());
        };
        if self.inner.messages.take(&key, 1, Instant::now()) {
            return Ok(());
        }
        tracing::info!(%key, "message rate limit reached");
        Err(Reply::new(
            450,
            Some(EnhancedStatus::new(4, 7, 1)),
            "Error: too much mail from you, try again later",
        ))
    }

    /// Counts one accepted recipient, as [`Security::take_message`].
    ///
    /// # Errors
    /// `452 4.5.3` when `limits.recipients_per_hour` is used up.
    pub fn take_recipient(&self, ip: IpAddr, user: Option<&str>) -> Result<(), Reply> {
        let Some(key) = self.rate_key(ip, user) else {
            return Ok(());
        };
        if self.inner.recipients.take(&key, 1, Instant::now()) {
            return Ok(());
        }
        tracing::info!(%key, "recipient rate limit reached");
        Err(Reply::new(
            452,
            Some(EnhancedStatus::new(4, 5, 3)),
            "Error: too many recipients from you, try again later",
        ))
    }

    fn rate_key(&self, ip: IpAddr, user: Option<&str>) -> Option<String> {
        if let Some(u) = user {
            return Some(format!("user:{}", u.to_ascii_lowercase()));
        }
        let ip = ip.to_canonical();
        let exempt = self.inner.config.limit_exceptions();
        (!exempt.iter().any(|n| n.contains(&ip))).then(|| format!("ip:{ip}"))
    }

    /// Deletes ended bans and stale failure counts (housekeeping).
    ///
    /// # Errors
    /// The database failed.
    pub async fn expire(&self) -> Result<u64, DbError> {
        let window = bans::ms(self.inner.config.security.auth_fail_window.get());
        bans::purge(&self.inner.db, bans::now_ms(), window).await
    }
}

/// The delay before answering a failed login when `prior` failures came
/// before it in the window.
pub fn failure_delay(prior: u32, first: Duration, max: Duration) -> Duration {
    if prior < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (prior - FREE_FAILURES).min(16);
    first.saturating_mul(1 << doublings).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_delays_grow_then_stop_at_the_cap() {
        let (one, max) = (Duration::from_secs(1), Duration::from_secs(15));
        let delays: Vec<u64> = (0..9)
            .map(|p| failure_delay(p, one, max).as_secs())
            .collect();
        assert_eq!(delays, [0, 0, 1, 2, 4, 8, 15, 15, 15]);
        assert_eq!(failure_delay(u32::MAX, one, max), max);
    }
}

//! Failed-login throttling per client address, shared by SMTP AUTH, IMAP
//! and POP3 in this process: after a few failures every further attempt
//! from the same address waits longer before its answer, so guessing
//! passwords gets slow while a user who mistyped once notices nothing.
//! (Issue 7 moves this into the database so that all nodes share it and
//! adds bans.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures forgiven before delays start.
const FREE_FAILURES: u32 = 2;
/// Longest delay.
const MAX_DELAY: Duration = Duration::from_secs(15);
/// A quiet address is forgotten after this long.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// Tracks failed logins per client address; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AuthThrottle {
    failures: Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>,
}

impl AuthThrottle {
    /// How long to wait before answering a failed login from `ip`:
    /// nothing for the first failures, then 1 s, 2 s, 4 s … up to 15 s.
    pub fn delay(&self, ip: IpAddr) -> Duration {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&ip.to_canonical()) {
            Some((n, at)) if at.elapsed() < FORGET_AFTER && *n >= FREE_FAILURES => {
                let exp = (*n - FREE_FAILURES).min(4);
                Duration::from_secs(1 << exp).min(MAX_DELAY)
            }
            _ => Duration::ZERO,
        }
    }

    /// Records a failed login from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, at)| at.elapsed() < FORGET_AFTER);
        }
        let e = map.entry(ip.to_canonical()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= FORGET_AFTER {
            e.0 = 0;
        }
        e.0 = e.0.saturating_add(1);
        e.1 = Instant::now();
    }

    /// Forgets the failures of `ip` after a successful login.
    pub fn succeeded(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&ip.to_canonical());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_free_failures_and_reset_on_success() {
        let t = AuthThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        assert_eq!(t.delay(ip), Duration::ZERO);
        t.failed(ip);
        t.failed(ip);
        assert_eq!(t.delay(ip), Duration::from_secs(1));
        t.failed(ip);
        assert_eq!(t.delay(ip), Duration::from_secs(2));
        for _ in 0..10 {
            t.failed(ip);
        }
        assert_eq!(t.delay(ip), MAX_DELAY);
        assert_eq!(t.delay(other), Duration::ZERO);
        t.succeeded(ip);
        assert_eq!(t.delay(ip), Duration::ZERO);
    }
}

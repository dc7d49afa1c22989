//! Sending rates over a sliding window, per client address or per
//! authenticated user (Postfix's anvil, built in), and the SMTP tarpit's
//! growing delay.
//!
//! Rates live in this process's memory: they only need to stop a flood
//! within the window, and writing the database for every MAIL and RCPT
//! would cost more than the flood. With several nodes each enforces the
//! limit on its own share of the traffic.
//!
//! The window is approximated the way many rate limiters do it: the
//! count of the current fixed window plus the previous window's count
//! weighted by how much of it still overlaps the sliding window. Memory
//! is two counters per key.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before stale ones are swept.
const SWEEP_ABOVE: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    current: u64,
    previous: u64,
}

/// Counts events per key; at most `limit` within any `window`.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u64,
    window: Duration,
    keys: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    /// A limiter allowing `limit` events per `window`; 0 allows anything.
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit: u64::from(limit),
            window: window.max(Duration::from_millis(1)),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Takes `n` events for `key` at `now` if they fit under the limit;
    /// whether they did (refused events are not counted).
    pub fn take(&self, key: &str, n: u64, now: Instant) -> bool {
        if self.limit == 0 {
            return true;
        }
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() > SWEEP_ABOVE {
            let window = self.window;
            keys.retain(|_, w| now.saturating_duration_since(w.start) < 2 * window);
        }
        let w = keys.entry(key.to_string()).or_insert(Window {
            start: now,
            current: 0,
            previous: 0,
        });
        let elapsed = now.saturating_duration_since(w.start);
        if elapsed >= 2 * self.window {
            *w = Window {
                start: now,
                current: 0,
                previous: 0,
            };
        } else if elapsed >= self.window {
            *w = Window {
                start: w.start + self.window,
                current: 0,
                previous: w.current,
            };
        }
        let into = now.saturating_duration_since(w.start).as_secs_f64() / self.window.as_secs_f64();
        // Rounded up: a part of an event still counts as one.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let carried = (w.previous as f64 * (1.0 - into.min(1.0))).ceil() as u64;
        if carried + w.current + n > self.limit {
            return false;
        }
        w.current += n;
        true
    }
}

/// The SMTP tarpit: how long to wait before the next reply after
/// `errors` error replies, when delays start after `soft_limit` errors.
/// Each error beyond the soft limit adds `step` (Postfix's
/// `smtpd_error_sleep_time`), up to a minute.
pub fn tarpit_delay(errors: u32, soft_limit: u32, step: Duration) -> Duration {
    let beyond = errors.saturating_sub(soft_limit);
    step.saturating_mul(beyond).min(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_holds_within_the_window_and_frees_up_after() {
        let r = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(r.take("a", 1, t0));
        assert!(r.take("a", 2, t0));
        assert!(!r.take("a", 1, t0 + Duration::from_secs(30)));
        assert!(r.take("b", 3, t0), "keys are independent");
        // Half-way through the next window half of the old count (1.5,
        // rounded up) remains.
        let t = t0 + Duration::from_secs(90);
        assert!(r.take("a", 1, t));
        assert!(!r.take("a", 1, t));
        // Two windows later everything is forgotten.
        assert!(r.take("a", 3, t0 + Duration::from_secs(200)));
    }

    #[test]
    fn refused_events_do_not_count_and_zero_is_unlimited() {
        let r = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(!r.take("a", 3, t0));
        assert!(r.take("a", 2, t0));
        let off = RateLimiter::new(0, Duration::from_secs(60));
        assert!((0..1000).all(|_| off.take("a", 5, t0)));
    }

    #[test]
    fn tarpit_grows_per_error_beyond_the_soft_limit() {
        let s = Duration::from_secs(1);
        assert_eq!(tarpit_delay(3, 3, s), Duration::ZERO);
        assert_eq!(tarpit_delay(4, 3, s), Duration::from_secs(1));
        assert_eq!(tarpit_delay(6, 3, s), Duration::from_secs(3));
        assert_eq!(tarpit_delay(1000, 3, s), Duration::from_secs(60));
    }
}

//! Connection limits of one listener: at most `limits.max_connections`
//! at once, and at most `limits.max_connections_per_ip` from one client
//! address (networks in `limits.exceptions` only count towards the
//! first). A [`ConnPermit`] holds a connection's place until dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

/// Why a connection is refused at connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address is banned.
    Banned,
    /// The address has `max_connections_per_ip` open already.
    TooManyFromAddress,
    /// The listener has `max_connections` open already.
    TooManyConnections,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// The connection counts of one listener; shared by its sockets.
#[derive(Debug)]
pub struct ConnLimiter {
    max: usize,
    per_ip: usize,
    exceptions: Vec<IpNet>,
    counts: Mutex<Counts>,
}

/// One admitted connection; gives its place back when dropped.
#[derive(Debug)]
pub struct ConnPermit {
    limiter: Arc<ConnLimiter>,
    /// The address counted per IP (`None` for exempt clients).
    ip: Option<IpAddr>,
}

impl ConnLimiter {
    /// A limiter with room for `max` connections, `per_ip` from one
    /// address outside `exceptions`.
    pub fn new(max: usize, per_ip: usize, exceptions: Vec<IpNet>) -> Arc<Self> {
        Arc::new(ConnLimiter {
            max,
            per_ip,
            exceptions,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Takes a place for a connection from `ip`, or says why not.
    ///
    /// # Errors
    /// The refusal to tell the client.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnPermit, Refusal> {
        let ip = ip.to_canonical();
        let exempt = self.exceptions.iter().any(|n| n.contains(&ip));
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.total >= self.max {
            return Err(Refusal::TooManyConnections);
        }
        if !exempt {
            let n = c.per_ip.entry(ip).or_insert(0);
            if *n >= self.per_ip {
                return Err(Refusal::TooManyFromAddress);
            }
            *n += 1;
        }
        c.total += 1;
        Ok(ConnPermit {
            limiter: self.clone(),
            ip: (!exempt).then_some(ip),
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut c = self
            .limiter
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(ip) = self.ip
            && let Some(n) = c.per_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn per_address_and_total_limits_with_exceptions() {
        let l = ConnLimiter::new(4, 2, vec!["10.0.0.0/8".parse().expect("net")]);
        let a1 = l.admit(ip("192.0.2.1")).expect("first");
        let _a2 = l
            .admit(ip("::ffff:192.0.2.1"))
            .expect("second, same address mapped");
        assert_eq!(
            l.admit(ip("192.0.2.1")).err(),
            Some(Refusal::TooManyFromAddress)
        );
        let _b = l.admit(ip("10.1.1.1")).expect("exempt");
        let _c = l.admit(ip("10.1.1.1")).expect("exempt, beyond per-ip");
        assert_eq!(
            l.admit(ip("192.0.2.9")).err(),
            Some(Refusal::TooManyConnections)
        );
        drop(a1);
        assert_eq!(l.open(), 3);
        let _a3 = l.admit(ip("192.0.2.1")).expect("a place came free");
    }
}

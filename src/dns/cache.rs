//! mail-auth's record caches: parsed SPF, DMARC and DKIM key records
//! (and the A/AAAA/MX/PTR answers SPF mechanisms ask for), kept until the
//! expiry of the DNS answer they came from.
//!
//! hickory's own cache (in [`super::Resolver`]) already saves the network
//! round trip; these save parsing the record again (an RSA key for DKIM,
//! the SPF term list) for every message from the same domain. mail-auth
//! stores only answers it got (errors, including "no record", are left to
//! hickory's negative cache), with the answer's own expiry, so a record
//! is never used longer than its TTL allows (capped by
//! `ResolverOptions::max_ttl` through hickory).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use mail_auth::{MX, RecordSet, ResolverCache, Txt};

/// A bounded map whose entries expire at the instant given on insert
/// (also used for the SMTP session's recipient lookups).
pub struct TtlCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
    capacity: usize,
}

impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.map.lock().map_or(0, |m| m.len());
        f.debug_struct("TtlCache")
            .field("len", &len)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    /// An empty cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        TtlCache {
            map: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// How many entries are held (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    /// The value of `key` if it has not expired yet.
    pub fn get_fresh<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get(key) {
            Some((value, until)) if *until > Instant::now() => Some(value.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Keeps `value` until `valid_until` (nothing when that has passed).
    /// A full cache first drops expired entries, then, if still full,
    /// everything: simpler than tracking recency, and whatever is dropped
    /// is looked up again.
    pub fn put(&self, key: K, value: V, valid_until: Instant) {
        let now = Instant::now();
        if valid_until <= now {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (value, valid_until));
    }

    /// Forgets `key`.
    pub fn forget<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
            .map(|(v, _)| v)
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for TtlCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_fresh(name)
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.forget(name)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        self.put(key, value, valid_until);
    }
}

/// One cache per record kind, as mail-auth's verifiers take them.
#[derive(Debug)]
pub struct AuthCaches {
    /// Parsed TXT records: SPF, DMARC, DKIM keys.
    pub txt: TtlCache<Box<str>, Txt>,
    /// MX answers (SPF `mx`).
    pub mx: TtlCache<Box<str>, RecordSet<MX>>,
    /// A answers (SPF `a`, `mx`).
    pub ipv4: TtlCache<Box<str>, RecordSet<Ipv4Addr>>,
    /// AAAA answers.
    pub ipv6: TtlCache<Box<str>, RecordSet<Ipv6Addr>>,
    /// PTR answers (SPF `ptr`, `%{p}`).
    pub ptr: TtlCache<IpAddr, RecordSet<Box<str>>>,
}

impl AuthCaches {
    /// Caches of `capacity` entries each.
    pub fn new(capacity: usize) -> Self {
        AuthCaches {
            txt: TtlCache::new(capacity),
            mx: TtlCache::new(capacity),
            ipv4: TtlCache::new(capacity),
            ipv6: TtlCache::new(capacity),
            ptr: TtlCache::new(capacity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let c: TtlCache<Box<str>, u32> = TtlCache::new(2);
        let later = Instant::now() + Duration::from_secs(60);
        c.put("a".into(), 1, later);
        c.put("gone".into(), 9, Instant::now());
        assert_eq!(c.get_fresh("a"), Some(1));
        assert_eq!(c.get_fresh("gone"), None);
        c.put("b".into(), 2, later);
        assert_eq!(c.len(), 2);
        // Full of live entries: a new key starts over.
        c.put("c".into(), 3, later);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get_fresh("c"), Some(3));
        assert_eq!(c.forget("c"), Some(3));
        assert!(c.is_empty());
        // Through mail-auth's trait.
        ResolverCache::insert(&c, "d".into(), 4, later);
        assert_eq!(ResolverCache::get(&c, "d"), Some(4));
    }
}

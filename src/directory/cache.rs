//! A short-lived cache of verified credentials, like Dovecot's auth
//! cache: after a successful argon2 verification, the same user
//! presenting the same password within [`TTL`] is let in without running
//! argon2 again (the cost that dominates every login).
//!
//! What is kept per user: a keyed digest of the password that was
//! verified (never the password; the key is random per process) and the
//! stored PHC hash it was verified against. A hit still reads the user's
//! row: the entry counts only while that row holds the same hash, so a
//! password changed by any process (the CLI writes the database
//! directly) or a deleted user ends it at once; `enabled` is read fresh
//! every time. A wrong password misses and pays the full argon2 time, so
//! the cache tells an attacker nothing they could not learn without it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

/// How long a verified password is remembered.
pub const TTL: Duration = Duration::from_secs(60);

/// Most users remembered at once.
pub const CAPACITY: usize = 10_000;

/// Digest length in octets.
const DIGEST: usize = 32;

/// The per-process key of the digests.
static KEY: LazyLock<[u8; 32]> = LazyLock::new(rand::random);

/// Argon2id with the smallest parameters (8 KiB, one pass): a keyed
/// 32-octet digest in microseconds, from the crate already used for
/// password hashing. Its strength comes from the random key, not from
/// the cost.
fn digest(password: &str) -> Option<[u8; DIGEST]> {
    let params = Params::new(8, 1, 1, Some(DIGEST)).ok()?;
    let mut out = [0u8; DIGEST];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), &KEY[..], &mut out)
        .ok()?;
    Some(out)
}

/// Compares without an early exit.
fn same(a: &[u8; DIGEST], b: &[u8; DIGEST]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

struct Entry {
    /// The stored hash the password was verified against.
    phc: String,
    /// Keyed digest of the verified password.
    digest: [u8; DIGEST],
    /// When it was verified.
    at: Instant,
}

/// Verified credentials by canonical address; shared by every clone of
/// a [`super::Directory`].
#[derive(Default)]
pub struct CredentialCache {
    entries: Mutex<HashMap<String, Entry>>,
    ttl: Option<Duration>,
    capacity: Option<usize>,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl CredentialCache {
    /// A cache with [`TTL`] and [`CAPACITY`].
    pub fn new() -> CredentialCache {
        CredentialCache::default()
    }

    #[cfg(test)]
    fn with(ttl: Duration, capacity: usize) -> CredentialCache {
        CredentialCache {
            ttl: Some(ttl),
            capacity: Some(capacity),
            ..CredentialCache::default()
        }
    }

    fn ttl(&self) -> Duration {
        self.ttl.unwrap_or(TTL)
    }

    fn capacity(&self) -> usize {
        self.capacity.unwrap_or(CAPACITY)
    }

    /// How many users are remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `password` was verified for `address` against the hash
    /// `phc` (the one stored now) within the TTL.
    pub fn hit(&self, address: &str, phc: &str, password: &str) -> bool {
        let Ok(mut map) = self.entries.lock() else {
            return false;
        };
        let Some(e) = map.get(address) else {
            return false;
        };
        if e.at.elapsed() >= self.ttl() || e.phc != phc {
            map.remove(address);
            return false;
        }
        let stored = e.digest;
        drop(map);
        digest(password).is_some_and(|d| same(&d, &stored))
    }

    /// Remembers that `password` matched `phc` for `address`.
    pub fn insert(&self, address: &str, phc: &str, password: &str) {
        let Some(digest) = digest(password) else {
            return;
        };
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= self.capacity() && !map.contains_key(address) {
            let ttl = self.ttl();
            map.retain(|_, e| e.at.elapsed() < ttl);
            if map.len() >= self.capacity() {
                // Still full of live entries: forget the oldest.
                let oldest = map.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
        }
        map.insert(
            address.to_string(),
            Entry {
                phc: phc.to_string(),
                digest,
                at: Instant::now(),
            },
        );
    }

    /// Forgets `address` (its password changed or it was deleted).
    pub fn forget(&self, address: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_only_the_verified_password_and_hash() {
        let c = CredentialCache::new();
        assert!(!c.hit("a@x.test", "$h1", "pw"));
        c.insert("a@x.test", "$h1", "pw");
        assert!(c.hit("a@x.test", "$h1", "pw"));
        assert!(!c.hit("a@x.test", "$h1", "other"));
        assert!(!c.hit("b@x.test", "$h1", "pw"));
        // the stored hash changed: the entry is gone for good
        assert!(!c.hit("a@x.test", "$h2", "pw"));
        assert!(!c.hit("a@x.test", "$h1", "pw"));
    }

    #[test]
    fn forget_and_expiry() {
        let c = CredentialCache::new();
        c.insert("a@x.test", "$h", "pw");
        c.forget("a@x.test");
        assert!(!c.hit("a@x.test", "$h", "pw"));
        let c = CredentialCache::with(Duration::from_millis(20), 10);
        c.insert("a@x.test", "$h", "pw");
        assert!(c.hit("a@x.test", "$h", "pw"));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!c.hit("a@x.test", "$h", "pw"));
        assert!(c.is_empty());
    }

    #[test]
    fn bounded() {
        let c = CredentialCache::with(Duration::from_secs(60), 3);
        for i in 0..10 {
            c.insert(&format!("u{i}@x.test"), "$h", "pw");
            assert!(c.len() <= 3);
        }
        assert!(c.hit("u9@x.test", "$h", "pw"));
        assert!(!c.hit("u0@x.test", "$h", "pw"));
    }

    #[test]
    fn digest_is_keyed_and_distinct() {
        let a = digest("pw").expect("digest");
        assert_eq!(Some(a), digest("pw"));
        assert_ne!(Some(a), digest("pw2"));
    }
}

//! argon2id password hashing and verification, off the async executor and
//! in the same time whether or not the account exists.
//!
//! Verifications run at most one per CPU at a time (argon2 is pure CPU
//! work: more at once only adds latency) and reuse their 19 MiB of argon2
//! memory from a small pool. Allocating it per login made the allocator
//! keep one such block per thread arena after a burst of logins, hundreds
//! of MiB of resident memory that was never used again.

use std::sync::{LazyLock, Mutex};

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use super::DirectoryError;

/// A password in memory; never printed.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The password text; call only where it is hashed or verified.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// A hash of a random password, verified against when the user does not
/// exist so that the answer takes as long as for a real user.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let pw = format!("{:032x}", rand::random::<u128>());
    hash_now(&pw).unwrap_or_default()
});

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Hashes `password` with argon2id (default parameters: 19 MiB, t=2, p=1).
///
/// # Errors
/// [`DirectoryError::Hash`] if hashing fails (it does not in practice).
pub async fn hash(password: &Secret) -> Result<String, DirectoryError> {
    let pw = password.clone();
    tokio::task::spawn_blocking(move || hash_now(pw.expose()))
        .await
        .map_err(|e| DirectoryError::Hash(e.to_string()))?
        .map_err(|e| DirectoryError::Hash(e.to_string()))
}

/// Memory blocks for argon2, one set per concurrent verification.
struct Pool {
    /// One permit per verification that may run now.
    permits: Semaphore,
    /// Block sets not in use (never more than there are permits).
    free: Mutex<Vec<Vec<Block>>>,
    /// How many sets are kept.
    keep: usize,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let keep = std::thread::available_parallelism().map_or(2, usize::from);
    Pool {
        permits: Semaphore::new(keep),
        free: Mutex::new(Vec::new()),
        keep,
    }
});

impl Pool {
    fn take(&self, blocks: usize) -> Vec<Block> {
        let reused = self.free.lock().ok().and_then(|mut f| f.pop());
        match reused {
            Some(v) if v.len() >= blocks => v,
            _ => vec![Block::default(); blocks],
        }
    }

    fn put(&self, blocks: Vec<Block>) {
        if let Ok(mut f) = self.free.lock()
            && f.len() < self.keep
        {
            f.push(blocks);
        }
    }
}

/// Recomputes the hash of `password` with the algorithm, version,
/// parameters and salt of `phc` in pooled memory, and compares the result
/// in constant time (what `PasswordVerifier` does, without allocating).
fn verify_now(phc: &str, password: &[u8]) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm) else {
        return false;
    };
    let version = match h.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut blocks = POOL.take(params.block_count());
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..])
            .map_err(Into::into)
    });
    POOL.put(blocks);
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

/// Verifies `password` against `stored` (a PHC string), or against a dummy
/// hash when `stored` is `None`, so both take the same time. Returns
/// `false` for `None`, a malformed hash, or a wrong password.
pub async fn verify(stored: Option<String>, password: &Secret) -> bool {
    let known = stored.is_some();
    let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let pw = password.clone();
    let Ok(_permit) = POOL.permits.acquire().await else {
        return false;
    };
    let ok = tokio::task::spawn_blocking(move || verify_now(&phc, pw.expose().as_bytes()))
        .await
        .unwrap_or(false);
    known && ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash(&Secret::new("correct horse")).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(h.clone()), &Secret::new("correct horse")).await);
        assert!(!verify(Some(h), &Secret::new("wrong")).await);
        assert!(!verify(None, &Secret::new("correct horse")).await);
        assert!(!verify(Some("garbage".into()), &Secret::new("x")).await);
    }

    /// The pooled verification accepts what the argon2 crate's own
    /// verifier accepts, for other parameters and argon2i/argon2d too.
    #[test]
    fn pooled_verification_matches_the_crate() {
        use argon2::password_hash::PasswordVerifier;
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        for (alg, m) in [
            (Algorithm::Argon2id, 64),
            (Algorithm::Argon2i, 32),
            (Algorithm::Argon2d, 16),
            (Algorithm::Argon2id, 8),
        ] {
            let params = Params::new(m, 2, 1, None).expect("params");
            let a = Argon2::new(alg, Version::V0x13, params);
            let phc = a.hash_password(b"pw", &salt).expect("hash").to_string();
            let parsed = PasswordHash::new(&phc).expect("phc");
            assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
            assert!(verify_now(&phc, b"pw"), "{phc}");
            assert!(!verify_now(&phc, b"pW"), "{phc}");
        }
        // a reused larger block set still gives the same answer
        let big = hash_now("pw").expect("default hash");
        assert!(verify_now(&big, b"pw"));
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).expect("p"),
        )
        .hash_password(b"pw", &salt)
        .expect("hash")
        .to_string();
        assert!(verify_now(&small, b"pw"));
        assert!(!verify_now(&small, b"x"));
    }

    #[test]
    fn secret_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "[REDACTED]");
    }
}

//! argon2id password hashing and verification, off the async executor and
//! in the same time whether or not the account exists.
//!
//! Each argon2 computation needs 19 MiB of working memory. At most one per
//! CPU runs at a time ([`ARGON2_SLOTS`]): more would not finish sooner
//! (the work is CPU-bound) but would multiply the memory. Verification
//! reuses its working memory ([`MEMORY`]) instead of allocating it each
//! time, because glibc keeps such freed blocks in per-thread arenas: 20
//! clients logging in at once made the daemon peak at 390 MiB and stay
//! there.

use std::sync::{LazyLock, Mutex, PoisonError};

use tokio::sync::Semaphore;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// How many argon2 computations may run at once: one per CPU.
pub static ARGON2_SLOTS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));

static ARGON2: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(*ARGON2_SLOTS));

/// Runs `f` on the blocking pool once one of the [`ARGON2_SLOTS`] is
/// free; `None` if the task panicked.
async fn limited<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    // The semaphore is never closed, so acquiring cannot fail.
    let _permit = ARGON2.acquire().await.ok()?;
    tokio::task::spawn_blocking(f).await.ok()
}

/// Argon2 working memory kept between verifications: never more buffers
/// than [`ARGON2_SLOTS`], since only that many computations run at once.
static MEMORY: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// Checks `password` against a PHC string with the parameters it names,
/// in reused working memory. `false` for a malformed hash or a mismatch;
/// the comparison takes constant time ([`Output`]'s equality).
fn verify_now(phc: &str, password: &[u8]) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let version = h.version.map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(h.algorithm),
        version,
        Params::try_from(&h),
    ) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut memory = MEMORY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
            .map_err(|_| argon2::password_hash::Error::Password)
    });
    MEMORY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(memory);
    computed.is_ok_and(|c| c == expected)
}

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
    limited(move || hash_now(pw.expose()))
        .await
        .ok_or_else(|| DirectoryError::Hash("the hashing task failed".into()))?
        .map_err(|e| DirectoryError::Hash(e.to_string()))
}

/// Verifies `password` against `stored` (a PHC string), or against a dummy
/// hash when `stored` is `None`, so both take the same time. Returns
/// `false` for `None`, a malformed hash, or a wrong password.
pub async fn verify(stored: Option<String>, password: &Secret) -> bool {
    let known = stored.is_some();
    let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let pw = password.clone();
    let ok = limited(move || verify_now(&phc, pw.expose().as_bytes()))
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
        // Hashes made with other parameters verify with theirs.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).expect("params"),
        );
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let h = small
            .hash_password(b"tiny", &salt)
            .expect("hash")
            .to_string();
        assert!(verify(Some(h.clone()), &Secret::new("tiny")).await);
        assert!(!verify(Some(h), &Secret::new("tinY")).await);
    }

    /// However many callers, no more than [`ARGON2_SLOTS`] computations
    /// run at once (each holds 19 MiB).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn computations_are_bounded() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4 * *ARGON2_SLOTS + 4)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                tokio::spawn(limited(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for t in tasks {
            assert!(t.await.expect("join").is_some());
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak >= 1 && peak <= *ARGON2_SLOTS, "peak {peak}");
    }

    #[test]
    fn secret_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "[REDACTED]");
    }
}

//! argon2id password hashing and verification, off the async executor and
//! in the same time whether or not the account exists.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

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

/// Verifies `password` against `stored` (a PHC string), or against a dummy
/// hash when `stored` is `None`, so both take the same time. Returns
/// `false` for `None`, a malformed hash, or a wrong password.
pub async fn verify(stored: Option<String>, password: &Secret) -> bool {
    let known = stored.is_some();
    let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let pw = password.clone();
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&phc)
            .map(|h| {
                Argon2::default()
                    .verify_password(pw.expose().as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
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

    #[test]
    fn secret_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "[REDACTED]");
    }
}

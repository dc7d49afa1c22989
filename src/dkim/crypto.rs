//! Key material: generating key pairs, encoding them for storage (PKCS#8
//! PEM) and for DNS (base64 `p=`), and loading stored keys for signing.
//!
//! RSA keys are generated with the pure-Rust `rsa` crate (ring cannot
//! generate RSA keys) and only generated there: signing goes through
//! mail-auth's ring backend. Ed25519 keys come from ring.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_auth::common::crypto::{DkimKey, Ed25519Key, RsaKey, Sha256};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{Algorithm, DkimError};
use crate::directory::Secret;

/// RSA modulus size: RFC 8301 requires at least 1024 bits and recommends
/// 2048; 2048-bit records still fit in one TXT record of two strings.
pub(crate) const RSA_BITS: usize = 2048;

/// A freshly generated key pair.
pub(crate) struct KeyPair {
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub private_pem: Secret,
    /// Base64 for the record's `p=` tag: the SubjectPublicKeyInfo DER for
    /// RSA (RFC 6376 §3.6.1), the raw 32-byte key for Ed25519 (RFC 8463).
    pub public_b64: String,
}

/// Generates a key pair. RSA takes a while (tens of milliseconds optimised):
/// call it on the blocking pool.
///
/// # Errors
/// [`DkimError::Generate`] when the system RNG or an encoder fails.
pub(crate) fn generate(algorithm: Algorithm) -> Result<KeyPair, DkimError> {
    let fail = |e: &dyn std::fmt::Display| DkimError::Generate(e.to_string());
    match algorithm {
        Algorithm::RsaSha256 => {
            let private =
                rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).map_err(|e| fail(&e))?;
            let der = private.to_pkcs8_der().map_err(|e| fail(&e))?;
            let public = private
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| fail(&e))?;
            Ok(KeyPair {
                private_pem: Secret::new(pem_encode(der.as_bytes())),
                public_b64: STANDARD.encode(public.as_bytes()),
            })
        }
        Algorithm::Ed25519Sha256 => {
            let pkcs8 = Ed25519Key::generate_pkcs8().map_err(|e| fail(&e))?;
            let key = Ed25519Key::from_pkcs8_der(&pkcs8).map_err(|e| fail(&e))?;
            Ok(KeyPair {
                private_pem: Secret::new(pem_encode(&pkcs8)),
                public_b64: STANDARD.encode(key.public_key()),
            })
        }
    }
}

/// Parses a stored PKCS#8 PEM private key into a signing key.
///
/// # Errors
/// A description of what is wrong (bad PEM, wrong key type, rejected key).
pub(crate) fn load(algorithm: Algorithm, pem: &str) -> Result<DkimKey, String> {
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| format!("not a PKCS#8 PEM private key: {e}"))?;
    match algorithm {
        Algorithm::RsaSha256 => RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(der))
            .map(DkimKey::Rsa)
            .map_err(|e| e.to_string()),
        Algorithm::Ed25519Sha256 => {
            // ring writes PKCS#8 v2 (with the public key); other tools
            // write v1, which the "maybe unchecked" parser also accepts.
            Ed25519Key::from_pkcs8_maybe_unchecked_der(der.secret_pkcs8_der())
                .map(DkimKey::Ed25519)
                .map_err(|e| e.to_string())
        }
    }
}

/// The base64 `p=` value that publishes the public half of a stored
/// PKCS#8 PEM private key (what [`generate`] put in `public_b64`).
///
/// # Errors
/// A description of what is wrong with the key.
pub(crate) fn public_b64(algorithm: Algorithm, pem: &str) -> Result<String, String> {
    match algorithm {
        Algorithm::RsaSha256 => {
            use rsa::pkcs8::DecodePrivateKey;
            let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())?;
            let der = private
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| e.to_string())?;
            Ok(STANDARD.encode(der.as_bytes()))
        }
        Algorithm::Ed25519Sha256 => {
            let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
                .map_err(|e| format!("not a PKCS#8 PEM private key: {e}"))?;
            let key = Ed25519Key::from_pkcs8_maybe_unchecked_der(der.secret_pkcs8_der())
                .map_err(|e| e.to_string())?;
            Ok(STANDARD.encode(key.public_key()))
        }
    }
}

/// PEM with the PKCS#8 label and 64-column base64 (RFC 7468 §10).
fn pem_encode(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 64);
    out.push_str("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_auth::common::crypto::SigningKey;

    #[test]
    fn ed25519_round_trips_through_pem() -> Result<(), DkimError> {
        let pair = generate(Algorithm::Ed25519Sha256)?;
        let pem = pair.private_pem.expose();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        assert!(pem.lines().all(|l| l.len() <= 64));
        let public = STANDARD
            .decode(&pair.public_b64)
            .map_err(|e| DkimError::Generate(e.to_string()))?;
        assert_eq!(public.len(), 32);
        assert_eq!(
            public_b64(Algorithm::Ed25519Sha256, pem).ok().as_deref(),
            Some(pair.public_b64.as_str())
        );
        let key = load(Algorithm::Ed25519Sha256, pem).map_err(DkimError::Generate)?;
        assert_eq!(
            key.algorithm(),
            mail_auth::common::crypto::Algorithm::Ed25519Sha256
        );
        // Wrong algorithm for the key: refused, not mis-used.
        assert!(load(Algorithm::RsaSha256, pem).is_err());
        Ok(())
    }

    #[test]
    fn rsa_round_trips_through_pem() -> Result<(), DkimError> {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        let pair = generate(Algorithm::RsaSha256)?;
        let der = STANDARD
            .decode(&pair.public_b64)
            .map_err(|e| DkimError::Generate(e.to_string()))?;
        let public = rsa::RsaPublicKey::from_public_key_der(&der)
            .map_err(|e| DkimError::Generate(e.to_string()))?;
        assert_eq!(public.size() * 8, RSA_BITS);
        assert_eq!(
            public_b64(Algorithm::RsaSha256, pair.private_pem.expose()).ok(),
            Some(pair.public_b64.clone())
        );
        let key =
            load(Algorithm::RsaSha256, pair.private_pem.expose()).map_err(DkimError::Generate)?;
        assert_eq!(
            key.algorithm(),
            mail_auth::common::crypto::Algorithm::RsaSha256
        );
        assert!(load(Algorithm::Ed25519Sha256, pair.private_pem.expose()).is_err());
        Ok(())
    }

    #[test]
    fn garbage_is_refused() {
        assert!(load(Algorithm::RsaSha256, "not a key").is_err());
        let fake = pem_encode(b"\x30\x03\x02\x01\x00");
        assert!(load(Algorithm::RsaSha256, &fake).is_err());
        assert!(load(Algorithm::Ed25519Sha256, &fake).is_err());
    }
}

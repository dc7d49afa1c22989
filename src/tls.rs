//! TLS for every listener: one rustls configuration, built once from the
//! `[tls]` section, with the `ring` provider for the whole process.
//!
//! Owns: reading the PEM chain and key, generating a self-signed
//! certificate for `server.hostname` into `data_dir/tls/` when no
//! certificate is configured (the quick start), and choosing a certificate
//! per SNI name (one default today; the resolver is where more go).
//!
//! Protocol versions are TLS 1.2 and 1.3 only.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Config;

/// Errors while preparing TLS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Writing the self-signed certificate failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the key or configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider used everywhere in the process.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs [`provider`] as the process default (idempotent).
pub fn install_default_provider() {
    // Err only means another call already installed it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Picks a certificate by SNI name, falling back to the default.
#[derive(Debug)]
pub struct CertResolver {
    default: Arc<CertifiedKey>,
    by_name: HashMap<String, Arc<CertifiedKey>>,
}

impl CertResolver {
    /// A resolver serving `default` for every name.
    pub fn new(default: Arc<CertifiedKey>) -> Self {
        CertResolver {
            default,
            by_name: HashMap::new(),
        }
    }

    /// Serves `key` for SNI `name` (lowercase).
    pub fn insert(&mut self, name: &str, key: Arc<CertifiedKey>) {
        self.by_name.insert(name.to_ascii_lowercase(), key);
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let named = hello
            .server_name()
            .and_then(|n| self.by_name.get(&n.to_ascii_lowercase()));
        Some(named.unwrap_or(&self.default).clone())
    }
}

/// Where the self-signed fallback lives.
pub fn self_signed_paths(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join("tls");
    (
        dir.join("selfsigned-cert.pem"),
        dir.join("selfsigned-key.pem"),
    )
}

/// Builds the server configuration for `config`.
///
/// # Errors
/// Unreadable or invalid PEM, or failure to generate the fallback.
pub fn server_config(config: &Config) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let (cert_path, key_path) = match (&config.tls.cert, &config.tls.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => ensure_self_signed(&config.server.data_dir, &config.server.hostname)?,
    };
    let key = load_certified_key(&cert_path, &key_path)?;
    let resolver = CertResolver::new(Arc::new(key));
    let mut sc = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    sc.ignore_client_order = true;
    Ok(Arc::new(sc))
}

/// Reads a PEM chain and key into a rustls `CertifiedKey`.
///
/// # Errors
/// [`TlsError::Pem`] naming the file, or a key rustls cannot use.
pub fn load_certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let pem_err = |path: &Path, message: String| TlsError::Pem {
        path: path.to_path_buf(),
        message,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_err(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_err(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_err(cert, "no certificate found".into()));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_err(key, e.to_string()))?;
    let signing = provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| pem_err(key, e.to_string()))?;
    Ok(CertifiedKey::new(chain, signing))
}

/// Generates (once) a self-signed certificate for `hostname` under
/// `data_dir/tls/` and returns the (cert, key) paths. The key is 0600.
///
/// # Errors
/// Generation or file writes failed.
pub fn ensure_self_signed(data_dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf), TlsError> {
    let (cert_path, key_path) = self_signed_paths(data_dir);
    if cert_path.exists() && key_path.exists() {
        return Ok((cert_path, key_path));
    }
    let mut names = vec![hostname.to_string()];
    if hostname != "localhost" {
        names.push("localhost".to_string());
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    let key_pair = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key_pair)?;
    let certified = rcgen::CertifiedKey { cert, key_pair };
    let dir = cert_path.parent().unwrap_or(data_dir);
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    write_private(
        &key_path,
        certified.key_pair.serialize_pem().as_bytes(),
        0o600,
    )?;
    write_private(&cert_path, certified.cert.pem().as_bytes(), 0o644)?;
    tracing::info!(cert = %cert_path.display(), %hostname, "generated a self-signed certificate");
    Ok((cert_path, key_path))
}

fn write_private(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_generated_once_and_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (c1, k1) = ensure_self_signed(dir.path(), "mail.test").expect("generate");
        let first = std::fs::read(&c1).expect("read cert");
        let (c2, _) = ensure_self_signed(dir.path(), "mail.test").expect("reuse");
        assert_eq!(first, std::fs::read(&c2).expect("read again"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&k1).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        load_certified_key(&c1, &k1).expect("usable");
    }

    #[test]
    fn bad_pem_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = dir.path().join("c.pem");
        std::fs::write(&c, "not a pem").expect("write");
        let e = load_certified_key(&c, &c).expect_err("must fail");
        assert!(e.to_string().contains("c.pem"), "{e}");
    }
}

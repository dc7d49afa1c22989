//! `postel dkim …`: DKIM signing keys of the local domains.
//!
//! Commands that create or select a key print the TXT record to publish
//! as one zone-file line (`sel._domainkey.example.org. IN TXT ( "…" "…" )`,
//! strings of at most 255 bytes), preceded by `;` comment lines, so the
//! whole output can be pasted into a zone file.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Subcommand, ValueEnum};

use postel::config::Config;
use postel::dkim::{Algorithm, KeyInfo, KeySpec, Keys};
use postel::server::Services;

/// The `dkim` subcommands.
#[derive(Subcommand, Debug)]
pub enum DkimCmd {
    /// Create a signing key for a local domain and print its DNS record.
    Generate {
        /// The local domain (the `d=` of signatures).
        domain: String,
        /// Selector; default `postel-YYYYMMDD` (`-ed` for Ed25519).
        #[arg(long)]
        selector: Option<String>,
        /// Key type; both may be active at once (dual signing).
        #[arg(long, value_enum, default_value_t = AlgorithmArg::Rsa)]
        algorithm: AlgorithmArg,
        /// Store the key without signing with it yet; publish its record,
        /// then switch with `postel dkim rotate DOMAIN --selector S`.
        #[arg(long)]
        inactive: bool,
    },
    /// List keys: domain, selector, algorithm, state, creation time.
    List {
        /// Only keys of this domain.
        domain: Option<String>,
    },
    /// Sign with a new (or the given) key; older keys of its type stop signing.
    Rotate {
        /// The local domain.
        domain: String,
        /// Key type (default: that of --selector's key, else rsa).
        #[arg(long, value_enum)]
        algorithm: Option<AlgorithmArg>,
        /// Switch to this selector: an existing key is activated, a new
        /// selector gets a new key.
        #[arg(long)]
        selector: Option<String>,
    },
    /// Delete a key (keep its DNS record published a few more days).
    Del {
        /// The domain.
        domain: String,
        /// The selector.
        selector: String,
    },
    /// Print the DNS records of a domain's active keys (or of one key).
    Record {
        /// The domain.
        domain: String,
        /// Only this key, active or not.
        selector: Option<String>,
    },
}

/// `--algorithm` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AlgorithmArg {
    /// RSA-2048, rsa-sha256: verified everywhere.
    Rsa,
    /// Ed25519, ed25519-sha256 (RFC 8463): pair it with an RSA key.
    Ed25519,
}

impl From<AlgorithmArg> for Algorithm {
    fn from(a: AlgorithmArg) -> Algorithm {
        match a {
            AlgorithmArg::Rsa => Algorithm::RsaSha256,
            AlgorithmArg::Ed25519 => Algorithm::Ed25519Sha256,
        }
    }
}

/// Runs one `dkim` subcommand.
///
/// # Errors
/// Whatever the key store reports, for `main` to print as one line.
pub async fn run(services: &Services, cmd: DkimCmd) -> Result<()> {
    let keys = Keys::new(services.directory.clone());
    match cmd {
        DkimCmd::Generate {
            domain,
            selector,
            algorithm,
            inactive,
        } => {
            let spec = KeySpec {
                algorithm: algorithm.into(),
                selector,
                inactive,
            };
            let key = keys.generate(&domain, &spec).await?;
            let state = if inactive {
                format!(
                    "stored inactive; publish the record, then run \
                     `postel dkim rotate {} --selector {}`",
                    key.domain, key.selector
                )
            } else {
                "signing now; publish this record".to_string()
            };
            println!(
                "; {}: new {} key, selector {}, {state}",
                key.domain, key.algorithm, key.selector
            );
            println!("{}", key.record());
            warn_if_exposed(&services.config);
        }
        DkimCmd::List { domain } => {
            for key in keys.list(domain.as_deref()).await? {
                println!("{}", list_line(&key));
            }
        }
        DkimCmd::Rotate {
            domain,
            algorithm,
            selector,
        } => {
            let r = keys
                .rotate(&domain, algorithm.map(Into::into), selector.as_deref())
                .await?;
            let retired = if r.retired.is_empty() {
                "none".to_string()
            } else {
                r.retired.join(", ")
            };
            println!(
                "; {}: {} now signs with selector {}; retired: {retired}",
                r.key.domain, r.key.algorithm, r.key.selector
            );
            println!("; keep retired records published a few days, then delete them");
            println!("{}", r.key.record());
            warn_if_exposed(&services.config);
        }
        DkimCmd::Del { domain, selector } => {
            let key = keys.delete(&domain, &selector).await?;
            println!(
                "deleted DKIM key {} of {} ({}); its DNS record may go in a few days",
                key.selector, key.domain, key.algorithm
            );
        }
        DkimCmd::Record { domain, selector } => {
            let shown = match selector {
                Some(s) => vec![keys.get(&domain, &s).await?],
                None => keys.active(&domain).await?,
            };
            if shown.is_empty() {
                let domain = postel::dkim::normalize_domain(&domain)?;
                return Err(postel::dkim::DkimError::NoActiveKey(domain).into());
            }
            for key in shown {
                println!("{}", key.record());
            }
        }
    }
    Ok(())
}

/// `domain  selector  algorithm  active|inactive  created (RFC 3339, UTC)`,
/// tab-separated. Never the private key.
fn list_line(key: &KeyInfo) -> String {
    let created = time::OffsetDateTime::from_unix_timestamp(key.created_at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| key.created_at.to_string());
    let state = if key.active { "active" } else { "inactive" };
    format!(
        "{}\t{}\t{}\t{state}\t{created}",
        key.domain, key.selector, key.algorithm
    )
}

/// Private keys live in the database: say so when the SQLite file can be
/// read by other users (through a directory they can enter).
fn warn_if_exposed(config: &Config) {
    if let Some(path) = exposed_sqlite_file(config) {
        eprintln!(
            "postel: warning: {} holds the DKIM private keys but other users can read it; \
             chmod 600 it",
            path.display()
        );
    }
}

fn exposed_sqlite_file(config: &Config) -> Option<PathBuf> {
    let url = config.database_url();
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = Path::new(rest.split('?').next().unwrap_or(rest));
    let file = std::fs::metadata(path).ok()?.permissions().mode();
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(d) => d,
        None => Path::new("."),
    };
    let dir = std::fs::metadata(dir).ok()?.permissions().mode();
    let group = file & 0o040 != 0 && dir & 0o010 != 0;
    let other = file & 0o004 != 0 && dir & 0o001 != 0;
    (group || other).then(|| path.to_path_buf())
}

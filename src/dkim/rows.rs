//! Row-level helpers of [`super::Keys`]: reading and inserting
//! `dkim_keys` rows and choosing default selectors.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::crypto::{self, KeyPair};
use super::{Algorithm, DkimError, KeyInfo};
use crate::db::now_unix;

/// The columns [`key_info`] reads (never the private key).
pub(super) const COLUMNS: &str = "domain, selector, algorithm, public_key, active, created_at";

/// RSA generation is CPU-bound: keep it off the async workers.
pub(super) async fn generate_blocking(algorithm: Algorithm) -> Result<KeyPair, DkimError> {
    tokio::task::spawn_blocking(move || crypto::generate(algorithm))
        .await
        .map_err(|e| DkimError::Generate(e.to_string()))?
}

/// The first free default selector of the day for `algorithm`.
pub(super) async fn free_selector(
    conn: &mut sqlx::AnyConnection,
    domain: &str,
    algorithm: Algorithm,
) -> Result<String, DkimError> {
    let taken: Vec<(String,)> = sqlx::query_as("SELECT selector FROM dkim_keys WHERE domain = $1")
        .bind(domain)
        .fetch_all(&mut *conn)
        .await?;
    let base = default_selector(time::OffsetDateTime::now_utc().date(), algorithm);
    let is_free = |s: &str| !taken.iter().any(|(t,)| t == s);
    std::iter::once(base.clone())
        .chain((2..).map(|n| format!("{base}-{n}")))
        .find(|s| is_free(s))
        .ok_or_else(|| DkimError::InvalidSelector(base))
}

/// `postel-YYYYMMDD`, plus `-ed` for Ed25519.
pub(super) fn default_selector(date: time::Date, algorithm: Algorithm) -> String {
    let suffix = match algorithm {
        Algorithm::RsaSha256 => "",
        Algorithm::Ed25519Sha256 => "-ed",
    };
    format!(
        "postel-{:04}{:02}{:02}{suffix}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Inserts a key; [`DkimError::SelectorExists`] when the selector is taken.
pub(super) async fn insert(
    conn: &mut sqlx::AnyConnection,
    domain: &str,
    selector: &str,
    algorithm: Algorithm,
    pair: &KeyPair,
    active: bool,
) -> Result<KeyInfo, DkimError> {
    let created_at = now_unix();
    let r = sqlx::query(
        "INSERT INTO dkim_keys (domain, selector, algorithm, private_key, public_key, active, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (domain, selector) DO NOTHING",
    )
    .bind(domain)
    .bind(selector)
    .bind(algorithm.as_str())
    .bind(pair.private_pem.expose())
    .bind(&pair.public_b64)
    .bind(i64::from(active))
    .bind(created_at)
    .execute(&mut *conn)
    .await?;
    if r.rows_affected() == 0 {
        return Err(DkimError::SelectorExists {
            domain: domain.to_string(),
            selector: selector.to_string(),
        });
    }
    Ok(KeyInfo {
        domain: domain.to_string(),
        selector: selector.to_string(),
        algorithm,
        public_key: pair.public_b64.clone(),
        active,
        created_at,
    })
}

/// Deactivates the domain's other keys of `keep`'s algorithm; returns the
/// selectors that were active. `for_update` is [`crate::db::Db::for_update`].
pub(super) async fn retire_others(
    conn: &mut sqlx::AnyConnection,
    for_update: &str,
    keep: &KeyInfo,
) -> Result<Vec<String>, DkimError> {
    let retired: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT selector FROM dkim_keys WHERE domain = $1 AND algorithm = $2 \
         AND selector <> $3 AND active <> 0 ORDER BY selector{for_update}"
    ))
    .bind(&keep.domain)
    .bind(keep.algorithm.as_str())
    .bind(&keep.selector)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE dkim_keys SET active = 0 WHERE domain = $1 AND algorithm = $2 \
         AND selector <> $3",
    )
    .bind(&keep.domain)
    .bind(keep.algorithm.as_str())
    .bind(&keep.selector)
    .execute(&mut *conn)
    .await?;
    Ok(retired.into_iter().map(|(s,)| s).collect())
}

/// A [`KeyInfo`] from a row of [`COLUMNS`].
pub(super) fn key_info(row: &AnyRow) -> Result<KeyInfo, DkimError> {
    let domain: String = row.try_get("domain")?;
    let selector: String = row.try_get("selector")?;
    let algorithm: String = row.try_get("algorithm")?;
    let algorithm = algorithm.parse().map_err(|_| DkimError::BadKey {
        domain: domain.clone(),
        selector: selector.clone(),
        reason: format!("unknown algorithm {algorithm:?}"),
    })?;
    Ok(KeyInfo {
        domain,
        selector,
        algorithm,
        public_key: row.try_get("public_key")?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_selectors_are_dated() {
        let date = time::macros::date!(2025 - 03 - 07);
        assert_eq!(
            default_selector(date, Algorithm::RsaSha256),
            "postel-20250307"
        );
        assert_eq!(
            default_selector(date, Algorithm::Ed25519Sha256),
            "postel-20250307-ed"
        );
    }
}

//! Parsing a published DMARC record (RFC 7489 §6.3, §6.4) strictly enough
//! to tell an operator what receivers will refuse or misread: `v=DMARC1`
//! first, a valid `p=`, and valid values for the tags that have a syntax.
//! Unknown tags are ignored, as receivers do.

use super::DmarcPolicy;

/// A parsed DMARC record (the tags `postel dns check` reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmarcRecord {
    /// `p=`.
    pub policy: DmarcPolicy,
    /// `sp=`, when given.
    pub subdomain_policy: Option<DmarcPolicy>,
    /// `pct=` (default 100).
    pub pct: u8,
    /// `rua=` URIs.
    pub rua: Vec<String>,
    /// `ruf=` URIs.
    pub ruf: Vec<String>,
}

/// Why a DMARC record does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DmarcParseError {
    /// The record does not start with `v=DMARC1`.
    #[error("does not start with v=DMARC1")]
    Version,
    /// A tag without `=`.
    #[error("malformed tag {0:?} (expected name=value)")]
    Malformed(String),
    /// The same tag twice.
    #[error("tag {0} given twice")]
    Duplicate(String),
    /// No `p=` tag.
    #[error("no p= tag (the policy is required)")]
    NoPolicy,
    /// A tag's value is not valid.
    #[error("invalid {tag}={value:?}: {expected}")]
    Value {
        /// The tag.
        tag: String,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

fn policy(tag: &str, value: &str) -> Result<DmarcPolicy, DmarcParseError> {
    match value.to_ascii_lowercase().as_str() {
        "none" => Ok(DmarcPolicy::None),
        "quarantine" => Ok(DmarcPolicy::Quarantine),
        "reject" => Ok(DmarcPolicy::Reject),
        _ => Err(invalid(tag, value, "none, quarantine or reject")),
    }
}

fn invalid(tag: &str, value: &str, expected: &'static str) -> DmarcParseError {
    DmarcParseError::Value {
        tag: tag.to_string(),
        value: value.to_string(),
        expected,
    }
}

/// `rua=`/`ruf=`: comma-separated URIs, each `mailto:` with an address
/// (or http/https), optionally followed by `!size`.
fn uris(tag: &str, value: &str) -> Result<Vec<String>, DmarcParseError> {
    let mut out = Vec::new();
    for uri in value.split(',').map(str::trim) {
        let base = uri.split('!').next().unwrap_or(uri);
        let lower = base.to_ascii_lowercase();
        let ok = match lower.strip_prefix("mailto:") {
            Some(addr) => addr.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            }),
            None => lower.starts_with("https://") || lower.starts_with("http://"),
        };
        if !ok {
            return Err(invalid(tag, uri, "mailto:ADDRESS URIs, comma-separated"));
        }
        out.push(uri.to_string());
    }
    Ok(out)
}

/// Parses a DMARC TXT record.
///
/// # Errors
/// [`DmarcParseError`] naming the first problem.
pub fn parse(text: &str) -> Result<DmarcRecord, DmarcParseError> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(DmarcParseError::Malformed(part.to_string()));
        };
        let name = name.trim().to_ascii_lowercase();
        if tags.iter().any(|(n, _)| *n == name) {
            return Err(DmarcParseError::Duplicate(name));
        }
        tags.push((name, value.trim().to_string()));
    }
    match tags.first() {
        Some((n, v)) if n == "v" && v == "DMARC1" => {}
        _ => return Err(DmarcParseError::Version),
    }
    let mut record = DmarcRecord {
        policy: DmarcPolicy::None,
        subdomain_policy: None,
        pct: 100,
        rua: Vec::new(),
        ruf: Vec::new(),
    };
    let mut has_policy = false;
    for (tag, value) in &tags[1..] {
        match tag.as_str() {
            "p" => {
                record.policy = policy(tag, value)?;
                has_policy = true;
            }
            "sp" => record.subdomain_policy = Some(policy(tag, value)?),
            "pct" => {
                record.pct = value
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| invalid(tag, value, "an integer from 0 to 100"))?;
            }
            "adkim" | "aspf" if !matches!(value.as_str(), "r" | "s") => {
                return Err(invalid(tag, value, "r (relaxed) or s (strict)"));
            }
            "rua" => record.rua = uris(tag, value)?,
            "ruf" => record.ruf = uris(tag, value)?,
            "ri" => {
                value
                    .parse::<u32>()
                    .map_err(|_| invalid(tag, value, "a number of seconds"))?;
            }
            "fo" if !value
                .split(':')
                .all(|o| matches!(o.trim(), "0" | "1" | "d" | "s")) =>
            {
                return Err(invalid(tag, value, "0, 1, d or s, colon-separated"));
            }
            // Unknown tags, and valid adkim/aspf/fo, are ignored.
            _ => {}
        }
    }
    if !has_policy {
        return Err(DmarcParseError::NoPolicy);
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggested_record_parses() {
        let r = parse("v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org");
        assert_eq!(
            r,
            Ok(DmarcRecord {
                policy: DmarcPolicy::Quarantine,
                subdomain_policy: None,
                pct: 100,
                rua: vec!["mailto:postmaster@example.org".into()],
                ruf: vec![],
            })
        );
    }

    #[test]
    fn full_records_parse() {
        let r = parse(
            "v=DMARC1;p=reject;sp=none;pct=50;adkim=s;aspf=r;fo=1:d;ri=86400;\
             rua=mailto:a@example.org,mailto:b@example.net!10m;ruf=mailto:f@example.org;",
        );
        let r = r.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.policy, DmarcPolicy::Reject);
        assert_eq!(r.subdomain_policy, Some(DmarcPolicy::None));
        assert_eq!(r.pct, 50);
        assert_eq!(r.rua.len(), 2);
        assert_eq!(
            parse("v=DMARC1; p=none; x-unknown=1").map(|r| r.policy),
            Ok(DmarcPolicy::None)
        );
    }

    #[test]
    fn broken_records_say_why() {
        assert_eq!(parse("p=reject; v=DMARC1"), Err(DmarcParseError::Version));
        assert_eq!(parse("v=DMARC2; p=reject"), Err(DmarcParseError::Version));
        assert_eq!(parse(""), Err(DmarcParseError::Version));
        assert_eq!(
            parse("v=DMARC1; rua=mailto:a@b.org"),
            Err(DmarcParseError::NoPolicy)
        );
        assert!(matches!(
            parse("v=DMARC1; p=quarantaine"),
            Err(DmarcParseError::Value { tag, .. }) if tag == "p"
        ));
        assert!(matches!(
            parse("v=DMARC1; p=none; pct=101"),
            Err(DmarcParseError::Value { tag, .. }) if tag == "pct"
        ));
        assert!(matches!(
            parse("v=DMARC1; p=none; rua=postmaster@example.org"),
            Err(DmarcParseError::Value { tag, .. }) if tag == "rua"
        ));
        assert!(matches!(
            parse("v=DMARC1; p=none; adkim=x"),
            Err(DmarcParseError::Value { .. })
        ));
        assert_eq!(
            parse("v=DMARC1; p=none; p=reject"),
            Err(DmarcParseError::Duplicate("p".into()))
        );
        assert_eq!(
            parse("v=DMARC1; p=none; junk"),
            Err(DmarcParseError::Malformed("junk".into()))
        );
    }
}

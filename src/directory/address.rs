//! Email addresses as the directory sees them: split, validated and put in
//! canonical form (domain lowercase, local part lowercase unless configured
//! otherwise, sub-address detached).

use std::fmt;

/// A syntactically valid `local@domain`, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    local: String,
    domain: String,
}

/// Why a string is not an acceptable address or domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `@`, or more than one outside a quoted local part.
    #[error("{0:?} is not an address of the form local@domain")]
    Shape(String),
    /// The local part is empty, too long or has forbidden characters.
    #[error("invalid local part in {0:?}")]
    Local(String),
    /// The domain is not a valid domain name.
    #[error("invalid domain {0:?}")]
    Domain(String),
}

/// Longest local part RFC 5321 §4.5.3.1.1 allows.
const MAX_LOCAL: usize = 64;
/// Longest domain RFC 5321 §4.5.3.1.2 allows.
const MAX_DOMAIN: usize = 255;

/// Canonical form of a domain name: lowercase, no trailing dot.
///
/// # Errors
/// [`AddressError::Domain`] unless it is a dot-separated list of labels of
/// letters (any script, for SMTPUTF8), digits and inner hyphens.
pub fn normalize_domain(domain: &str) -> Result<String, AddressError> {
    let d = domain.trim_end_matches('.').to_lowercase();
    let bad = || AddressError::Domain(domain.to_string());
    if d.is_empty() || d.len() > MAX_DOMAIN {
        return Err(bad());
    }
    for label in d.split('.') {
        let ok_chars = label
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if label.is_empty() || label.len() > 63 || !ok_chars {
            return Err(bad());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad());
        }
    }
    Ok(d)
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            !c.is_control()
                && !c.is_whitespace()
                && !matches!(
                    c,
                    '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']' | '\\' | '/'
                )
        })
}

impl Address {
    /// Parses `local@domain`; the local part keeps its case here, see
    /// [`Address::canonical`].
    ///
    /// # Errors
    /// [`AddressError`] naming what is wrong.
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        let (local, domain) = s
            .rsplit_once('@')
            .ok_or_else(|| AddressError::Shape(s.to_string()))?;
        if !valid_local(local) {
            return Err(AddressError::Local(s.to_string()));
        }
        Ok(Address {
            local: local.to_string(),
            domain: normalize_domain(domain)?,
        })
    }

    /// The same address with the local part lowercased unless
    /// `case_sensitive`.
    pub fn canonical(mut self, case_sensitive: bool) -> Address {
        if !case_sensitive {
            self.local = self.local.to_lowercase();
        }
        self
    }

    /// The local part.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The (lowercase) domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `alice+tag@d` → `Some(alice@d)` for separator `+`; `None` when
    /// there is no sub-address (or the base would be empty).
    pub fn without_subaddress(&self, separator: &str) -> Option<Address> {
        if separator.is_empty() {
            return None;
        }
        let (base, _) = self.local.split_once(separator)?;
        if base.is_empty() {
            return None;
        }
        Some(Address {
            local: base.to_string(),
            domain: self.domain.clone(),
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form() {
        let a = Address::parse("Alice.Smith@Example.ORG.").expect("valid");
        assert_eq!(a.to_string(), "Alice.Smith@example.org");
        assert_eq!(
            a.clone().canonical(false).to_string(),
            "alice.smith@example.org"
        );
        assert_eq!(a.canonical(true).to_string(), "Alice.Smith@example.org");
    }

    #[test]
    fn subaddress() {
        let a = Address::parse("bob+lists+x@d.test").expect("valid");
        assert_eq!(
            a.without_subaddress("+").map(|b| b.to_string()),
            Some("bob@d.test".into())
        );
        assert_eq!(a.without_subaddress(""), None);
        let b = Address::parse("+x@d.test").expect("valid");
        assert_eq!(b.without_subaddress("+"), None);
    }

    #[test]
    fn refuses_bad_input() {
        for bad in [
            "",
            "nodomain",
            "@d.test",
            "a@",
            "a b@d.test",
            "a@-d.test",
            "a@d..test",
            ".a@d.test",
            "a..b@d.test",
            "a/../b@d.test",
            "a\0@d.test",
            "a@d_test/x",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?} must be refused");
        }
        let long = format!("{}@d.test", "x".repeat(65));
        assert!(Address::parse(&long).is_err());
    }

    #[test]
    fn utf8_addresses() {
        let a = Address::parse("Jörg@Bücher.Example").expect("valid");
        assert_eq!(a.canonical(false).to_string(), "jörg@bücher.example");
    }
}

//! The DNS TXT record that publishes a DKIM public key (RFC 6376 §3.6.2),
//! written in zone-file syntax with the value split into character-strings
//! of at most 255 bytes (RFC 1035 §3.3.14; verifiers concatenate them).

use std::fmt;

use super::Algorithm;

/// The longest character-string a TXT record may hold.
pub const MAX_STRING: usize = 255;

/// A record to publish: `<selector>._domainkey.<domain>. IN TXT (…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner name, fully qualified (ends with a dot).
    pub name: String,
    /// The whole TXT value, e.g. `v=DKIM1; k=rsa; p=MIIB…`.
    pub value: String,
}

impl DnsRecord {
    /// The record for a public key (`p=` base64) of `algorithm`.
    pub fn new(domain: &str, selector: &str, algorithm: Algorithm, public_b64: &str) -> DnsRecord {
        DnsRecord {
            name: format!("{selector}._domainkey.{domain}."),
            value: format!("v=DKIM1; k={}; p={public_b64}", algorithm.key_type()),
        }
    }

    /// The value cut into character-strings of at most [`MAX_STRING`]
    /// bytes, never inside a UTF-8 sequence (the value is ASCII anyway).
    pub fn strings(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = self.value.as_str();
        while !rest.is_empty() {
            let mut cut = rest.len().min(MAX_STRING);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (head, tail) = rest.split_at(cut);
            out.push(head);
            rest = tail;
        }
        out
    }
}

/// One line of zone-file syntax:
/// `sel._domainkey.example.org. IN TXT ( "v=DKIM1; k=rsa; p=…" "…" )`.
impl fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} IN TXT (", self.name)?;
        for s in self.strings() {
            f.write_str(" \"")?;
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        f.write_str(" )")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_value_is_one_string() {
        let r = DnsRecord::new("example.org", "s1-ed", Algorithm::Ed25519Sha256, "AAAA");
        assert_eq!(
            r.to_string(),
            "s1-ed._domainkey.example.org. IN TXT ( \"v=DKIM1; k=ed25519; p=AAAA\" )"
        );
    }

    #[test]
    fn long_value_is_split_at_255_bytes() {
        let p = "A".repeat(600);
        let r = DnsRecord::new("example.org", "s", Algorithm::RsaSha256, &p);
        let strings = r.strings();
        assert_eq!(strings.len(), 3);
        assert!(strings.iter().all(|s| s.len() <= MAX_STRING));
        assert_eq!(strings.concat(), r.value);
        let line = r.to_string();
        assert_eq!(line.matches('"').count(), 6, "{line}");
        assert!(line.starts_with("s._domainkey.example.org. IN TXT ( \"v=DKIM1; k=rsa; p=AAA"));
        assert!(line.ends_with("\" )"));
    }

    #[test]
    fn exact_multiple_has_no_empty_string() {
        let r = DnsRecord {
            name: "x.".into(),
            value: "B".repeat(2 * MAX_STRING),
        };
        assert_eq!(r.strings().len(), 2);
        let empty = DnsRecord {
            name: "x.".into(),
            value: String::new(),
        };
        assert!(empty.strings().is_empty());
    }
}

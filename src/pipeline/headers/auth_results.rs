//! The `Authentication-Results` header (RFC 8601): building ours, and
//! removing forged ones.
//!
//! We write exactly one header per message, authserv-id = our hostname,
//! each method result (`resinfo`) on its own folded line:
//!
//! ```text
//! Authentication-Results: mx.example.net;
//!     spf=pass smtp.mailfrom=alice@example.com;
//!     dkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh;
//!     dmarc=pass header.from=example.com
//! ```
//!
//! RFC 8601 §5: an MTA must delete Authentication-Results fields that
//! claim its own authserv-id before adding its own, or a sender could
//! forge "dkim=pass" for our users' filters. [`forged_ranges`] finds them
//! (name and authserv-id compared case-insensitively); fields naming any
//! other authserv-id are kept as they are.

use std::ops::Range;

/// Assembles the header field from the `resinfo` parts, CRLF-terminated.
/// No parts gives `none` (RFC 8601 §2.2: no authentication was done).
pub fn build(hostname: &str, parts: &[String]) -> String {
    let mut out = format!("Authentication-Results: {}", clean(hostname));
    if parts.is_empty() {
        out.push_str("; none");
    }
    for part in parts {
        out.push_str(";\r\n\t");
        out.push_str(&clean(part));
    }
    out.push_str("\r\n");
    out
}

/// A property value (RFC 8601 §2.2 `pvalue`): a domain, an address whose
/// local part is a dot-atom, or else the local part quoted. CR, LF and
/// other controls never pass through.
pub fn pvalue(value: &str) -> String {
    let value = clean(value);
    if value.is_empty() {
        return "\"\"".into();
    }
    match value.rsplit_once('@') {
        Some((local, domain)) if is_dot_atom(domain) || domain.is_empty() => {
            if is_dot_atom(local) {
                value
            } else {
                format!("{}@{domain}", quoted(local))
            }
        }
        _ if is_dot_atom(&value) => value,
        _ => quoted(&value),
    }
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

fn is_dot_atom(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(is_atext))
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Drops control characters (CR, LF, NUL…) from peer-supplied text.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Byte ranges of the header fields in `message` that are
/// Authentication-Results claiming `authserv_id`, each including its
/// continuation lines and line ending. Only the header block is looked at.
pub fn forged_ranges(message: &[u8], authserv_id: &str) -> Vec<Range<usize>> {
    header_fields(message)
        .filter(|r| is_ours(&message[r.clone()], authserv_id))
        .collect()
}

/// `message` without the byte `ranges` (sorted, non-overlapping).
pub fn without_ranges(message: &[u8], ranges: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut at = 0;
    for r in ranges {
        if r.start >= at && r.end <= message.len() {
            out.extend_from_slice(&message[at..r.start]);
            at = r.end;
        }
    }
    out.extend_from_slice(&message[at.min(message.len())..]);
    out
}

/// The header fields of the header block, as ranges (with continuation
/// lines and line endings). Stops at the empty line or at anything that
/// is not a header field line.
fn header_fields(message: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= message.len() || message[pos] == b'\r' || message[pos] == b'\n' {
            return None;
        }
        let start = pos;
        pos = line_end(message, pos);
        while pos < message.len() && (message[pos] == b' ' || message[pos] == b'\t') {
            pos = line_end(message, pos);
        }
        Some(start..pos)
    })
}

/// Index just past the LF ending the line that starts at `from`.
fn line_end(message: &[u8], from: usize) -> usize {
    match message[from..].iter().position(|&b| b == b'\n') {
        Some(i) => from + i + 1,
        None => message.len(),
    }
}

fn is_ours(field: &[u8], authserv_id: &str) -> bool {
    let Some(colon) = field.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = field[..colon].trim_ascii();
    if !name.eq_ignore_ascii_case(b"Authentication-Results") {
        return false;
    }
    let value = String::from_utf8_lossy(&field[colon + 1..]);
    parse_authserv_id(&value).is_some_and(|id| id.eq_ignore_ascii_case(authserv_id))
}

/// The authserv-id at the start of a field value: skips folding white
/// space and comments, then a token or quoted-string (RFC 8601 §2.2).
fn parse_authserv_id(value: &str) -> Option<String> {
    let rest = skip_cfws(value);
    if let Some(q) = rest.strip_prefix('"') {
        let mut id = String::new();
        let mut chars = q.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(id),
                '\\' => id.push(chars.next()?),
                c => id.push(c),
            }
        }
        return None;
    }
    let end = rest
        .find(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .unwrap_or(rest.len());
    (end > 0).then(|| rest[..end].to_string())
}

fn skip_cfws(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if !s.starts_with('(') {
            return s;
        }
        let mut depth = 0usize;
        let mut end = s.len();
        let mut escaped = false;
        for (i, c) in s.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        s = &s[end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_one_folded_header() {
        let h = build(
            "mx.test",
            &["spf=pass smtp.mailfrom=a@b.c".into(), "dkim=none".into()],
        );
        assert_eq!(
            h,
            "Authentication-Results: mx.test;\r\n\tspf=pass smtp.mailfrom=a@b.c;\r\n\tdkim=none\r\n"
        );
        assert_eq!(
            build("mx.test", &[]),
            "Authentication-Results: mx.test; none\r\n"
        );
    }

    #[test]
    fn pvalues_are_quoted_when_needed() {
        assert_eq!(pvalue("alice@example.com"), "alice@example.com");
        assert_eq!(pvalue("we ird@example.com"), "\"we ird\"@example.com");
        assert_eq!(
            pvalue("a\r\nX-Evil: 1@example.com"),
            "\"aX-Evil: 1\"@example.com"
        );
        assert_eq!(pvalue("example.com"), "example.com");
    }

    #[test]
    fn strips_only_our_authserv_id() {
        let msg = b"Authentication-Results: MX.Test; dkim=pass\r\n\
Received: x\r\n\
Authentication-Results: (comment) mx.test;\r\n\tspf=pass\r\n\
Authentication-Results: other.example; dkim=pass\r\n\
Authentication-Results: mx.test.evil; dkim=pass\r\n\
Authentication-Results: \"mx.test\" 1; dkim=pass\r\n\
\r\n\
Authentication-Results: mx.test; in the body\r\n";
        let ranges = forged_ranges(msg, "mx.test");
        assert_eq!(ranges.len(), 3);
        let out = String::from_utf8(without_ranges(msg, &ranges)).unwrap_or_default();
        assert_eq!(
            out,
            "Received: x\r\n\
Authentication-Results: other.example; dkim=pass\r\n\
Authentication-Results: mx.test.evil; dkim=pass\r\n\
\r\n\
Authentication-Results: mx.test; in the body\r\n"
        );
    }

    #[test]
    fn bare_lf_and_no_body() {
        let msg = b"Authentication-Results: mx.test; x=y\nSubject: s\n";
        let ranges = forged_ranges(msg, "mx.test");
        assert_eq!(without_ranges(msg, &ranges), b"Subject: s\n");
        assert!(forged_ranges(b"", "mx.test").is_empty());
    }
}

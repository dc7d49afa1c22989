//! SMTP replies and their wire form (RFC 5321 §4.2, RFC 2034, RFC 3463).
//!
//! Owns: the [`Reply`] value (code, optional enhanced status code, text
//! lines) and its serialisation: `250-2.1.0 first\r\n250 2.1.0 last\r\n`,
//! the enhanced code repeated on every line as RFC 2034 §4 asks.
//!
//! Must not: decide which reply a situation deserves — the named
//! constructors in `replies.rs` and the session do that.
//!
//! Two safety rules are applied when writing, whatever the caller passed:
//! no reply line is longer than 512 octets including CRLF (RFC 5321
//! §4.5.3.1.5; long text is wrapped onto more lines), and control
//! characters in the text (CR, LF, NUL, …) are replaced by `?`, so text
//! that echoes peer input (an address, a HELO name) can never inject a
//! reply line.

use std::fmt;

/// Maximum length of one reply line, CRLF included (RFC 5321 §4.5.3.1.5).
pub const MAX_REPLY_LINE: usize = 512;

/// An enhanced mail system status code, `class.subject.detail`
/// (RFC 3463 §2), e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedStatus {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent).
    pub class: u8,
    /// The subject (0–999): 1 addressing, 3 mail system, 5 protocol, …
    pub subject: u16,
    /// The detail (0–999) within the subject.
    pub detail: u16,
}

impl EnhancedStatus {
    /// Builds a status code from its three parts.
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        EnhancedStatus {
            class,
            subject,
            detail,
        }
    }

    /// Parses `class.subject.detail` as RFC 3463 §2 writes it: class 2, 4
    /// or 5, subject and detail of one to three digits without leading
    /// zeros beyond a lone `0`. `None` if `s` is anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let class = parse_part(parts.next()?, 1)?;
        let subject = parse_part(parts.next()?, 3)?;
        let detail = parse_part(parts.next()?, 3)?;
        if parts.next().is_some() || !matches!(class, 2 | 4 | 5) {
            return None;
        }
        Some(EnhancedStatus::new(
            u8::try_from(class).ok()?,
            subject,
            detail,
        ))
    }
}

fn parse_part(s: &str, max_digits: usize) -> Option<u16> {
    let ok = !s.is_empty()
        && s.len() <= max_digits
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    if ok { s.parse().ok() } else { None }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One SMTP reply: a three-digit code, an optional enhanced status code
/// written on every line, and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code, 200–599 (RFC 5321 §4.2.1).
    pub code: u16,
    /// The enhanced status code, `None` for the greeting, EHLO/HELO
    /// replies, 354 and 334 (RFC 2034 §3 exceptions and Postfix usage).
    pub status: Option<EnhancedStatus>,
    /// The text lines; an empty vector is written as one empty line.
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply.
    pub fn new(code: u16, status: Option<EnhancedStatus>, text: impl Into<String>) -> Self {
        Reply {
            code,
            status,
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply.
    pub fn multiline(code: u16, status: Option<EnhancedStatus>, lines: Vec<String>) -> Self {
        Reply {
            code,
            status,
            lines,
        }
    }

    /// 2xx: the command succeeded.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3xx: the server waits for more (354 data, 334 SASL challenge).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// 4xx: transient failure, the client may retry later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: permanent failure.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// Whether the session must close the connection after sending this
    /// reply: 221 (QUIT), 421 (service closing) and 521 (RFC 7504; used
    /// when the session cannot stay in sync with the client).
    pub fn closes_connection(&self) -> bool {
        matches!(self.code, 221 | 421 | 521)
    }

    /// Appends the wire form (every line CRLF-terminated) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let prefix_len = 4 + self.status.map_or(0, |s| s.to_string().len() + 1);
        let budget = MAX_REPLY_LINE - 2 - prefix_len;
        let mut pieces: Vec<String> = Vec::new();
        for line in &self.lines {
            wrap(&sanitize(line), budget, &mut pieces);
        }
        if pieces.is_empty() {
            pieces.push(String::new());
        }
        let last = pieces.len() - 1;
        for (i, text) in pieces.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            let mut line = format!("{:03}{sep}", self.code.min(999));
            if let Some(status) = self.status {
                line.push_str(&status.to_string());
                if !text.is_empty() {
                    line.push(' ');
                }
            }
            line.push_str(text);
            if line.ends_with(' ') && text.is_empty() {
                line.pop();
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    /// The wire form, CRLFs included (lossy only if a caller put invalid
    /// text in, which `String` prevents).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

/// Replaces control characters so peer-supplied text cannot end a line.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Splits `text` into pieces of at most `budget` octets, preferring to
/// break after a space and never inside a UTF-8 character.
fn wrap(text: &str, budget: usize, out: &mut Vec<String>) {
    let mut rest = text;
    while rest.len() > budget {
        let mut cut = budget;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(space) = rest[..cut].rfind(' ').filter(|&i| i > 0) {
            cut = space + 1;
        }
        out.push(rest[..cut].trim_end_matches(' ').to_string());
        rest = &rest[cut..];
    }
    out.push(rest.to_string());
}

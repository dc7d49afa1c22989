//! ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 `Mail-parameters`,
//! `esmtp-param`; SIZE RFC 1870 §6, BODY RFC 6152 §2 / RFC 3030 §3,
//! SMTPUTF8 RFC 6531 §3.4, AUTH RFC 4954 §5 with xtext from RFC 3461 §4).
//!
//! Owns: parsing the parameter list after a path into [`MailParams`] /
//! [`RcptParams`], their canonical printing, and checking them against
//! what the session advertised ([`MailParams::validate`]).
//!
//! Must not: refuse an unknown keyword while parsing. Unknown parameters
//! are kept (in order) so that the session can answer `555 5.5.4
//! Unsupported option` for them (RFC 5321 §4.1.1.11) instead of a 501;
//! a known keyword with a malformed value is a parse error (501).

use std::fmt;

use super::address::ReversePath;
use super::ehlo::Capabilities;
use super::error::ParseError;
use super::reply::Reply;

/// The body type declared with `BODY=` (absent means 7BIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Body {
    /// `BODY=7BIT` or no BODY parameter.
    #[default]
    SevenBit,
    /// `BODY=8BITMIME` (RFC 6152).
    EightBitMime,
    /// `BODY=BINARYMIME` (RFC 3030): only BDAT may carry the message.
    BinaryMime,
}

/// One `keyword[=value]` parameter the codec does not interpret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EsmtpParam {
    /// The keyword as sent: a letter or digit, then letters, digits, `-`.
    pub keyword: String,
    /// The value, if any: printable ASCII except `=` and space, or UTF-8.
    pub value: Option<String>,
}

/// The parameters of `MAIL FROM`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailParams {
    /// `SIZE=<n>`: the client's size estimate; larger than `u64` saturates.
    pub size: Option<u64>,
    /// `BODY=`.
    pub body: Body,
    /// `SMTPUTF8` was given.
    pub smtputf8: bool,
    /// `AUTH=<mailbox>` or `AUTH=<>`, xtext-decoded (RFC 4954 §5).
    pub auth: Option<String>,
    /// Everything else, in the order received.
    pub other: Vec<EsmtpParam>,
}

/// The parameters of `RCPT TO`; none are implemented (no DSN), so they
/// are all kept for a `555` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RcptParams {
    /// The parameters, in the order received.
    pub other: Vec<EsmtpParam>,
}

impl MailParams {
    /// Checks the parameters against what was advertised, in Postfix's
    /// order: unknown or unadvertised keyword → `555 5.5.4`; a declared
    /// SIZE over the limit → `552 5.3.4`; a non-ASCII sender without
    /// `SMTPUTF8` → `553 5.6.7`.
    ///
    /// # Errors
    /// The reply to send instead of `250`.
    pub fn validate(&self, from: &ReversePath, caps: &Capabilities) -> Result<(), Reply> {
        if let Some(param) = self.other.first() {
            return Err(Reply::unsupported_param(&param.keyword));
        }
        let unadvertised = [
            (self.size.is_some() && caps.size.is_none(), "SIZE"),
            (
                self.body == Body::EightBitMime && !caps.eight_bit_mime,
                "BODY",
            ),
            (
                self.body == Body::BinaryMime && !(caps.binary_mime && caps.chunking),
                "BODY",
            ),
            (self.smtputf8 && !caps.smtputf8, "SMTPUTF8"),
            (self.auth.is_some() && caps.auth.is_empty(), "AUTH"),
        ];
        if let Some((_, keyword)) = unadvertised.iter().find(|(bad, _)| *bad) {
            return Err(Reply::unsupported_param(keyword));
        }
        if let (Some(size), Some(limit)) = (self.size, caps.size)
            && limit > 0
            && size > limit
        {
            return Err(Reply::message_too_big());
        }
        if !self.smtputf8 && !from.is_ascii() {
            return Err(Reply::smtputf8_required());
        }
        Ok(())
    }

    /// Parses the text after the reverse path (may be empty).
    pub(super) fn parse(text: &str) -> Result<MailParams, ParseError> {
        let mut params = MailParams::default();
        let mut seen = [false; 4];
        for param in split_params(text)? {
            let (slot, keyword) = match param.keyword.to_ascii_uppercase().as_str() {
                "SIZE" => (0, "SIZE"),
                "BODY" => (1, "BODY"),
                "SMTPUTF8" => (2, "SMTPUTF8"),
                "AUTH" => (3, "AUTH"),
                _ => {
                    params.other.push(param);
                    continue;
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(ParseError::DuplicateParam(keyword));
            }
            let bad = || ParseError::BadParam(keyword);
            let value = param.value.as_deref();
            match slot {
                0 => params.size = Some(parse_size(value.ok_or_else(bad)?).ok_or_else(bad)?),
                1 => params.body = parse_body(value.ok_or_else(bad)?).ok_or_else(bad)?,
                2 if value.is_none() => params.smtputf8 = true,
                3 => params.auth = Some(xtext_decode(value.ok_or_else(bad)?).ok_or_else(bad)?),
                _ => return Err(bad()),
            }
        }
        Ok(params)
    }
}

impl RcptParams {
    /// Any RCPT parameter → `555 5.5.4 Unsupported option`.
    ///
    /// # Errors
    /// The reply to send instead of `250`.
    pub fn validate(&self) -> Result<(), Reply> {
        match self.other.first() {
            Some(param) => Err(Reply::unsupported_param(&param.keyword)),
            None => Ok(()),
        }
    }

    /// Parses the text after the forward path (may be empty).
    pub(super) fn parse(text: &str) -> Result<RcptParams, ParseError> {
        Ok(RcptParams {
            other: split_params(text)?,
        })
    }
}

/// Splits `SP param *(SP param)` (runs of spaces tolerated, as Postfix
/// does) into keyword/value pairs, checking their syntax.
fn split_params(text: &str) -> Result<Vec<EsmtpParam>, ParseError> {
    if !text.is_empty() && !text.starts_with(' ') {
        return Err(ParseError::BadParamList);
    }
    text.split(' ')
        .filter(|t| !t.is_empty())
        .map(|token| {
            let (keyword, value) = match token.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (token, None),
            };
            let keyword_ok = keyword
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
                && keyword
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            let value_ok = value.is_none_or(is_esmtp_value);
            if keyword_ok && value_ok {
                Ok(EsmtpParam {
                    keyword: keyword.to_string(),
                    value: value.map(str::to_string),
                })
            } else {
                Err(ParseError::BadParamList)
            }
        })
        .collect()
}

/// RFC 5321 `esmtp-value` (`%d33-60 / %d62-126`), extended to UTF-8 by
/// RFC 6531 §3.3.
pub(super) fn is_esmtp_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| matches!(c, '!'..='<' | '>'..='~') || (!c.is_ascii() && !c.is_control()))
}

/// RFC 1870 `size-value`: 1 to 20 digits; values beyond `u64` saturate
/// (they exceed any limit anyway).
fn parse_size(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.parse().unwrap_or(u64::MAX))
}

fn parse_body(value: &str) -> Option<Body> {
    [
        ("7BIT", Body::SevenBit),
        ("8BITMIME", Body::EightBitMime),
        ("BINARYMIME", Body::BinaryMime),
    ]
    .into_iter()
    .find(|(name, _)| value.eq_ignore_ascii_case(name))
    .map(|(_, body)| body)
}

/// Decodes RFC 3461 xtext (`+HH` for octets outside `!`..`~`, `+`, `=`);
/// refuses results that are not UTF-8 or that hold control characters.
fn xtext_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'+' {
            let hex = value.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.is_empty() && !text.chars().any(char::is_control)).then_some(text)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Encodes text as xtext with upper-case hex, the inverse of
/// [`xtext_decode`].
fn xtext_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if matches!(b, b'!'..=b'~') && b != b'+' && b != b'=' {
            out.push(char::from(b));
        } else {
            out.push('+');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

impl fmt::Display for EsmtpParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}", self.keyword),
            None => f.write_str(&self.keyword),
        }
    }
}

impl fmt::Display for MailParams {
    /// The parameters with a leading space each, in a fixed order: SIZE,
    /// BODY, SMTPUTF8, AUTH, then the others as received.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(size) = self.size {
            write!(f, " SIZE={size}")?;
        }
        match self.body {
            Body::SevenBit => {}
            Body::EightBitMime => f.write_str(" BODY=8BITMIME")?,
            Body::BinaryMime => f.write_str(" BODY=BINARYMIME")?,
        }
        if self.smtputf8 {
            f.write_str(" SMTPUTF8")?;
        }
        if let Some(auth) = &self.auth {
            write!(f, " AUTH={}", xtext_encode(auth))?;
        }
        self.other.iter().try_for_each(|p| write!(f, " {p}"))
    }
}

impl fmt::Display for RcptParams {
    /// The parameters with a leading space each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.other.iter().try_for_each(|p| write!(f, " {p}"))
    }
}

//! Authentication commands: `LOGIN` (RFC 3501 §6.2.3), `AUTHENTICATE`
//! with an optional initial response (RFC 3501 §6.2.2, SASL-IR RFC 4959
//! §3), and the client's continuation lines during an AUTHENTICATE
//! exchange (base64 or `*` to cancel).
//!
//! Owns: their syntax. User names and passwords are astrings (atom,
//! quoted or literal) and must be UTF-8; passwords and SASL data are
//! [`Secret`]s. Decoding SASL messages is `crate::protocol::sasl`'s job:
//! hand it [`Secret::expose`].
//!
//! Must not: check credentials or decode base64.

use super::CommandBody;
use crate::protocol::imap::error::ParseError;
use crate::protocol::imap::lexer::{Cursor, Fail, PResult};
use crate::protocol::imap::token::Secret;
use crate::protocol::imap::wire::Writer;

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Whether `text` is base64 (possibly empty, `=` padding at the end
/// only) or the lone `=` SASL-IR uses for an empty response.
fn valid_base64(text: &[u8]) -> bool {
    let body = text.iter().position(|&b| b == b'=').unwrap_or(text.len());
    let padding = &text[body..];
    text[..body].iter().all(|&b| is_base64(b))
        && padding.len() <= 2
        && padding.iter().all(|&b| b == b'=')
}

/// `AUTHENTICATE SP auth-type [SP (base64 / "=")]`.
pub(super) fn parse_authenticate(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mechanism = c
        .atom()
        .map_err(|_| Fail::Bad("expected a mechanism name"))?
        .to_string();
    let mut initial = None;
    if !c.at_line_end() {
        c.sp()?;
        let token = c.take_while(|b| is_base64(b) || b == b'=');
        if token.is_empty() || !valid_base64(token) {
            return Err(Fail::Bad("invalid initial response"));
        }
        initial = Some(Secret::new(String::from_utf8_lossy(token)));
    }
    Ok(CommandBody::Authenticate { mechanism, initial })
}

/// `LOGIN SP userid SP password`.
pub(super) fn parse_login(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let username = c.astring_utf8()?;
    c.sp()?;
    let password = Secret::new(c.astring_utf8()?);
    Ok(CommandBody::Login { username, password })
}

/// Writes LOGIN's and AUTHENTICATE's arguments.
pub(super) fn write(body: &CommandBody, w: &mut Writer<'_>) {
    match body {
        CommandBody::Authenticate { mechanism, initial } => {
            w.sp();
            w.atom(mechanism);
            if let Some(initial) = initial {
                w.sp();
                w.str(initial.expose());
            }
        }
        CommandBody::Login { username, password } => {
            w.sp();
            w.astring(username.as_bytes());
            w.sp();
            w.astring(password.expose().as_bytes());
        }
        _ => {}
    }
}

/// A client line during an AUTHENTICATE exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateLine {
    /// `*`: the client cancels; answer `BAD` (RFC 3501 §6.2.2).
    Cancel,
    /// A base64 response (possibly empty); give
    /// [`Secret::expose`] to the SASL exchange.
    Response(Secret),
}

/// Parses one AUTHENTICATE continuation line (without its line
/// ending); trailing spaces are ignored.
///
/// # Errors
/// [`ParseError::BadBase64`] for anything but base64 or `*`.
pub fn parse_authenticate_line(line: &[u8]) -> Result<AuthenticateLine, ParseError> {
    let end = line.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let line = &line[..end];
    if line == b"*" {
        return Ok(AuthenticateLine::Cancel);
    }
    if !valid_base64(line) {
        return Err(ParseError::BadBase64);
    }
    Ok(AuthenticateLine::Response(Secret::new(
        String::from_utf8_lossy(line).into_owned(),
    )))
}

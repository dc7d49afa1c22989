//! SASL exchanges as pure state machines: PLAIN (RFC 4616) and LOGIN
//! (draft-murchison-sasl-login), shared by SMTP AUTH (RFC 4954), IMAP
//! AUTHENTICATE and POP3 AUTH (RFC 5034).
//!
//! The protocol layer carries base64 lines; this module decodes them,
//! tracks what comes next, and yields [`Credentials`] for the directory to
//! check. It never looks anything up and never logs.
//!
//! Must not: depend on anything else in the crate, do I/O, or print a
//! password (the [`Credentials`] `Debug` redacts it).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Longest decoded SASL message accepted (RFC 4616 allows 255 octets per
/// field; this leaves room for UTF-8 and authzid).
pub const MAX_DECODED: usize = 4096;

/// A supported mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// `PLAIN`.
    Plain,
    /// `LOGIN`.
    Login,
}

impl Mechanism {
    /// Parses a mechanism name (case-insensitive).
    pub fn parse(name: &str) -> Option<Mechanism> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Some(Mechanism::Plain),
            "LOGIN" => Some(Mechanism::Login),
            _ => None,
        }
    }

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }
}

/// What the client proved it knows; check it against the directory.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Authorization identity, if the client asked to act as someone else.
    pub authzid: Option<String>,
    /// Authentication identity (the login name).
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("authzid", &self.authzid)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .finish()
    }
}

/// Why an exchange ended without credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SaslError {
    /// The client sent `*` (RFC 4954 §4).
    #[error("authentication cancelled by the client")]
    Cancelled,
    /// Not valid base64, or too long.
    #[error("invalid base64 in SASL response")]
    BadBase64,
    /// Decoded, but not a well-formed message for the mechanism.
    #[error("malformed SASL message")]
    Malformed,
    /// The exchange already ended.
    #[error("SASL exchange already finished")]
    Finished,
}

/// The next thing to do in an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this challenge (already base64-encoded; may be empty) and
    /// wait for the client's next line.
    Challenge(String),
    /// The exchange is complete.
    Done(Credentials),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    PlainWaiting,
    LoginUser,
    LoginPassword { username: String },
    Finished,
}

/// One SASL exchange in progress.
#[derive(Debug, Clone)]
pub struct Exchange {
    state: State,
}

fn decode(line: &str) -> Result<Vec<u8>, SaslError> {
    let line = line.trim();
    if line == "*" {
        return Err(SaslError::Cancelled);
    }
    if line == "=" || line.is_empty() {
        return Ok(Vec::new());
    }
    if line.len() > MAX_DECODED * 4 / 3 + 4 {
        return Err(SaslError::BadBase64);
    }
    STANDARD.decode(line).map_err(|_| SaslError::BadBase64)
}

fn text(bytes: Vec<u8>) -> Result<String, SaslError> {
    String::from_utf8(bytes).map_err(|_| SaslError::Malformed)
}

/// Parses a PLAIN message: `[authzid] NUL authcid NUL passwd`.
fn plain(bytes: Vec<u8>) -> Result<Credentials, SaslError> {
    let mut parts = bytes.split(|&b| b == 0);
    let (Some(authz), Some(user), Some(pass), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SaslError::Malformed);
    };
    if user.is_empty() || pass.is_empty() {
        return Err(SaslError::Malformed);
    }
    let authzid = (!authz.is_empty())
        .then(|| text(authz.to_vec()))
        .transpose()?;
    Ok(Credentials {
        authzid,
        username: text(user.to_vec())?,
        password: text(pass.to_vec())?,
    })
}

/// base64 of "Username:" and "Password:", the customary LOGIN prompts.
const LOGIN_USER: &str = "VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "UGFzc3dvcmQ6";

impl Exchange {
    /// Starts `mechanism`, with the initial response if the client sent
    /// one (SASL-IR, RFC 4959; `=` means an empty one).
    ///
    /// # Errors
    /// A [`SaslError`] for a bad initial response.
    pub fn start(
        mechanism: Mechanism,
        initial: Option<&str>,
    ) -> Result<(Exchange, Step), SaslError> {
        let mut ex = Exchange {
            state: match mechanism {
                Mechanism::Plain => State::PlainWaiting,
                Mechanism::Login => State::LoginUser,
            },
        };
        let step = match initial {
            Some(ir) => ex.step(ir)?,
            None => match mechanism {
                Mechanism::Plain => Step::Challenge(String::new()),
                Mechanism::Login => Step::Challenge(LOGIN_USER.to_string()),
            },
        };
        Ok((ex, step))
    }

    /// Feeds the client's next line (base64, or `*` to cancel).
    ///
    /// # Errors
    /// A [`SaslError`]; the exchange is over after any error.
    pub fn step(&mut self, line: &str) -> Result<Step, SaslError> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        if state == State::Finished {
            return Err(SaslError::Finished);
        }
        let decoded = decode(line)?;
        match state {
            State::PlainWaiting if decoded.is_empty() => {
                // An empty initial response: ask again (RFC 4954 §4).
                self.state = State::PlainWaiting;
                Ok(Step::Challenge(String::new()))
            }
            State::PlainWaiting => plain(decoded).map(Step::Done),
            State::LoginUser => {
                let username = text(decoded)?;
                if username.is_empty() {
                    return Err(SaslError::Malformed);
                }
                self.state = State::LoginPassword { username };
                Ok(Step::Challenge(LOGIN_PASSWORD.to_string()))
            }
            State::LoginPassword { username } => Ok(Step::Done(Credentials {
                authzid: None,
                username,
                password: text(decoded)?,
            })),
            State::Finished => Err(SaslError::Finished),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    fn creds(user: &str, pass: &str) -> Credentials {
        Credentials {
            authzid: None,
            username: user.into(),
            password: pass.into(),
        }
    }

    #[test]
    fn plain_with_initial_response() {
        let ir = b64(b"\0alice@example.org\0s3cret");
        let (_, step) = Exchange::start(Mechanism::Plain, Some(&ir)).expect("ok");
        assert_eq!(step, Step::Done(creds("alice@example.org", "s3cret")));
    }

    #[test]
    fn plain_with_authzid_and_without_initial_response() {
        let (mut ex, step) = Exchange::start(Mechanism::Plain, None).expect("ok");
        assert_eq!(step, Step::Challenge(String::new()));
        let step = ex.step(&b64(b"boss\0alice\0pw")).expect("ok");
        let Step::Done(c) = step else {
            panic!("done expected")
        };
        assert_eq!(c.authzid.as_deref(), Some("boss"));
        assert_eq!(ex.step("x"), Err(SaslError::Finished));
    }

    #[test]
    fn plain_empty_initial_response_asks_again() {
        let (mut ex, step) = Exchange::start(Mechanism::Plain, Some("=")).expect("ok");
        assert_eq!(step, Step::Challenge(String::new()));
        assert!(matches!(ex.step(&b64(b"\0u\0p")), Ok(Step::Done(_))));
    }

    #[test]
    fn login_two_steps_and_with_initial_username() {
        let (mut ex, step) = Exchange::start(Mechanism::Login, None).expect("ok");
        assert_eq!(step, Step::Challenge(LOGIN_USER.into()));
        assert_eq!(
            ex.step(&b64(b"alice")),
            Ok(Step::Challenge(LOGIN_PASSWORD.into()))
        );
        assert_eq!(ex.step(&b64(b"pw")), Ok(Step::Done(creds("alice", "pw"))));
        let (mut ex, step) = Exchange::start(Mechanism::Login, Some(&b64(b"bob"))).expect("ok");
        assert_eq!(step, Step::Challenge(LOGIN_PASSWORD.into()));
        assert_eq!(ex.step(&b64(b"x")), Ok(Step::Done(creds("bob", "x"))));
    }

    #[test]
    fn hostile_input() {
        assert_eq!(
            Exchange::start(Mechanism::Plain, Some("*")).map(|_| ()),
            Err(SaslError::Cancelled)
        );
        assert_eq!(
            Exchange::start(Mechanism::Plain, Some("!!notbase64")).map(|_| ()),
            Err(SaslError::BadBase64)
        );
        for bad in [
            &b"no nuls"[..],
            b"\0\0pw",
            b"\0user\0",
            b"a\0b\0c\0d",
            b"\0\xff\xfe\0pw",
        ] {
            assert!(
                Exchange::start(Mechanism::Plain, Some(&b64(bad))).is_err(),
                "{bad:?}"
            );
        }
        let huge = "A".repeat(10_000);
        assert_eq!(
            Exchange::start(Mechanism::Plain, Some(&huge)).map(|_| ()),
            Err(SaslError::BadBase64)
        );
        assert_eq!(Mechanism::parse("plain"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::parse("CRAM-MD5"), None);
    }

    #[test]
    fn password_is_redacted() {
        let s = format!("{:?}", creds("u", "hunter2"));
        assert!(!s.contains("hunter2") && s.contains("[REDACTED]"), "{s}");
    }
}

//! SMTP commands: parsing one command line and printing it back
//! (RFC 5321 §4.1.1 and §4.1.2; BDAT RFC 3030 §2; STARTTLS RFC 3207 §4;
//! AUTH RFC 4954 §4).
//!
//! Owns: [`Command`], [`Verb`] and the parser. The parser is total: any
//! byte string gives a command or a [`ParseError`], never a panic. Verbs
//! are case-insensitive; trailing spaces and tabs are ignored and runs of
//! spaces between arguments tolerated, like Postfix; `MAIL FROM: <a@b>`
//! (space after the colon) is accepted as Postfix does. An address
//! without angle brackets is refused (Postfix takes it only in its
//! broken-client mode). Printing ([`fmt::Display`], [`Command::to_line`])
//! gives the canonical form, which parses back to the same value; the
//! outbound client reuses it.
//!
//! Must not: check sequencing, limits or advertised extensions (that is
//! [`super::Sequencer`] and [`super::MailParams::validate`]), or decode
//! SASL data (the SASL module does).

use std::fmt;

use super::address::{self, ForwardPath, ReversePath};
use super::error::ParseError;
use super::params::{MailParams, RcptParams};

/// The command verbs this codec knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `HELO`.
    Helo,
    /// `EHLO`.
    Ehlo,
    /// `MAIL`.
    Mail,
    /// `RCPT`.
    Rcpt,
    /// `DATA`.
    Data,
    /// `BDAT`.
    Bdat,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `HELP`.
    Help,
    /// `VRFY`.
    Vrfy,
    /// `EXPN`.
    Expn,
    /// `STARTTLS`.
    StartTls,
    /// `AUTH`.
    Auth,
}

const VERBS: [(Verb, &str, &str); 14] = [
    (Verb::Helo, "HELO", "HELO hostname"),
    (Verb::Ehlo, "EHLO", "EHLO hostname"),
    (Verb::Mail, "MAIL", "MAIL FROM:<address>"),
    (Verb::Rcpt, "RCPT", "RCPT TO:<address>"),
    (Verb::Data, "DATA", "DATA"),
    (Verb::Bdat, "BDAT", "BDAT count [LAST]"),
    (Verb::Rset, "RSET", "RSET"),
    (Verb::Noop, "NOOP", "NOOP"),
    (Verb::Quit, "QUIT", "QUIT"),
    (Verb::Help, "HELP", "HELP"),
    (Verb::Vrfy, "VRFY", "VRFY address"),
    (Verb::Expn, "EXPN", "EXPN list"),
    (Verb::StartTls, "STARTTLS", "STARTTLS"),
    (Verb::Auth, "AUTH", "AUTH mechanism [initial-response]"),
];

impl Verb {
    /// Recognises a verb, case-insensitively.
    pub fn parse(word: &[u8]) -> Option<Verb> {
        VERBS
            .iter()
            .find(|(_, name, _)| word.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(verb, _, _)| *verb)
    }

    /// The verb in upper case.
    pub fn as_str(self) -> &'static str {
        VERBS
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("", |(_, name, _)| name)
    }

    /// The usage text for `501 5.5.4 Syntax: <usage>`.
    pub fn usage(self) -> &'static str {
        VERBS
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("", |(_, _, usage)| usage)
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SASL initial response (base64 or `=`) as sent with AUTH; it may
/// carry a password, so `Debug` prints `[REDACTED]`.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslResponse(String);

impl SaslResponse {
    /// Wraps a response token: printable ASCII without spaces.
    pub fn new(token: &str) -> Option<SaslResponse> {
        let ok = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| SaslResponse(token.to_string()))
    }

    /// The token as sent; hand it to the SASL module only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SaslResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// One parsed SMTP command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `HELO <name>`: the name as sent (one word, no control characters);
    /// [`super::Domain::parse`] checks it strictly if policy wants.
    Helo(String),
    /// `EHLO <name>`: a domain or address literal, kept as sent.
    Ehlo(String),
    /// `MAIL FROM:<path> [params]`.
    Mail {
        /// The reverse path.
        from: ReversePath,
        /// The ESMTP parameters.
        params: MailParams,
    },
    /// `RCPT TO:<path> [params]`.
    Rcpt {
        /// The forward path.
        to: ForwardPath,
        /// The ESMTP parameters.
        params: RcptParams,
    },
    /// `DATA`.
    Data,
    /// `BDAT <size> [LAST]`: `size` octets of message follow the line.
    Bdat {
        /// The chunk size in octets.
        size: u64,
        /// Whether this is the last chunk.
        last: bool,
    },
    /// `RSET`.
    Rset,
    /// `NOOP` (any argument is ignored).
    Noop,
    /// `QUIT`.
    Quit,
    /// `HELP` (any argument is ignored).
    Help,
    /// `VRFY <string>`.
    Vrfy(String),
    /// `EXPN <string>`.
    Expn(String),
    /// `STARTTLS`.
    StartTls,
    /// `AUTH <mechanism> [initial-response]`.
    Auth {
        /// The SASL mechanism, upper-cased (RFC 4954 `sasl-mech`).
        mechanism: String,
        /// The initial response, if given (`=` stands for empty).
        initial_response: Option<SaslResponse>,
    },
}

impl Command {
    /// Parses one command line without its line ending.
    ///
    /// # Errors
    /// A [`ParseError`]; [`ParseError::reply`] gives the answer.
    pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
        let end = line
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |i| i + 1);
        let line = &line[..end];
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        let (word, rest) = match line.iter().position(|&b| b == b' ') {
            Some(sp) => (&line[..sp], &line[sp..]),
            None => (line, &line[end..]),
        };
        let verb = Verb::parse(word).ok_or(ParseError::UnknownCommand)?;
        match verb {
            Verb::Noop => return Ok(Command::Noop),
            Verb::Help => return Ok(Command::Help),
            _ => {}
        }
        let args = std::str::from_utf8(rest)
            .ok()
            .filter(|args| !args.chars().any(char::is_control))
            .ok_or(ParseError::Syntax(verb))?
            .trim_start_matches(' ');
        parse_args(verb, args)
    }

    /// The command's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Command::Helo(_) => Verb::Helo,
            Command::Ehlo(_) => Verb::Ehlo,
            Command::Mail { .. } => Verb::Mail,
            Command::Rcpt { .. } => Verb::Rcpt,
            Command::Data => Verb::Data,
            Command::Bdat { .. } => Verb::Bdat,
            Command::Rset => Verb::Rset,
            Command::Noop => Verb::Noop,
            Command::Quit => Verb::Quit,
            Command::Help => Verb::Help,
            Command::Vrfy(_) => Verb::Vrfy,
            Command::Expn(_) => Verb::Expn,
            Command::StartTls => Verb::StartTls,
            Command::Auth { .. } => Verb::Auth,
        }
    }

    /// The canonical command line, CRLF included.
    pub fn to_line(&self) -> String {
        format!("{self}\r\n")
    }
}

/// Parses the arguments of `verb` (leading spaces already removed).
fn parse_args(verb: Verb, args: &str) -> Result<Command, ParseError> {
    let syntax = ParseError::Syntax(verb);
    let no_args = |cmd: Command| {
        if args.is_empty() {
            Ok(cmd)
        } else {
            Err(syntax.clone())
        }
    };
    let word = || {
        if args.is_empty() || args.contains(' ') {
            Err(syntax.clone())
        } else {
            Ok(args.to_string())
        }
    };
    let text = || {
        if args.is_empty() {
            Err(syntax.clone())
        } else {
            Ok(args.to_string())
        }
    };
    match verb {
        Verb::Helo => word().map(Command::Helo),
        Verb::Ehlo => word().map(Command::Ehlo),
        Verb::Mail => parse_mail(args),
        Verb::Rcpt => parse_rcpt(args),
        Verb::Data => no_args(Command::Data),
        Verb::Rset => no_args(Command::Rset),
        Verb::Quit => no_args(Command::Quit),
        Verb::StartTls => no_args(Command::StartTls),
        Verb::Noop => Ok(Command::Noop),
        Verb::Help => Ok(Command::Help),
        Verb::Vrfy => text().map(Command::Vrfy),
        Verb::Expn => text().map(Command::Expn),
        Verb::Bdat => parse_bdat(args).ok_or(syntax),
        Verb::Auth => parse_auth(args).ok_or(syntax),
    }
}

/// Strips `keyword` (e.g. `FROM:`) case-insensitively, then any spaces.
fn after_keyword<'a>(args: &'a str, keyword: &str, verb: Verb) -> Result<&'a str, ParseError> {
    match args.get(..keyword.len()) {
        Some(head) if head.eq_ignore_ascii_case(keyword) => {
            let path = args[keyword.len()..].trim_start_matches(' ');
            if path.is_empty() {
                Err(ParseError::Syntax(verb))
            } else {
                Ok(path)
            }
        }
        _ => Err(ParseError::Syntax(verb)),
    }
}

fn parse_mail(args: &str) -> Result<Command, ParseError> {
    let text = after_keyword(args, "FROM:", Verb::Mail)?;
    let (from, end) = address::parse_reverse_path(text).map_err(ParseError::BadSender)?;
    let params = MailParams::parse(&text[end..])?;
    Ok(Command::Mail { from, params })
}

fn parse_rcpt(args: &str) -> Result<Command, ParseError> {
    let text = after_keyword(args, "TO:", Verb::Rcpt)?;
    let (to, end) = address::parse_forward_path(text).map_err(ParseError::BadRecipient)?;
    let params = RcptParams::parse(&text[end..])?;
    Ok(Command::Rcpt { to, params })
}

/// `chunk-size [SP "LAST"]`; `None` if malformed or larger than `u64`.
fn parse_bdat(args: &str) -> Option<Command> {
    let mut words = args.split(' ').filter(|w| !w.is_empty());
    let size = words.next()?;
    if !size.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let size = size.parse().ok()?;
    let last = match words.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return None,
    };
    words
        .next()
        .is_none()
        .then_some(Command::Bdat { size, last })
}

/// `sasl-mech [SP initial-response]`; the mechanism is 1–20 of
/// `A-Z 0-9 - _` (RFC 4954 §4), upper-cased.
fn parse_auth(args: &str) -> Option<Command> {
    let mut words = args.split(' ').filter(|w| !w.is_empty());
    let mechanism = words.next()?;
    let mech_ok = mechanism.len() <= 20
        && mechanism
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !mech_ok {
        return None;
    }
    let initial_response = match words.next() {
        Some(token) => Some(SaslResponse::new(token)?),
        None => None,
    };
    words.next().is_none().then(|| Command::Auth {
        mechanism: mechanism.to_ascii_uppercase(),
        initial_response,
    })
}

impl fmt::Display for Command {
    /// The canonical command line without CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Helo(name) | Command::Ehlo(name) => write!(f, "{} {name}", self.verb()),
            Command::Vrfy(arg) | Command::Expn(arg) => write!(f, "{} {arg}", self.verb()),
            Command::Mail { from, params } => write!(f, "MAIL FROM:{from}{params}"),
            Command::Rcpt { to, params } => write!(f, "RCPT TO:{to}{params}"),
            Command::Bdat { size, last } => {
                write!(f, "BDAT {size}{}", if *last { " LAST" } else { "" })
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => match initial_response {
                Some(resp) => write!(f, "AUTH {mechanism} {}", resp.expose()),
                None => write!(f, "AUTH {mechanism}"),
            },
            _ => f.write_str(self.verb().as_str()),
        }
    }
}

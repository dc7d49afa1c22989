//! The client side of the codec, for the outbound queue: replies in,
//! message data out (RFC 5321 §4.2 reply syntax, §4.5.2 transparency;
//! RFC 2034 enhanced codes; RFC 1869/5321 §4.1.1.1 EHLO keywords).
//!
//! Owns:
//! - [`ReplyParser`]: bytes from a server in, complete [`Reply`] values
//!   out. A multi-line reply (`250-…` lines, then `250 …`) becomes one
//!   reply; the enhanced status code (`5.1.1`), when the first line
//!   starts with one of the reply's class, is taken out of every line
//!   that carries it, so what [`Reply::write_to`] writes parses back to
//!   the same value. Lines may end in CRLF or a bare LF (servers that get
//!   this wrong still deliver mail). Line length and line count are
//!   limited ([`ReplyLimits`]), so a hostile server cannot grow memory.
//! - [`server_capabilities`]: the EHLO reply as a [`Capabilities`] value,
//!   the same type the server side advertises from.
//! - [`dot_stuff`]: a stored message as DATA sends it: CRLF line
//!   endings, a leading `.` doubled, the final `.` line appended;
//!   [`DotStuffer`] does the same piece by piece.
//!
//! Must not: do I/O, know about TLS, timeouts or the queue.

use super::ehlo::Capabilities;
use super::reply::{EnhancedStatus, Reply};

/// Limits on what a server may send as one reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Longest line in octets, line ending included. RFC 5321 says 512;
    /// real servers exceed it, so the default is 4096.
    pub max_line: usize,
    /// Most lines in one reply (an EHLO reply has a few dozen at most).
    pub max_lines: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        ReplyLimits {
            max_line: 4096,
            max_lines: 256,
        }
    }
}

/// A reply the parser could not accept; the connection is unusable
/// afterwards (the client must close it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A line longer than [`ReplyLimits::max_line`].
    #[error("reply line longer than {0} octets")]
    LineTooLong(usize),
    /// A reply of more than [`ReplyLimits::max_lines`] lines.
    #[error("reply of more than {0} lines")]
    TooManyLines(usize),
    /// A line that does not start with a code 200–599 followed by a
    /// space, a hyphen or the end of the line.
    #[error("malformed reply line {0:?}")]
    Malformed(String),
    /// A continuation line whose code differs from the first line's.
    #[error("reply code changed within a multi-line reply ({first} then {then})")]
    CodeChanged {
        /// The first line's code.
        first: u16,
        /// The offending line's code.
        then: u16,
    },
}

/// Turns server output into replies; feed bytes, then take replies
/// until [`ReplyParser::next_reply`] returns `None`.
#[derive(Debug, Default)]
pub struct ReplyParser {
    limits: ReplyLimits,
    buf: Vec<u8>,
    /// Lines of the reply in progress: (code, text).
    lines: Vec<(u16, String)>,
}

impl ReplyParser {
    /// A parser with the default limits.
    pub fn new() -> Self {
        Self::with_limits(ReplyLimits::default())
    }

    /// A parser with explicit limits.
    pub fn with_limits(limits: ReplyLimits) -> Self {
        ReplyParser {
            limits,
            buf: Vec::new(),
            lines: Vec::new(),
        }
    }

    /// Adds bytes read from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Octets received but not yet part of a complete reply. After the
    /// `220` to STARTTLS this must be zero: anything else was injected
    /// in plaintext (RFC 3207 §5; the client must not use it).
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.lines.iter().map(|(_, t)| t.len() + 4).sum::<usize>()
    }

    /// Forgets everything buffered (after a STARTTLS handshake).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.lines.clear();
    }

    /// The next complete reply, `None` when more input is needed.
    ///
    /// # Errors
    /// A [`ReplyError`]; the parser should not be used afterwards.
    pub fn next_reply(&mut self) -> Option<Result<Reply, ReplyError>> {
        loop {
            let Some(lf) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > self.limits.max_line {
                    return Some(Err(ReplyError::LineTooLong(self.limits.max_line)));
                }
                return None;
            };
            if lf + 1 > self.limits.max_line {
                return Some(Err(ReplyError::LineTooLong(self.limits.max_line)));
            }
            let mut line: Vec<u8> = self.buf.drain(..=lf).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let (code, last, text) = match parse_line(&line) {
                Ok(parts) => parts,
                Err(e) => return Some(Err(e)),
            };
            if let Some(&(first, _)) = self.lines.first()
                && first != code
            {
                return Some(Err(ReplyError::CodeChanged { first, then: code }));
            }
            self.lines.push((code, text));
            if self.lines.len() > self.limits.max_lines {
                return Some(Err(ReplyError::TooManyLines(self.limits.max_lines)));
            }
            if last {
                let lines = std::mem::take(&mut self.lines);
                return Some(Ok(assemble(code, lines)));
            }
        }
    }
}

/// Splits one line into (code, is-last, text).
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), ReplyError> {
    let malformed = || ReplyError::Malformed(String::from_utf8_lossy(line).into_owned());
    let digits = line.get(..3).ok_or_else(malformed)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if !(200..600).contains(&code) {
        return Err(malformed());
    }
    let (last, rest) = match line.get(3) {
        None => (true, &line[3..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(malformed()),
    };
    let text = String::from_utf8_lossy(rest)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    Ok((code, last, text))
}

/// Builds the reply, taking the enhanced status code out of the text
/// when the first line starts with one of the reply's class.
fn assemble(code: u16, lines: Vec<(u16, String)>) -> Reply {
    let texts: Vec<String> = lines.into_iter().map(|(_, t)| t).collect();
    let class = code / 100;
    let status = texts
        .first()
        .and_then(|first| leading_status(first))
        .filter(|s| u16::from(s.class) == class);
    let Some(status) = status else {
        return Reply::multiline(code, None, texts);
    };
    let prefix = status.to_string();
    let stripped = texts
        .into_iter()
        .map(|t| match t.strip_prefix(&prefix) {
            Some("") => String::new(),
            Some(rest) if rest.starts_with(' ') => rest[1..].to_string(),
            _ => t,
        })
        .collect();
    Reply::multiline(code, Some(status), stripped)
}

/// The `x.y.z` at the start of `text`, when followed by a space or the end.
fn leading_status(text: &str) -> Option<EnhancedStatus> {
    let word = text.split(' ').next()?;
    EnhancedStatus::parse(word)
}

/// The extensions a server announced in its EHLO reply (the first line is
/// its greeting; every other line is `KEYWORD [params]`). Unknown keywords
/// are ignored; `AUTH=PLAIN LOGIN` (pre-standard) counts as `AUTH`. A
/// `SIZE` without a number, or with 0, is `Some(0)`: no fixed limit.
pub fn server_capabilities(ehlo: &Reply) -> Capabilities {
    let mut caps = Capabilities::default();
    for line in ehlo.lines.iter().skip(1) {
        let mut words = line.split([' ', '=']).filter(|w| !w.is_empty());
        let Some(keyword) = words.next() else {
            continue;
        };
        match keyword.to_ascii_uppercase().as_str() {
            "PIPELINING" => caps.pipelining = true,
            "SIZE" => {
                let limit = words.next().and_then(|n| n.parse::<u64>().ok());
                caps.size = Some(limit.unwrap_or(0));
            }
            "STARTTLS" => caps.starttls = true,
            "AUTH" => {
                for mechanism in words {
                    let m = mechanism.to_ascii_uppercase();
                    if !caps.auth.contains(&m) {
                        caps.auth.push(m);
                    }
                }
            }
            "ENHANCEDSTATUSCODES" => caps.enhanced_status_codes = true,
            "8BITMIME" => caps.eight_bit_mime = true,
            "BINARYMIME" => caps.binary_mime = true,
            "SMTPUTF8" => caps.smtputf8 = true,
            "CHUNKING" => caps.chunking = true,
            _ => {}
        }
    }
    caps
}

/// The message as the DATA phase sends it (RFC 5321 §4.5.2): every line
/// ending made CRLF (a bare LF gets its CR), a `.` at the start of a line
/// doubled, a final CRLF added if the message lacks one, then `.CRLF`.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 8);
    let mut stuffer = DotStuffer::new();
    stuffer.push(message, &mut out);
    stuffer.finish(&mut out);
    out
}

/// [`dot_stuff`] in pieces, so a message can be sent from its file in
/// bounded chunks: the output is the same however the input is split.
#[derive(Debug, Clone, Copy)]
pub struct DotStuffer {
    /// The next octet starts a line.
    at_line_start: bool,
    /// The last octet pushed, if any.
    last: Option<u8>,
}

impl Default for DotStuffer {
    fn default() -> Self {
        DotStuffer::new()
    }
}

impl DotStuffer {
    /// At the start of a message.
    pub fn new() -> DotStuffer {
        DotStuffer {
            at_line_start: true,
            last: None,
        }
    }

    /// Appends the stuffed form of the next piece of the message to `out`.
    pub fn push(&mut self, piece: &[u8], out: &mut Vec<u8>) {
        out.reserve(piece.len() + piece.len() / 64 + 2);
        for &b in piece {
            if self.at_line_start && b == b'.' {
                out.push(b'.');
            }
            if b == b'\n' && self.last != Some(b'\r') {
                out.push(b'\r');
            }
            out.push(b);
            self.at_line_start = b == b'\n';
            self.last = Some(b);
        }
    }

    /// Ends the message: a CRLF if it lacked one, then `.CRLF`.
    pub fn finish(self, out: &mut Vec<u8>) {
        if self.last.is_some_and(|b| b != b'\n') {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
    }
}

/// Whether a message has octets above 127 (it then needs
/// `BODY=8BITMIME` where the server offers it, RFC 6152).
pub fn has_eight_bit(message: &[u8]) -> bool {
    !message.is_ascii()
}

#[cfg(test)]
#[path = "tests/client_tests.rs"]
mod tests;

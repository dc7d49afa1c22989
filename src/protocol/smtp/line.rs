//! The command line reader: bytes in, complete command lines out
//! (RFC 5321 §2.3.8 lines, §4.5.3.1.4 command line length; RFC 2920
//! pipelining; RFC 4954 §4 longer AUTH lines; RFC 3207 §5 / CVE-2011-0411
//! for discarding what was pipelined after STARTTLS).
//!
//! Owns: the session's input buffer while it is in command mode. The
//! session feeds whatever it read, then takes lines until there are none
//! left. A line ends with CRLF; a bare LF also ends a command line (as
//! in Postfix) but is reported in [`Line::bare_lf`] so a strict mode can
//! refuse it. A line over the limit yields [`LineError::TooLong`] once,
//! and the rest of it is thrown away up to its LF, so the next line is a
//! real command again. Memory held is bounded by the limit plus whatever
//! one `feed` brought.
//!
//! Before handing over to a DATA/BDAT receiver the session takes the
//! bytes already buffered ([`LineReader::take_buffered`]) and gives back
//! what the receiver did not consume ([`LineReader::feed`]). After
//! STARTTLS it must call [`LineReader::discard_buffered`]: plaintext
//! pipelined behind STARTTLS must never be executed inside TLS.
//!
//! Must not: parse commands or know about any state except "the next
//! line may be a SASL response" ([`LineReader::set_sasl`]).

/// Line length limits in octets, line ending included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLimits {
    /// Any command line; RFC 5321 §4.5.3.1.4 says 512.
    pub command: usize,
    /// An `AUTH` command line or a SASL response line; RFC 4954 §4 asks
    /// servers to take at least 12288.
    pub auth: usize,
}

impl Default for LineLimits {
    fn default() -> Self {
        LineLimits {
            command: 512,
            auth: 12288,
        }
    }
}

/// One complete line, its ending removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line without CRLF (or LF).
    pub bytes: Vec<u8>,
    /// The line ended with a bare LF instead of CRLF.
    pub bare_lf: bool,
}

/// A line the reader would not deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// The line was longer than the limit; it has been (or is being)
    /// discarded. Answer [`super::Reply::line_too_long`].
    #[error("command line longer than {limit} octets")]
    TooLong {
        /// The limit that was crossed, line ending included.
        limit: usize,
    },
}

/// Splits the input stream into command lines.
#[derive(Debug, Clone, Default)]
pub struct LineReader {
    buf: Vec<u8>,
    /// Start of unconsumed data in `buf`.
    start: usize,
    /// `buf[..scanned]` is known to hold no LF after `start`.
    scanned: usize,
    /// Throwing away the rest of an overlong line.
    discarding: bool,
    sasl: bool,
    limits: LineLimits,
}

impl LineReader {
    /// A reader with the given limits.
    pub fn new(limits: LineLimits) -> Self {
        LineReader {
            limits,
            ..LineReader::default()
        }
    }

    /// Appends bytes read from the peer (or given back by a receiver).
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.scanned = self.scanned.saturating_sub(self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// While set, every line may be as long as an AUTH line: set it while
    /// a SASL exchange waits for the client's response.
    pub fn set_sasl(&mut self, on: bool) {
        self.sasl = on;
    }

    /// The next complete line, `None` if more input is needed.
    ///
    /// # Errors
    /// [`LineError::TooLong`], once per overlong line.
    pub fn next_line(&mut self) -> Option<Result<Line, LineError>> {
        loop {
            let from = self.scanned.max(self.start);
            let Some(lf) = self.buf[from..].iter().position(|&b| b == b'\n') else {
                return self.incomplete();
            };
            let lf = from + lf;
            let raw = &self.buf[self.start..lf];
            let (content, bare_lf) = match raw.strip_suffix(b"\r") {
                Some(content) => (content, false),
                None => (raw, true),
            };
            let too_long = content.len() + 2 > self.limit_for(content);
            let line = Line {
                bytes: content.to_vec(),
                bare_lf,
            };
            let limit = self.limit_for(content);
            self.start = lf + 1;
            self.scanned = self.start;
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            return Some(if too_long {
                Err(LineError::TooLong { limit })
            } else {
                Ok(line)
            });
        }
    }

    /// No LF buffered: discard or report an overlong partial line.
    fn incomplete(&mut self) -> Option<Result<Line, LineError>> {
        self.scanned = self.buf.len();
        let pending = &self.buf[self.start..];
        let content_len = pending.len() - usize::from(pending.ends_with(b"\r"));
        let limit = self.limit_for(pending);
        let overflow = content_len + 2 > limit;
        if self.discarding || overflow {
            self.clear();
        }
        if overflow && !self.discarding {
            self.discarding = true;
            return Some(Err(LineError::TooLong { limit }));
        }
        None
    }

    fn limit_for(&self, line: &[u8]) -> usize {
        let auth = line
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"AUTH "));
        if self.sasl || auth {
            self.limits.auth.max(self.limits.command)
        } else {
            self.limits.command
        }
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
    }

    /// Takes every byte buffered after the last line returned, for the
    /// DATA or BDAT receiver.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.start);
        self.clear();
        self.discarding = false;
        rest
    }

    /// Throws away every buffered byte (after STARTTLS); returns how many
    /// there were, so the session can log a pipelining violation.
    pub fn discard_buffered(&mut self) -> usize {
        let n = self.buf.len() - self.start;
        self.clear();
        self.discarding = false;
        n
    }

    /// Number of bytes buffered and not yet returned as lines.
    pub fn buffered_len(&self) -> usize {
        self.buf.len() - self.start
    }
}

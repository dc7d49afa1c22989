//! The streaming command parser: bytes in, [`Parsed`] out (RFC 3501
//! §2.2 command framing, §4.3 synchronising literals and §7.5
//! continuation; LITERAL+ of RFC 7888; long lines per RFC 7162 §4).
//!
//! Owns: the session's input buffer. A command is one or more lines;
//! a line ending in `{n}` or `{n+}` announces a literal of n octets that
//! follows it. For each announcement the parser first checks the command
//! so far (size limits, then syntax), then reports
//! [`Parsed::NeedsLiteral`] once; the session answers `+` to a
//! synchronising literal only. When the final line arrives the whole
//! command is parsed and reported as [`Parsed::Complete`] or
//! [`Parsed::Error`].
//!
//! Limits ([`Limits`]) bound memory: command text outside literals,
//! literal octets per command (APPEND has its own, larger limit) and
//! literals per command. Crossing one reports [`Parsed::Error`] at once
//! (tagged when the tag was read) and the rest of that command is thrown
//! away without buffering: up to the end of the line, and, if the line
//! announced a non-synchronising literal, its octets and the lines after
//! it, so the next command is found again. A refused synchronising
//! literal is never sent by a conforming client, so nothing is skipped.
//! The events reported do not depend on how the input was chunked.
//!
//! Between commands the session may read single lines instead: the
//! AUTHENTICATE responses ([`Parser::next_authenticate`]) and IDLE's
//! `DONE` ([`Parser::next_idle_done`]).
//!
//! Must not: do I/O or know session state.

use super::command::{
    AuthenticateLine, Command, Outcome, leading_tag, parse_authenticate_line, run,
};
use super::error::{CommandError, ParseError};
use super::frame::{Discard, announcement, is_append, strip_cr};
use super::token::Tag;

/// Input limits, in octets unless stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Command text outside literals, line endings and literal
    /// announcements included, summed over the command's lines; also the
    /// longest AUTHENTICATE or IDLE line. RFC 7162 §4 asks for at least
    /// 8192.
    pub line: usize,
    /// Literal octets in one command other than APPEND.
    pub literal: u32,
    /// Literal octets in one APPEND command (the message, and a mailbox
    /// name sent as a literal).
    pub append: u32,
    /// Literals in one command.
    pub literals: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            line: 65_536,
            literal: 65_536,
            append: 50 * 1024 * 1024,
            literals: 128,
        }
    }
}

/// What the parser has for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Parsed {
    /// A whole command.
    Complete(Command),
    /// The command so far announced a literal of `size` octets and is
    /// valid up to it. For `sync`, send a continuation (`+ Ready`) and
    /// read on, or call [`Parser::refuse_literal`]; for LITERAL+
    /// (`sync` false) the octets are already on their way: just read on.
    NeedsLiteral {
        /// The literal's size.
        size: u32,
        /// Synchronising (`{n}`), as opposed to LITERAL+ (`{n+}`).
        sync: bool,
    },
    /// Nothing complete yet: read more.
    Incomplete,
    /// A refused command; send [`CommandError::response`]. The parser
    /// has already arranged to skip what is left of it.
    Error(CommandError),
}

#[derive(Debug, Clone, Default)]
struct Progress {
    /// Offset (from `start`) of the current line.
    line_start: usize,
    /// Offset up to which no LF follows `line_start`.
    searched: usize,
    /// Offset of the line that announced the pending literal.
    announced_line: usize,
    /// Command text of completed lines.
    text: usize,
    /// Literal octets announced.
    literal: u64,
    /// Literals announced.
    count: usize,
    /// Offset where the pending literal ends.
    literal_end: Option<usize>,
}

/// The session's input buffer and command framer.
#[derive(Debug, Clone, Default)]
pub struct Parser {
    buf: Vec<u8>,
    start: usize,
    limits: Limits,
    progress: Progress,
    discard: Option<Discard>,
}

impl Parser {
    /// A parser with the given limits.
    pub fn new(limits: Limits) -> Self {
        Parser {
            limits,
            ..Parser::default()
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Appends bytes read from the client.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Releases the input buffer's memory when it holds no more than a
    /// few unconsumed octets but a large allocation (after an APPEND): a
    /// session about to wait for its client keeps `keep` octets of
    /// capacity at most.
    pub fn shrink(&mut self, keep: usize) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        if self.buf.capacity() > keep && self.buf.len() - self.start <= keep {
            self.buf.drain(..self.start);
            self.start = 0;
            self.buf.shrink_to(keep.max(self.buf.len()));
        }
    }

    /// Octets buffered and not yet consumed.
    pub fn buffered_len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Throws away everything buffered (after STARTTLS: plaintext
    /// pipelined behind it must not be executed inside TLS) and returns
    /// how many octets that was.
    pub fn discard_buffered(&mut self) -> usize {
        let n = self.buffered_len();
        self.buf.clear();
        self.start = 0;
        self.progress = Progress::default();
        self.discard = None;
        n
    }

    /// The next event; call until [`Parsed::Incomplete`].
    pub fn next_command(&mut self) -> Parsed {
        if !self.finish_discard() {
            return Parsed::Incomplete;
        }
        let available = self.buf.len() - self.start;
        let p = &mut self.progress;
        if let Some(end) = p.literal_end {
            if available < end {
                return Parsed::Incomplete;
            }
            p.literal_end = None;
            p.line_start = end;
            p.searched = end;
        }
        let from = self.start + p.searched;
        let Some(i) = self.buf[from..].iter().position(|&b| b == b'\n') else {
            p.searched = available;
            if p.text + (available - p.line_start) > self.limits.line {
                return self.refuse(ParseError::LineTooLong {
                    limit: self.limits.line,
                });
            }
            return Parsed::Incomplete;
        };
        let lf = p.searched + i;
        let line_len = lf + 1 - p.line_start;
        if p.text + line_len > self.limits.line {
            return self.refuse(ParseError::LineTooLong {
                limit: self.limits.line,
            });
        }
        p.text += line_len;
        let line = &self.buf[self.start + p.line_start..self.start + lf];
        match announcement(strip_cr(line)) {
            None => self.complete(lf + 1),
            Some((size, sync)) => self.announce(lf + 1, size, sync),
        }
    }

    /// The command ends at offset `end`: parse it.
    fn complete(&mut self, end: usize) -> Parsed {
        let result = Command::parse(&self.buf[self.start..self.start + end]);
        self.start += end;
        self.progress = Progress::default();
        match result {
            Ok(command) => Parsed::Complete(command),
            Err(e) => Parsed::Error(e),
        }
    }

    /// The line ending before offset `next` announced a literal.
    fn announce(&mut self, next: usize, size: u64, sync: bool) -> Parsed {
        let command = &self.buf[self.start..self.start + next];
        let append = is_append(command);
        let limit = if append {
            self.limits.append
        } else {
            self.limits.literal
        };
        if self.progress.count >= self.limits.literals {
            let limit = self.limits.literals;
            return self.refuse(ParseError::TooManyLiterals { limit });
        }
        let total = self.progress.literal.saturating_add(size);
        if total > u64::from(limit) {
            let error = ParseError::LiteralTooLarge {
                size: total,
                limit,
                append,
                sync,
            };
            return self.refuse(error);
        }
        if let Outcome::Failed(e) = run(command) {
            return self.refuse(e.error);
        }
        // Within the limit, so the size fits in u32 and usize.
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        let p = &mut self.progress;
        p.count += 1;
        p.literal += u64::from(size);
        p.announced_line = p.line_start;
        p.literal_end = Some(next.saturating_add(usize::try_from(size).unwrap_or(usize::MAX)));
        p.line_start = next;
        p.searched = next;
        Parsed::NeedsLiteral { size, sync }
    }

    /// Refuses the current command: reports `error` and discards the
    /// rest of it, starting with the current line.
    fn refuse(&mut self, error: ParseError) -> Parsed {
        let tag = self.tag();
        self.discard_command();
        Parsed::Error(CommandError::new(tag, error))
    }

    /// The current command's tag, looked for within the line limit only,
    /// so the answer does not depend on how much of an overlong line has
    /// arrived.
    fn tag(&self) -> Option<Tag> {
        let end = self.buf.len().min(self.start + self.limits.line);
        leading_tag(&self.buf[self.start..end])
    }

    /// Discards the rest of the current command from its current line.
    fn discard_command(&mut self) {
        self.start += self.progress.line_start;
        self.progress = Progress::default();
        self.discard = Some(Discard::command());
    }

    /// Abandons the command whose literal was just announced
    /// ([`Parsed::NeedsLiteral`]), so the session can refuse it (say
    /// `NO [OVERQUOTA]`) instead of reading the literal: a synchronising
    /// literal is then expected never to arrive, a non-synchronising one
    /// is skipped with the rest of the command. Returns the command's
    /// tag; `None` (and nothing changes) if no literal is pending.
    pub fn refuse_literal(&mut self) -> Option<Tag> {
        self.progress.literal_end?;
        let tag = self.tag();
        self.progress.line_start = self.progress.announced_line;
        self.discard_command();
        tag
    }

    /// Runs a pending discard; `true` once it is over.
    fn finish_discard(&mut self) -> bool {
        let Some(d) = &mut self.discard else {
            return true;
        };
        let done = d.run(&self.buf, &mut self.start);
        if done {
            self.discard = None;
        }
        done
    }

    /// One line (between commands), without its line ending.
    fn next_line(&mut self) -> Option<Result<Vec<u8>, ParseError>> {
        if !self.finish_discard() {
            return None;
        }
        let available = self.buf.len() - self.start;
        let p = &mut self.progress;
        let from = self.start + p.searched;
        let limit = self.limits.line;
        let Some(i) = self.buf[from..].iter().position(|&b| b == b'\n') else {
            p.searched = available;
            return (available > limit).then(|| Err(self.refuse_line(limit)));
        };
        let lf = p.searched + i;
        if lf + 1 > limit {
            return Some(Err(self.refuse_line(limit)));
        }
        let line = strip_cr(&self.buf[self.start..self.start + lf]).to_vec();
        self.start += lf + 1;
        self.progress = Progress::default();
        Some(Ok(line))
    }

    fn refuse_line(&mut self, limit: usize) -> ParseError {
        self.progress = Progress::default();
        self.discard = Some(Discard::line());
        ParseError::LineTooLong { limit }
    }

    /// The client's next line during AUTHENTICATE; `None` if more input
    /// is needed. Call only after [`Parsed::Complete`] with
    /// AUTHENTICATE and a continuation sent.
    ///
    /// # Errors
    /// [`ParseError::BadBase64`] or [`ParseError::LineTooLong`]; answer
    /// with the AUTHENTICATE tag ([`ParseError::response`]) and end the
    /// exchange.
    pub fn next_authenticate(&mut self) -> Option<Result<AuthenticateLine, ParseError>> {
        self.next_line()
            .map(|line| line.and_then(|line| parse_authenticate_line(&line)))
    }

    /// The `DONE` that ends IDLE (case-insensitive); `None` if more
    /// input is needed.
    ///
    /// # Errors
    /// [`ParseError::ExpectedDone`] for any other line, or
    /// [`ParseError::LineTooLong`]; IDLE ends either way (answer with
    /// the IDLE tag).
    pub fn next_idle_done(&mut self) -> Option<Result<(), ParseError>> {
        self.next_line().map(|line| {
            let line = line?;
            let end = line.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
            match line[..end].eq_ignore_ascii_case(b"DONE") {
                true => Ok(()),
                false => Err(ParseError::ExpectedDone),
            }
        })
    }
}

//! The DATA receiver: message bytes in after the `354`, unstuffed message
//! out to a sink, until `<CRLF>.<CRLF>` (RFC 5321 §4.1.1.4, §4.5.2
//! transparency; §4.5.3.1.6 text line length; RFC 1870 size limit).
//!
//! Owns: finding the end of the message, dot-unstuffing and the checks
//! that can only be made on the stream.
//!
//! The end of data is recognised ONLY as CR LF `.` CR LF, where the first
//! CR LF may be the one that ended the `DATA` line (so an immediate
//! `.\r\n` is an empty message). `\n.\r\n`, `\r.\r\n`, `\r\n.\n`, `\n.\n`
//! never end the data: that is what defeats SMTP smuggling
//! (CVE-2023-51764 class), where a sender that reads those sequences
//! differently hides a second message inside the first. A bare CR or LF
//! anywhere makes the outcome [`DataOutcome::BareNewline`] (refuse with
//! `550 5.5.2`), so such a hidden message is refused together with its
//! carrier instead of being delivered as part of it.
//!
//! Errors never stop the receiver early: it always consumes up to the
//! real terminator, so the session stays in sync and the next pipelined
//! command is found where the client put it. Outcome priority when
//! several problems occur: bare newline, then too big, then line too
//! long.
//!
//! Memory: nothing is buffered here beyond two bytes of state; the sink
//! gets at most `max_size` octets — once the limit is crossed nothing
//! more is written and the receiver only counts and drains.
//!
//! Must not: know about the session, replies to success, or where the
//! message goes (the sink decides: a `Vec<u8>` staging buffer the session
//! flushes to its spool between feeds, or anything implementing
//! [`DataSink`]).

use super::reply::Reply;

/// Where received message bytes go.
pub trait DataSink {
    /// Takes the next bytes of the message (already unstuffed).
    fn write(&mut self, bytes: &[u8]);
}

impl DataSink for Vec<u8> {
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Limits applied to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLimits {
    /// Maximum message size in octets (unstuffed, CRLFs included);
    /// `u64::MAX` for none.
    pub max_size: u64,
    /// Maximum line length in octets without CRLF (RFC 5321 §4.5.3.1.6).
    pub max_line: usize,
}

impl Default for DataLimits {
    /// Postfix's `message_size_limit` (10240000) and RFC 5322's 998.
    fn default() -> Self {
        DataLimits {
            max_size: 10_240_000,
            max_line: 998,
        }
    }
}

/// How a DATA transfer ended; every variant means the terminator was
/// consumed and the session is back in command mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOutcome {
    /// The message is complete in the sink.
    Complete {
        /// Its size in octets as written to the sink.
        size: u64,
    },
    /// A bare CR or LF was seen: refuse (`550 5.5.2`).
    BareNewline,
    /// The message exceeded the size limit: refuse (`552 5.3.4`).
    TooBig,
    /// A line exceeded 998 octets: refuse (`554 5.6.0`).
    LineTooLong,
}

impl DataOutcome {
    /// The refusal to send, `None` for a complete message (whose answer
    /// depends on delivery).
    pub fn reply(&self) -> Option<Reply> {
        match self {
            DataOutcome::Complete { .. } => None,
            DataOutcome::BareNewline => Some(Reply::bare_newline()),
            DataOutcome::TooBig => Some(Reply::message_too_big()),
            DataOutcome::LineTooLong => Some(Reply::data_line_too_long()),
        }
    }
}

/// What one `feed` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<T> {
    /// How many input bytes were consumed; the rest belongs to the next
    /// pipelined command.
    pub consumed: usize,
    /// Set once the transfer is over.
    pub outcome: Option<T>,
}

/// Where in a line the receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Just after CR LF (or at the start, after the DATA line's CR LF).
    LineStart,
    /// A `.` at the start of a line, not yet written.
    Dot,
    /// `.` CR at the start of a line: LF now ends the data.
    DotCr,
    /// Inside a line.
    Mid,
    /// A CR inside a line, not yet written.
    Cr,
}

/// Receives one message sent with DATA.
#[derive(Debug, Clone)]
pub struct DataReceiver {
    limits: DataLimits,
    state: State,
    size: u64,
    line_len: usize,
    bare: bool,
    too_big: bool,
    long_line: bool,
    done: Option<DataOutcome>,
}

impl DataReceiver {
    /// A receiver for one message, to be fed right after the `354`.
    pub fn new(limits: DataLimits) -> Self {
        DataReceiver {
            limits,
            state: State::LineStart,
            size: 0,
            line_len: 0,
            bare: false,
            too_big: false,
            long_line: false,
            done: None,
        }
    }

    /// Consumes message bytes from `input`, writing the unstuffed message
    /// to `sink`. Stops right after the terminator; after the outcome,
    /// further calls consume nothing and repeat it.
    pub fn feed<S: DataSink + ?Sized>(
        &mut self,
        input: &[u8],
        sink: &mut S,
    ) -> Progress<DataOutcome> {
        if let Some(outcome) = self.done {
            return Progress {
                consumed: 0,
                outcome: Some(outcome),
            };
        }
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            match self.state {
                State::Mid => {
                    let run = input[i..]
                        .iter()
                        .position(|&b| b == b'\r' || b == b'\n')
                        .unwrap_or(input.len() - i);
                    if run > 0 {
                        self.content(sink, &input[i..i + run]);
                        i += run;
                    } else {
                        i += 1;
                        if b == b'\r' {
                            self.state = State::Cr;
                        } else {
                            self.bare_newline(sink, b"\n");
                        }
                    }
                }
                State::LineStart | State::Dot => {
                    i += 1;
                    match (self.state, b) {
                        (State::LineStart, b'.') => self.state = State::Dot,
                        (State::LineStart, b'\r') => self.state = State::Cr,
                        (State::Dot, b'\r') => self.state = State::DotCr,
                        (_, b'\n') => self.bare_newline(sink, b"\n"),
                        // After a leading dot, this also unstuffs "..".
                        _ => {
                            self.content(sink, &[b]);
                            self.state = State::Mid;
                        }
                    }
                }
                State::DotCr if b == b'\n' => return self.finish(i + 1),
                State::Cr if b == b'\n' => {
                    i += 1;
                    self.emit(sink, b"\r\n");
                    self.line_len = 0;
                    self.state = State::LineStart;
                }
                // A CR not followed by LF; `b` is looked at again in Mid.
                State::DotCr | State::Cr => self.bare_newline(sink, b"\r"),
            }
        }
        Progress {
            consumed: input.len(),
            outcome: None,
        }
    }

    /// Octets of message seen so far (unstuffed, also past the limit).
    pub fn received(&self) -> u64 {
        self.size
    }

    /// The outcome, once the terminator has been consumed.
    pub fn outcome(&self) -> Option<DataOutcome> {
        self.done
    }

    fn bare_newline<S: DataSink + ?Sized>(&mut self, sink: &mut S, byte: &[u8]) {
        self.bare = true;
        self.content(sink, byte);
        self.state = State::Mid;
    }

    /// Line content: counts towards the line length, then is written.
    fn content<S: DataSink + ?Sized>(&mut self, sink: &mut S, bytes: &[u8]) {
        self.line_len = self.line_len.saturating_add(bytes.len());
        if self.line_len > self.limits.max_line {
            self.long_line = true;
        }
        self.emit(sink, bytes);
    }

    /// Writes to the sink up to the size limit (so the sink's content does
    /// not depend on how the input was chunked), then only counts.
    fn emit<S: DataSink + ?Sized>(&mut self, sink: &mut S, bytes: &[u8]) {
        let room = self.limits.max_size.saturating_sub(self.size);
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.too_big {
            return;
        }
        if self.size > self.limits.max_size {
            self.too_big = true;
            let fits = usize::try_from(room).unwrap_or(usize::MAX).min(bytes.len());
            sink.write(&bytes[..fits]);
        } else {
            sink.write(bytes);
        }
    }

    fn finish(&mut self, consumed: usize) -> Progress<DataOutcome> {
        let outcome = if self.bare {
            DataOutcome::BareNewline
        } else if self.too_big {
            DataOutcome::TooBig
        } else if self.long_line {
            DataOutcome::LineTooLong
        } else {
            DataOutcome::Complete { size: self.size }
        };
        self.done = Some(outcome);
        Progress {
            consumed,
            outcome: Some(outcome),
        }
    }
}

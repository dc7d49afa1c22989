//! Command framing details shared by the streaming parser: spotting a
//! literal announcement at the end of a line (RFC 3501 §4.3 `{n}`,
//! RFC 7888 `{n+}`), and throwing away the rest of a refused command
//! without buffering it.
//!
//! Owns: [`Discard`], the skip state. It reads to the end of the current
//! line keeping only its last few octets; if that line announced a
//! non-synchronising literal, it skips the literal's octets and carries
//! on with the next line, until a line ends the command. A refused
//! synchronising literal is never sent by the client, so such a line
//! ends the discard.
//!
//! Must not: parse commands.

/// Longest tail of a discarded line kept to spot a literal announcement
/// (`{18446744073709551615+}` and CR).
const TAIL: usize = 32;

/// The line without a trailing CR.
pub(super) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The literal a line announces at its end: size and whether it is
/// synchronising. Sizes too large for `u64` saturate.
pub(super) fn announcement(line: &[u8]) -> Option<(u64, bool)> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let spec = &inner[open + 1..];
    let (digits, sync) = match spec.strip_suffix(b"+") {
        Some(digits) => (digits, false),
        None => (spec, true),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = digits.iter().fold(0u64, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some((size, sync))
}

/// Whether the command starts `tag APPEND `.
pub(super) fn is_append(command: &[u8]) -> bool {
    let Some(sp) = command.iter().position(|&b| b == b' ') else {
        return false;
    };
    command
        .get(sp + 1..sp + 8)
        .is_some_and(|word| word.eq_ignore_ascii_case(b"APPEND "))
}

/// Throwing away input up to the end of a refused command (or line).
#[derive(Debug, Clone, Default)]
pub(super) struct Discard {
    /// Literal octets still to skip.
    skip: u64,
    /// The last octets of the line being discarded.
    tail: Vec<u8>,
    /// Whether a `{n+}` at the end of a discarded line means octets to
    /// skip (command mode) or nothing (single lines).
    literals: bool,
}

impl Discard {
    /// Discards the rest of a command, literals included.
    pub(super) fn command() -> Discard {
        Discard {
            literals: true,
            ..Discard::default()
        }
    }

    /// Discards the rest of one line (AUTHENTICATE, IDLE).
    pub(super) fn line() -> Discard {
        Discard::default()
    }

    fn keep_tail(&mut self, more: &[u8]) {
        self.tail
            .extend_from_slice(&more[more.len().saturating_sub(TAIL)..]);
        let excess = self.tail.len().saturating_sub(TAIL);
        self.tail.drain(..excess);
    }

    /// Consumes from `buf[*start..]` what belongs to the refused input,
    /// advancing `start`; `true` once the discard is over.
    pub(super) fn run(&mut self, buf: &[u8], start: &mut usize) -> bool {
        loop {
            if self.skip > 0 {
                let available = (buf.len() - *start) as u64;
                let n = self.skip.min(available);
                *start += usize::try_from(n).unwrap_or(0);
                self.skip -= n;
                if self.skip > 0 {
                    return false;
                }
            }
            let rest = &buf[*start..];
            let Some(i) = rest.iter().position(|&b| b == b'\n') else {
                self.keep_tail(rest);
                *start = buf.len();
                return false;
            };
            self.keep_tail(&rest[..i]);
            *start += i + 1;
            let tail = std::mem::take(&mut self.tail);
            match announcement(strip_cr(&tail)) {
                Some((size, false)) if self.literals => self.skip = size,
                _ => return true,
            }
        }
    }
}

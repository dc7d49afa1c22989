//! POP3 responses: `+OK`, `-ERR [CODE]` (RFC 2449 §8, RFC 3206) and
//! multi-line bodies, dot-stuffed and terminated by `.` CRLF.

/// Extended response codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `[IN-USE]`: the maildrop is locked by another session.
    InUse,
    /// `[LOGIN-DELAY]`: logging in again too soon.
    LoginDelay,
    /// `[AUTH]`: the credentials were wrong (RFC 3206).
    Auth,
    /// `[SYS/TEMP]`: a temporary system problem.
    SysTemp,
    /// `[SYS/PERM]`: a permanent system problem.
    SysPerm,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Code::InUse => "IN-USE",
            Code::LoginDelay => "LOGIN-DELAY",
            Code::Auth => "AUTH",
            Code::SysTemp => "SYS/TEMP",
            Code::SysPerm => "SYS/PERM",
        }
    }
}

/// `+OK text` CRLF.
pub fn ok(text: &str) -> Vec<u8> {
    if text.is_empty() {
        b"+OK\r\n".to_vec()
    } else {
        format!("+OK {}\r\n", one_line(text)).into_bytes()
    }
}

/// `-ERR [CODE] text` CRLF.
pub fn err(code: Option<Code>, text: &str) -> Vec<u8> {
    match code {
        Some(c) => format!("-ERR [{}] {}\r\n", c.as_str(), one_line(text)).into_bytes(),
        None => format!("-ERR {}\r\n", one_line(text)).into_bytes(),
    }
}

fn one_line(text: &str) -> String {
    text.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// Builds a multi-line response: `+OK …` then lines, then `.` CRLF.
#[derive(Debug, Default)]
pub struct MultiLine {
    out: Vec<u8>,
}

impl MultiLine {
    /// Starts with the `+OK` status line.
    pub fn new(status: &str) -> MultiLine {
        MultiLine { out: ok(status) }
    }

    /// Adds one text line (dot-stuffed).
    pub fn line(&mut self, line: &str) {
        if line.starts_with('.') {
            self.out.push(b'.');
        }
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    /// Adds a message body, dot-stuffed, CRLF line endings.
    pub fn body(&mut self, message: &[u8]) {
        dot_stuff(message, &mut self.out);
    }

    /// Ends the response and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b".\r\n");
        self.out
    }
}

/// Appends `message` to `out` dot-stuffed (RFC 1939 §3), with every line
/// ending (CRLF, bare LF or bare CR) written as CRLF, and a final CRLF if
/// the message does not end with one.
pub fn dot_stuff(message: &[u8], out: &mut Vec<u8>) {
    out.reserve(message.len() + message.len() / 50 + 2);
    let mut at_line_start = true;
    let mut i = 0;
    while i < message.len() {
        let b = message[i];
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if message.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                at_line_start = true;
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                out.push(b);
                at_line_start = false;
            }
        }
        i += 1;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
}

/// The header block and the first `lines` body lines of `message`, for
/// TOP (RFC 1939 §7); the blank separator line is always included.
pub fn top(message: &[u8], lines: u32) -> &[u8] {
    let header_end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap_or(message.len());
    let mut end = header_end;
    let mut left = lines;
    while left > 0 && end < message.len() {
        match message[end..].iter().position(|&b| b == b'\n') {
            Some(p) => end += p + 1,
            None => end = message.len(),
        }
        left -= 1;
    }
    &message[..end]
}

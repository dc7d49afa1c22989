//! The sans-IO POP3 codec (RFC 1939, CAPA RFC 2449, STLS RFC 2595, SASL
//! RFC 5034, response codes RFC 2449/3206): command lines in, commands
//! out; responses out as bytes, multi-line ones dot-stuffed with CRLF
//! line endings whatever the stored message uses.
//!
//! Must not: do I/O, know about mailboxes or accounts, or depend on
//! anything else in the crate.

mod command;
mod response;

pub use command::{Command, MAX_AUTH_LINE, MAX_LINE, ParseError};
pub use response::{Code, MultiLine, dot_stuff, err, ok, top};

#[cfg(test)]
mod tests;

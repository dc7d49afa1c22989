//! The EHLO reply and the capability set behind it (RFC 5321 §4.1.1.1).
//!
//! Owns: [`Capabilities`] — what the session offers on this connection at
//! this moment (STARTTLS disappears and AUTH may appear after the TLS
//! handshake) — and [`Ehlo`], which turns it into the `250-` reply.
//! The same [`Capabilities`] value is what [`super::Sequencer::check`]
//! and [`super::MailParams::validate`] hold commands against, so what is
//! advertised and what is accepted cannot drift apart.
//!
//! Capability lines carry no enhanced status codes (RFC 2034 §3; Postfix
//! writes none either). Keywords: PIPELINING (RFC 2920), SIZE (RFC 1870),
//! STARTTLS (RFC 3207), AUTH (RFC 4954), ENHANCEDSTATUSCODES (RFC 2034),
//! 8BITMIME (RFC 6152), BINARYMIME and CHUNKING (RFC 3030), SMTPUTF8
//! (RFC 6531), written in Postfix's order.

use super::reply::Reply;

/// What the server offers on a connection; the session decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `PIPELINING` (RFC 2920).
    pub pipelining: bool,
    /// `SIZE <n>` (RFC 1870): the message size limit in octets; `Some(0)`
    /// advertises SIZE without a fixed limit.
    pub size: Option<u64>,
    /// `STARTTLS` (RFC 3207): only on a plain-text connection.
    pub starttls: bool,
    /// `AUTH <mechanisms>` (RFC 4954), upper-case names; empty = no AUTH.
    pub auth: Vec<String>,
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    pub enhanced_status_codes: bool,
    /// `8BITMIME` (RFC 6152).
    pub eight_bit_mime: bool,
    /// `BINARYMIME` (RFC 3030); only meaningful together with CHUNKING.
    pub binary_mime: bool,
    /// `SMTPUTF8` (RFC 6531).
    pub smtputf8: bool,
    /// `CHUNKING` (RFC 3030): the BDAT command.
    pub chunking: bool,
}

impl Capabilities {
    /// The capability keywords in the order the EHLO reply lists them.
    pub fn keywords(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |on: bool, keyword: String| {
            if on {
                out.push(keyword);
            }
        };
        push(self.pipelining, "PIPELINING".into());
        push(
            self.size.is_some(),
            format!("SIZE {}", self.size.unwrap_or(0)),
        );
        push(self.starttls, "STARTTLS".into());
        push(
            !self.auth.is_empty(),
            format!("AUTH {}", self.auth.join(" ")),
        );
        push(self.enhanced_status_codes, "ENHANCEDSTATUSCODES".into());
        push(self.eight_bit_mime, "8BITMIME".into());
        push(self.binary_mime && self.chunking, "BINARYMIME".into());
        push(self.smtputf8, "SMTPUTF8".into());
        push(self.chunking, "CHUNKING".into());
        out
    }

    /// Whether SASL mechanism `mechanism` (case-insensitive) is offered.
    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }
}

/// Builds the EHLO reply: `250-<host> Hello <peer>` then one line per
/// capability, without enhanced status codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ehlo {
    hostname: String,
    peer: Option<String>,
    capabilities: Capabilities,
}

impl Ehlo {
    /// Starts an EHLO reply for the server name `hostname`.
    pub fn new(hostname: impl Into<String>) -> Self {
        Ehlo {
            hostname: hostname.into(),
            peer: None,
            capabilities: Capabilities::default(),
        }
    }

    /// Greets the client by the name it gave in EHLO (text is sanitised
    /// by the reply writer, so peer input cannot break the reply).
    pub fn greet(mut self, peer: impl Into<String>) -> Self {
        self.peer = Some(peer.into());
        self
    }

    /// Sets what to advertise.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// The finished `250` reply.
    pub fn reply(&self) -> Reply {
        let first = match &self.peer {
            Some(peer) => format!("{} Hello {peer}", self.hostname),
            None => self.hostname.clone(),
        };
        let mut lines = vec![first];
        lines.extend(self.capabilities.keywords());
        Reply::multiline(250, None, lines)
    }
}

//! The `Received:` trace header (RFC 5321 §4.4, protocol names from
//! RFC 3848 and RFC 6531 §3.7.3).
//!
//! ```text
//! Received: from mail.example.com (mail.example.com [192.0.2.1])
//!     by mx.example.net (Postel) with ESMTPS id 7f3a9c
//!     (using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384)
//!     for <bob@example.net>; Tue, 25 Nov 2025 07:20:00 +0000
//! ```
//!
//! The parenthesised name is the client's forward-confirmed reverse DNS
//! name, or `unknown`. `for` is written only for a single recipient: with
//! several, naming one would tell each recipient who else got a copy
//! (what Postfix does too). Everything the client sent (HELO, addresses)
//! is stripped of characters that could end the header or its comment.

use std::net::IpAddr;

use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

/// TLS parameters of the session, when it is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// Protocol version as commonly written: `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// Cipher suite name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// What the Received header says about the SMTP session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedInfo<'a> {
    /// The HELO/EHLO argument.
    pub helo: &'a str,
    /// Forward-confirmed reverse DNS name of the client, if any.
    pub rdns: Option<&'a str>,
    /// The client's address.
    pub ip: IpAddr,
    /// Leave the client's name and address out (submission privacy).
    pub hide_client: bool,
    /// Our hostname.
    pub hostname: &'a str,
    /// RFC 3848 / RFC 6531 protocol name (see [`protocol_name`]).
    pub protocol: &'static str,
    /// Our id for the message (the one in the `250` reply and logs).
    pub id: &'a str,
    /// TLS details when the session is encrypted.
    pub tls: Option<&'a TlsInfo>,
    /// The envelope recipients.
    pub recipients: &'a [String],
    /// When the message was received.
    pub date: OffsetDateTime,
}

/// RFC 3848 `with` protocol: SMTP for HELO, ESMTP for EHLO, `S` for TLS,
/// `A` for an authenticated client; RFC 6531's UTF8SMTP family when the
/// transaction used SMTPUTF8.
pub fn protocol_name(esmtp: bool, tls: bool, authenticated: bool, utf8: bool) -> &'static str {
    match (utf8, esmtp, tls, authenticated) {
        (true, _, false, false) => "UTF8SMTP",
        (true, _, false, true) => "UTF8SMTPA",
        (true, _, true, false) => "UTF8SMTPS",
        (true, _, true, true) => "UTF8SMTPSA",
        (false, false, _, _) => "SMTP",
        (false, true, false, false) => "ESMTP",
        (false, true, false, true) => "ESMTPA",
        (false, true, true, false) => "ESMTPS",
        (false, true, true, true) => "ESMTPSA",
    }
}

const RFC5322_DATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day padding:none] [month repr:short] [year] \
     [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// An RFC 5322 §3.3 date-time, e.g. `Tue, 5 Nov 2024 07:20:00 +0000`.
pub fn rfc5322_date(date: OffsetDateTime) -> String {
    date.format(RFC5322_DATE)
        .unwrap_or_else(|_| "Thu, 1 Jan 1970 00:00:00 +0000".to_string())
}

/// The header field, folded, CRLF-terminated.
pub fn build(info: &ReceivedInfo<'_>) -> String {
    let helo = sanitize(info.helo);
    let helo = if helo.is_empty() {
        "unknown".into()
    } else {
        helo
    };
    let rdns = info.rdns.map(sanitize).filter(|n| !n.is_empty());
    let client = if info.hide_client {
        String::new()
    } else {
        format!(
            " ({} {})",
            rdns.as_deref().unwrap_or("unknown"),
            address_literal(info.ip)
        )
    };
    let mut out = format!(
        "Received: from {helo}{client}\r\n\tby {} (Postel) with {} id {}",
        sanitize(info.hostname),
        info.protocol,
        sanitize(info.id),
    );
    if let Some(tls) = info.tls {
        out.push_str(&format!(
            "\r\n\t(using {} with cipher {})",
            sanitize(&tls.version),
            sanitize(&tls.cipher)
        ));
    }
    if let [only] = info.recipients {
        out.push_str(&format!("\r\n\tfor <{}>", sanitize(only)));
    }
    out.push_str(&format!(";\r\n\t{}\r\n", rfc5322_date(info.date)));
    out
}

/// RFC 5321 §4.1.3 address literal: `[192.0.2.1]`, `[IPv6:2001:db8::1]`.
/// IPv4-mapped IPv6 addresses are written as IPv4.
pub fn address_literal(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("[{v4}]"),
        IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
    }
}

/// Keeps printable ASCII (and non-ASCII letters) that cannot close the
/// comment, start a new field, or break the `for <…>` path; caps length.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && !"()<>;\\\"".contains(*c))
        .take(255)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn info<'a>(recipients: &'a [String], tls: Option<&'a TlsInfo>) -> ReceivedInfo<'a> {
        ReceivedInfo {
            helo: "client.example",
            rdns: None,
            ip: "192.0.2.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            hide_client: false,
            hostname: "mx.test",
            protocol: protocol_name(true, tls.is_some(), false, false),
            id: "ABC123",
            tls,
            recipients,
            date: datetime!(2025-11-04 07:05:09 UTC),
        }
    }

    #[test]
    fn plain_single_recipient() {
        let rcpt = ["bob@mx.test".to_string()];
        assert_eq!(
            build(&info(&rcpt, None)),
            "Received: from client.example (unknown [192.0.2.7])\r\n\
             \tby mx.test (Postel) with ESMTP id ABC123\r\n\
             \tfor <bob@mx.test>;\r\n\
             \tTue, 4 Nov 2025 07:05:09 +0000\r\n"
        );
    }

    #[test]
    fn tls_and_several_recipients() {
        let rcpt = ["a@mx.test".to_string(), "b@mx.test".to_string()];
        let tls = TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_256_GCM_SHA384".into(),
        };
        let h = build(&info(&rcpt, Some(&tls)));
        assert!(h.contains(
            "with ESMTPS id ABC123\r\n\t(using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384);"
        ));
        assert!(!h.contains("for <"));
    }

    #[test]
    fn hostile_helo_cannot_break_out() {
        let rcpt: [String; 0] = [];
        let mut i = info(&rcpt, None);
        i.helo = "evil)\r\nX-Injected: yes (";
        let h = build(&i);
        assert!(h.starts_with("Received: from evilX-Injected:yes (unknown [192.0.2.7])\r\n"));
        assert_eq!(h.matches("\r\n").count(), 3);
    }

    #[test]
    fn protocols_and_literals() {
        assert_eq!(protocol_name(false, false, false, false), "SMTP");
        assert_eq!(protocol_name(true, true, true, false), "ESMTPSA");
        assert_eq!(protocol_name(true, false, true, false), "ESMTPA");
        assert_eq!(protocol_name(true, true, true, true), "UTF8SMTPSA");
        let v6: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(address_literal(v6), "[IPv6:2001:db8::1]");
        let mapped: IpAddr = "::ffff:192.0.2.1"
            .parse()
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(address_literal(mapped), "[192.0.2.1]");
    }
}

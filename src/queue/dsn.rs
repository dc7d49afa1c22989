//! Delivery status notifications (RFC 3464, RFC 3462 `multipart/report`,
//! RFC 3834 `Auto-Submitted`; RFC 6533 for UTF-8 addresses and headers).
//!
//! A notice has three parts: a short text for people, the machine-readable
//! `message/delivery-status` (per-message fields, then one block per
//! recipient: Final-Recipient, Action, Status, Remote-MTA,
//! Diagnostic-Code, …) and the original message's header section as
//! `text/rfc822-headers` (never the body: no message is sent back whole).
//!
//! Text from remote servers reaches this module already stripped of
//! control characters (the reply parser replaces them), so it cannot add
//! header lines; long values are folded.

use time::OffsetDateTime;

use crate::pipeline::headers::received::rfc5322_date;

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnKind {
    /// Delivery failed for good (permanent error or expiry).
    Failed,
    /// Still trying; sent once after `queue.warn_after`.
    Delayed,
}

/// One recipient's part of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsnRecipient {
    /// The address delivery was attempted to.
    pub recipient: String,
    /// The RCPT TO that led to it, when different (forwarding).
    pub original: Option<String>,
    /// Enhanced status, e.g. `5.1.1`.
    pub status: String,
    /// The remote server's reply, empty when there was none.
    pub diagnostic: String,
    /// The MX host talked to, empty when none.
    pub remote_mta: String,
    /// What happened, for people.
    pub message: String,
    /// Unix milliseconds of the last attempt.
    pub last_attempt: i64,
}

/// Everything a notice says.
#[derive(Debug, Clone)]
pub struct Dsn<'a> {
    /// Which notice.
    pub kind: DsnKind,
    /// Our host name (Reporting-MTA, From: MAILER-DAEMON@…).
    pub hostname: &'a str,
    /// The queue id of the original message.
    pub queue_id: &'a str,
    /// The original envelope sender, the notice's recipient.
    pub sender: &'a str,
    /// When the original arrived, unix milliseconds.
    pub arrival: i64,
    /// Until when delivery is retried (delay notices), unix milliseconds.
    pub retry_until: Option<i64>,
    /// The recipients this notice is about.
    pub recipients: &'a [DsnRecipient],
    /// The original message (only its header section is included).
    pub original: &'a [u8],
}

fn date(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    rfc5322_date(t)
}

/// `rfc822; a@b`, or `utf-8; …` for a non-ASCII address (RFC 6533 §3).
fn address_field(address: &str) -> String {
    if address.is_ascii() {
        format!("rfc822; {address}")
    } else {
        format!("utf-8; {address}")
    }
}

/// `Name: value` folded at spaces so no line passes 78 octets.
fn field(out: &mut String, name: &str, value: &str) {
    let mut line = format!("{name}:");
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        let word = truncate(word, 900);
        if line.len() + 1 + word.len() > 78 && line.len() > name.len() + 1 {
            out.push_str(&line);
            out.push_str("\r\n");
            line = String::new();
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push_str("\r\n");
}

/// At most `max` octets of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The header section of `message`, CRLF line endings, ending in CRLF.
fn header_section(message: &[u8]) -> String {
    let end = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|p| p + 1))
        .unwrap_or(message.len());
    let mut text = String::from_utf8_lossy(&message[..end]).replace("\r\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.replace('\n', "\r\n")
}

impl Dsn<'_> {
    /// The notice as a complete message (CRLF line endings).
    pub fn build(&self) -> Vec<u8> {
        let boundary = format!("{}/{:016x}", self.queue_id, rand::random::<u64>());
        let headers = header_section(self.original);
        let global = !self.sender.is_ascii()
            || self.recipients.iter().any(|r| !r.recipient.is_ascii())
            || !headers.is_ascii();
        let subject = match self.kind {
            DsnKind::Failed => "Undelivered Mail Returned to Sender",
            DsnKind::Delayed => "Delayed Mail (still being retried)",
        };
        let mut m = String::new();
        field(
            &mut m,
            "From",
            &format!("Mail Delivery System <MAILER-DAEMON@{}>", self.hostname),
        );
        field(&mut m, "To", &format!("<{}>", self.sender));
        field(&mut m, "Subject", subject);
        field(&mut m, "Date", &rfc5322_date(OffsetDateTime::now_utc()));
        let id = format!(
            "<{}.{:08x}@{}>",
            self.queue_id,
            rand::random::<u32>(),
            self.hostname
        );
        field(&mut m, "Message-ID", &id);
        field(&mut m, "Auto-Submitted", "auto-replied");
        field(&mut m, "MIME-Version", "1.0");
        m.push_str(&format!(
            "Content-Type: multipart/report; report-type=delivery-status;\r\n\
             \tboundary=\"{boundary}\"\r\n\r\n\
             This is a MIME-formatted delivery status notification.\r\n\r\n"
        ));
        m.push_str(&format!("--{boundary}\r\n"));
        self.human(&mut m);
        m.push_str(&format!("--{boundary}\r\n"));
        self.machine(&mut m, global);
        m.push_str(&format!("--{boundary}\r\n"));
        let kind = if global {
            "message/global-headers"
        } else {
            "text/rfc822-headers"
        };
        m.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Description: Headers of the original message\r\n\r\n"
        ));
        m.push_str(&headers);
        m.push_str(&format!("\r\n--{boundary}--\r\n"));
        m.into_bytes()
    }

    /// The part for people.
    fn human(&self, m: &mut String) {
        let text = self
            .recipients
            .iter()
            .any(|r| !r.message.is_ascii() || !r.recipient.is_ascii());
        m.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        m.push_str("Content-Description: Notification\r\n");
        if text {
            m.push_str("Content-Transfer-Encoding: 8bit\r\n");
        }
        m.push_str("\r\n");
        m.push_str(&format!(
            "This is the mail server at {}.\r\n\r\n",
            self.hostname
        ));
        match self.kind {
            DsnKind::Failed => m.push_str(
                "Your message could not be delivered to the recipients below.\r\n\
                 This is a permanent failure; it will not be retried.\r\n",
            ),
            DsnKind::Delayed => {
                m.push_str(
                    "Your message has not been delivered yet to the recipients below.\r\n\
                     Nothing needs to be done: delivery is being retried",
                );
                match self.retry_until {
                    Some(t) => m.push_str(&format!(" until\r\n{}.\r\n", date(t))),
                    None => m.push_str(".\r\n"),
                }
            }
        }
        m.push_str("The headers of your message are attached.\r\n\r\n");
        for r in self.recipients {
            m.push_str(&format!("<{}>: {}\r\n", r.recipient, r.message));
        }
        m.push_str("\r\n");
    }

    /// The `message/delivery-status` part.
    fn machine(&self, m: &mut String, global: bool) {
        let kind = if global {
            "message/global-delivery-status"
        } else {
            "message/delivery-status"
        };
        m.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Description: Delivery report\r\n\r\n"
        ));
        field(m, "Reporting-MTA", &format!("dns; {}", self.hostname));
        field(m, "X-Postel-Queue-ID", self.queue_id);
        field(m, "Arrival-Date", &date(self.arrival));
        let action = match self.kind {
            DsnKind::Failed => "failed",
            DsnKind::Delayed => "delayed",
        };
        for r in self.recipients {
            m.push_str("\r\n");
            if let Some(orig) = r.original.as_deref().filter(|o| !o.is_empty()) {
                field(m, "Original-Recipient", &address_field(orig));
            }
            field(m, "Final-Recipient", &address_field(&r.recipient));
            field(m, "Action", action);
            let fallback = if self.kind == DsnKind::Failed {
                "5.0.0"
            } else {
                "4.0.0"
            };
            let status = if r.status.is_empty() {
                fallback
            } else {
                &r.status
            };
            field(m, "Status", status);
            if !r.remote_mta.is_empty() {
                field(m, "Remote-MTA", &format!("dns; {}", r.remote_mta));
            }
            if !r.diagnostic.is_empty() {
                field(m, "Diagnostic-Code", &format!("smtp; {}", r.diagnostic));
            }
            field(m, "Last-Attempt-Date", &date(r.last_attempt));
            if let (DsnKind::Delayed, Some(t)) = (self.kind, self.retry_until) {
                field(m, "Will-Retry-Until", &date(t));
            }
        }
        m.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    fn recipient() -> DsnRecipient {
        DsnRecipient {
            recipient: "bob@remote.test".into(),
            original: Some("alias@local.test".into()),
            status: "5.1.1".into(),
            diagnostic: format!("550 5.1.1 {}", "no such user ".repeat(12)),
            remote_mta: "mx.remote.test".into(),
            message: "mx.remote.test said: 550 5.1.1 no such user".into(),
            last_attempt: 1_700_000_000_000,
        }
    }

    #[test]
    fn failure_notice_parses_as_a_report() {
        let rcpts = [recipient()];
        let original = b"From: alice@local.test\r\nSubject: hello\r\n\r\nsecret body\r\n";
        let dsn = Dsn {
            kind: DsnKind::Failed,
            hostname: "mail.local.test",
            queue_id: "abc123",
            sender: "alice@local.test",
            arrival: 1_700_000_000_000,
            retry_until: None,
            recipients: &rcpts,
            original,
        }
        .build();
        let text = String::from_utf8(dsn.clone()).expect("utf-8");
        assert!(text.lines().all(|l| l.len() <= 998), "{text}");
        assert!(!text.contains("secret body"), "the body is never returned");
        let parsed = mail_parser::MessageParser::new()
            .parse(&dsn)
            .expect("parses");
        assert_eq!(
            parsed.subject(),
            Some("Undelivered Mail Returned to Sender")
        );
        assert_eq!(
            parsed.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-replied")
        );
        let ct = parsed.content_type().expect("content type");
        assert_eq!(ct.ctype(), "multipart");
        assert_eq!(ct.subtype(), Some("report"));
        assert_eq!(ct.attribute("report-type"), Some("delivery-status"));
        assert_eq!(parsed.parts.len(), 4, "root + 3 parts");
        let status = String::from_utf8_lossy(parsed.parts[2].contents()).into_owned();
        for want in [
            "Reporting-MTA: dns; mail.local.test",
            "Final-Recipient: rfc822; bob@remote.test",
            "Original-Recipient: rfc822; alias@local.test",
            "Action: failed",
            "Status: 5.1.1",
            "Remote-MTA: dns; mx.remote.test",
            "Diagnostic-Code: smtp; 550 5.1.1 no such user",
            "Arrival-Date: ",
        ] {
            assert!(status.contains(want), "{want} missing from:\n{status}");
        }
        let headers = String::from_utf8_lossy(parsed.parts[3].contents()).into_owned();
        assert!(headers.contains("Subject: hello"), "{headers}");
    }

    #[test]
    fn delay_notice() {
        let mut r = recipient();
        r.status = "4.4.1".into();
        let rcpts = [r];
        let dsn = Dsn {
            kind: DsnKind::Delayed,
            hostname: "mail.local.test",
            queue_id: "abc",
            sender: "alice@local.test",
            arrival: 0,
            retry_until: Some(432_000_000),
            recipients: &rcpts,
            original: b"Subject: x\r\n\r\n",
        }
        .build();
        let text = String::from_utf8_lossy(&dsn);
        assert!(text.contains("Action: delayed") && text.contains("Will-Retry-Until: "));
        assert!(text.contains("Status: 4.4.1"));
    }
}

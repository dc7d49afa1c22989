//! Which header fields a signature covers (RFC 6376 §5.4, §8.15).
//!
//! Fields that decide how a reader sees the message are *oversigned*:
//! listed in `h=` once more than they occur, so that adding another
//! instance later (a second From above or below the first) breaks the
//! signature. Other useful fields are signed only when present, so that a
//! mailing list adding `List-Id` does not break an otherwise intact
//! message. Trace fields (Received, Return-Path) are never signed.
//!
//! mail-auth's signer takes a list of names, signs every instance of each
//! name that occurs and appends the names that do not occur (or occur
//! fewer times than listed); [`signed_header_names`] builds that list.

/// Oversigned: every instance plus one more (From is required to be signed).
pub const OVERSIGNED: &[&str] = &["From", "Reply-To", "Subject", "To", "Cc"];

/// Signed (every instance) when present.
pub const SIGNED_IF_PRESENT: &[&str] = &[
    "Date",
    "Message-ID",
    "Sender",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-Language",
    "List-Id",
    "List-Help",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Subscribe",
    "List-Post",
    "List-Owner",
    "List-Archive",
    "Resent-Date",
    "Resent-From",
    "Resent-Sender",
    "Resent-To",
    "Resent-Cc",
    "Resent-Message-ID",
    "Autocrypt",
    "OpenPGP",
];

/// The `h=` template for `message`: each oversigned name twice when the
/// message has it (mail-auth then signs its instances and appends one
/// empty instance) and once when it does not; each other name once when
/// present. `None` when the message has no From field.
pub fn signed_header_names(message: &[u8]) -> Option<Vec<&'static str>> {
    let present = field_names(message);
    let has = |wanted: &str| {
        present
            .iter()
            .any(|n| n.eq_ignore_ascii_case(wanted.as_bytes()))
    };
    if !has("From") {
        return None;
    }
    let mut names = Vec::with_capacity(OVERSIGNED.len() * 2 + SIGNED_IF_PRESENT.len());
    for &name in OVERSIGNED {
        names.push(name);
        if has(name) {
            names.push(name);
        }
    }
    names.extend(SIGNED_IF_PRESENT.iter().copied().filter(|n| has(n)));
    Some(names)
}

/// The names of the header fields, in order: up to the first empty line,
/// each line that does not start with white space and has a colon names a
/// field (the bytes before the colon, as the canonicalizer compares them).
fn field_names(message: &[u8]) -> Vec<&[u8]> {
    let mut names = Vec::new();
    for line in message.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None => break,
            Some(b' ' | b'\t') => {}
            Some(_) => {
                if let Some(colon) = line.iter().position(|&b| b == b':') {
                    names.push(&line[..colon]);
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversigns_present_and_absent_fields() -> Result<(), String> {
        let msg = b"Received: from x\r\nFrom: a@example.org\r\nTo: b@example.net\r\n\
                    Subject: hi\r\nList-Id: <l.example>\r\nX-Mailer: y\r\n\r\nbody\r\n";
        let names = signed_header_names(msg).ok_or("From present")?;
        let count = |n: &str| names.iter().filter(|x| **x == n).count();
        assert_eq!(count("From"), 2);
        assert_eq!(count("To"), 2);
        assert_eq!(count("Subject"), 2);
        assert_eq!(count("Cc"), 1, "absent: signed as empty once");
        assert_eq!(count("Reply-To"), 1);
        assert_eq!(count("List-Id"), 1);
        assert_eq!(count("Date"), 0, "absent, not oversigned");
        assert_eq!(count("Received"), 0);
        assert_eq!(count("X-Mailer"), 0);
        Ok(())
    }

    #[test]
    fn names_match_case_insensitively() {
        let msg = b"FROM: a@example.org\r\nmessage-id: <1@x>\r\n\r\n";
        let names = signed_header_names(msg).unwrap_or_default();
        assert_eq!(names.iter().filter(|x| **x == "From").count(), 2);
        assert!(names.contains(&"Message-ID"));
    }

    #[test]
    fn no_from_no_signature() {
        assert!(signed_header_names(b"To: b@example.net\r\n\r\nbody\r\n").is_none());
        assert!(signed_header_names(b"").is_none());
        // A "From:" line in the body is not a header field.
        assert!(signed_header_names(b"To: b@x\r\n\r\nFrom: a@x\r\n").is_none());
        // Nor is one folded into another field.
        assert!(signed_header_names(b"Subject: a\r\n From: a@x\r\n\r\n").is_none());
    }
}

//! The base subject of RFC 5256 §2.1 (SORT SUBJECT and THREAD): the
//! subject with reply and forward markers, list tags and trailers
//! removed, so that "Re: [list] Fwd: Hello (fwd)" sorts with "Hello".
//!
//! Owns: [`base_subject`]. Input is the decoded subject (encoded-words
//! already converted to UTF-8); output is the base subject, ASCII
//! letters upper-cased so callers can compare it octet by octet (the
//! `i;ascii-casemap` collation of RFC 5256).
//!
//! Must not: loop forever (every pass removes text or stops).

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Step 1: tabs and line breaks to spaces, runs of spaces to one.
fn normalise(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len());
    for c in subject.chars() {
        let c = if matches!(c, '\t' | '\r' | '\n') {
            ' '
        } else {
            c
        };
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Step 2: remove trailing `(fwd)` and blanks.
fn strip_trailer(s: &mut String) {
    loop {
        let trimmed = s.trim_end_matches(is_wsp).len();
        s.truncate(trimmed);
        if s.to_ascii_lowercase().ends_with("(fwd)") {
            s.truncate(s.len() - 5);
        } else {
            return;
        }
    }
}

/// `subj-blob` at the start of `s`: the length of `[…]` and the blanks
/// after it.
fn blob(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('[')?;
    let close = rest.find(['[', ']'])?;
    if !rest[close..].starts_with(']') {
        return None;
    }
    let after = &rest[close + 1..];
    let blanks = after.len() - after.trim_start_matches(is_wsp).len();
    Some(1 + close + 1 + blanks)
}

/// `subj-refwd` at the start of `s`: `re`, `fw` or `fwd`, blanks, an
/// optional blob, then `:`.
fn refwd(s: &str) -> Option<usize> {
    let lower = s.get(..3).unwrap_or(s).to_ascii_lowercase();
    let word = if lower.starts_with("fwd") {
        3
    } else if lower.starts_with("re") || lower.starts_with("fw") {
        2
    } else {
        return None;
    };
    let mut at = word;
    at += s[at..].len() - s[at..].trim_start_matches(is_wsp).len();
    if let Some(b) = blob(&s[at..]) {
        at += b;
    }
    s[at..].starts_with(':').then_some(at + 1)
}

/// Step 3: one `subj-leader` (`(*blob refwd) / WSP`), if present.
fn leader(s: &str) -> Option<usize> {
    if s.starts_with(is_wsp) {
        return Some(1);
    }
    let mut at = 0;
    loop {
        if let Some(n) = refwd(&s[at..]) {
            return Some(at + n);
        }
        at += blob(&s[at..])?;
    }
}

/// Steps 3–5: leaders and leading blobs, until nothing changes.
fn strip_leaders(s: &mut String) {
    loop {
        let mut changed = false;
        while let Some(n) = leader(s) {
            s.drain(..n);
            changed = true;
        }
        if let Some(n) = blob(s).filter(|&n| n < s.len()) {
            s.drain(..n);
            changed = true;
        }
        if !changed {
            return;
        }
    }
}

/// The RFC 5256 base subject of a decoded subject, upper-cased (ASCII).
pub fn base_subject(subject: &str) -> String {
    let mut s = normalise(subject);
    loop {
        strip_trailer(&mut s);
        strip_leaders(&mut s);
        // Step 6: "[fwd: …]" wrapping.
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("[fwd:") && lower.ends_with(']') && s.len() >= 6 {
            s = s[5..s.len() - 1].to_owned();
            continue;
        }
        break;
    }
    s.trim_start_matches(is_wsp).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::base_subject;

    #[test]
    fn rfc5256_examples() {
        assert_eq!(base_subject("Re: Hello"), "HELLO");
        assert_eq!(base_subject("RE: re: Fwd: [list] Hello (fwd)"), "HELLO");
        assert_eq!(base_subject("[Fwd: Re: Lunch]"), "LUNCH");
        assert_eq!(base_subject("Re [x]: a   b\t(FWD) "), "A B");
        assert_eq!(base_subject("[only a blob]"), "[ONLY A BLOB]");
        assert_eq!(base_subject("   "), "");
        assert_eq!(base_subject("Fw: Réunion"), "RéUNION");
    }
}

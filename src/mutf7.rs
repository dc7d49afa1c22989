//! IMAP modified UTF-7 (RFC 3501 §5.1.3), the encoding of mailbox names
//! on the wire and — as Dovecot does it — of Maildir++ folder names on
//! disk.
//!
//! Owns: converting between UTF-8 strings and their modified UTF-7 form.
//! Must not: know about hierarchy separators, Maildir or IMAP syntax; the
//! callers split names into components first.
//!
//! The rules: printable US-ASCII (0x20–0x7e) stands for itself, except `&`
//! which becomes `&-`. Every other run of characters is UTF-16 encoded
//! (surrogate pairs for characters beyond the BMP), written in base64 with
//! `,` instead of `/` and no padding, between `&` and `-`.
//!
//! [`decode`] is strict so that `encode(decode(s)?) == s` for every input
//! it accepts: it refuses raw bytes outside printable ASCII, printable
//! ASCII hidden in base64, adjacent shifted runs (an encoder merges them),
//! unpaired surrogates, non-zero padding bits and unterminated runs.

/// Why a string is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mutf7Error {
    /// A character outside printable US-ASCII appeared unencoded.
    #[error("raw character {0:?} outside printable ASCII")]
    RawNonAscii(char),
    /// A `&` run was not closed by `-`.
    #[error("unterminated base64 run")]
    Unterminated,
    /// A byte that is not modified base64 inside a run.
    #[error("invalid base64 character {0:?}")]
    BadBase64(char),
    /// The run's bits do not form whole UTF-16 units with zero padding.
    #[error("base64 run has a bad length or non-zero padding bits")]
    BadPadding,
    /// A UTF-16 surrogate without its partner.
    #[error("unpaired UTF-16 surrogate")]
    UnpairedSurrogate,
    /// A run encodes printable ASCII, which must stand for itself.
    #[error("base64 run encodes printable ASCII {0:?}")]
    EncodedAscii(char),
    /// Two runs touch (`-&`); a canonical encoder writes one run.
    #[error("adjacent base64 runs")]
    AdjacentRuns,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Encodes a UTF-8 string as modified UTF-7.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run: Vec<u16> = Vec::new();
    for c in s.chars() {
        if is_direct(c) {
            flush_run(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush_run(&mut run, &mut out);
    out
}

fn flush_run(run: &mut Vec<u16>, out: &mut String) {
    if run.is_empty() {
        return;
    }
    out.push('&');
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for unit in run.drain(..) {
        acc = (acc << 16) | u32::from(unit);
        bits += 16;
        while bits >= 6 {
            bits -= 6;
            out.push(char::from(ALPHABET[((acc >> bits) & 0x3f) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((acc << (6 - bits)) & 0x3f) as usize]));
    }
    out.push('-');
}

fn sextet(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

/// Decodes modified UTF-7 into UTF-8.
///
/// # Errors
/// Any [`Mutf7Error`]: the input is not canonical modified UTF-7.
pub fn decode(s: &str) -> Result<String, Mutf7Error> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last_run_end = None;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'&' {
            let c = char::from(b);
            if !b.is_ascii() || !is_direct(c) {
                let bad = s[i..].chars().next().unwrap_or(c);
                return Err(Mutf7Error::RawNonAscii(bad));
            }
            out.push(c);
            i += 1;
            continue;
        }
        let end = bytes[i + 1..]
            .iter()
            .position(|&b| b == b'-')
            .map(|p| i + 1 + p)
            .ok_or(Mutf7Error::Unterminated)?;
        if end == i + 1 {
            out.push('&');
        } else {
            if last_run_end == Some(i) {
                return Err(Mutf7Error::AdjacentRuns);
            }
            decode_run(&bytes[i + 1..end], &mut out)?;
            last_run_end = Some(end + 1);
        }
        i = end + 1;
    }
    Ok(out)
}

fn decode_run(run: &[u8], out: &mut String) -> Result<(), Mutf7Error> {
    let mut units = Vec::with_capacity(run.len() * 6 / 16);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in run {
        let v = sextet(b).ok_or(Mutf7Error::BadBase64(char::from(b)))?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 16 {
            bits -= 16;
            units.push(((acc >> bits) & 0xffff) as u16);
            acc &= (1 << bits) - 1;
        }
    }
    if bits >= 6 || acc != 0 || units.is_empty() {
        return Err(Mutf7Error::BadPadding);
    }
    for decoded in char::decode_utf16(units) {
        let c = decoded.map_err(|_| Mutf7Error::UnpairedSurrogate)?;
        if is_direct(c) {
            return Err(Mutf7Error::EncodedAscii(c));
        }
        out.push(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(plain: &str, encoded: &str) {
        assert_eq!(encode(plain), encoded, "encode {plain:?}");
        assert_eq!(decode(encoded).as_deref(), Ok(plain), "decode {encoded:?}");
    }

    #[test]
    fn ascii_and_ampersand() {
        round_trip("INBOX", "INBOX");
        round_trip("Tom & Jerry", "Tom &- Jerry");
        round_trip("&", "&-");
        round_trip("&&", "&-&-");
        round_trip("", "");
        round_trip("a-b~c", "a-b~c");
    }

    #[test]
    fn latin_and_rfc_examples() {
        round_trip("Entwürfe", "Entw&APw-rfe");
        round_trip("Gelöschte Elemente", "Gel&APY-schte Elemente");
        // RFC 3501 §5.1.3 example.
        round_trip("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    }

    #[test]
    fn japanese_and_emoji() {
        round_trip("日本語", "&ZeVnLIqe-");
        round_trip("受信箱", "&U9dP4Xux-");
        round_trip("📧", "&2D3c5w-");
        round_trip("Mail 📧 & 😀 done", "Mail &2D3c5w- &- &2D3eAA- done");
        round_trip("😀😀", "&2D3eANg93gA-");
    }

    #[test]
    fn control_characters_are_encoded() {
        round_trip("a\tb", "a&AAk-b");
        round_trip("\u{7f}", "&AH8-");
    }

    #[test]
    fn invalid_inputs_rejected() {
        assert_eq!(decode("Entw&APw"), Err(Mutf7Error::Unterminated));
        assert_eq!(decode("&"), Err(Mutf7Error::Unterminated));
        assert_eq!(decode("Entwürfe"), Err(Mutf7Error::RawNonAscii('ü')));
        assert_eq!(decode("a\tb"), Err(Mutf7Error::RawNonAscii('\t')));
        assert_eq!(decode("&AGE-"), Err(Mutf7Error::EncodedAscii('a')));
        assert_eq!(decode("&A/w-"), Err(Mutf7Error::BadBase64('/')));
        assert_eq!(decode("&APx-"), Err(Mutf7Error::BadPadding));
        assert_eq!(decode("&AP-"), Err(Mutf7Error::BadPadding));
        assert_eq!(decode("&2D0-"), Err(Mutf7Error::UnpairedSurrogate));
        assert_eq!(decode("&3AA-"), Err(Mutf7Error::UnpairedSurrogate));
        assert_eq!(decode("&APw-&APw-"), Err(Mutf7Error::AdjacentRuns));
        assert_eq!(decode("&A-"), Err(Mutf7Error::BadPadding));
    }

    #[test]
    fn adjacent_ampersand_after_run_is_fine() {
        round_trip("ü&", "&APw-&-");
        round_trip("&ü", "&-&APw-");
    }

    #[test]
    fn every_char_class_round_trips() {
        let samples = [
            "plain",
            "ä",
            "äöü",
            "a&b",
            "€uro",
            "𝄞 music",
            "mixed 日本 and ASCII & more 📧",
            "\u{ffff}",
            "\u{10ffff}",
            "\u{e000}",
            "-&-",
            "&-&",
        ];
        for s in samples {
            let e = encode(s);
            assert!(e.bytes().all(|b| (0x20..0x7f).contains(&b)), "{e:?}");
            assert_eq!(decode(&e).as_deref(), Ok(s), "{s:?} via {e:?}");
            assert_eq!(encode(&decode(&e).unwrap_or_default()), e);
        }
    }

    #[test]
    fn random_strings_round_trip_and_decode_is_canonical() {
        let pool: Vec<char> = "aZ09 &-~+,/.\t\u{7f}äöüß€日本語受信箱📧😀𝄞\u{ffff}\u{10ffff}"
            .chars()
            .collect();
        for _ in 0..2000 {
            let len = rand::random::<usize>() % 12;
            let s: String = (0..len)
                .map(|_| pool[rand::random::<usize>() % pool.len()])
                .collect();
            let e = encode(&s);
            assert_eq!(decode(&e).as_deref(), Ok(s.as_str()), "{s:?} via {e:?}");
            // Random printable ASCII: whatever decodes must re-encode to
            // exactly the same text (one encoding per name).
            let junk: String = (0..len)
                .map(|_| char::from(b"&-AZaz09+,/ x"[rand::random::<usize>() % 13]))
                .collect();
            if let Ok(d) = decode(&junk) {
                assert_eq!(encode(&d), junk, "{junk:?}");
            }
        }
    }
}

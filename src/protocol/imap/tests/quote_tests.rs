//! The string forms used for message text (`wire.rs`): Dovecot's rules
//! for ENVELOPE and BODYSTRUCTURE strings, so that FETCH answers are
//! byte-identical to Dovecot's, and the general rule for everything else.

use crate::protocol::imap::wire::{MAX_QUOTED, MAX_QUOTED_SPECIALS, Writer};

fn message(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Writer::new(&mut out, false).message_string(bytes);
    out
}

fn human(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Writer::new(&mut out, false).human_string(bytes);
    out
}

fn general(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Writer::new(&mut out, false).string(bytes);
    out
}

#[test]
fn message_strings_are_quoted_up_to_four_escapes() {
    assert_eq!(message(b""), b"\"\"");
    assert_eq!(message(b"text/plain"), b"\"text/plain\"");
    assert_eq!(message(b"a\"b\\c"), b"\"a\\\"b\\\\c\"");
    let four = b"<a\"b\"c\"d\\e@x>";
    assert_eq!(
        MAX_QUOTED_SPECIALS, 4,
        "the fixtures show Dovecot's limit is 4"
    );
    assert_eq!(message(four), b"\"<a\\\"b\\\"c\\\"d\\\\e@x>\"");
    let five = b"<a\"b\"c\"d\"e\"@x>";
    assert_eq!(message(five), [&b"{14}\r\n"[..], five].concat());
}

#[test]
fn message_strings_with_8bit_or_line_breaks_are_literals() {
    for s in ["Grüße".as_bytes(), b"caf\xe9", b"a\rb", b"a\nb", b"a\0b"] {
        assert_eq!(
            message(s),
            [format!("{{{}}}\r\n", s.len()).as_bytes(), s].concat(),
            "{s:?}"
        );
    }
}

#[test]
fn long_message_strings_stay_quoted() {
    // Dovecot has no length limit for quoted strings; the general rule
    // switches to a literal after MAX_QUOTED octets.
    let long = "x".repeat(MAX_QUOTED * 3);
    assert_eq!(message(long.as_bytes()), format!("\"{long}\"").as_bytes());
    assert!(general(long.as_bytes()).starts_with(format!("{{{}}}\r\n", long.len()).as_bytes()));
    // The general rule quotes any number of escapes.
    assert_eq!(general(b"\"\"\"\"\""), b"\"\\\"\\\"\\\"\\\"\\\"\"");
}

#[test]
fn human_strings_untouched_are_quoted() {
    assert_eq!(human(b"Re: lunch"), b"\"Re: lunch\"");
    assert_eq!(
        human(b"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?="),
        b"\"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\""
    );
    let long = "y ".repeat(2000) + "z";
    assert_eq!(human(long.as_bytes()), format!("\"{long}\"").as_bytes());
}

#[test]
fn human_strings_left_empty_are_an_empty_quoted_string() {
    for s in [&b""[..], b" ", b"   ", b"\t", b" \t ", b"\r\n", b"\r\n \t"] {
        assert_eq!(human(s), b"\"\"", "{s:?}");
    }
}

#[test]
fn human_strings_cleaned_are_literals_of_the_cleaned_text() {
    let cases: [(&[u8], &[u8]); 10] = [
        (b" lead", b"lead"),
        (b"trail ", b"trail"),
        (b"\ttab", b"tab"),
        (b"a\tb", b"a b"),
        (b"two  blanks", b"two blanks"),
        (b" a \t b \t ", b"a b"),
        (b"folded\r\n line", b"folded line"),
        (b"joined\r\nline", b"joinedline"),
        (b"nul\0here", b"nul\x80here"),
        (b"a \r\n b", b"a b"),
    ];
    for (raw, clean) in cases {
        assert_eq!(
            human(raw),
            [format!("{{{}}}\r\n", clean.len()).as_bytes(), clean].concat(),
            "{raw:?}"
        );
    }
}

#[test]
fn human_strings_with_quote_specials_or_8bit_are_literals() {
    // Even one `"` or `\` makes a literal here, unlike message strings.
    for s in [
        &b"say \"hi\""[..],
        b"back\\slash",
        "Grüße".as_bytes(),
        b"\xe9t\xe9",
    ] {
        assert_eq!(
            human(s),
            [format!("{{{}}}\r\n", s.len()).as_bytes(), s].concat(),
            "{s:?}"
        );
    }
}

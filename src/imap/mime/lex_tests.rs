//! Unit tests of the header-value lexer.

use super::*;

#[test]
fn phrase_joins_words_with_one_space() {
    let mut lx = Lexer::new(b"  John   \"Q.  Public\" <x>");
    lx.skip_lwsp();
    let mut out = Vec::new();
    assert_eq!(lx.phrase(&mut out), Step::More);
    assert_eq!(out, b"John Q.  Public");
    assert!(lx.at(b'<'));
}

#[test]
fn comments_nest_and_are_kept_when_asked() {
    let mut lx = Lexer::new(b"(a (b) \\) c) x");
    lx.last_comment = Some(Vec::new());
    assert_eq!(lx.skip_lwsp(), Step::More);
    assert_eq!(lx.last_comment.as_deref(), Some(&b"a (b) ) c"[..]));
    assert!(lx.at(b'x'));
}

#[test]
fn unterminated_constructs_fail_without_panicking() {
    for input in [&b"\"abc"[..], b"(abc", b"\"\\", b"[1.2.3", b"(\\"] {
        let mut lx = Lexer::new(input);
        let mut out = Vec::new();
        let step = if input[0] == b'"' {
            lx.quoted_string(&mut out)
        } else if input[0] == b'[' {
            lx.domain_literal(&mut out)
        } else {
            lx.skip_lwsp()
        };
        assert_eq!(step, Step::Fail, "{input:?}");
    }
}

#[test]
fn content_params_take_quoted_and_broken_values() {
    let mut lx = Lexer::new(b"; a=\"x y\"; b==?utf-8?q?z?=; c");
    assert_eq!(
        lx.content_param(),
        ParamStep::Param(b"a".to_vec(), b"x y".to_vec())
    );
    assert_eq!(
        lx.content_param(),
        ParamStep::Param(b"b".to_vec(), b"=?utf-8?q?z?=".to_vec())
    );
    assert_eq!(lx.content_param(), ParamStep::Bad);
}

#[test]
fn broken_content_types_are_emptied_unless_the_type_ends_the_value() {
    // What Dovecot 2.3.19 answers (fixture content-type-quirks.eml).
    let cases: [(&[u8], &[u8], Step); 10] = [
        (b"text/plain", b"text/plain", Step::End),
        (b"text /plain", b"text/plain", Step::End),
        (b"text/plain(comment)", b"text/plain", Step::End),
        (b"text/plain; a=b", b"text/plain", Step::More),
        (b"text", b"text", Step::Fail),
        (b"text/", b"", Step::Fail),
        (b"/plain", b"", Step::Fail),
        (b"text ; charset=x", b"", Step::Fail),
        (b"image/png junk", b"", Step::Fail),
        (b"appli\0cation/pdf", b"", Step::Fail),
    ];
    for (input, want, step) in cases {
        let mut lx = Lexer::new(input);
        let mut out = Vec::new();
        assert_eq!(lx.content_type(&mut out), step, "{input:?}");
        assert_eq!(out, want, "{input:?}");
    }
}

//! Reply serialisation, named replies and the EHLO reply.

use crate::protocol::smtp::{Capabilities, Ehlo, EnhancedStatus, MAX_REPLY_LINE, Reply};

fn wire(reply: &Reply) -> String {
    String::from_utf8(reply.to_bytes()).expect("replies are UTF-8")
}

#[test]
fn single_line_with_status() {
    assert_eq!(wire(&Reply::ok()), "250 2.0.0 Ok\r\n");
    assert_eq!(wire(&Reply::rcpt_ok()), "250 2.1.5 Ok\r\n");
    assert_eq!(Reply::ok().to_string(), "250 2.0.0 Ok\r\n");
}

#[test]
fn multi_line_repeats_status_on_every_line() {
    let reply = Reply::multiline(
        550,
        Some(EnhancedStatus::new(5, 1, 1)),
        vec!["first".into(), "second".into(), "third".into()],
    );
    assert_eq!(
        wire(&reply),
        "550-5.1.1 first\r\n550-5.1.1 second\r\n550 5.1.1 third\r\n"
    );
}

#[test]
fn no_status_and_empty_text() {
    assert_eq!(wire(&Reply::new(250, None, "")), "250\r\n");
    assert_eq!(
        wire(&Reply::new(250, Some(EnhancedStatus::new(2, 0, 0)), "")),
        "250 2.0.0\r\n"
    );
    assert_eq!(wire(&Reply::multiline(250, None, vec![])), "250\r\n");
    assert_eq!(
        wire(&Reply::multiline(
            250,
            None,
            vec![String::new(), "x".into()]
        )),
        "250-\r\n250 x\r\n"
    );
}

#[test]
fn data_start_and_greeting_forms() {
    assert_eq!(
        wire(&Reply::data_start()),
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    assert_eq!(
        wire(&Reply::greeting("mx.example")),
        "220 mx.example ESMTP Postel\r\n"
    );
    assert_eq!(
        wire(&Reply::tls_required()),
        "530 5.7.0 Must issue a STARTTLS command first\r\n"
    );
}

#[test]
fn control_characters_cannot_inject_lines() {
    let reply = Reply::new(550, Some(EnhancedStatus::new(5, 1, 1)), "<a\r\n250 ok\0>");
    assert_eq!(wire(&reply), "550 5.1.1 <a??250 ok?>\r\n");
    let ehlo = Ehlo::new("mx.example")
        .greet("evil\r\n250-AUTH PLAIN")
        .reply();
    assert_eq!(wire(&ehlo), "250 mx.example Hello evil??250-AUTH PLAIN\r\n");
}

#[test]
fn long_text_is_wrapped_under_512_octets() {
    let words: Vec<String> = (0..200).map(|i| format!("word{i}")).collect();
    let reply = Reply::new(550, Some(EnhancedStatus::new(5, 7, 1)), words.join(" "));
    let text = wire(&reply);
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert!(lines.len() > 1);
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.len() + 2 <= MAX_REPLY_LINE,
            "line {i} is {} octets",
            line.len()
        );
        let sep = if i + 1 == lines.len() { ' ' } else { '-' };
        assert!(line.starts_with(&format!("550{sep}5.7.1 ")), "{line}");
    }
    let rejoined: Vec<&str> = lines.iter().map(|l| &l[10..]).collect();
    assert_eq!(rejoined.join(" "), words.join(" "));
}

#[test]
fn unbreakable_utf8_text_splits_on_char_boundaries() {
    let reply = Reply::new(250, None, "é".repeat(600));
    let bytes = reply.to_bytes();
    let text = String::from_utf8(bytes).expect("split inside a character");
    for line in text.split_terminator("\r\n") {
        assert!(line.len() + 2 <= MAX_REPLY_LINE);
    }
    let exact = Reply::new(250, None, "x".repeat(MAX_REPLY_LINE - 6));
    assert_eq!(
        exact.to_bytes().len(),
        MAX_REPLY_LINE,
        "a full line stays one line"
    );
    let over = Reply::new(250, None, "x".repeat(MAX_REPLY_LINE - 5));
    assert_eq!(wire(&over).matches("\r\n").count(), 2);
}

#[test]
fn enhanced_status_parse_and_display() {
    for s in ["2.0.0", "5.1.1", "4.7.11", "5.999.999"] {
        let status = EnhancedStatus::parse(s).expect(s);
        assert_eq!(status.to_string(), s);
    }
    for s in [
        "", "3.0.0", "2.0", "2.0.0.0", "2.01.0", "2.1000.0", "x.1.1", "2..1",
    ] {
        assert_eq!(EnhancedStatus::parse(s), None, "{s}");
    }
}

/// Every named reply, with whether it must carry an enhanced code.
fn named_replies() -> Vec<(&'static str, Reply, bool)> {
    vec![
        ("greeting", Reply::greeting("h"), false),
        ("helo", Reply::helo("h"), false),
        ("data_start", Reply::data_start(), false),
        ("auth_challenge", Reply::auth_challenge("AA=="), false),
        ("ok", Reply::ok(), true),
        ("mail_ok", Reply::mail_ok(), true),
        ("rcpt_ok", Reply::rcpt_ok(), true),
        ("queued", Reply::queued("ABC"), true),
        ("bdat_chunk", Reply::bdat_chunk(10), true),
        ("quit", Reply::quit(), true),
        ("help", Reply::help(), true),
        ("vrfy", Reply::vrfy(), true),
        ("expn_disabled", Reply::expn_disabled(), true),
        ("start_tls", Reply::start_tls(), true),
        ("tls_unavailable", Reply::tls_unavailable(), true),
        ("tls_already_active", Reply::tls_already_active(), true),
        ("tls_required", Reply::tls_required(), true),
        ("syntax", Reply::syntax(), true),
        ("line_too_long", Reply::line_too_long(), true),
        ("param_syntax", Reply::param_syntax(), true),
        ("usage", Reply::usage("X"), true),
        ("bad_sender_syntax", Reply::bad_sender_syntax(), true),
        ("bad_recipient_syntax", Reply::bad_recipient_syntax(), true),
        ("not_implemented", Reply::not_implemented(), true),
        (
            "param_not_implemented",
            Reply::param_not_implemented(),
            true,
        ),
        ("unsupported_param", Reply::unsupported_param("X"), true),
        ("bad_sequence", Reply::bad_sequence(), true),
        ("need_helo", Reply::need_helo(), true),
        ("need_ehlo", Reply::need_ehlo(), true),
        ("nested_mail", Reply::nested_mail(), true),
        ("need_mail", Reply::need_mail(), true),
        ("need_rcpt", Reply::need_rcpt(), true),
        ("no_valid_recipients", Reply::no_valid_recipients(), true),
        ("data_bdat_mixed", Reply::data_bdat_mixed(), true),
        (
            "transaction_in_progress",
            Reply::transaction_in_progress(),
            true,
        ),
        ("too_many_recipients", Reply::too_many_recipients(), true),
        ("message_too_big", Reply::message_too_big(), true),
        ("bare_newline", Reply::bare_newline(), true),
        ("data_line_too_long", Reply::data_line_too_long(), true),
        ("smtputf8_required", Reply::smtputf8_required(), true),
        ("user_unknown", Reply::user_unknown(), true),
        ("relay_denied", Reply::relay_denied(), true),
        ("greylisted", Reply::greylisted(), true),
        ("local_error", Reply::local_error(), true),
        ("auth_ok", Reply::auth_ok(), true),
        ("auth_failed", Reply::auth_failed(), true),
        ("auth_cancelled", Reply::auth_cancelled(), true),
        (
            "auth_mechanism_unsupported",
            Reply::auth_mechanism_unsupported(),
            true,
        ),
        ("auth_not_enabled", Reply::auth_not_enabled(), true),
        (
            "already_authenticated",
            Reply::already_authenticated(),
            true,
        ),
        ("auth_required", Reply::auth_required(), true),
        ("encryption_required", Reply::encryption_required(), true),
        ("too_many_errors", Reply::too_many_errors("h"), true),
        ("timeout", Reply::timeout("h"), true),
        ("shutdown", Reply::shutdown("h"), true),
        ("bdat_desync", Reply::bdat_desync(), true),
    ]
}

#[test]
fn every_named_reply_has_a_matching_enhanced_code() {
    for (name, reply, needs_status) in named_replies() {
        assert!((200..600).contains(&reply.code), "{name}");
        match reply.status {
            Some(status) => {
                assert!(needs_status, "{name} should have no enhanced code");
                assert_eq!(u16::from(status.class), reply.code / 100, "{name}");
                assert_eq!(
                    EnhancedStatus::parse(&status.to_string()),
                    Some(status),
                    "{name}"
                );
            }
            None => assert!(!needs_status, "{name} lacks an enhanced code"),
        }
        let text = wire(&reply);
        assert!(text.starts_with(&reply.code.to_string()), "{name}");
        assert!(
            text.ends_with("\r\n") && text.matches("\r\n").count() == 1,
            "{name}"
        );
    }
}

#[test]
fn specific_codes_the_session_relies_on() {
    let expect = [
        (Reply::bad_sequence(), 503, "5.5.1"),
        (Reply::syntax(), 500, "5.5.2"),
        (Reply::param_syntax(), 501, "5.5.4"),
        (Reply::not_implemented(), 502, "5.5.1"),
        (Reply::param_not_implemented(), 504, "5.5.4"),
        (Reply::too_many_recipients(), 452, "4.5.3"),
        (Reply::message_too_big(), 552, "5.3.4"),
        (Reply::line_too_long(), 500, "5.5.2"),
        (Reply::bare_newline(), 550, "5.5.2"),
        (Reply::too_many_errors("h"), 421, "4.7.0"),
        (Reply::timeout("h"), 421, "4.4.2"),
        (Reply::shutdown("h"), 421, "4.3.2"),
        (Reply::vrfy(), 252, "2.0.0"),
        (Reply::help(), 214, "2.0.0"),
        (Reply::start_tls(), 220, "2.0.0"),
        (Reply::tls_required(), 530, "5.7.0"),
        (Reply::quit(), 221, "2.0.0"),
    ];
    for (reply, code, status) in expect {
        assert_eq!(reply.code, code);
        assert_eq!(reply.status.map(|s| s.to_string()).as_deref(), Some(status));
    }
    assert!(Reply::too_many_errors("h").closes_connection());
    assert!(Reply::quit().closes_connection());
    assert!(Reply::bdat_desync().closes_connection());
    assert!(!Reply::bad_sequence().closes_connection());
}

#[test]
fn ehlo_reply_lists_capabilities_without_status_codes() {
    let caps = Capabilities {
        pipelining: true,
        size: Some(10_240_000),
        starttls: true,
        auth: vec!["PLAIN".into(), "LOGIN".into()],
        enhanced_status_codes: true,
        eight_bit_mime: true,
        binary_mime: false,
        smtputf8: true,
        chunking: true,
    };
    let reply = Ehlo::new("mx.example")
        .greet("client.example")
        .capabilities(caps)
        .reply();
    assert_eq!(
        wire(&reply),
        "250-mx.example Hello client.example\r\n\
         250-PIPELINING\r\n\
         250-SIZE 10240000\r\n\
         250-STARTTLS\r\n\
         250-AUTH PLAIN LOGIN\r\n\
         250-ENHANCEDSTATUSCODES\r\n\
         250-8BITMIME\r\n\
         250-SMTPUTF8\r\n\
         250 CHUNKING\r\n"
    );
    assert_eq!(wire(&Ehlo::new("mx.example").reply()), "250 mx.example\r\n");
}

#[test]
fn ehlo_binarymime_only_with_chunking() {
    let mut caps = Capabilities {
        binary_mime: true,
        ..Capabilities::default()
    };
    assert!(caps.keywords().is_empty());
    caps.chunking = true;
    assert_eq!(caps.keywords(), ["BINARYMIME", "CHUNKING"]);
    assert!(!caps.offers_auth("plain"));
    caps.auth = vec!["PLAIN".into()];
    assert!(caps.offers_auth("plain"));
}

//! The sequencer and the error counter.

use crate::protocol::smtp::{
    Body, Capabilities, Command, ErrorCounter, ErrorVerdict, Phase, Reply, Sequencer,
};

fn caps() -> Capabilities {
    Capabilities {
        pipelining: true,
        size: Some(1000),
        starttls: true,
        auth: vec!["PLAIN".into()],
        enhanced_status_codes: true,
        eight_bit_mime: true,
        binary_mime: true,
        smtputf8: true,
        chunking: true,
    }
}

fn cmd(line: &str) -> Command {
    Command::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

fn check(seq: &Sequencer, line: &str) -> Result<(), Reply> {
    seq.check(&cmd(line), &caps())
}

fn greeted() -> Sequencer {
    let mut seq = Sequencer::new(3, false);
    seq.on_greeting(true);
    seq
}

fn with_recipient() -> Sequencer {
    let mut seq = greeted();
    seq.on_mail(Body::SevenBit, false);
    seq.on_rcpt(true);
    seq
}

#[test]
fn mail_needs_helo_and_no_transaction() {
    let mut seq = Sequencer::new(3, false);
    assert_eq!(check(&seq, "MAIL FROM:<a@b.c>"), Err(Reply::need_helo()));
    for line in [
        "NOOP", "RSET", "HELP", "VRFY x", "EXPN x", "QUIT", "EHLO x", "HELO x",
    ] {
        assert_eq!(check(&seq, line), Ok(()), "{line}");
    }
    seq.on_greeting(false);
    assert_eq!(seq.phase(), Phase::Greeted { extended: false });
    assert_eq!(check(&seq, "MAIL FROM:<a@b.c>"), Ok(()));
    seq.on_mail(Body::SevenBit, false);
    assert_eq!(check(&seq, "MAIL FROM:<a@b.c>"), Err(Reply::nested_mail()));
    seq.on_rset();
    assert_eq!(seq.phase(), Phase::Greeted { extended: false });
}

#[test]
fn rcpt_and_data_ordering() {
    let mut seq = greeted();
    assert_eq!(check(&seq, "RCPT TO:<a@b.c>"), Err(Reply::need_mail()));
    assert_eq!(check(&seq, "DATA"), Err(Reply::need_mail()));
    seq.on_mail(Body::SevenBit, false);
    assert_eq!(check(&seq, "DATA"), Err(Reply::need_rcpt()));
    seq.on_rcpt(false);
    assert_eq!(check(&seq, "DATA"), Err(Reply::no_valid_recipients()));
    assert_eq!(check(&seq, "BDAT 1"), Err(Reply::no_valid_recipients()));
    seq.on_rcpt(true);
    assert_eq!(check(&seq, "DATA"), Ok(()));
    seq.on_data_start();
    assert_eq!(seq.phase(), Phase::Data);
    seq.end_transaction();
    assert_eq!(seq.phase(), Phase::Greeted { extended: true });
}

#[test]
fn recipient_limit() {
    let mut seq = with_recipient();
    seq.on_rcpt(true);
    assert_eq!(check(&seq, "RCPT TO:<x@b.c>"), Ok(()));
    seq.on_rcpt(true);
    assert_eq!(
        check(&seq, "RCPT TO:<x@b.c>"),
        Err(Reply::too_many_recipients())
    );
    seq.on_rcpt(false);
    assert_eq!(
        check(&seq, "RCPT TO:<x@b.c>"),
        Err(Reply::too_many_recipients())
    );
}

#[test]
fn bdat_rules() {
    let mut seq = with_recipient();
    assert_eq!(check(&seq, "BDAT 10"), Ok(()));
    seq.on_bdat_chunk(false);
    assert!(matches!(seq.phase(), Phase::Bdat(_)));
    assert_eq!(check(&seq, "BDAT 10 LAST"), Ok(()));
    assert_eq!(check(&seq, "DATA"), Err(Reply::data_bdat_mixed()));
    assert_eq!(check(&seq, "RCPT TO:<x@b.c>"), Err(Reply::bad_sequence()));
    assert_eq!(check(&seq, "MAIL FROM:<x@b.c>"), Err(Reply::nested_mail()));
    seq.on_bdat_chunk(true);
    assert_eq!(seq.phase(), Phase::Greeted { extended: true });
    assert_eq!(check(&seq, "BDAT 10"), Err(Reply::need_mail()));
    let no_chunking = Capabilities {
        chunking: false,
        ..caps()
    };
    assert_eq!(
        seq.check(&cmd("BDAT 1"), &no_chunking),
        Err(Reply::not_implemented())
    );
}

#[test]
fn binarymime_requires_bdat() {
    let mut seq = greeted();
    seq.on_mail(Body::BinaryMime, false);
    seq.on_rcpt(true);
    assert_eq!(check(&seq, "DATA"), Err(Reply::data_bdat_mixed()));
    assert_eq!(check(&seq, "BDAT 5 LAST"), Ok(()));
}

#[test]
fn smtputf8_recipient_needs_smtputf8_mail() {
    let seq = with_recipient();
    assert_eq!(
        check(&seq, "RCPT TO:<jörg@b.c>"),
        Err(Reply::smtputf8_required())
    );
    let mut seq = greeted();
    seq.on_mail(Body::SevenBit, true);
    assert_eq!(check(&seq, "RCPT TO:<jörg@b.c>"), Ok(()));
    assert_eq!(
        check(&seq, "RCPT TO:<a@b.c> NOTIFY=NEVER"),
        Err(Reply::unsupported_param("NOTIFY"))
    );
}

#[test]
fn mail_parameters_are_checked_against_capabilities() {
    let seq = greeted();
    assert_eq!(
        check(&seq, "MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME"),
        Ok(())
    );
    assert_eq!(
        check(&seq, "MAIL FROM:<a@b.c> SIZE=1001"),
        Err(Reply::message_too_big())
    );
    assert_eq!(
        check(&seq, "MAIL FROM:<jörg@b.c>"),
        Err(Reply::smtputf8_required())
    );
    assert_eq!(check(&seq, "MAIL FROM:<jörg@b.c> SMTPUTF8"), Ok(()));
    assert_eq!(
        check(&seq, "MAIL FROM:<a@b.c> RET=FULL"),
        Err(Reply::unsupported_param("RET"))
    );
    let plain = Capabilities::default();
    let refused = [
        ("MAIL FROM:<a@b.c> SIZE=1", "SIZE"),
        ("MAIL FROM:<a@b.c> BODY=8BITMIME", "BODY"),
        ("MAIL FROM:<a@b.c> BODY=BINARYMIME", "BODY"),
        ("MAIL FROM:<a@b.c> SMTPUTF8", "SMTPUTF8"),
        ("MAIL FROM:<a@b.c> AUTH=<>", "AUTH"),
    ];
    for (line, keyword) in refused {
        assert_eq!(
            seq.check(&cmd(line), &plain),
            Err(Reply::unsupported_param(keyword)),
            "{line}"
        );
    }
    let unlimited = Capabilities {
        size: Some(0),
        ..caps()
    };
    assert_eq!(
        seq.check(&cmd("MAIL FROM:<a@b.c> SIZE=99999999"), &unlimited),
        Ok(())
    );
}

#[test]
fn starttls_rules_and_reset() {
    let mut seq = Sequencer::new(3, false);
    assert_eq!(check(&seq, "STARTTLS"), Err(Reply::need_helo()));
    seq.on_greeting(true);
    assert_eq!(check(&seq, "STARTTLS"), Ok(()));
    let no_tls = Capabilities {
        starttls: false,
        ..caps()
    };
    assert_eq!(
        seq.check(&Command::StartTls, &no_tls),
        Err(Reply::not_implemented())
    );
    seq.on_mail(Body::SevenBit, false);
    assert_eq!(
        check(&seq, "STARTTLS"),
        Err(Reply::transaction_in_progress())
    );
    seq.on_authenticated();
    seq.on_tls();
    assert_eq!(seq.phase(), Phase::Fresh);
    assert!(seq.is_tls() && !seq.is_authenticated());
    assert_eq!(check(&seq, "MAIL FROM:<a@b.c>"), Err(Reply::need_helo()));
    seq.on_greeting(true);
    assert_eq!(check(&seq, "STARTTLS"), Err(Reply::tls_already_active()));
    assert!(Sequencer::new(1, true).is_tls());
}

#[test]
fn auth_rules() {
    let mut seq = Sequencer::new(3, false);
    assert_eq!(check(&seq, "AUTH PLAIN"), Err(Reply::need_helo()));
    seq.on_greeting(false);
    assert_eq!(check(&seq, "AUTH PLAIN"), Err(Reply::need_ehlo()));
    seq.on_greeting(true);
    assert_eq!(check(&seq, "AUTH PLAIN"), Ok(()));
    let no_auth = Capabilities {
        auth: vec![],
        ..caps()
    };
    assert_eq!(
        seq.check(&cmd("AUTH PLAIN"), &no_auth),
        Err(Reply::auth_not_enabled())
    );
    seq.on_mail(Body::SevenBit, false);
    assert_eq!(
        check(&seq, "AUTH PLAIN"),
        Err(Reply::transaction_in_progress())
    );
    seq.on_rset();
    seq.on_authenticated();
    assert_eq!(
        check(&seq, "AUTH PLAIN"),
        Err(Reply::already_authenticated())
    );
}

#[test]
fn rset_before_greeting_stays_fresh() {
    let mut seq = Sequencer::new(3, false);
    seq.on_rset();
    assert_eq!(seq.phase(), Phase::Fresh);
}

#[test]
fn error_counter_limits() {
    let mut counter = ErrorCounter::default();
    for i in 1..=10 {
        assert_eq!(counter.record(), ErrorVerdict::Continue, "error {i}");
    }
    for i in 11..=19 {
        assert_eq!(counter.record(), ErrorVerdict::Delay, "error {i}");
    }
    assert_eq!(counter.record(), ErrorVerdict::Disconnect);
    assert_eq!(counter.count(), 20);
    counter.reset();
    assert_eq!(counter.observe(&Reply::ok()), ErrorVerdict::Continue);
    assert_eq!(
        counter.observe(&Reply::data_start()),
        ErrorVerdict::Continue
    );
    assert_eq!(counter.count(), 0);
    assert_eq!(counter.observe(&Reply::need_mail()), ErrorVerdict::Continue);
    assert_eq!(
        counter.observe(&Reply::greylisted()),
        ErrorVerdict::Continue
    );
    assert_eq!(counter.count(), 2);
    let mut strict = ErrorCounter::new(0, 2);
    assert_eq!(strict.record(), ErrorVerdict::Delay);
    assert_eq!(strict.record(), ErrorVerdict::Disconnect);
}

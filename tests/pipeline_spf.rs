//! SPF through the pipeline (RFC 7208), against an in-process DNS server.

mod common;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use common::dns::{TestDns, resolver_at, txt};
use mail_auth::SpfResult;
use postel::pipeline::{AuthConfig, FailAction, Pipeline, ReverseDns, Verdict};
use support::*;

fn auth(spf_fail: FailAction) -> AuthConfig {
    AuthConfig {
        spf_fail,
        reverse_dns: ReverseDns::Off,
        ..AuthConfig::default()
    }
}

async fn zone() -> TestDns {
    TestDns::start([
        txt("example.com", "v=spf1 ip4:127.0.0.2 -all"),
        txt("soft.example", "v=spf1 ip4:127.0.0.2 ~all"),
        txt("helo.example", "v=spf1 ip4:127.0.0.2 -all"),
        txt("example.com", "some-other=verification-token"),
    ])
    .await
}

#[tokio::test]
async fn pass_for_an_authorised_address() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(FailAction::Mark), no_greylist());
    let mut ctx = session("127.0.0.2", "client.example");
    let msg = message("alice@example.com", "bob@mx.test", "spf-pass");
    let (at_mail, out) =
        transaction(&p, &mut ctx, "alice@example.com", &["bob@mx.test"], &msg).await;
    assert_eq!(at_mail, Verdict::Accept);
    let out = out.expect("data ran");
    assert_eq!(out.verdict, Verdict::Accept);
    assert!(
        auth_results(&out).contains("; spf=pass smtp.mailfrom=alice@example.com;"),
        "{}",
        auth_results(&out)
    );
}

#[tokio::test]
async fn fail_is_marked_by_default() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(FailAction::Mark), no_greylist());
    let mut ctx = session("127.0.0.3", "client.example");
    let msg = message("alice@example.com", "bob@mx.test", "spf-fail");
    let (at_mail, out) =
        transaction(&p, &mut ctx, "alice@example.com", &["bob@mx.test"], &msg).await;
    assert_eq!(at_mail, Verdict::Accept, "fail is judged at end of DATA");
    let out = out.expect("data ran");
    assert_eq!(out.verdict, Verdict::Accept);
    assert!(auth_results(&out).contains("spf=fail smtp.mailfrom=alice@example.com"));
}

#[tokio::test]
async fn fail_rejects_or_junks_as_configured() {
    let dns = zone().await;
    let db = common::sqlite().await;
    for (action, expect) in [(FailAction::Reject, 550), (FailAction::Junk, 0)] {
        let p = pipeline(&dns, &db.db, auth(action), no_greylist());
        let mut ctx = session("127.0.0.3", "client.example");
        let msg = message("alice@example.com", "bob@mx.test", "spf-fail");
        let (_, out) = transaction(&p, &mut ctx, "alice@example.com", &["bob@mx.test"], &msg).await;
        let verdict = out.expect("data ran").verdict;
        if expect == 550 {
            assert!(matches!(verdict, Verdict::Reject(_)), "{verdict:?}");
            assert!(reply(&verdict).starts_with("550 5.7.23 SPF validation failed: example.com"));
        } else {
            assert_eq!(verdict, Verdict::Junk);
        }
    }
}

#[tokio::test]
async fn softfail_and_none_never_refuse() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(FailAction::Reject), no_greylist());
    for (sender, word) in [("a@soft.example", "softfail"), ("a@nospf.example", "none")] {
        let mut ctx = session("127.0.0.3", "client.example");
        let msg = message(sender, "bob@mx.test", word);
        let (at_mail, out) = transaction(&p, &mut ctx, sender, &["bob@mx.test"], &msg).await;
        assert_eq!(at_mail, Verdict::Accept);
        let out = out.expect("data ran");
        assert_eq!(out.verdict, Verdict::Accept, "{word}");
        assert!(auth_results(&out).contains(&format!("spf={word} smtp.mailfrom={sender}")));
    }
}

#[tokio::test]
async fn null_sender_checks_helo() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(FailAction::Reject), no_greylist());
    let mut ctx = session("127.0.0.2", "helo.example");
    assert_eq!(p.on_mail(&mut ctx, "").await, Verdict::Accept);
    let spf = ctx.spf().expect("spf ran");
    assert_eq!(spf.result(), SpfResult::Pass);
    assert_eq!(spf.authenticated_domain().as_deref(), Some("helo.example"));
    let msg = message("mailer-daemon@helo.example", "bob@mx.test", "bounce");
    let out = p
        .on_data(&ctx, "ID", &["bob@mx.test".to_string()], &msg)
        .await;
    assert!(auth_results(&out).contains("spf=pass smtp.helo=helo.example"));

    let mut ctx = session("127.0.0.3", "helo.example");
    let msg = message("mailer-daemon@helo.example", "bob@mx.test", "bounce");
    let (_, out) = transaction(&p, &mut ctx, "", &["bob@mx.test"], &msg).await;
    let out = out.expect("data ran");
    assert!(auth_results(&out).contains("spf=fail smtp.helo=helo.example"));
    assert!(reply(&out.verdict).starts_with("550 5.7.23"));
}

fn assert_spf_tempfail(v: &Verdict) {
    assert!(matches!(v, Verdict::TempFail(_)), "{v:?}");
    assert!(reply(v).starts_with("451 4.7.24 "), "{}", reply(v));
}

#[tokio::test]
async fn servfail_is_a_temporary_failure() {
    let dns = zone().await;
    dns.servfail("example.com");
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(FailAction::Mark), no_greylist());
    let mut ctx = session("127.0.0.2", "client.example");
    let v = p.on_mail(&mut ctx, "alice@example.com").await;
    assert_spf_tempfail(&v);
    assert_eq!(ctx.spf().map(|s| s.result()), Some(SpfResult::TempError));
}

#[tokio::test]
async fn dead_server_is_a_temporary_failure() {
    let dns = zone().await;
    let addr = dns.addr();
    dns.stop().await;
    let db = common::sqlite().await;
    let settings = settings(auth(FailAction::Mark), no_greylist());
    let p = Pipeline::new(settings, db.db.clone(), resolver_at(addr));
    let mut ctx = session("127.0.0.2", "client.example");
    let v = p.on_mail(&mut ctx, "alice@example.com").await;
    assert_spf_tempfail(&v);
    // A session that skips on_mail's answer still never passes silently.
    let msg = message("alice@example.com", "bob@mx.test", "dead");
    let out = p
        .on_data(&ctx, "ID", &["bob@mx.test".to_string()], &msg)
        .await;
    assert!(
        matches!(out.verdict, Verdict::TempFail(_)),
        "{:?}",
        out.verdict
    );
    assert!(auth_results(&out).contains("spf=temperror"));
}

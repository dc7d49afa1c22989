//! The headers the pipeline adds: Authentication-Results (RFC 8601) and
//! Received (RFC 5321 §4.4), and removal of forged Authentication-Results.

mod common;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use common::dns::{TestDns, a, ptr, txt};
use postel::pipeline::{AuthConfig, FailAction, ReverseDns, TlsInfo, Verdict};
use support::*;

async fn zone() -> TestDns {
    TestDns::start([
        txt("example.com", "v=spf1 ip4:127.0.0.2 -all"),
        ptr("127.0.0.2", "mail.example.com"),
        a("mail.example.com", "127.0.0.2"),
        // 127.0.0.5 claims a name that does not resolve back to it.
        ptr("127.0.0.5", "liar.example.com"),
        a("liar.example.com", "127.0.0.9"),
    ])
    .await
}

fn auth(reverse_dns: ReverseDns) -> AuthConfig {
    AuthConfig {
        spf_fail: FailAction::Mark,
        reverse_dns,
        ..AuthConfig::default()
    }
}

#[tokio::test]
async fn one_authentication_results_header_with_every_method() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(ReverseDns::Check), no_greylist());
    let mut ctx = session("127.0.0.2", "mail.example.com");
    assert_eq!(p.check_client(&mut ctx).await, Verdict::Accept);
    let msg = message("alice@example.com", "bob@mx.test", "ar");
    let (_, out) = transaction(&p, &mut ctx, "alice@example.com", &["bob@mx.test"], &msg).await;
    let out = out.expect("data ran");
    assert!(
        out.headers_to_prepend.starts_with(
            "Authentication-Results: mx.test;\r\n\
         \tspf=pass smtp.mailfrom=alice@example.com;\r\n\
         \tdkim=none;\r\n\
         \tdmarc=none header.from=example.com;\r\n\
         \tarc=none;\r\n\
         \tiprev=pass policy.iprev=127.0.0.2 (mail.example.com)\r\n\
         Received: "
        ),
        "{}",
        out.headers_to_prepend
    );
    assert_eq!(
        out.headers_to_prepend
            .matches("Authentication-Results:")
            .count(),
        1
    );
}

#[tokio::test]
async fn forged_results_for_our_name_are_stripped_others_kept() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(ReverseDns::Off), no_greylist());
    let mut ctx = session("127.0.0.3", "client.example");
    let mut msg = b"Authentication-Results: MX.TEST; dkim=pass header.d=bank.example\r\n\
Authentication-Results: upstream.example; spf=pass smtp.mailfrom=x@example.com\r\n\
Authentication-Results: (forged) mx.test;\r\n\tdmarc=pass header.from=bank.example\r\n"
        .to_vec();
    msg.extend_from_slice(&message("alice@example.com", "bob@mx.test", "forged"));
    let (_, out) = transaction(&p, &mut ctx, "alice@example.com", &["bob@mx.test"], &msg).await;
    let out = out.expect("data ran");
    assert_eq!(out.strip.len(), 2);
    let stored = String::from_utf8(out.assemble(&msg)).expect("utf-8");
    let ours: Vec<&str> = stored
        .lines()
        .filter(|l| {
            l.to_ascii_lowercase()
                .starts_with("authentication-results: mx.test")
        })
        .collect();
    assert_eq!(ours, vec!["Authentication-Results: mx.test;"], "{stored}");
    assert!(stored.contains("Authentication-Results: upstream.example; spf=pass"));
    assert!(!stored.contains("bank.example"));
    assert!(stored.contains("spf=fail smtp.mailfrom=alice@example.com"));
    assert!(stored.ends_with("\r\n\r\nHello, bob@mx.test.\r\n"));
}

fn received(outcome: &postel::pipeline::DataOutcome) -> &str {
    let h = &outcome.headers_to_prepend;
    &h[h.find("Received: ").expect("Received present")..]
}

#[tokio::test]
async fn received_plain_one_recipient_with_confirmed_name() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(ReverseDns::Check), no_greylist());
    let mut ctx = session("127.0.0.2", "mail.example.com");
    p.check_client(&mut ctx).await;
    let msg = message("alice@example.com", "bob@mx.test", "rcvd");
    let (_, out) = transaction(&p, &mut ctx, "alice@example.com", &["bob@mx.test"], &msg).await;
    let out = out.expect("data ran");
    let r = received(&out);
    assert!(
        r.starts_with(
            "Received: from mail.example.com (mail.example.com [127.0.0.2])\r\n\
             \tby mx.test (Postel) with ESMTP id TESTID\r\n\
             \tfor <bob@mx.test>;\r\n\t"
        ),
        "{r}"
    );
    assert!(r.ends_with(" +0000\r\n"), "{r}");
    let date = &r[r.rfind("\r\n\t").map_or(0, |i| i + 3)..r.len() - 2];
    let parsed = mail_parser::DateTime::parse_rfc822(date).expect("RFC 5322 date");
    assert!(parsed.year >= 2025, "{date}");
}

#[tokio::test]
async fn received_with_tls_and_several_recipients() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(ReverseDns::Check), no_greylist());
    let mut ctx = session("127.0.0.5", "whatever");
    ctx.start_tls(TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS13_AES_256_GCM_SHA384".into(),
    });
    ctx.set_helo("liar.example.com", true);
    p.check_client(&mut ctx).await;
    let msg = message("alice@example.com", "bob@mx.test", "tls");
    let rcpts = ["bob@mx.test", "carol@mx.test"];
    let (_, out) = transaction(&p, &mut ctx, "alice@example.com", &rcpts, &msg).await;
    let out = out.expect("data ran");
    let r = received(&out);
    assert!(
        r.starts_with(
            "Received: from liar.example.com (unknown [127.0.0.5])\r\n\
             \tby mx.test (Postel) with ESMTPS id TESTID\r\n\
             \t(using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384);\r\n\t"
        ),
        "{r}"
    );
    assert!(!r.contains("for <"), "several recipients are not disclosed");
    assert!(auth_results(&out).contains("iprev=fail policy.iprev=127.0.0.5"));
}

#[tokio::test]
async fn authenticated_sessions_get_auth_pass_and_esmtpsa() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(ReverseDns::Off), no_greylist());
    let mut ctx = session("127.0.0.3", "laptop");
    ctx.start_tls(TlsInfo {
        version: "TLSv1.3".into(),
        cipher: "TLS13_AES_128_GCM_SHA256".into(),
    });
    ctx.set_helo("laptop", true);
    ctx.authenticated = Some("alice@mx.test".into());
    let msg = message("alice@example.com", "bob@example.net", "sub");
    let (at_mail, out) = transaction(
        &p,
        &mut ctx,
        "alice@example.com",
        &["bob@example.net"],
        &msg,
    )
    .await;
    assert_eq!(at_mail, Verdict::Accept);
    let out = out.expect("data ran");
    assert_eq!(out.verdict, Verdict::Accept);
    assert_eq!(
        auth_results(&out),
        "Authentication-Results: mx.test; auth=pass smtp.auth=alice@mx.test"
    );
    assert!(received(&out).contains("with ESMTPSA id TESTID"));
}

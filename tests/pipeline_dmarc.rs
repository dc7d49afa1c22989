//! DMARC policy through the pipeline (RFC 7489), SPF-aligned cases; the
//! DKIM-aligned ones are in `pipeline_dkim.rs`.

mod common;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use common::dns::{TestDns, txt};
use postel::pipeline::{AuthConfig, FailAction, ReverseDns, Verdict};
use support::*;

fn auth() -> AuthConfig {
    AuthConfig {
        spf_fail: FailAction::Reject,
        reverse_dns: ReverseDns::Off,
        ..AuthConfig::default()
    }
}

async fn zone() -> TestDns {
    TestDns::start([
        txt("strict.example", "v=spf1 ip4:127.0.0.2 -all"),
        txt("_dmarc.strict.example", "v=DMARC1; p=reject"),
        txt("quar.example", "v=spf1 ip4:127.0.0.2 -all"),
        txt("_dmarc.quar.example", "v=DMARC1; p=quarantine"),
        txt("lax.example", "v=spf1 ip4:127.0.0.2 -all"),
        txt("_dmarc.lax.example", "v=DMARC1; p=none"),
        txt("bounce.strict.example", "v=spf1 ip4:127.0.0.2 -all"),
        txt("broken.example", "v=spf1 ip4:127.0.0.2 -all"),
    ])
    .await
}

async fn run(dns: &TestDns, ip: &str, sender: &str, from: &str) -> postel::pipeline::DataOutcome {
    let db = common::sqlite().await;
    let p = pipeline(dns, &db.db, auth(), no_greylist());
    let mut ctx = session(ip, "client.example");
    let msg = message(from, "bob@mx.test", "dmarc");
    let (at_mail, out) = transaction(&p, &mut ctx, sender, &["bob@mx.test"], &msg).await;
    assert_eq!(at_mail, Verdict::Accept);
    out.expect("data ran")
}

#[tokio::test]
async fn reject_policy_with_failing_spf_and_no_dkim_rejects() {
    let dns = zone().await;
    let out = run(&dns, "127.0.0.3", "a@strict.example", "a@strict.example").await;
    assert!(
        matches!(out.verdict, Verdict::Reject(_)),
        "{:?}",
        out.verdict
    );
    let text = reply(&out.verdict);
    assert!(text.starts_with("550 5.7.1 "), "{text}");
    assert!(text.contains("DMARC"), "{text}");
    assert!(auth_results(&out).contains("dmarc=fail header.from=strict.example"));
}

#[tokio::test]
async fn quarantine_policy_goes_to_junk() {
    let dns = zone().await;
    let out = run(&dns, "127.0.0.3", "a@quar.example", "a@quar.example").await;
    assert_eq!(out.verdict, Verdict::Junk);
    assert!(auth_results(&out).contains("dmarc=fail header.from=quar.example"));
}

#[tokio::test]
async fn aligned_spf_pass_passes_dmarc() {
    let dns = zone().await;
    let out = run(&dns, "127.0.0.2", "a@strict.example", "a@strict.example").await;
    assert_eq!(out.verdict, Verdict::Accept);
    let ar = auth_results(&out);
    assert!(
        ar.contains("spf=pass smtp.mailfrom=a@strict.example"),
        "{ar}"
    );
    assert!(ar.contains("dmarc=pass header.from=strict.example"), "{ar}");
}

#[tokio::test]
async fn relaxed_alignment_accepts_a_subdomain_sender() {
    let dns = zone().await;
    let out = run(
        &dns,
        "127.0.0.2",
        "b@bounce.strict.example",
        "a@strict.example",
    )
    .await;
    assert_eq!(out.verdict, Verdict::Accept);
    assert!(auth_results(&out).contains("dmarc=pass header.from=strict.example"));
}

#[tokio::test]
async fn spf_pass_for_another_domain_does_not_align() {
    let dns = zone().await;
    let out = run(&dns, "127.0.0.2", "a@lax.example", "ceo@strict.example").await;
    assert!(
        matches!(out.verdict, Verdict::Reject(_)),
        "{:?}",
        out.verdict
    );
    assert!(auth_results(&out).contains("spf=pass"));
}

#[tokio::test]
async fn a_dmarc_record_overrides_the_spf_fail_action() {
    let dns = zone().await;
    // spf_fail = reject, but p=none published: DMARC decides, and says deliver.
    let out = run(&dns, "127.0.0.3", "a@lax.example", "a@lax.example").await;
    assert_eq!(out.verdict, Verdict::Accept);
    let ar = auth_results(&out);
    assert!(
        ar.contains("spf=fail") && ar.contains("dmarc=fail header.from=lax.example"),
        "{ar}"
    );
    // Without a DMARC record the SPF fail action applies.
    let out = run(&dns, "127.0.0.3", "a@broken.example", "a@broken.example").await;
    assert!(
        reply(&out.verdict).starts_with("550 5.7.23"),
        "{:?}",
        out.verdict
    );
    assert!(auth_results(&out).contains("dmarc=none header.from=broken.example"));
}

#[tokio::test]
async fn dmarc_lookup_failure_is_temporary() {
    let dns = zone().await;
    dns.servfail("_dmarc.strict.example");
    let out = run(&dns, "127.0.0.3", "a@strict.example", "a@strict.example").await;
    assert!(
        matches!(out.verdict, Verdict::TempFail(_)),
        "{:?}",
        out.verdict
    );
    assert!(reply(&out.verdict).starts_with("451 4.7.1 "));
    assert!(auth_results(&out).contains("dmarc=temperror"));
}

#[tokio::test]
async fn lenient_actions_are_configurable() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let lenient = AuthConfig {
        dmarc_reject: FailAction::Junk,
        dmarc_quarantine: FailAction::Mark,
        ..auth()
    };
    let p = pipeline(&dns, &db.db, lenient, no_greylist());
    for (domain, expect) in [
        ("strict.example", Verdict::Junk),
        ("quar.example", Verdict::Accept),
    ] {
        let sender = format!("a@{domain}");
        let mut ctx = session("127.0.0.3", "client.example");
        let msg = message(&sender, "bob@mx.test", "lenient");
        let (_, out) = transaction(&p, &mut ctx, &sender, &["bob@mx.test"], &msg).await;
        assert_eq!(out.expect("data ran").verdict, expect, "{domain}");
    }
}

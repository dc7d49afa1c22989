//! Greylisting (Postgrey semantics), on SQLite and, when configured,
//! PostgreSQL. Pipeline-level tests use a 2 s delay and really wait;
//! counter and expiry tests drive the stage with explicit clocks.

mod common;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use std::time::Duration;

use base64::Engine;
use common::dns::{TestDns, txt};
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use postel::config::{GreylistConfig, HumanDuration};
use postel::db::Db;
use postel::pipeline::greylist::admin::{self, AllowEntry};
use postel::pipeline::greylist::{Decision, Greylist, GreylistRequest, now_ms};
use postel::pipeline::{AuthConfig, Pipeline, ReverseDns, Verdict};
use support::*;

const DAY_MS: i64 = 86_400_000;

fn config(delay_secs: u64) -> GreylistConfig {
    GreylistConfig {
        enabled: true,
        delay: HumanDuration::from_secs(delay_secs),
        max_age: HumanDuration::from_secs(30 * 86_400),
        auto_allow_after: 0,
        allow_networks: Vec::new(),
        allow_domains: Vec::new(),
    }
}

fn auth() -> AuthConfig {
    AuthConfig {
        reverse_dns: ReverseDns::Off,
        ..AuthConfig::default()
    }
}

async fn zone() -> TestDns {
    TestDns::start([txt(
        "big.example",
        "v=spf1 ip4:127.0.0.2 ip4:127.0.1.7 -all",
    )])
    .await
}

/// One message from `ip` through MAIL and DATA; the DATA verdict.
async fn send(p: &Pipeline, ip: &str, sender: &str, rcpt: &str, message: &[u8]) -> Verdict {
    let mut ctx = session(ip, "client.example");
    let (at_mail, out) = transaction(p, &mut ctx, sender, &[rcpt], message).await;
    assert_eq!(at_mail, Verdict::Accept);
    out.expect("data ran").verdict
}

fn assert_greylisted(v: &Verdict, label: &str) {
    let text = reply(v);
    assert!(matches!(v, Verdict::TempFail(_)), "{label}: {v:?}");
    assert!(
        text.starts_with("451 4.7.1 Greylisted, please try again in "),
        "{label}: {text}"
    );
    assert!(text.ends_with(" seconds"), "{label}: {text}");
}

#[tokio::test]
async fn new_triplet_waits_then_passes_and_is_remembered() {
    let dns = zone().await;
    for t in common::all_dbs().await {
        let p = pipeline(&dns, &t.db, auth(), config(2));
        let msg = message("a@nospf.example", "bob@mx.test", "grey");
        let first = send(&p, "127.0.0.3", "a@nospf.example", "bob@mx.test", &msg).await;
        assert_greylisted(&first, t.label);
        assert!(
            reply(&first).ends_with("try again in 2 seconds"),
            "{}",
            reply(&first)
        );
        let early = send(&p, "127.0.0.3", "a@nospf.example", "bob@mx.test", &msg).await;
        assert_greylisted(&early, t.label);
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let retry = send(&p, "127.0.0.3", "a@nospf.example", "bob@mx.test", &msg).await;
        assert_eq!(retry, Verdict::Accept, "{}", t.label);
        // Another host of the same /24, later: no delay.
        let later = send(&p, "127.0.0.200", "a@nospf.example", "Bob@MX.test", &msg).await;
        assert_eq!(later, Verdict::Accept, "{}", t.label);
        let rows = admin::list(&t.db).await.expect("list");
        assert_eq!(rows.len(), 1, "{}", t.label);
        assert_eq!(
            (
                rows[0].client.as_str(),
                rows[0].sender.as_str(),
                rows[0].recipient.as_str()
            ),
            ("127.0.0.0/24", "a@nospf.example", "bob@mx.test")
        );
        assert_eq!(rows[0].passes, 2, "{}", t.label);
        // A new recipient is a new triplet.
        let other = send(&p, "127.0.0.3", "a@nospf.example", "carol@mx.test", &msg).await;
        assert_greylisted(&other, t.label);
    }
}

#[tokio::test]
async fn relay_networks_and_authenticated_sessions_are_exempt() {
    let dns = zone().await;
    for t in common::all_dbs().await {
        let mut settings = settings(auth(), config(300));
        settings.relay_networks = vec!["127.0.0.0/8".parse().expect("net")];
        let p = Pipeline::new(settings, t.db.clone(), dns.resolver());
        let msg = message("a@nospf.example", "bob@mx.test", "relay");
        let v = send(&p, "127.0.0.3", "a@nospf.example", "bob@mx.test", &msg).await;
        assert_eq!(v, Verdict::Accept, "{}", t.label);

        let p = pipeline(&dns, &t.db, auth(), config(300));
        let mut ctx = session("127.0.0.4", "laptop");
        ctx.authenticated = Some("alice@mx.test".into());
        let (_, out) = transaction(&p, &mut ctx, "alice@mx.test", &["bob@example.net"], &msg).await;
        assert_eq!(
            out.expect("data ran").verdict,
            Verdict::Accept,
            "{}",
            t.label
        );
        assert!(
            admin::list(&t.db).await.expect("list").is_empty(),
            "{}",
            t.label
        );
    }
}

#[tokio::test]
async fn allow_lists_from_config_and_cli() {
    let dns = zone().await;
    for t in common::all_dbs().await {
        let mut cfg = config(300);
        cfg.allow_networks = vec!["127.0.9.0/24".parse().expect("net")];
        cfg.allow_domains = vec!["big.example".into()];
        let p = pipeline(&dns, &t.db, auth(), cfg);
        let msg = message("a@big.example", "bob@mx.test", "allow");
        let v = send(&p, "127.0.9.1", "x@nospf.example", "bob@mx.test", &msg).await;
        assert_eq!(v, Verdict::Accept, "allow_networks {}", t.label);
        let v = send(&p, "127.0.1.7", "a@big.example", "bob@mx.test", &msg).await;
        assert_eq!(
            v,
            Verdict::Accept,
            "allow_domains with SPF pass {}",
            t.label
        );
        let v = send(&p, "127.0.0.99", "a@big.example", "bob@mx.test", &msg).await;
        assert_greylisted(&v, "allow_domains without SPF pass");

        let entry: AllowEntry = "127.0.7.0/24".parse().expect("entry");
        assert!(admin::allow(&t.db, &entry).await.expect("allow"));
        assert!(!admin::allow(&t.db, &entry).await.expect("allow again"));
        let v = send(&p, "127.0.7.7", "y@nospf.example", "bob@mx.test", &msg).await;
        assert_eq!(v, Verdict::Accept, "cli allow {}", t.label);
        assert_eq!(
            admin::allowed(&t.db).await.expect("allowed"),
            vec![entry.clone()]
        );
        assert!(admin::disallow(&t.db, &entry).await.expect("disallow"));
        let v = send(&p, "127.0.7.7", "y@nospf.example", "bob@mx.test", &msg).await;
        assert_greylisted(&v, "after disallow");
    }
}

#[tokio::test]
async fn spf_authenticated_domain_keys_the_triplet() {
    let dns = zone().await;
    for t in common::all_dbs().await {
        let p = pipeline(&dns, &t.db, auth(), config(2));
        let msg = message("news@big.example", "bob@mx.test", "big");
        let first = send(&p, "127.0.0.2", "news@big.example", "bob@mx.test", &msg).await;
        assert_greylisted(&first, t.label);
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        // The retry comes from another network that big.example authorises.
        let retry = send(&p, "127.0.1.7", "news@big.example", "bob@mx.test", &msg).await;
        assert_eq!(retry, Verdict::Accept, "{}", t.label);
        let rows = admin::list(&t.db).await.expect("list");
        assert_eq!(rows[0].client, "spf:big.example", "{}", t.label);
    }
}

/// `message` with an Ed25519 DKIM signature of `domain`, and its key record.
fn dkim_signed(domain: &str, message: &[u8]) -> (Vec<u8>, common::dns::TestRecord) {
    let pkcs8 = Ed25519Key::generate_pkcs8().expect("key");
    let key = Ed25519Key::from_pkcs8_der(&pkcs8).expect("key");
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    let signature = DkimSigner::from_key(key)
        .domain(domain)
        .selector("gl")
        .headers(["From", "To", "Subject"])
        .sign(message)
        .expect("sign");
    let mut signed = signature.to_header().into_bytes();
    signed.extend_from_slice(message);
    let record = txt(
        &format!("gl._domainkey.{domain}"),
        &format!("v=DKIM1; k=ed25519; p={public}"),
    );
    (signed, record)
}

#[tokio::test]
async fn aligned_dkim_domain_that_passed_before_is_not_delayed() {
    let msg = message("alice@signed.example", "bob@mx.test", "dkim1");
    let (signed, record) = dkim_signed("signed.example", &msg);
    let dns = TestDns::start([record]).await;
    for t in common::all_dbs().await {
        let p = pipeline(&dns, &t.db, auth(), config(2));
        let first = send(
            &p,
            "127.0.0.3",
            "alice@signed.example",
            "bob@mx.test",
            &signed,
        )
        .await;
        assert_greylisted(&first, t.label);
        tokio::time::sleep(Duration::from_millis(2_100)).await;
        let retry = send(
            &p,
            "127.0.0.3",
            "alice@signed.example",
            "bob@mx.test",
            &signed,
        )
        .await;
        assert_eq!(retry, Verdict::Accept, "{}", t.label);
        // Another network, sender and recipient, same signing domain.
        let v = send(
            &p,
            "127.0.5.9",
            "bounces-77@signed.example",
            "carol@mx.test",
            &signed,
        )
        .await;
        assert_eq!(v, Verdict::Accept, "{}", t.label);
        // The same envelope without the signature is a stranger.
        let v = send(
            &p,
            "127.0.5.9",
            "bounces-77@signed.example",
            "carol@mx.test",
            &msg,
        )
        .await;
        assert_greylisted(&v, "unsigned");
    }
}

#[tokio::test]
async fn unaligned_dkim_signature_does_not_exempt() {
    let msg = message("ceo@victim.example", "bob@mx.test", "unaligned");
    let (signed, record) = dkim_signed("signed.example", &msg);
    let dns = TestDns::start([record]).await;
    for t in common::all_dbs().await {
        let gl = Greylist::new(t.db.clone(), config(2));
        // signed.example is known...
        let known = ["signed.example".to_string()];
        let rcpt = ["x@mx.test".to_string()];
        let req = |ip: &'static str| GreylistRequest {
            ip: ip.parse().expect("ip"),
            sender: "a@signed.example",
            recipients: &rcpt,
            spf_domain: None,
            dkim_domains: &known,
        };
        let now = now_ms();
        gl.check_at(&req("192.0.2.1"), now - 5_000)
            .await
            .expect("check");
        let passed = gl
            .check_at(&req("192.0.2.1"), now - 1_000)
            .await
            .expect("check");
        assert_eq!(passed, Decision::Passed);
        // ...but this message's From is victim.example, so it is not exempt.
        let p = pipeline(&dns, &t.db, auth(), config(2));
        let mut ctx = session("127.0.6.1", "client.example");
        let (_, out) =
            transaction(&p, &mut ctx, "a@signed.example", &["bob@mx.test"], &signed).await;
        let out = out.expect("data ran");
        assert!(auth_results(&out).contains("dkim=pass header.d=signed.example"));
        assert_greylisted(&out.verdict, t.label);
    }
}

fn request<'a>(ip: &str, sender: &'a str, rcpt: &'a [String]) -> GreylistRequest<'a> {
    GreylistRequest {
        ip: ip.parse().expect("ip"),
        sender,
        recipients: rcpt,
        spf_domain: None,
        dkim_domains: &[],
    }
}

async fn pass_once(gl: &Greylist, ip: &str, sender: &str, rcpt: &str, at: i64) {
    let r = [rcpt.to_string()];
    assert!(matches!(
        gl.check_at(&request(ip, sender, &r), at).await,
        Ok(Decision::Delay(_))
    ));
    let passed = gl.check_at(&request(ip, sender, &r), at + 300_000).await;
    assert_eq!(passed.expect("check"), Decision::Passed);
}

#[tokio::test]
async fn client_network_is_auto_allowed_after_enough_passes() {
    for t in common::all_dbs().await {
        let mut cfg = config(300);
        cfg.auto_allow_after = 2;
        let gl = Greylist::new(t.db.clone(), cfg);
        pass_once(&gl, "192.0.2.10", "a@x.example", "r1@mx.test", 0).await;
        let r3 = ["r3@mx.test".to_string()];
        let fresh = gl
            .check_at(&request("192.0.2.11", "c@z.example", &r3), 400_000)
            .await;
        assert_eq!(
            fresh.expect("check"),
            Decision::Delay(300),
            "one pass is not enough"
        );
        pass_once(&gl, "192.0.2.12", "b@y.example", "r2@mx.test", 500_000).await;
        let r4 = ["r4@mx.test".to_string()];
        let now = gl
            .check_at(&request("192.0.2.13", "d@w.example", &r4), 900_000)
            .await;
        assert_eq!(now.expect("check"), Decision::AutoAllowed, "{}", t.label);
        let elsewhere = gl
            .check_at(&request("198.51.100.1", "d@w.example", &r4), 900_000)
            .await;
        assert!(matches!(elsewhere, Ok(Decision::Delay(_))), "{}", t.label);
    }
}

async fn expiry_case(db: &Db, label: &str) {
    let mut cfg = config(300);
    cfg.max_age = HumanDuration::from_secs(86_400);
    let gl = Greylist::new(db.clone(), cfg.clone());
    pass_once(&gl, "192.0.2.1", "a@x.example", "r@mx.test", 0).await;
    pass_once(&gl, "192.0.2.1", "a@x.example", "s@mx.test", DAY_MS / 2).await;
    let r = ["r@mx.test".to_string()];
    // Seen within max_age: still known.
    let known = gl
        .check_at(&request("192.0.2.1", "a@x.example", &r), DAY_MS - 1)
        .await;
    assert_eq!(known.expect("check"), Decision::Passed, "{label}");
    // Expire as of 1.6 days: "r" was last seen at ~1 day, "s" at ~0.5 day.
    let counts = admin::expire_at(db, cfg.max_age.get(), DAY_MS * 16 / 10)
        .await
        .expect("expire");
    assert_eq!(counts.triplets, 1, "{label}");
    let rows = admin::list(db).await.expect("list");
    assert_eq!(rows.len(), 1, "{label}");
    assert_eq!(rows[0].recipient, "r@mx.test", "{label}");
    // Unseen past max_age, even before expiry ran: new again.
    let again = gl
        .check_at(&request("192.0.2.1", "a@x.example", &r), DAY_MS * 3)
        .await;
    assert_eq!(again.expect("check"), Decision::Delay(300), "{label}");
    let purged = admin::purge_all(db).await.expect("purge");
    assert!(
        purged.triplets >= 1 && purged.clients >= 1,
        "{label}: {purged:?}"
    );
    assert!(admin::list(db).await.expect("list").is_empty(), "{label}");
}

#[tokio::test]
async fn triplets_unseen_for_max_age_are_forgotten() {
    for t in common::all_dbs().await {
        expiry_case(&t.db, t.label).await;
    }
}

#[tokio::test]
async fn pipeline_expire_uses_the_configured_max_age() {
    let dns = zone().await;
    for t in common::all_dbs().await {
        let p = pipeline(&dns, &t.db, auth(), config(300));
        let msg = message("a@nospf.example", "bob@mx.test", "exp");
        assert_greylisted(
            &send(&p, "127.0.0.3", "a@nospf.example", "bob@mx.test", &msg).await,
            "first",
        );
        let counts = p.expire().await.expect("expire");
        assert_eq!(counts.triplets, 0, "fresh rows stay ({})", t.label);
        assert_eq!(admin::list(&t.db).await.expect("list").len(), 1);
    }
}

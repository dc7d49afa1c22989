//! Connect-time checks: DNS blocklists (RFC 5782) and forward-confirmed
//! reverse DNS.

mod common;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use common::dns::{TestDns, a, ptr};
use postel::pipeline::{AuthConfig, ReverseDns, Stage, Verdict};
use support::*;

async fn zone() -> TestDns {
    TestDns::start([
        a("2.0.0.127.bl.test", "127.0.0.2"),
        a("7.0.0.127.bl.test", "127.255.255.254"),
        a("2.0.0.127.other.test", "127.0.0.4"),
        // ::1 in nibble form.
        a(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test",
            "127.0.0.2",
        ),
        ptr("127.0.0.3", "good.example.com"),
        a("good.example.com", "127.0.0.3"),
        ptr("127.0.0.6", "forged.example.com"),
        a("forged.example.com", "127.0.0.99"),
    ])
    .await
}

fn auth(dnsbl: &[&str], reverse_dns: ReverseDns) -> AuthConfig {
    AuthConfig {
        dnsbl: dnsbl.iter().map(|z| z.to_string()).collect(),
        reverse_dns,
        ..AuthConfig::default()
    }
}

#[tokio::test]
async fn listed_client_is_rejected_naming_the_zone() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(
        &dns,
        &db.db,
        auth(&["bl.test"], ReverseDns::Off),
        no_greylist(),
    );
    let mut ctx = session("127.0.0.2", "spammer");
    let v = p.check_client(&mut ctx).await;
    assert_eq!(
        reply(&v),
        "554 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test"
    );
    assert!(matches!(v, Verdict::Reject(_)));
    // The refusal is kept and wins again at end of DATA.
    let msg = message("a@spam.example", "bob@mx.test", "spam");
    let (_, out) = transaction(&p, &mut ctx, "a@spam.example", &["bob@mx.test"], &msg).await;
    assert_eq!(out.expect("data ran").verdict, v);
}

#[tokio::test]
async fn unlisted_client_is_accepted() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(
        &dns,
        &db.db,
        auth(&["bl.test"], ReverseDns::Off),
        no_greylist(),
    );
    let mut ctx = session("127.0.0.3", "fine");
    assert_eq!(p.check_client(&mut ctx).await, Verdict::Accept);
    assert!(dns.queries().iter().any(|(n, _)| n == "3.0.0.127.bl.test"));
}

#[tokio::test]
async fn refusal_codes_are_not_listings_and_zones_are_named_in_order() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(
        &dns,
        &db.db,
        auth(&["bl.test"], ReverseDns::Off),
        no_greylist(),
    );
    let mut ctx = session("127.0.0.7", "fine");
    assert_eq!(p.check_client(&mut ctx).await, Verdict::Accept);
    let p = pipeline(
        &dns,
        &db.db,
        auth(&["none.test", "other.test", "bl.test"], ReverseDns::Off),
        no_greylist(),
    );
    let mut ctx = session("127.0.0.2", "spammer");
    assert!(reply(&p.check_client(&mut ctx).await).ends_with("blocked using other.test"));
}

#[tokio::test]
async fn ipv6_clients_are_queried_in_nibble_form() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(
        &dns,
        &db.db,
        auth(&["bl.test"], ReverseDns::Off),
        no_greylist(),
    );
    let mut ctx = session("::1", "v6");
    assert!(reply(&p.check_client(&mut ctx).await).ends_with("client [::1] blocked using bl.test"));
}

#[tokio::test]
async fn reverse_dns_is_forward_confirmed() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(&[], ReverseDns::Check), no_greylist());
    let mut ctx = session("127.0.0.3", "x");
    assert_eq!(p.check_client(&mut ctx).await, Verdict::Accept);
    assert_eq!(ctx.rdns_name(), Some("good.example.com"));
    let mut ctx = session("127.0.0.6", "x");
    assert_eq!(
        p.check_client(&mut ctx).await,
        Verdict::Accept,
        "check only records"
    );
    assert_eq!(ctx.rdns_name(), None);
}

#[tokio::test]
async fn required_reverse_dns_refuses_unconfirmed_clients() {
    let dns = zone().await;
    let db = common::sqlite().await;
    let p = pipeline(&dns, &db.db, auth(&[], ReverseDns::Require), no_greylist());
    for ip in ["127.0.0.6", "127.0.0.8"] {
        let mut ctx = session(ip, "x");
        let v = p.check_client(&mut ctx).await;
        assert!(reply(&v).starts_with("550 5.7.25 "), "{ip}: {v:?}");
    }
    let mut ctx = session("127.0.0.3", "x");
    assert_eq!(p.check_client(&mut ctx).await, Verdict::Accept);
    dns.servfail("4.0.0.127.in-addr.arpa");
    let mut ctx = session("127.0.0.4", "x");
    let v = p.check_client(&mut ctx).await;
    assert!(reply(&v).starts_with("450 4.7.25 "), "{v:?}");
    let stages: Vec<Stage> = ctx.client_outcomes().iter().map(|o| o.stage).collect();
    assert_eq!(stages, vec![Stage::Dnsbl, Stage::ReverseDns]);
}

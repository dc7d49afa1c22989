//! `[relay] host`: everything through one upstream with AUTH PLAIN, over
//! STARTTLS with the certificate verified (against `tls_ca_file`), over
//! implicit TLS, and what a refused login does (waits, never bounces).

mod common;
#[path = "common/sink.rs"]
mod sink;

use std::time::Duration;

use common::dns::a;
use common::server::{TestServer, builder};
use common::smtp_client::Client;
use sink::{Behaviour, Sink};

/// A server relaying through `mx.sink.test` (= 127.0.0.2) with `relay`.
async fn server(sinks: &[Sink], relay: &str) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("sink-ca.pem");
    std::fs::write(&ca, &sinks[0].cert_pem).expect("write CA");
    let config = format!(
        "[queue]\nretry = [\"1s\"]\nwarn_after = \"0s\"\n[relay]\nhost = \"mx.sink.test:{}\"\n\
         tls_ca_file = \"{}\"\n{relay}",
        sink::port(sinks),
        ca.display()
    );
    let s = builder()
        .config(&config)
        .records([a("mx.sink.test", "127.0.0.2")])
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    // The CA file is read when the queue starts; the dir may go now.
    drop(dir);
    s
}

async fn send(s: &TestServer, to: &str) {
    let (mut c, _) = Client::connect(s.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let msg = "From: alice@example.org\r\nSubject: via smarthost\r\n\r\nbody\r\n";
    let r = c.send_mail("alice@example.org", &[to], msg).await;
    assert_eq!(r.code, 250, "{r:?}");
}

fn upstream(tls: &str) -> Behaviour {
    Behaviour {
        starttls: tls == "starttls",
        implicit_tls: tls == "implicit",
        auth: Some(("relayuser".into(), "s3cret".into())),
        ..Behaviour::default()
    }
}

#[tokio::test]
async fn starttls_with_verified_certificate_and_auth_plain() {
    let sinks = sink::start(&["127.0.0.2"], upstream("starttls")).await;
    let s = server(
        &sinks,
        "username = \"relayuser\"\npassword = \"s3cret\"\ntls = \"starttls\"\n",
    )
    .await;
    // The MX of the recipient domain does not matter: it is not looked up.
    send(&s, "someone@anywhere.test").await;
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].tls, "STARTTLS");
    assert_eq!(got[0].auth.as_deref(), Some("relayuser"));
    assert_eq!(got[0].rcpts, vec!["someone@anywhere.test".to_string()]);
    s.stop().await;
}

#[tokio::test]
async fn implicit_tls_without_verification() {
    let sinks = sink::start(&["127.0.0.2"], upstream("implicit")).await;
    let s = server(
        &sinks,
        "username = \"relayuser\"\npassword = \"s3cret\"\ntls = \"implicit\"\ntls_verify = false\n",
    )
    .await;
    send(&s, "someone@anywhere.test").await;
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    assert!(got[0].tls && got[0].auth.is_some());
    s.stop().await;
}

#[tokio::test]
async fn unverifiable_certificate_or_refused_login_waits_instead_of_bouncing() {
    let sinks = sink::start(&["127.0.0.2"], upstream("starttls")).await;
    // Wrong password: the upstream answers 535.
    let s = server(
        &sinks,
        "username = \"relayuser\"\npassword = \"wrong\"\ntls = \"starttls\"\n",
    )
    .await;
    send(&s, "someone@anywhere.test").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(sinks[0].delivered().is_empty());
    let list = s.services.queue.list().await.expect("list");
    assert_eq!(list.len(), 1, "still queued");
    let r = &list[0].recipients[0];
    assert_eq!(r.status, "queued");
    assert!(r.attempts >= 1, "{r:?}");
    assert!(r.last_error.contains("AUTH"), "{r:?}");
    assert!(
        s.messages("alice@example.org", "INBOX").is_empty(),
        "no bounce"
    );
    // Fixing the upstream's idea of the password lets it through.
    sinks[0].set(|b| b.auth = Some(("relayuser".into(), "wrong".into())));
    assert_eq!(
        sinks[0]
            .wait_delivered(1, Duration::from_secs(20))
            .await
            .len(),
        1
    );
    s.stop().await;

    // A certificate that does not verify (no CA file trusting it).
    let sinks = sink::start(&["127.0.0.2"], upstream("starttls")).await;
    let config = format!(
        "[queue]\nretry = [\"1s\"]\n[relay]\nhost = \"mx.sink.test:{}\"\n\
         username = \"relayuser\"\npassword = \"s3cret\"\n",
        sink::port(&sinks)
    );
    let s = builder()
        .config(&config)
        .records([a("mx.sink.test", "127.0.0.2")])
        .start()
        .await;
    s.with_users("example.org", &["alice"]).await;
    send(&s, "someone@anywhere.test").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        sinks[0].delivered().is_empty(),
        "never sent to an unverified relay"
    );
    let list = s.services.queue.list().await.expect("list");
    assert_eq!(list[0].recipients[0].status, "queued");
    assert!(
        list[0].recipients[0].last_error.contains("TLS"),
        "{:?}",
        list[0].recipients[0]
    );
    s.stop().await;
}

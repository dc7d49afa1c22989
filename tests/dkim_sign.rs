//! Signing with keys made by the real `postel dkim generate`, verified by
//! two independent verifiers: Python's dkimpy, fed the TXT record exactly
//! as printed, and Postel's inbound pipeline, resolving the record through
//! the in-process test DNS server. Tampering after signing must fail.

mod common;
#[path = "fixtures/dkim/support.rs"]
mod dkim_support;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use common::dns::{TestDns, txt};
use dkim_support::*;
use postel::dkim::{DkimError, Signer};
use postel::pipeline::{AuthConfig, ReverseDns};
use support::{auth_results, no_greylist, pipeline, session, transaction};

/// Keys for example.org with the given `dkim generate` options, a signer
/// over the same database, and the printed records.
async fn setup(keys: &[&[&str]]) -> (Cli, Signer, Vec<Record>) {
    setup_on(common::sqlite().await, keys).await
}

/// [`setup`] on a chosen database.
async fn setup_on(t: common::TestDb, keys: &[&[&str]]) -> (Cli, Signer, Vec<Record>) {
    let c = Cli::with_domains(t, &["example.org"]);
    let records = keys
        .iter()
        .map(|opts| c.generate("example.org", opts))
        .collect();
    let signer = Signer::new(c.t.db.clone());
    (c, signer, records)
}

/// The Authentication-Results Postel's inbound pipeline writes for
/// `message`, with `records` served by the test DNS server.
async fn pipeline_results(records: &[Record], message: &[u8]) -> String {
    let dns = TestDns::start(records.iter().map(|r| txt(r.owner(), &r.value()))).await;
    let db = common::sqlite().await;
    let auth = AuthConfig {
        reverse_dns: ReverseDns::Off,
        ..AuthConfig::default()
    };
    let p = pipeline(&dns, &db.db, auth, no_greylist());
    let mut ctx = session("127.0.0.3", "client.example");
    let (_, out) = transaction(&p, &mut ctx, "alice@example.org", &["bob@mx.test"], message).await;
    auth_results(&out.expect("MAIL accepted"))
}

fn count_passes(lines: &[String]) -> usize {
    lines.iter().filter(|l| l.starts_with("pass ")).count()
}

async fn signed_message_verifies(opts: &[&[&str]], algorithms: &[&str]) {
    let (_c, signer, records) = setup(opts).await;
    let msg = message("alice@example.org", "verify");
    let fields = signer.sign("example.org", &msg).await.expect("sign");
    assert_eq!(
        fields.matches("DKIM-Signature:").count(),
        algorithms.len(),
        "{fields}"
    );
    let signed = prepend(&fields, &msg);

    if let Some(lines) = dkimpy(&records, &signed) {
        assert_eq!(lines.len(), algorithms.len(), "{lines:?}");
        for (line, algorithm) in lines.iter().zip(algorithms) {
            assert!(
                line.starts_with(&format!("pass a={algorithm} d=example.org s=")),
                "{lines:?}"
            );
        }
    }
    let ar = pipeline_results(&records, &signed).await;
    for r in &records {
        assert!(
            ar.contains(&format!(
                "dkim=pass header.d=example.org header.s={}",
                r.selector()
            )),
            "{ar}"
        );
    }
    assert!(!ar.contains("dkim=fail"), "{ar}");
}

#[tokio::test]
async fn rsa_signature_verifies() {
    signed_message_verifies(&[&[]], &["rsa-sha256"]).await;
}

#[tokio::test]
async fn ed25519_signature_verifies() {
    signed_message_verifies(&[&["--algorithm", "ed25519"]], &["ed25519-sha256"]).await;
}

#[tokio::test]
async fn dual_signing_both_verify() {
    // Generated Ed25519 first: the RSA signature still comes first.
    signed_message_verifies(
        &[&["--algorithm", "ed25519"], &[]],
        &["rsa-sha256", "ed25519-sha256"],
    )
    .await;
}

#[tokio::test]
async fn signature_tags_are_as_documented() {
    let (_c, signer, _) = setup(&[&[], &["--algorithm", "ed25519"]]).await;
    let msg = message("alice@example.org", "tags");
    let fields = signer.sign("Example.ORG.", &msg).await.expect("sign");
    assert!(fields.ends_with("\r\n"), "{fields:?}");
    assert!(fields.starts_with("DKIM-Signature: v=1; a=rsa-sha256; "));
    let now = postel::db::now_unix();
    for field in fields.split("DKIM-Signature:").skip(1) {
        // Folded (RFC 5322 §2.1.1: lines of at most 998 characters).
        assert!(field.lines().count() > 1, "{field}");
        assert!(field.lines().all(|l| l.len() <= 998), "{field}");
        let unfolded: String = field.replace("\r\n", "").replace('\t', " ");
        let tags: Vec<(String, String)> = unfolded
            .split(';')
            .filter_map(|t| t.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.split_whitespace().collect()))
            .collect();
        let tag = |k: &str| tags.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(tag("c"), Some("relaxed/relaxed"), "{field}");
        assert_eq!(tag("d"), Some("example.org"));
        assert_eq!(tag("l"), None, "no body length limit");
        assert_eq!(tag("x"), None);
        let t: i64 = tag("t").expect("t=").parse().expect("numeric t=");
        assert!((now - 60..=now + 60).contains(&t), "t={t} now={now}");
        let h: Vec<String> = tag("h")
            .expect("h=")
            .split(':')
            .map(str::to_ascii_lowercase)
            .collect();
        let n = |name: &str| h.iter().filter(|x| *x == name).count();
        assert_eq!(n("from"), 2, "From oversigned: {h:?}");
        for present in [
            "to",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "content-type",
        ] {
            assert!(n(present) >= 1, "{present} signed: {h:?}");
        }
        assert_eq!(n("received"), 0);
    }
}

/// (label, message) pairs: `signed` changed after signing.
fn tampered(signed: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let text = String::from_utf8(signed.to_vec()).expect("UTF-8");
    let from_at = text.find("From: Alice").expect("From");
    let body_at = text.find("\r\n\r\n").expect("body") + 2;
    let insert = |at: usize, s: &str| format!("{}{s}{}", &text[..at], &text[at..]).into_bytes();
    vec![
        ("body appended", [signed, b"P.S. send money.\r\n"].concat()),
        (
            "subject changed",
            text.replace("Subject: tamper", "Subject: tamper!")
                .into_bytes(),
        ),
        (
            "second From above",
            insert(from_at, "From: CEO <ceo@example.org>\r\n"),
        ),
        (
            "second From below",
            insert(body_at, "From: CEO <ceo@example.org>\r\n"),
        ),
        ("Cc added", insert(body_at, "Cc: eve@evil.test\r\n")),
    ]
}

#[tokio::test]
async fn changes_after_signing_fail() {
    let (_c, signer, records) = setup(&[&[], &["--algorithm", "ed25519"]]).await;
    let msg = message("alice@example.org", "tamper");
    let signed = prepend(&signer.sign("example.org", &msg).await.expect("sign"), &msg);

    // Control: a field nobody signs may be added (and both verifiers pass).
    let text = String::from_utf8(signed.clone()).expect("UTF-8");
    let body_at = text.find("\r\n\r\n").expect("body") + 2;
    let harmless = format!("{}X-Scanned: yes\r\n{}", &text[..body_at], &text[body_at..]);
    if let Some(lines) = dkimpy(&records, harmless.as_bytes()) {
        assert_eq!(count_passes(&lines), 2, "{lines:?}");
    }
    let ar = pipeline_results(&records, harmless.as_bytes()).await;
    assert_eq!(ar.matches("dkim=pass").count(), 2, "{ar}");

    for (label, bad) in tampered(&signed) {
        if let Some(lines) = dkimpy(&records, &bad) {
            assert_eq!(lines.len(), 2, "{label}: {lines:?}");
            assert_eq!(count_passes(&lines), 0, "{label}: {lines:?}");
        }
        let ar = pipeline_results(&records, &bad).await;
        assert!(!ar.contains("dkim=pass"), "{label}: {ar}");
        assert_eq!(ar.matches("dkim=fail").count(), 2, "{label}: {ar}");
    }
}

#[tokio::test]
async fn no_active_key_means_no_signature() {
    let (c, signer, records) = setup(&[&["--selector", "only"]]).await;
    let msg = message("alice@example.org", "none");
    assert_eq!(signer.sign("example.net", &msg).await.expect("sign"), "");
    assert!(
        !signer
            .sign("example.org", &msg)
            .await
            .expect("sign")
            .is_empty()
    );
    c.ok(&["dkim", "del", "example.org", records[0].selector()]);
    assert_eq!(signer.sign("example.org", &msg).await.expect("sign"), "");
}

#[tokio::test]
async fn signer_follows_key_changes_made_elsewhere() {
    for t in common::all_dbs().await {
        follows_key_changes(t).await;
    }
}

async fn follows_key_changes(t: common::TestDb) {
    let label = t.label;
    let (c, signer, _) = setup_on(t, &[&["--selector", "k1"]]).await;
    let msg = message("alice@example.org", "changes");
    let selector_of = |fields: &str| {
        fields
            .split(';')
            .find_map(|t| t.trim().strip_prefix("s=").map(str::to_string))
            .expect("s= tag")
    };
    let fields = signer.sign("example.org", &msg).await.expect("sign");
    assert_eq!(selector_of(&fields), "k1", "{label}");

    // Rotated by another process: the next message uses the new key.
    let out = c.ok(&["dkim", "rotate", "example.org", "--selector", "k2"]);
    let second = parse_records(&out);
    let fields = signer.sign("example.org", &msg).await.expect("sign");
    assert_eq!(selector_of(&fields), "k2", "{label}");

    // Same selector, new key (deleted and regenerated): the cached parse of
    // the old key must not be used.
    c.ok(&["dkim", "del", "example.org", "k2"]);
    let regenerated = c.generate("example.org", &["--selector", "k2"]);
    assert_ne!(regenerated.public_key(), second[0].public_key());
    let fields = signer.sign("example.org", &msg).await.expect("sign");
    let signed = prepend(&fields, &msg);
    if let Some(lines) = dkimpy(std::slice::from_ref(&regenerated), &signed) {
        assert_eq!(count_passes(&lines), 1, "{label}: {lines:?}");
    }
    let ar = pipeline_results(std::slice::from_ref(&regenerated), &signed).await;
    assert!(
        ar.contains("dkim=pass header.d=example.org header.s=k2"),
        "{label}: {ar}"
    );
}

#[tokio::test]
async fn message_without_from_is_refused() {
    let (_c, signer, _) = setup(&[&[]]).await;
    let msg = b"To: bob@mx.test\r\nSubject: anonymous\r\n\r\nhi\r\n";
    assert!(matches!(
        signer.sign("example.org", msg).await,
        Err(DkimError::NoFrom)
    ));
    assert!(matches!(
        signer.sign("not a domain", msg).await,
        Err(DkimError::InvalidDomain(_))
    ));
}

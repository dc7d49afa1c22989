//! DKIM verification (RFC 6376, RFC 8463) of messages signed by an
//! independent implementation — Python's dkimpy (Debian `python3-dkim`,
//! `python3-nacl`, and `openssl` for RSA keys) — and DMARC on DKIM.

mod common;
#[path = "fixtures/pipeline/support.rs"]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use common::dns::{TestDns, txt};
use postel::pipeline::{AuthConfig, DataOutcome, FailAction, ReverseDns, Verdict};
use support::*;

const SIGNER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/pipeline/dkim_sign.py"
);

/// The Debian python (not a pyenv or venv one) when it has dkimpy and
/// PyNaCl, and openssl is installed.
fn python() -> Option<&'static str> {
    let ok = |py: &str| {
        Command::new(py)
            .args(["-c", "import dkim, nacl.signing"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let openssl = Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|py| ok(py))
        .filter(|_| openssl)
}

macro_rules! require_signer {
    () => {
        match python() {
            Some(py) => py,
            None => {
                common::skip(
                    "python3-dkim, python3-nacl or openssl missing: DKIM interop test not run",
                );
                return;
            }
        }
    };
}

/// Signs `message`; returns (public key base64, signed message).
fn sign(py: &str, algo: &str, domain: &str, selector: &str, message: &[u8]) -> (String, Vec<u8>) {
    let mut child = Command::new(py)
        .args([SIGNER, algo, domain, selector])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run dkim_sign.py");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("write message");
    let out = child.wait_with_output().expect("dkim_sign.py output");
    assert!(out.status.success(), "dkim_sign.py failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (public, signature) = text.split_once('\n').expect("two parts");
    let mut signed = signature.as_bytes().to_vec();
    signed.extend_from_slice(message);
    (public.to_string(), signed)
}

fn key_record(algo: &str, domain: &str, selector: &str, public: &str) -> common::dns::TestRecord {
    let k = if algo == "rsa" { "rsa" } else { "ed25519" };
    txt(
        &format!("{selector}._domainkey.{domain}"),
        &format!("v=DKIM1; k={k}; p={public}"),
    )
}

/// The first 8 characters of the `b=` tag of the topmost signature.
fn b_prefix(signed: &[u8]) -> String {
    let text = String::from_utf8_lossy(signed);
    let start = text.find("DKIM-Signature:").expect("signature") + "DKIM-Signature:".len();
    let mut value = String::new();
    for (i, line) in text[start..].split("\r\n").enumerate() {
        if i > 0 && !line.starts_with([' ', '\t']) {
            break;
        }
        value.push_str(line);
    }
    let b = value
        .split(';')
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .find_map(|t| t.strip_prefix("b=").map(str::to_string))
        .expect("b= tag");
    b.chars().take(8).collect()
}

fn auth() -> AuthConfig {
    AuthConfig {
        spf_fail: FailAction::Reject,
        reverse_dns: ReverseDns::Off,
        ..AuthConfig::default()
    }
}

async fn deliver(dns: &TestDns, sender: &str, message: &[u8]) -> DataOutcome {
    let db = common::sqlite().await;
    let p = pipeline(dns, &db.db, auth(), no_greylist());
    let mut ctx = session("127.0.0.3", "client.example");
    let (_, out) = transaction(&p, &mut ctx, sender, &["bob@mx.test"], message).await;
    out.expect("data ran")
}

async fn signed_passes(algo: &str) {
    let py = require_signer!();
    let msg = message("alice@signed.example", "bob@mx.test", algo);
    let (public, signed) = sign(py, algo, "signed.example", "sel1", &msg);
    let dns = TestDns::start([key_record(algo, "signed.example", "sel1", &public)]).await;
    let out = deliver(&dns, "alice@signed.example", &signed).await;
    let expected = format!(
        "dkim=pass header.d=signed.example header.s=sel1 header.b={}",
        b_prefix(&signed)
    );
    assert!(
        auth_results(&out).contains(&expected),
        "{}",
        auth_results(&out)
    );
    assert_eq!(out.verdict, Verdict::Accept);
}

#[tokio::test]
async fn rsa_sha256_signature_passes() {
    signed_passes("rsa").await;
}

#[tokio::test]
async fn ed25519_sha256_signature_passes() {
    signed_passes("ed25519").await;
}

#[tokio::test]
async fn altered_body_fails() {
    let py = require_signer!();
    for algo in ["rsa", "ed25519"] {
        let msg = message("alice@signed.example", "bob@mx.test", "altered");
        let (public, signed) = sign(py, algo, "signed.example", "sel1", &msg);
        let mut altered = signed.clone();
        altered.extend_from_slice(b"P.S. send money.\r\n");
        let dns = TestDns::start([key_record(algo, "signed.example", "sel1", &public)]).await;
        let out = deliver(&dns, "alice@signed.example", &altered).await;
        let ar = auth_results(&out);
        assert!(
            ar.contains("dkim=fail header.d=signed.example header.s=sel1"),
            "{algo}: {ar}"
        );
        assert!(!ar.contains("dkim=pass"), "{ar}");
    }
}

#[tokio::test]
async fn every_signature_is_reported() {
    let py = require_signer!();
    let msg = message("alice@signed.example", "bob@mx.test", "two");
    let (rsa_pub, once) = sign(py, "rsa", "signed.example", "rsa1", &msg);
    let (ed_pub, twice) = sign(py, "ed25519", "other.example", "ed1", &once);
    let dns = TestDns::start([
        key_record("rsa", "signed.example", "rsa1", &rsa_pub),
        key_record("ed25519", "other.example", "ed1", &ed_pub),
    ])
    .await;
    let out = deliver(&dns, "alice@signed.example", &twice).await;
    let ar = auth_results(&out);
    assert!(
        ar.contains("dkim=pass header.d=signed.example header.s=rsa1"),
        "{ar}"
    );
    assert!(
        ar.contains("dkim=pass header.d=other.example header.s=ed1"),
        "{ar}"
    );
}

#[tokio::test]
async fn aligned_dkim_passes_dmarc_despite_spf_fail() {
    let py = require_signer!();
    let msg = message("alice@signed.example", "bob@mx.test", "dmarc");
    let (public, signed) = sign(py, "ed25519", "signed.example", "sel1", &msg);
    let dns = TestDns::start([
        key_record("ed25519", "signed.example", "sel1", &public),
        txt("signed.example", "v=spf1 ip4:127.0.0.2 -all"),
        txt("_dmarc.signed.example", "v=DMARC1; p=reject; adkim=s"),
    ])
    .await;
    let out = deliver(&dns, "alice@signed.example", &signed).await;
    let ar = auth_results(&out);
    assert_eq!(out.verdict, Verdict::Accept, "{ar}");
    assert!(
        ar.contains("spf=fail") && ar.contains("dmarc=pass header.from=signed.example"),
        "{ar}"
    );
}

#[tokio::test]
async fn unaligned_dkim_does_not_pass_dmarc() {
    let py = require_signer!();
    let msg = message("ceo@victim.example", "bob@mx.test", "phish");
    let (public, signed) = sign(py, "rsa", "attacker.example", "sel1", &msg);
    let dns = TestDns::start([
        key_record("rsa", "attacker.example", "sel1", &public),
        txt("_dmarc.victim.example", "v=DMARC1; p=reject"),
    ])
    .await;
    let out = deliver(&dns, "x@attacker.example", &signed).await;
    assert!(
        reply(&out.verdict).starts_with("550 5.7.1 "),
        "{:?}",
        out.verdict
    );
    assert!(auth_results(&out).contains("dkim=pass header.d=attacker.example"));
}

#[tokio::test]
async fn key_lookup_failure_under_dmarc_is_temporary() {
    let py = require_signer!();
    let msg = message("alice@signed.example", "bob@mx.test", "temp");
    let (_, signed) = sign(py, "ed25519", "signed.example", "sel1", &msg);
    let dns = TestDns::start([
        txt("signed.example", "v=spf1 -all"),
        txt("_dmarc.signed.example", "v=DMARC1; p=reject"),
    ])
    .await;
    dns.servfail("sel1._domainkey.signed.example");
    let out = deliver(&dns, "alice@signed.example", &signed).await;
    assert!(
        matches!(out.verdict, Verdict::TempFail(_)),
        "{:?}",
        out.verdict
    );
    assert!(auth_results(&out).contains("dkim=temperror header.d=signed.example"));
}

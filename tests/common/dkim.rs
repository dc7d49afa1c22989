//! DKIM helpers for end-to-end tests: keys for a domain of a running
//! [`TestServer`](super::server::TestServer), and verification with
//! dkimpy (Debian's python3-dkim), an implementation independent of ours.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

use postel::dkim::{Algorithm, KeySpec, Keys};

use super::server::TestServer;

/// The Debian Python that has dkimpy and PyNaCl (for Ed25519).
const PYTHON: &str = "/usr/bin/python3";

/// Creates an RSA and an Ed25519 key for `domain`; returns their DNS
/// records as the JSON object `tests/fixtures/dkim/verify.py` reads.
pub async fn rsa_and_ed25519_keys(s: &TestServer, domain: &str) -> String {
    let keys = Keys::new(s.services.directory.clone());
    let mut records = Vec::new();
    for algorithm in [Algorithm::RsaSha256, Algorithm::Ed25519Sha256] {
        let spec = KeySpec {
            algorithm,
            ..KeySpec::default()
        };
        let r = keys
            .generate(domain, &spec)
            .await
            .expect("dkim key")
            .record();
        let strings: Vec<String> = r.strings().iter().map(|x| format!("{x:?}")).collect();
        records.push(format!("{:?}: [{}]", r.name, strings.join(", ")));
    }
    format!("{{{}}}", records.join(", "))
}

/// Verifies every DKIM signature of `message` with dkimpy against
/// `records_json`; one report line per signature, or `None` when
/// python3-dkim/python3-nacl are not installed.
pub fn dkimpy_verify(records_json: &str, message: &[u8]) -> Option<String> {
    let ok = Command::new(PYTHON)
        .args(["-c", "import dkim, nacl"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("records.json");
    std::fs::write(&json, records_json).expect("records");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim/verify.py");
    let mut child = Command::new(PYTHON)
        .arg(script)
        .arg(&json)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("verify.py");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(message)
        .expect("write");
    let out = child.wait_with_output().expect("verify.py output");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Asserts a dkimpy report says both signatures pass for `domain`.
pub fn assert_both_pass(report: &str, domain: &str) {
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "two signatures (RSA and Ed25519): {report}");
    let d = format!("d={domain}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("pass ") && l.contains(&d)),
        "{report}"
    );
}

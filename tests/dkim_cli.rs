//! `postel dkim …` end to end through the real binary: the printed TXT
//! records, refusals, and the generate / list / rotate / del / record
//! round trips. Runs on SQLite and, when configured, on PostgreSQL.

mod common;
#[path = "fixtures/dkim/support.rs"]
mod dkim_support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dkim_support::*;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;

/// (selector, algorithm, state) of each `postel dkim list` line, sorted
/// (keys created in the same second are listed by selector).
fn listed(out: &str) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = out
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                f.len(),
                5,
                "domain, selector, algorithm, state, created: {l}"
            );
            (f[1].to_string(), f[2].to_string(), f[3].to_string())
        })
        .collect();
    v.sort();
    v
}

fn entry(selector: &str, algorithm: &str, state: &str) -> (String, String, String) {
    (selector.into(), algorithm.into(), state.into())
}

#[tokio::test]
async fn generate_prints_publishable_records() {
    for t in common::all_dbs().await {
        let label = t.label;
        let c = Cli::with_domains(t, &["example.org"]);
        let dates = selector_dates();

        let rsa = c.generate("Example.ORG", &[]);
        assert!(
            dates
                .iter()
                .any(|d| rsa.name == format!("postel-{d}._domainkey.example.org.")),
            "{label}: {rsa:?}"
        );
        assert!(rsa.value().starts_with("v=DKIM1; k=rsa; p="), "{rsa:?}");
        assert!(rsa.strings.len() >= 2, "2048-bit key needs two strings");
        assert!(rsa.strings.iter().all(|s| !s.is_empty() && s.len() <= 255));
        let der = STANDARD.decode(rsa.public_key()).expect("base64 p=");
        let public = rsa::RsaPublicKey::from_public_key_der(&der).expect("SPKI public key");
        assert_eq!(public.size() * 8, 2048);

        let ed = c.generate("example.org", &["--algorithm", "ed25519"]);
        assert!(
            dates
                .iter()
                .any(|d| ed.name == format!("postel-{d}-ed._domainkey.example.org.")),
            "{ed:?}"
        );
        assert!(ed.value().starts_with("v=DKIM1; k=ed25519; p="), "{ed:?}");
        assert_eq!(ed.strings.len(), 1);
        assert_eq!(STANDARD.decode(ed.public_key()).expect("base64").len(), 32);

        // Private halves are stored as PKCS#8 PEM and never printed.
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT selector, private_key FROM dkim_keys ORDER BY selector")
                .fetch_all(c.t.db.pool())
                .await
                .expect("select keys");
        assert_eq!(rows.len(), 2, "{label}");
        let list = c.ok(&["dkim", "list"]);
        for (selector, pem) in &rows {
            assert!(
                pem.starts_with("-----BEGIN PRIVATE KEY-----\n"),
                "{selector}"
            );
            assert!(pem.trim_end().ends_with("-----END PRIVATE KEY-----"));
            let body = pem.lines().nth(1).expect("PEM body");
            assert!(!list.contains(body), "list printed a private key");
        }
        assert!(!list.contains("PRIVATE"), "{list}");
        assert_eq!(listed(&list).len(), 2, "{list}");
    }
}

#[tokio::test]
async fn refusals_are_one_clear_line() {
    let c = Cli::with_domains(common::sqlite().await, &["example.org"]);
    let err = c.fails(&["dkim", "generate", "elsewhere.test"]);
    assert!(
        err.contains("elsewhere.test") && err.contains("not a local domain"),
        "{err}"
    );
    c.generate("example.org", &["--selector", "s1"]);
    let err = c.fails(&["dkim", "generate", "example.org", "--selector", "S1"]);
    assert!(
        err.contains("s1") && err.contains("already exists"),
        "{err}"
    );
    let err = c.fails(&[
        "dkim",
        "generate",
        "example.org",
        "--selector",
        "s1",
        "--algorithm",
        "ed25519",
    ]);
    assert!(err.contains("already exists"), "{err}");
    let err = c.fails(&["dkim", "generate", "example.org", "--selector", "bad_sel"]);
    assert!(err.contains("invalid selector"), "{err}");
    let err = c.fails(&["dkim", "rotate", "elsewhere.test"]);
    assert!(err.contains("not a local domain"), "{err}");
    let err = c.fails(&["dkim", "del", "example.org", "nope"]);
    assert!(err.contains("no DKIM key with selector nope"), "{err}");
    let err = c.fails(&["dkim", "record", "elsewhere.test"]);
    assert!(err.contains("no active DKIM key"), "{err}");
    // Nothing was stored by the refused commands.
    assert_eq!(
        listed(&c.ok(&["dkim", "list"])),
        [entry("s1", "rsa-sha256", "active")]
    );
}

#[tokio::test]
async fn list_rotate_del_round_trip() {
    for t in common::all_dbs().await {
        let label = t.label;
        let c = Cli::with_domains(t, &["example.org", "example.net"]);
        let rsa1 = c.generate("example.org", &["--selector", "rsa1"]);
        let ed1 = c.generate(
            "example.org",
            &["--selector", "ed1", "--algorithm", "ed25519"],
        );
        let net = c.generate("example.net", &["--selector", "net1"]);
        assert_eq!(
            listed(&c.ok(&["dkim", "list", "example.org"])),
            [
                entry("ed1", "ed25519-sha256", "active"),
                entry("rsa1", "rsa-sha256", "active")
            ],
            "{label}"
        );

        // Rotating RSA retires rsa1 only; the Ed25519 key keeps signing.
        let out = c.ok(&["dkim", "rotate", "example.org"]);
        assert!(out.contains("retired: rsa1"), "{out}");
        let rotated = parse_records(&out);
        assert_eq!(rotated.len(), 1, "{out}");
        let rsa2 = &rotated[0];
        assert!(rsa2.selector().starts_with("postel-") && rsa2.value().contains("k=rsa"));
        assert_ne!(rsa2.public_key(), rsa1.public_key());
        let list = listed(&c.ok(&["dkim", "list", "example.org"]));
        assert!(
            list.contains(&entry("rsa1", "rsa-sha256", "inactive")),
            "{list:?}"
        );
        assert!(list.contains(&entry(rsa2.selector(), "rsa-sha256", "active")));
        assert!(list.contains(&entry("ed1", "ed25519-sha256", "active")));

        // `record` prints the active keys again, RSA first, byte for byte.
        let again = parse_records(&c.ok(&["dkim", "record", "example.org"]));
        assert_eq!(again, [rsa2.clone(), ed1.clone()], "{label}");
        assert_eq!(
            parse_records(&c.ok(&["dkim", "record", "example.org", "rsa1"])),
            std::slice::from_ref(&rsa1)
        );

        // Rotating Ed25519 leaves the RSA key alone.
        let out = c.ok(&["dkim", "rotate", "example.org", "--algorithm", "ed25519"]);
        assert!(out.contains("retired: ed1"), "{out}");
        let ed2 = parse_records(&out).remove(0);
        assert!(ed2.value().contains("k=ed25519") && ed2.selector().ends_with("-ed"));
        let active = parse_records(&c.ok(&["dkim", "record", "example.org"]));
        assert_eq!(active, [rsa2.clone(), ed2.clone()]);

        // Delete the retired keys; a second delete is refused.
        assert!(
            c.ok(&["dkim", "del", "example.org", "rsa1"])
                .contains("deleted")
        );
        c.ok(&["dkim", "del", "example.org", "ED1"]);
        c.fails(&["dkim", "del", "example.org", "rsa1"]);
        let list = listed(&c.ok(&["dkim", "list", "example.org"]));
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(list.iter().all(|(_, _, state)| state == "active"));

        // The other domain was never touched; the unfiltered list has all.
        assert_eq!(
            listed(&c.ok(&["dkim", "list", "example.net"])),
            [entry("net1", "rsa-sha256", "active")]
        );
        assert_eq!(
            parse_records(&c.ok(&["dkim", "record", "example.net"])),
            [net]
        );
        assert_eq!(listed(&c.ok(&["dkim", "list"])).len(), 3);

        // Deleting the domain's last keys leaves nothing to print.
        c.ok(&["dkim", "del", "example.org", rsa2.selector()]);
        c.ok(&["dkim", "del", "example.org", ed2.selector()]);
        assert_eq!(c.ok(&["dkim", "list", "example.org"]), "");
        c.fails(&["dkim", "record", "example.org"]);
    }
}

#[tokio::test]
async fn publish_first_then_rotate_to_the_new_selector() {
    let c = Cli::with_domains(common::sqlite().await, &["example.org"]);
    let old = c.generate("example.org", &["--selector", "old"]);
    let out = c.ok(&[
        "dkim",
        "generate",
        "example.org",
        "--selector",
        "new",
        "--inactive",
    ]);
    assert!(out.contains("inactive") && out.contains("rotate example.org --selector new"));
    let new = parse_records(&out).remove(0);
    // Not signing yet: only `old` is an active record.
    assert_eq!(
        parse_records(&c.ok(&["dkim", "record", "example.org"])),
        std::slice::from_ref(&old)
    );
    assert_eq!(
        listed(&c.ok(&["dkim", "list"])),
        [
            entry("new", "rsa-sha256", "inactive"),
            entry("old", "rsa-sha256", "active")
        ]
    );
    // Switching to it keeps its key (the published record stays valid).
    let err = c.fails(&[
        "dkim",
        "rotate",
        "example.org",
        "--selector",
        "new",
        "--algorithm",
        "ed25519",
    ]);
    assert!(err.contains("rsa-sha256"), "{err}");
    let out = c.ok(&["dkim", "rotate", "example.org", "--selector", "new"]);
    assert!(out.contains("retired: old"), "{out}");
    assert_eq!(parse_records(&out), std::slice::from_ref(&new));
    assert_eq!(
        listed(&c.ok(&["dkim", "list"])),
        [
            entry("new", "rsa-sha256", "active"),
            entry("old", "rsa-sha256", "inactive")
        ]
    );
    assert_eq!(
        parse_records(&c.ok(&["dkim", "record", "example.org"])),
        [new]
    );
}

#[tokio::test]
async fn default_selectors_stay_unique() {
    let c = Cli::with_domains(common::sqlite().await, &["example.org"]);
    let a = c.generate("example.org", &[]);
    let b = c.generate("example.org", &[]);
    let e = c.generate("example.org", &["--algorithm", "ed25519"]);
    let f = c.generate("example.org", &["--algorithm", "ed25519"]);
    // Unless midnight passed in between, the second of a day gets "-2".
    if a.selector().len() == b.selector().len() - 2 {
        assert_eq!(b.selector(), format!("{}-2", a.selector()));
    }
    if e.selector().len() == f.selector().len() - 2 {
        assert_eq!(f.selector(), format!("{}-2", e.selector()));
    }
    let mut all = vec![a.selector(), b.selector(), e.selector(), f.selector()];
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 4, "{all:?}");
    // Two RSA and two Ed25519 keys, all active.
    assert_eq!(
        parse_records(&c.ok(&["dkim", "record", "example.org"])).len(),
        4
    );
}

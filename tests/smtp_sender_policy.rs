//! Sender rules of submission overridden per user and per domain (stored
//! in the directory, migration 0008), driven by Python's smtplib over 587
//! with STARTTLS. Runs on SQLite and, when configured, on PostgreSQL.

mod common;

use common::server::{TestServer, builder};
use postel::config::SenderPolicy;
use postel::directory::Setting;

/// A Python script that submits one message per line of `cases`
/// (`login envelope_from header_from subject`) to bob@example.org over
/// 587 with STARTTLS and prints, per case, `subject=ok` or
/// `subject=CODE:STATUS`.
const SUBMIT: &str = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
port = int(sys.argv[1])
ctx = ssl._create_unverified_context()
for case in sys.argv[2:]:
    login, env_from, hdr_from, subject = case.split()
    m = EmailMessage()
    m["From"] = hdr_from
    m["To"] = "bob@example.org"
    m["Subject"] = subject
    m.set_content("body of " + subject + "\n")
    with smtplib.SMTP("127.0.0.1", port, local_hostname="laptop.test", timeout=30) as c:
        c.starttls(context=ctx)
        c.login(login, "password")
        try:
            c.send_message(m, from_addr=env_from, to_addrs=["bob@example.org"])
            print(subject + "=ok")
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            print(subject + "=" + str(e.smtp_code) + ":" + e.smtp_error.decode().split()[0])
"#;

/// Runs [`SUBMIT`] for `cases`; returns its output lines.
async fn submit(s: &TestServer, cases: &[&str]) -> Vec<String> {
    let mut args = vec![s.submission.port().to_string()];
    args.extend(cases.iter().map(|c| (*c).to_string()));
    let (ok, out) = common::python(SUBMIT, args).await;
    assert!(ok, "{out}");
    out.lines().map(str::to_string).collect()
}

fn subjects(s: &TestServer) -> Vec<String> {
    let mut v: Vec<String> = s
        .messages("bob@example.org", "INBOX")
        .iter()
        .filter_map(|m| {
            String::from_utf8_lossy(m)
                .lines()
                .find_map(|l| l.strip_prefix("Subject: ").map(str::to_string))
        })
        .collect();
    v.sort();
    v
}

/// A user whose policy is `any` may send as a foreign address; another
/// user of the same server may not (`553 5.7.1`); removing the override
/// applies to the next message without a restart.
#[tokio::test]
async fn user_override_lets_one_user_send_as_anyone() {
    for t in common::all_dbs().await {
        let label = t.label;
        let s = builder().db(t).start().await;
        s.with_users("example.org", &["alice", "bob", "carol"])
            .await;
        let dir = &s.services.directory;
        dir.set_user_sender(
            "carol@example.org",
            Setting::Set(SenderPolicy::Any),
            Setting::Keep,
        )
        .await
        .expect("set carol's policy");
        let out = submit(
            &s,
            &[
                "carol@example.org news@elsewhere.test news@elsewhere.test carol-foreign",
                "alice@example.org news@elsewhere.test news@elsewhere.test alice-foreign",
                "alice@example.org alice@example.org news@elsewhere.test alice-header",
            ],
        )
        .await;
        assert_eq!(
            out,
            [
                "carol-foreign=ok",
                "alice-foreign=553:5.7.1",
                "alice-header=553:5.7.1"
            ],
            "{label}"
        );
        assert_eq!(subjects(&s), ["carol-foreign"], "{label}");
        let stored = s.messages("bob@example.org", "INBOX");
        let text = String::from_utf8_lossy(&stored[0]);
        assert!(
            text.contains("From: news@elsewhere.test"),
            "{label}: {text}"
        );

        dir.set_user_sender("carol@example.org", Setting::Inherit, Setting::Keep)
            .await
            .expect("reset carol's policy");
        let out = submit(
            &s,
            &["carol@example.org news@elsewhere.test news@elsewhere.test carol-again"],
        )
        .await;
        assert_eq!(out, ["carol-again=553:5.7.1"], "{label}");
        s.stop().await;
    }
}

/// A domain's override applies to its users only, a user's override wins
/// over its domain's, and the `From:` check can be switched off per domain.
#[tokio::test]
async fn domain_override_and_user_precedence() {
    for t in common::all_dbs().await {
        let label = t.label;
        let s = builder().db(t).start().await;
        s.with_users("example.org", &["alice", "bob"]).await;
        s.with_users("other.test", &["dave"]).await;
        let dir = &s.services.directory;
        dir.set_domain_sender(
            "example.org",
            Setting::Set(SenderPolicy::Domain),
            Setting::Keep,
        )
        .await
        .expect("example.org policy");
        dir.set_user_sender(
            "bob@example.org",
            Setting::Set(SenderPolicy::Owned),
            Setting::Keep,
        )
        .await
        .expect("bob's policy");
        dir.set_domain_sender("other.test", Setting::Keep, Setting::Set(false))
            .await
            .expect("other.test header check");
        let out = submit(
            &s,
            &[
                // example.org: any address of the domain, nothing else.
                "alice@example.org info@example.org info@example.org alice-domain",
                "alice@example.org info@other.test info@other.test alice-other",
                "alice@example.org alice@example.org boss@elsewhere.test alice-header",
                // bob's own override (owned) beats his domain's.
                "bob@example.org info@example.org info@example.org bob-domain",
                // other.test: owned envelope (the default), From: unchecked.
                "dave@other.test info@other.test info@other.test dave-envelope",
                "dave@other.test dave@other.test ceo@other.test dave-header",
            ],
        )
        .await;
        assert_eq!(
            out,
            [
                "alice-domain=ok",
                "alice-other=553:5.7.1",
                "alice-header=553:5.7.1",
                "bob-domain=553:5.7.1",
                "dave-envelope=553:5.7.1",
                "dave-header=ok",
            ],
            "{label}"
        );
        assert_eq!(subjects(&s), ["alice-domain", "dave-header"], "{label}");
        s.stop().await;
    }
}

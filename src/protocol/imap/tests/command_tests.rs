//! Commands without message sets, in the shapes real clients send:
//! session commands, authentication, mailbox management, LIST/LSUB,
//! STATUS, APPEND, ID, ENABLE, quota.

use time::macros::datetime;

use super::{body, cmd, err, reason};
use crate::protocol::imap::{
    Append, Atom, CommandBody as B, Flag, List, ListReturn, ListSelect, MailboxName, ParseError,
    StatusItem,
};

fn mailbox(name: &str) -> MailboxName {
    MailboxName::new(name)
}

#[test]
fn no_argument_commands_any_case() {
    for (line, expected) in [
        ("a1 CAPABILITY", B::Capability),
        ("2 capability", B::Capability),
        ("a NOOP", B::Noop),
        ("a logout", B::Logout),
        ("a StartTLS", B::StartTls),
        ("a CHECK", B::Check),
        ("a CLOSE", B::Close),
        ("a EXPUNGE", B::Expunge),
        ("a UNSELECT", B::Unselect),
        ("a IDLE", B::Idle),
        ("a NAMESPACE", B::Namespace),
        ("a NOOP  ", B::Noop),
    ] {
        assert_eq!(body(line), expected, "{line}");
    }
    assert_eq!(cmd("A0001 NOOP").tag.as_str(), "A0001");
    assert_eq!(cmd("tag]x NOOP").tag.as_str(), "tag]x");
    assert_eq!(
        reason("a NOOP extra"),
        "unexpected characters at the end of the command"
    );
}

#[test]
fn login_with_atoms_quoted_and_literals() {
    let B::Login { username, password } = body("a001 LOGIN alice@example.org s3cret") else {
        panic!("LOGIN expected")
    };
    assert_eq!(
        (username.as_str(), password.expose()),
        ("alice@example.org", "s3cret")
    );
    let B::Login { username, password } = body(r#"a LOGIN "bob smith" "pa\"ss\\word""#) else {
        panic!("LOGIN expected")
    };
    assert_eq!(
        (username.as_str(), password.expose()),
        ("bob smith", "pa\"ss\\word")
    );
    let line = "a LOGIN {5}\r\nalice {9}\r\npass word";
    let B::Login { username, password } = body(line) else {
        panic!("LOGIN expected")
    };
    assert_eq!(
        (username.as_str(), password.expose()),
        ("alice", "pass word")
    );
    assert!(!format!("{:?}", cmd(line)).contains("pass word"));
    assert_eq!(reason("a LOGIN alice"), "expected a space");
    assert_eq!(reason(b"a LOGIN {2}\r\n\xff\xfe x"), "invalid UTF-8");
}

#[test]
fn authenticate_with_and_without_initial_response() {
    assert_eq!(
        body("a AUTHENTICATE PLAIN"),
        B::Authenticate {
            mechanism: "PLAIN".into(),
            initial: None
        }
    );
    let B::Authenticate { mechanism, initial } = body("1 authenticate plain AGFsaWNlAHMzY3JldA==")
    else {
        panic!("AUTHENTICATE expected")
    };
    assert_eq!(mechanism, "plain");
    assert_eq!(
        initial.map(|s| s.expose().to_string()).as_deref(),
        Some("AGFsaWNlAHMzY3JldA==")
    );
    let B::Authenticate { initial, .. } = body("a AUTHENTICATE PLAIN =") else {
        panic!("AUTHENTICATE expected")
    };
    assert_eq!(
        initial.map(|s| s.expose().to_string()).as_deref(),
        Some("=")
    );
    assert_eq!(
        reason("a AUTHENTICATE PLAIN a=b"),
        "invalid initial response"
    );
    assert_eq!(reason("a AUTHENTICATE"), "expected a space");
}

#[test]
fn select_examine_with_condstore() {
    assert_eq!(
        body("a SELECT INBOX"),
        B::Select {
            mailbox: MailboxName::inbox(),
            condstore: false
        }
    );
    assert_eq!(
        body(r#"4 select "inbox" (CONDSTORE)"#),
        B::Select {
            mailbox: MailboxName::inbox(),
            condstore: true
        }
    );
    assert_eq!(
        body("a EXAMINE Archive/2023 (condstore)"),
        B::Examine {
            mailbox: mailbox("Archive/2023"),
            condstore: true
        }
    );
    assert_eq!(reason("a SELECT INBOX (QRESYNC (1 2))"), "expected an atom");
    assert_eq!(reason("a SELECT INBOX (FOO)"), "unknown select parameter");
}

#[test]
fn mailbox_names_decode_modified_utf7() {
    let B::Create { mailbox: m } = body("a CREATE &ZeVnLIqe-") else {
        panic!("CREATE expected")
    };
    assert_eq!(m.as_str(), Some("日本語"));
    let B::Create { mailbox: m } = body(r#"a CREATE "Entw&APw-rfe/M&AOQ-rz""#) else {
        panic!("CREATE expected")
    };
    assert_eq!(m.as_str(), Some("Entwürfe/März"));
    for bad in ["a CREATE &Jjo", "a CREATE \"caf\u{e9}\"", "a CREATE &AGE-"] {
        let B::Create { mailbox: m } = body(bad) else {
            panic!("CREATE expected")
        };
        assert!(!m.is_valid() && m.as_str().is_none(), "{bad}");
    }
    assert_eq!(
        body("a DELETE Trash"),
        B::Delete {
            mailbox: mailbox("Trash")
        }
    );
    assert_eq!(
        body(r#"a RENAME "Old Stuff" {3}"#.replace("{3}", "{3}\r\nNew").as_str()),
        B::Rename {
            from: mailbox("Old Stuff"),
            to: mailbox("New")
        }
    );
    assert_eq!(
        body("a SUBSCRIBE Sent"),
        B::Subscribe {
            mailbox: mailbox("Sent")
        }
    );
    assert_eq!(
        body("a UNSUBSCRIBE \"\""),
        B::Unsubscribe {
            mailbox: mailbox("")
        }
    );
    assert_eq!(
        body("a delete InBoX"),
        B::Delete {
            mailbox: MailboxName::inbox()
        }
    );
}

#[test]
fn list_basic_and_extended() {
    let basic = |reference: &str, pattern: &str| {
        B::List(List {
            selection: None,
            reference: mailbox(reference),
            patterns: vec![mailbox(pattern)],
            returns: None,
        })
    };
    assert_eq!(body(r#"a LIST "" "*""#), basic("", "*"));
    assert_eq!(body(r#"a list "" %"#), basic("", "%"));
    assert_eq!(body(r#"a LIST "" """#), basic("", ""));
    assert_eq!(body("a LIST Archive/ 20*/%"), basic("Archive/", "20*/%"));
    let B::List(list) = body(
        r#"a LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "Sent*") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))"#,
    ) else {
        panic!("LIST expected")
    };
    assert!(list.is_extended());
    assert_eq!(
        list.selection,
        Some(vec![ListSelect::Subscribed, ListSelect::RecursiveMatch])
    );
    assert_eq!(list.patterns, vec![MailboxName::inbox(), mailbox("Sent*")]);
    assert_eq!(
        list.returns,
        Some(vec![
            ListReturn::Children,
            ListReturn::SpecialUse,
            ListReturn::Status(vec![StatusItem::Messages, StatusItem::Unseen]),
        ])
    );
    let B::List(list) = body(r#"3 list (SPECIAL-USE REMOTE) "" "*""#) else {
        panic!("LIST expected")
    };
    assert_eq!(
        list.selection,
        Some(vec![ListSelect::SpecialUse, ListSelect::Remote])
    );
    let B::List(list) = body(r#"a LIST () "" "*" RETURN ()"#) else {
        panic!("LIST expected")
    };
    assert_eq!((list.selection, list.returns), (Some(vec![]), Some(vec![])));
    assert_eq!(
        reason(r#"a LIST (RECURSIVEMATCH) "" "*""#),
        "RECURSIVEMATCH needs another selection option"
    );
    assert_eq!(
        reason(r#"a LIST (FOO) "" "*""#),
        "unknown LIST selection option"
    );
    assert_eq!(
        reason(r#"a LIST "" "*" RETURN (FOO)"#),
        "unknown LIST return option"
    );
    assert_eq!(reason(r#"a LIST "" "*" FOO"#), "expected RETURN");
    assert_eq!(reason(r#"a LIST "" ()"#), "empty list");
}

#[test]
fn lsub_and_status() {
    assert_eq!(
        body(r#"a LSUB "" "*""#),
        B::Lsub {
            reference: mailbox(""),
            pattern: mailbox("*")
        }
    );
    assert_eq!(
        body("A0004 STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT HIGHESTMODSEQ SIZE)"),
        B::Status {
            mailbox: MailboxName::inbox(),
            items: vec![
                StatusItem::Messages,
                StatusItem::Unseen,
                StatusItem::UidNext,
                StatusItem::UidValidity,
                StatusItem::Recent,
                StatusItem::HighestModSeq,
                StatusItem::Size,
            ]
        }
    );
    assert_eq!(reason("a STATUS INBOX ()"), "empty list");
    assert_eq!(
        reason("a STATUS INBOX (MESSAGES FOO)"),
        "unknown status item"
    );
}

#[test]
fn append_shapes() {
    let message = "From: a@b\r\nSubject: hi\r\n\r\nbody\r\n";
    let line = format!(
        "A003 APPEND \"Sent\" (\\Seen) {{{}+}}\r\n{message}",
        message.len()
    );
    assert_eq!(
        body(&line),
        B::Append(Append {
            mailbox: mailbox("Sent"),
            flags: vec![Flag::Seen],
            date: None,
            message: message.as_bytes().to_vec(),
        })
    );
    let line = format!(
        "a APPEND Drafts (\\Draft $MDNSent) \" 7-Feb-1994 21:52:25 -0800\" {{{}}}\r\n{message}",
        message.len()
    );
    let B::Append(append) = body(&line) else {
        panic!("APPEND expected")
    };
    assert_eq!(
        append.flags,
        vec![Flag::Draft, Flag::keyword("$MDNSent").expect("atom")]
    );
    assert_eq!(append.date, Some(datetime!(1994-02-07 21:52:25 -8)));
    let B::Append(append) = body("a APPEND INBOX \"07-Feb-1994 21:52:25 +0100\" {0}\r\n") else {
        panic!("APPEND expected")
    };
    assert!(append.flags.is_empty() && append.message.is_empty());
    let B::Append(append) = body("a APPEND INBOX () {3}\r\na\0b") else {
        panic!("APPEND expected")
    };
    assert_eq!(append.message, b"a\0b");
    assert_eq!(reason("a APPEND INBOX \"hello\""), "invalid date-time");
    assert_eq!(reason("a APPEND INBOX (\\Seen)"), "expected a space");
    assert_eq!(
        reason("a APPEND INBOX \"31-Feb-2020 00:00:00 +0000\" {1}\r\nx"),
        "invalid date-time"
    );
}

#[test]
fn id_enable_quota() {
    let line =
        r#"1 ID ("name" "iPhone Mail" "version" "21A329" "os" "iOS" "os-version" "17.0 (21A329)")"#;
    let B::Id(Some(pairs)) = body(line) else {
        panic!("ID expected")
    };
    assert_eq!(pairs.len(), 4);
    assert_eq!(
        pairs[0],
        ("name".to_string(), Some("iPhone Mail".to_string()))
    );
    assert_eq!(body("a ID NIL"), B::Id(None));
    assert_eq!(body("a ID ()"), B::Id(Some(vec![])));
    assert_eq!(
        body(r#"a ID ("vendor" NIL)"#),
        B::Id(Some(vec![("vendor".into(), None)]))
    );
    assert_eq!(reason(r#"a ID ("name")"#), "ID field without a value");
    assert_eq!(reason("a ID (name x)"), "expected a string");
    let enable = |caps: &[&str]| B::Enable(caps.iter().filter_map(|c| Atom::new(c)).collect());
    assert_eq!(body("a ENABLE CONDSTORE"), enable(&["CONDSTORE"]));
    assert_eq!(
        body("a enable QRESYNC CONDSTORE"),
        enable(&["QRESYNC", "CONDSTORE"])
    );
    assert_eq!(reason("a ENABLE"), "expected a space");
    assert_eq!(
        body("a GETQUOTA \"\""),
        B::GetQuota {
            root: String::new()
        }
    );
    assert_eq!(
        body("a getquotaroot \"INBOX\""),
        B::GetQuotaRoot {
            mailbox: MailboxName::inbox()
        }
    );
}

#[test]
fn unknown_commands_and_bad_tags() {
    let e = err("a1 FROBNICATE x");
    assert_eq!(
        (e.tag.map(|t| t.to_string()), e.error),
        (Some("a1".into()), ParseError::UnknownCommand)
    );
    assert_eq!(err("a1").error, ParseError::MissingCommand);
    assert_eq!(err("a1 ").error, ParseError::MissingCommand);
    assert_eq!(err("a1 (").error, ParseError::UnknownCommand);
    assert_eq!(
        err("a UID FOO 1").error,
        ParseError::Syntax {
            command: "UID",
            reason: "expected FETCH, STORE, COPY, MOVE, SEARCH, SORT or EXPUNGE",
        }
    );
    for untagged in [
        "* NOOP",
        "+ NOOP",
        "a+b NOOP",
        " NOOP",
        "\"a\" NOOP",
        "(a) NOOP",
    ] {
        let e = err(untagged);
        assert_eq!((e.tag, e.error), (None, ParseError::BadTag), "{untagged}");
    }
    assert_eq!(err("").error, ParseError::Empty);
    assert_eq!(err("   ").error, ParseError::Empty);
    let e = err("a9 LOGIN");
    assert_eq!(
        e.error,
        ParseError::Syntax {
            command: "LOGIN",
            reason: "expected a space"
        }
    );
}

//! The response serialiser, exact bytes: status responses and codes,
//! every untagged data response, continuations, the error responses,
//! string-form rules and text sanitising.

use crate::protocol::imap::{
    Atom, Code, Completion, Condition, Data, ESearchItem, Flag, ListItem, MailboxAttribute,
    MailboxName, Namespace, ParseError, QuotaResource, RespText, Response, SequenceSet,
    StatusValue, Tag,
};

fn tag(t: &str) -> Tag {
    Tag::new(t).expect("valid tag")
}

fn wire(r: &Response) -> String {
    String::from_utf8(r.to_bytes()).expect("UTF-8")
}

fn data(d: Data) -> String {
    wire(&Response::Data(d))
}

fn set(numbers: &[u32]) -> SequenceSet {
    SequenceSet::from_numbers(numbers.iter().copied()).expect("set")
}

#[test]
fn status_responses() {
    let t = tag("a1");
    assert_eq!(
        wire(&Response::ok(&t, "LOGIN completed")),
        "a1 OK LOGIN completed\r\n"
    );
    assert_eq!(wire(&Response::no(&t, "nope")), "a1 NO nope\r\n");
    assert_eq!(wire(&Response::bad(&t, "")), "a1 BAD Completed\r\n");
    let r = Response::tagged(&t, Completion::No, Code::TryCreate, "Mailbox doesn't exist");
    assert_eq!(wire(&r), "a1 NO [TRYCREATE] Mailbox doesn't exist\r\n");
    let r = Response::status(
        Condition::Ok,
        Some(Code::UidValidity(3_857_529_045)),
        "UIDs valid",
    );
    assert_eq!(wire(&r), "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
    let r = Response::status(Condition::Bye, None, "Logging out");
    assert_eq!(wire(&r), "* BYE Logging out\r\n");
    let r = Response::status(Condition::Preauth, None, "Hi");
    assert_eq!(wire(&r), "* PREAUTH Hi\r\n");
    let r = Response::ok(&t, "evil\r\n* OK injected\0");
    assert_eq!(wire(&r), "a1 OK evil  * OK injected\r\n");
}

#[test]
fn response_codes() {
    let line = |code: Code| wire(&Response::status(Condition::Ok, Some(code), "x"));
    assert_eq!(
        line(Code::PermanentFlags {
            flags: vec![
                Flag::Deleted,
                Flag::Seen,
                Flag::keyword("$Junk").expect("atom")
            ],
            any_keyword: true
        }),
        "* OK [PERMANENTFLAGS (\\Deleted \\Seen $Junk \\*)] x\r\n"
    );
    assert_eq!(
        line(Code::Capability(vec![
            "IMAP4rev1".into(),
            "AUTH=PLAIN".into(),
            "bad atom(".into()
        ])),
        "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN badatom] x\r\n"
    );
    assert_eq!(
        line(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])),
        "* OK [BADCHARSET (UTF-8 US-ASCII)] x\r\n"
    );
    assert_eq!(line(Code::BadCharset(vec![])), "* OK [BADCHARSET] x\r\n");
    assert_eq!(
        line(Code::AppendUid {
            uid_validity: 38505,
            uids: set(&[3955])
        }),
        "* OK [APPENDUID 38505 3955] x\r\n"
    );
    assert_eq!(
        line(Code::CopyUid {
            uid_validity: 38505,
            source: set(&[304, 319, 320, 321]),
            destination: set(&[3956, 3957, 3958, 3959])
        }),
        "* OK [COPYUID 38505 304,319:321 3956:3959] x\r\n"
    );
    assert_eq!(
        line(Code::HighestModSeq(715_194_045_007)),
        "* OK [HIGHESTMODSEQ 715194045007] x\r\n"
    );
    assert_eq!(
        line(Code::Modified(set(&[7, 9]))),
        "* OK [MODIFIED 7,9] x\r\n"
    );
    let other = Code::Other {
        name: "X-THING".into(),
        text: Some("a]b\r\nc".into()),
    };
    assert_eq!(line(other), "* OK [X-THING abc] x\r\n");
}

#[test]
fn simple_response_codes() {
    let line = |code: Code| wire(&Response::status(Condition::Ok, Some(code), "x"));
    for (code, name) in [
        (Code::Alert, "ALERT"),
        (Code::ReadOnly, "READ-ONLY"),
        (Code::ReadWrite, "READ-WRITE"),
        (Code::NoModSeq, "NOMODSEQ"),
        (Code::Closed, "CLOSED"),
        (Code::TooBig, "TOOBIG"),
        (Code::ClientBug, "CLIENTBUG"),
        (Code::Limit, "LIMIT"),
        (Code::Nonexistent, "NONEXISTENT"),
        (Code::AlreadyExists, "ALREADYEXISTS"),
        (Code::InUse, "INUSE"),
        (Code::OverQuota, "OVERQUOTA"),
        (Code::AuthenticationFailed, "AUTHENTICATIONFAILED"),
        (Code::PrivacyRequired, "PRIVACYREQUIRED"),
        (Code::ContactAdmin, "CONTACTADMIN"),
        (Code::NoPerm, "NOPERM"),
        (Code::ServerBug, "SERVERBUG"),
        (Code::Cannot, "CANNOT"),
        (Code::ExpungeIssued, "EXPUNGEISSUED"),
        (Code::Unavailable, "UNAVAILABLE"),
        (Code::Parse, "PARSE"),
        (Code::UidNext(4392), "UIDNEXT 4392"),
        (Code::Unseen(12), "UNSEEN 12"),
    ] {
        assert_eq!(line(code), format!("* OK [{name}] x\r\n"));
    }
}

#[test]
fn mailbox_data() {
    let item = |attributes, delimiter, name: &str| ListItem {
        attributes,
        delimiter,
        mailbox: MailboxName::new(name),
        child_info: vec![],
    };
    assert_eq!(
        data(Data::List(item(
            vec![MailboxAttribute::HasNoChildren],
            Some('/'),
            "inbox"
        ))),
        "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"
    );
    assert_eq!(
        data(Data::List(item(
            vec![MailboxAttribute::HasNoChildren, MailboxAttribute::Drafts],
            Some('.'),
            "Entwürfe"
        ))),
        "* LIST (\\HasNoChildren \\Drafts) \".\" \"Entw&APw-rfe\"\r\n"
    );
    assert_eq!(
        data(Data::List(item(
            vec![MailboxAttribute::NoSelect],
            None,
            "say \"hi\""
        ))),
        "* LIST (\\Noselect) NIL \"say \\\"hi\\\"\"\r\n"
    );
    let mut sub = item(
        vec![MailboxAttribute::Other(Atom::new("X").expect("atom"))],
        Some('\\'),
        "Foo",
    );
    sub.child_info = vec!["SUBSCRIBED".into()];
    assert_eq!(
        data(Data::Lsub(sub)),
        "* LSUB (\\X) \"\\\\\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
    assert_eq!(
        data(Data::Status {
            mailbox: MailboxName::new("blurdybloop"),
            items: vec![
                StatusValue::Messages(231),
                StatusValue::UidNext(44292),
                StatusValue::HighestModSeq(7),
                StatusValue::Size(1024)
            ],
        }),
        "* STATUS \"blurdybloop\" (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7 SIZE 1024)\r\n"
    );
    assert_eq!(
        data(Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft
        ])),
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    );
    assert_eq!(data(Data::Exists(172)), "* 172 EXISTS\r\n");
    assert_eq!(data(Data::Recent(1)), "* 1 RECENT\r\n");
    assert_eq!(data(Data::Expunge(44)), "* 44 EXPUNGE\r\n");
}

#[test]
fn search_sort_esearch() {
    assert_eq!(
        data(Data::Search {
            numbers: vec![2, 84, 882],
            modseq: None
        }),
        "* SEARCH 2 84 882\r\n"
    );
    assert_eq!(
        data(Data::Search {
            numbers: vec![],
            modseq: None
        }),
        "* SEARCH\r\n"
    );
    assert_eq!(
        data(Data::Search {
            numbers: vec![2, 5, 6],
            modseq: Some(917_162_500)
        }),
        "* SEARCH 2 5 6 (MODSEQ 917162500)\r\n"
    );
    assert_eq!(
        data(Data::Sort {
            numbers: vec![5, 3, 4],
            modseq: None
        }),
        "* SORT 5 3 4\r\n"
    );
    assert_eq!(
        data(Data::ESearch {
            tag: Some(tag("A282")),
            uid: true,
            items: vec![
                ESearchItem::Min(2),
                ESearchItem::Max(47),
                ESearchItem::Count(3),
                ESearchItem::All(set(&[2, 10, 11, 47])),
                ESearchItem::ModSeq(9)
            ],
        }),
        "* ESEARCH (TAG \"A282\") UID MIN 2 MAX 47 COUNT 3 ALL 2,10:11,47 MODSEQ 9\r\n"
    );
    assert_eq!(
        data(Data::ESearch {
            tag: None,
            uid: false,
            items: vec![]
        }),
        "* ESEARCH\r\n"
    );
}

#[test]
fn session_data() {
    let caps = vec!["IMAP4rev1".to_string(), "LITERAL+".into(), "IDLE".into()];
    assert_eq!(
        data(Data::Capability(caps)),
        "* CAPABILITY IMAP4rev1 LITERAL+ IDLE\r\n"
    );
    assert_eq!(
        data(Data::Enabled(vec!["CONDSTORE".into()])),
        "* ENABLED CONDSTORE\r\n"
    );
    assert_eq!(data(Data::Enabled(vec![])), "* ENABLED\r\n");
    assert_eq!(
        data(Data::Namespace {
            personal: vec![Namespace {
                prefix: String::new(),
                delimiter: Some('/')
            }],
            other: vec![],
            shared: vec![Namespace {
                prefix: "Geteilt/".into(),
                delimiter: Some('/')
            }],
        }),
        "* NAMESPACE ((\"\" \"/\")) NIL ((\"Geteilt/\" \"/\"))\r\n"
    );
    assert_eq!(
        data(Data::Id(Some(vec![
            ("name".into(), Some("Postel".into())),
            ("support-url".into(), None)
        ]))),
        "* ID (\"name\" \"Postel\" \"support-url\" NIL)\r\n"
    );
    assert_eq!(data(Data::Id(None)), "* ID NIL\r\n");
    assert_eq!(
        data(Data::Quota {
            root: String::new(),
            resources: vec![QuotaResource {
                name: "STORAGE".into(),
                usage: 10,
                limit: 512
            }],
        }),
        "* QUOTA \"\" (STORAGE 10 512)\r\n"
    );
    assert_eq!(
        data(Data::QuotaRoot {
            mailbox: MailboxName::inbox(),
            roots: vec![String::new()]
        }),
        "* QUOTAROOT \"INBOX\" \"\"\r\n"
    );
}

#[test]
fn continuations() {
    assert_eq!(wire(&Response::continue_text("Ready")), "+ Ready\r\n");
    assert_eq!(wire(&Response::challenge("")), "+ \r\n");
    assert_eq!(
        wire(&Response::challenge("VXNlcm5hbWU6")),
        "+ VXNlcm5hbWU6\r\n"
    );
    assert_eq!(wire(&Response::challenge("ab\r\ncd")), "+ abcd\r\n");
    let r = Response::Continue(crate::protocol::imap::Continuation::Text(
        RespText::with_code(Code::Alert, "x"),
    ));
    assert_eq!(wire(&r), "+ [ALERT] x\r\n");
}

#[test]
fn error_responses() {
    let t = tag("a7");
    let bytes = |e: ParseError, tag: Option<&Tag>| wire(&e.response(tag));
    assert_eq!(
        bytes(ParseError::UnknownCommand, Some(&t)),
        "a7 BAD Unknown command\r\n"
    );
    assert_eq!(bytes(ParseError::BadTag, None), "* BAD Invalid tag\r\n");
    assert_eq!(
        bytes(
            ParseError::Syntax {
                command: "UID FETCH",
                reason: "empty list"
            },
            Some(&t)
        ),
        "a7 BAD Error in IMAP command UID FETCH: empty list\r\n"
    );
    assert_eq!(
        bytes(ParseError::LineTooLong { limit: 8 }, None),
        "* BAD [TOOBIG] Command line too long\r\n"
    );
    let big = |append, sync| ParseError::LiteralTooLarge {
        size: 9,
        limit: 8,
        append,
        sync,
    };
    assert_eq!(
        bytes(big(true, true), Some(&t)),
        "a7 NO [TOOBIG] Message too large\r\n"
    );
    assert_eq!(
        bytes(big(true, false), Some(&t)),
        "a7 BAD [TOOBIG] Literal too large\r\n"
    );
    assert_eq!(
        bytes(big(false, true), Some(&t)),
        "a7 BAD [TOOBIG] Literal too large\r\n"
    );
    assert_eq!(
        bytes(ParseError::TooDeep { command: "SEARCH" }, Some(&t)),
        "a7 BAD [LIMIT] Error in IMAP command SEARCH: nested too deeply\r\n"
    );
    assert_eq!(
        bytes(ParseError::TooManyLiterals { limit: 1 }, Some(&t)),
        "a7 BAD [LIMIT] Too many literals\r\n"
    );
    assert_eq!(
        bytes(ParseError::ExpectedDone, Some(&t)),
        "a7 BAD Expected DONE\r\n"
    );
    let e = super::err("x1 FETCH");
    assert_eq!(
        wire(&e.response()),
        "x1 BAD Error in IMAP command FETCH: expected a space\r\n"
    );
}

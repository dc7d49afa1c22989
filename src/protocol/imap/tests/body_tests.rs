//! ENVELOPE and BODY/BODYSTRUCTURE serialisation against RFC 3501's own
//! examples, extension data, message/rfc822 nesting, and the streaming
//! FETCH encoder and a whole FETCH response.

use time::macros::datetime;

use crate::protocol::imap::{
    Address, BodyFields, BodyStructure, Data, Disposition, Envelope, FetchData, FetchEncoder,
    FetchLiteral, Flag, MultipartExtension, Response, Section, SinglePartExtension,
};

fn fetch(items: Vec<FetchData>) -> String {
    let bytes = Response::Data(Data::Fetch { seq: 12, items }).to_bytes();
    String::from_utf8(bytes).expect("UTF-8")
}

fn addr(name: Option<&str>, mailbox: &str, host: &str) -> Address {
    Address {
        name: name.map(|n| n.as_bytes().to_vec()),
        adl: None,
        mailbox: Some(mailbox.as_bytes().to_vec()),
        host: Some(host.as_bytes().to_vec()),
    }
}

fn s(text: &str) -> Option<Vec<u8>> {
    Some(text.as_bytes().to_vec())
}

fn text_part(
    params: &[(&str, &str)],
    id: Option<&str>,
    desc: Option<&str>,
    enc: &str,
    octets: u32,
    lines: u32,
) -> BodyStructure {
    BodyStructure::Text {
        media_type: "TEXT".into(),
        subtype: "PLAIN".into(),
        fields: BodyFields {
            params: params
                .iter()
                .map(|(a, b)| ((*a).into(), (*b).into()))
                .collect(),
            id: id.map(Vec::from),
            description: desc.map(Vec::from),
            encoding: enc.into(),
            octets,
        },
        lines,
        extension: None,
    }
}

#[test]
fn rfc3501_envelope_example() {
    let gray = addr(Some("Terry Gray"), "gray", "cac.washington.edu");
    let envelope = Envelope {
        date: s("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
        subject: s("IMAP4rev1 WG mtg summary and minutes"),
        from: vec![gray.clone()],
        sender: vec![gray.clone()],
        reply_to: vec![gray],
        to: vec![addr(None, "imap", "cac.washington.edu")],
        cc: vec![
            addr(None, "minutes", "CNRI.Reston.VA.US"),
            addr(Some("John Klensin"), "KLENSIN", "MIT.EDU"),
        ],
        bcc: vec![],
        in_reply_to: None,
        message_id: s("<B27397-0100000@cac.washington.edu>"),
    };
    assert_eq!(
        fetch(vec![FetchData::Envelope(Box::new(envelope))]),
        "* 12 FETCH (ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
         \"IMAP4rev1 WG mtg summary and minutes\" \
         ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
         ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
         ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
         ((NIL NIL \"imap\" \"cac.washington.edu\")) \
         ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) \
         NIL NIL \"<B27397-0100000@cac.washington.edu>\"))\r\n"
    );
}

#[test]
fn envelope_with_8bit_and_groups() {
    let envelope = Envelope {
        subject: Some("Grüße\r\n folded".as_bytes().to_vec()),
        to: vec![
            Address {
                mailbox: s("undisclosed-recipients"),
                ..Address::default()
            },
            Address::default(),
        ],
        ..Envelope::default()
    };
    assert_eq!(
        fetch(vec![FetchData::Envelope(Box::new(envelope))]),
        "* 12 FETCH (ENVELOPE (NIL {14}\r\nGrüße folded NIL NIL NIL \
         ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))\r\n"
    );
}

#[test]
fn rfc3501_body_example() {
    let body = BodyStructure::Multipart {
        parts: vec![
            text_part(&[("CHARSET", "US-ASCII")], None, None, "7BIT", 1152, 23),
            text_part(
                &[("CHARSET", "US-ASCII"), ("NAME", "cc.diff")],
                Some("<960723163407.20117h@cac.washington.edu>"),
                Some("Compiler diff"),
                "BASE64",
                4554,
                73,
            ),
        ],
        subtype: "MIXED".into(),
        extension: Some(MultipartExtension::default()),
    };
    let expected = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)\
                    (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") \
                    \"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\"";
    assert_eq!(
        fetch(vec![FetchData::Body(Box::new(body.clone()))]),
        format!("* 12 FETCH (BODY ({expected}))\r\n")
    );
    assert_eq!(
        fetch(vec![FetchData::BodyStructure(Box::new(body))]),
        format!("* 12 FETCH (BODYSTRUCTURE ({expected} NIL NIL NIL NIL))\r\n")
    );
}

#[test]
fn bodystructure_extension_data_and_nesting() {
    let pdf = BodyStructure::Basic {
        media_type: "APPLICATION".into(),
        subtype: "PDF".into(),
        fields: BodyFields {
            encoding: "BASE64".into(),
            octets: 4096,
            ..BodyFields::default()
        },
        extension: Some(SinglePartExtension {
            md5: Some("Q2hlY2sgSW50ZWdyaXR5IQ==".into()),
            disposition: Some(Disposition {
                kind: "attachment".into(),
                params: vec![("filename".into(), "a.pdf".into())],
            }),
            language: vec!["en".into()],
            location: None,
        }),
    };
    let inner = BodyStructure::Text {
        media_type: "text".into(),
        subtype: "HTML".into(),
        fields: BodyFields {
            encoding: "8BIT".into(),
            octets: 10,
            ..BodyFields::default()
        },
        lines: 1,
        extension: Some(SinglePartExtension::default()),
    };
    let message = BodyStructure::Message {
        fields: BodyFields {
            encoding: "7BIT".into(),
            octets: 300,
            ..BodyFields::default()
        },
        envelope: Box::new(Envelope {
            subject: s("fwd"),
            ..Envelope::default()
        }),
        body: Box::new(inner),
        lines: 12,
        extension: None,
    };
    let root = BodyStructure::Multipart {
        parts: vec![pdf, message],
        subtype: "MIXED".into(),
        extension: Some(MultipartExtension {
            params: vec![("BOUNDARY".into(), "xyz".into())],
            disposition: None,
            language: vec!["en".into(), "de".into()],
            location: Some("http://example.org/".into()),
        }),
    };
    let pdf = "(\"APPLICATION\" \"PDF\" NIL NIL NIL \"BASE64\" 4096";
    let envelope = "(NIL \"fwd\" NIL NIL NIL NIL NIL NIL NIL NIL)";
    assert_eq!(
        fetch(vec![FetchData::BodyStructure(Box::new(root.clone()))]),
        format!(
            "* 12 FETCH (BODYSTRUCTURE ({pdf} \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"a.pdf\")) (\"en\") NIL)\
             (\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 300 {envelope} \
             (\"text\" \"HTML\" NIL NIL NIL \"8BIT\" 10 1 NIL NIL NIL NIL) 12) \
             \"MIXED\" (\"BOUNDARY\" \"xyz\") NIL (\"en\" \"de\") \"http://example.org/\"))\r\n"
        )
    );
    assert_eq!(
        fetch(vec![FetchData::Body(Box::new(root))]),
        format!(
            "* 12 FETCH (BODY ({pdf})(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 300 {envelope} \
             (\"text\" \"HTML\" NIL NIL NIL \"8BIT\" 10 1) 12) \"MIXED\"))\r\n"
        )
    );
}

#[test]
fn streaming_fetch_encoder() {
    let section = Section {
        part: vec![std::num::NonZeroU32::MIN],
        text: None,
    };
    let body = b"Hello\r\nWorld\r\n";
    let mut out = Vec::new();
    let mut enc = FetchEncoder::begin(7, &mut out);
    enc.item(&FetchData::Uid(42), &mut out);
    enc.literal_header(
        FetchLiteral::Section {
            section: &section,
            origin: Some(100),
        },
        body.len() as u64,
        &mut out,
    );
    let mut sent = std::mem::take(&mut out);
    sent.extend_from_slice(body);
    enc.item(&FetchData::Flags(vec![Flag::Seen]), &mut out);
    enc.literal_header(FetchLiteral::Rfc822Header, 0, &mut out);
    enc.finish(&mut out);
    sent.extend_from_slice(&out);
    assert_eq!(
        String::from_utf8(sent).expect("UTF-8"),
        "* 7 FETCH (UID 42 BODY[1]<100> {14}\r\nHello\r\nWorld\r\n FLAGS (\\Seen) RFC822.HEADER {0}\r\n)\r\n"
    );
    let mut out = Vec::new();
    FetchEncoder::begin(1, &mut out).finish(&mut out);
    assert_eq!(out, b"* 1 FETCH ()\r\n");
}

#[test]
fn fetch_response_whole() {
    use crate::protocol::imap::SectionText;
    let r = Response::Data(Data::Fetch {
        seq: 12,
        items: vec![
            FetchData::Uid(4827313),
            FetchData::Flags(vec![Flag::Seen, Flag::Recent]),
            FetchData::Rfc822Size(44827),
            FetchData::InternalDate(datetime!(1996-07-17 02:44:25 -7)),
            FetchData::ModSeq(12121231000),
            FetchData::Section {
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFields(vec![
                        "From".into(),
                        "Subject".into(),
                    ])),
                },
                origin: None,
                data: Some(b"From: a\r\n\r\n".to_vec()),
            },
            FetchData::Section {
                section: Section::default(),
                origin: Some(0),
                data: None,
            },
            FetchData::Rfc822Text(Some(Vec::new())),
        ],
    });
    assert_eq!(
        String::from_utf8(r.to_bytes()).expect("UTF-8"),
        "* 12 FETCH (UID 4827313 FLAGS (\\Seen \\Recent) RFC822.SIZE 44827 \
         INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" MODSEQ (12121231000) \
         BODY[HEADER.FIELDS (FROM SUBJECT)] {11}\r\nFrom: a\r\n\r\n BODY[]<0> NIL RFC822.TEXT {0}\r\n)\r\n"
    );
}

#[test]
fn section_echo_upper_cases_names_in_the_form_sent() {
    use crate::protocol::imap::{HeaderName, SectionText};
    let section = Section {
        part: vec![std::num::NonZeroU32::MIN],
        text: Some(SectionText::HeaderFieldsNot(vec![
            "x-Spam".into(),
            HeaderName::quoted("Received"),
            "with space".into(),
        ])),
    };
    assert_eq!(
        fetch(vec![FetchData::Section {
            section: section.clone(),
            origin: None,
            data: Some(Vec::new()),
        }]),
        "* 12 FETCH (BODY[1.HEADER.FIELDS.NOT (X-SPAM \"RECEIVED\" \"WITH SPACE\")] {0}\r\n)\r\n"
    );
    // A command keeps the names as given.
    let mut out = Vec::new();
    section.write(&mut crate::protocol::imap::wire::Writer::new(
        &mut out, false,
    ));
    assert_eq!(
        String::from_utf8(out).expect("UTF-8"),
        "[1.HEADER.FIELDS.NOT (x-Spam \"Received\" \"with space\")]"
    );
}

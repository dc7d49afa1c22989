//! The IMAP codec driven the way the session will drive it, through the
//! public API only: a small synchronous driver (parser → continuation
//! decisions → SASL exchange → IDLE → responses) fed client transcripts
//! whole, byte-at-a-time and in odd chunks. Checks that literals,
//! AUTHENTICATE lines, IDLE's DONE and refused commands hand bytes to
//! each other without losing sync, and that the responses a session
//! writes come out byte-exact.

use postel::protocol::imap::{
    AuthenticateLine, Code, CommandBody, Completion, Condition, Data, FetchData, FetchEncoder,
    FetchLiteral, Flag, Limits, ListItem, MailboxAttribute, MailboxName, Parsed, Parser, Response,
    Section, Tag,
};
use postel::protocol::sasl::{Exchange, Mechanism, Step};

enum Mode {
    Commands,
    Authenticate(Tag, Exchange),
    Idle(Tag),
}

/// A toy server: enough state to answer like a session would.
struct Driver {
    parser: Parser,
    mode: Mode,
    out: Vec<u8>,
    logged_in: Option<String>,
}

impl Driver {
    fn new(limits: Limits) -> Self {
        Driver {
            parser: Parser::new(limits),
            mode: Mode::Commands,
            out: Vec::new(),
            logged_in: None,
        }
    }

    fn send(&mut self, response: Response) {
        response.write_to(&mut self.out);
    }

    /// One read from the socket.
    fn input(&mut self, bytes: &[u8]) {
        self.parser.feed(bytes);
        loop {
            let progressed = match std::mem::replace(&mut self.mode, Mode::Commands) {
                Mode::Commands => self.command(),
                Mode::Authenticate(tag, exchange) => self.sasl(tag, exchange),
                Mode::Idle(tag) => self.idle(tag),
            };
            if !progressed {
                return;
            }
        }
    }

    fn command(&mut self) -> bool {
        let command = match self.parser.next_command() {
            Parsed::Incomplete => return false,
            Parsed::NeedsLiteral { sync, .. } => {
                if sync {
                    self.send(Response::continue_text("Ready"));
                }
                return true;
            }
            Parsed::Error(e) => {
                self.send(e.response());
                return true;
            }
            Parsed::Complete(command) => command,
        };
        let tag = command.tag;
        match command.body {
            CommandBody::Authenticate { mechanism, initial } => {
                let Some(mechanism) = Mechanism::parse(&mechanism) else {
                    self.send(Response::no(&tag, "Unsupported mechanism"));
                    return true;
                };
                let initial = initial.as_ref().map(|s| s.expose().to_string());
                match Exchange::start(mechanism, initial.as_deref()) {
                    Ok((exchange, step)) => self.sasl_step(tag, exchange, step),
                    Err(_) => self.send(Response::bad(&tag, "Invalid SASL data")),
                }
            }
            CommandBody::Idle => {
                self.send(Response::continue_text("idling"));
                self.mode = Mode::Idle(tag);
            }
            CommandBody::Append(append) => {
                let code = Code::AppendUid {
                    uid_validity: 7,
                    uids: postel::protocol::imap::SequenceSet::single(append.message.len() as u32)
                        .expect("non-empty message"),
                };
                self.send(Response::tagged(
                    &tag,
                    Completion::Ok,
                    code,
                    "APPEND completed",
                ));
            }
            CommandBody::List(list) => {
                for pattern in &list.patterns {
                    self.send(Response::Data(Data::List(ListItem {
                        attributes: vec![MailboxAttribute::HasNoChildren],
                        delimiter: Some('/'),
                        mailbox: pattern.clone(),
                        child_info: vec![],
                    })));
                }
                self.send(Response::ok(&tag, "LIST completed"));
            }
            other => self.send(Response::ok(&tag, format!("{} completed", other.name()))),
        }
        true
    }

    fn sasl_step(&mut self, tag: Tag, exchange: Exchange, step: Step) {
        match step {
            Step::Challenge(challenge) => {
                self.send(Response::challenge(challenge));
                self.mode = Mode::Authenticate(tag, exchange);
            }
            Step::Done(credentials) => {
                self.logged_in = Some(credentials.username);
                self.send(Response::ok(&tag, "Logged in"));
            }
        }
    }

    fn sasl(&mut self, tag: Tag, mut exchange: Exchange) -> bool {
        let Some(line) = self.parser.next_authenticate() else {
            self.mode = Mode::Authenticate(tag, exchange);
            return false;
        };
        match line {
            Ok(AuthenticateLine::Response(data)) => match exchange.step(data.expose()) {
                Ok(step) => self.sasl_step(tag, exchange, step),
                Err(_) => self.send(Response::bad(&tag, "Invalid SASL data")),
            },
            Ok(AuthenticateLine::Cancel) => self.send(Response::bad(&tag, "Cancelled")),
            Err(e) => self.send(e.response(Some(&tag))),
        }
        true
    }

    fn idle(&mut self, tag: Tag) -> bool {
        match self.parser.next_idle_done() {
            None => {
                self.mode = Mode::Idle(tag);
                false
            }
            Some(Ok(())) => {
                self.send(Response::ok(&tag, "IDLE terminated"));
                true
            }
            Some(Err(e)) => {
                self.send(e.response(Some(&tag)));
                true
            }
        }
    }
}

/// Runs a client transcript whole, byte by byte and in chunks of 7 and
/// 13; all must produce the same server output, which is returned.
fn run(limits: Limits, client: &[u8]) -> String {
    let mut outputs = Vec::new();
    for piece in [client.len().max(1), 1, 7, 13] {
        let mut driver = Driver::new(limits);
        for chunk in client.chunks(piece) {
            driver.input(chunk);
        }
        outputs.push(String::from_utf8(driver.out).expect("UTF-8 output"));
    }
    for other in &outputs[1..] {
        assert_eq!(other, &outputs[0]);
    }
    outputs.swap_remove(0)
}

#[test]
fn thunderbird_like_session() {
    let message = "From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\n";
    let client = format!(
        "1 capability\r\n\
         2 authenticate PLAIN\r\nAGFsaWNlQGV4YW1wbGUub3JnAHMzY3JldA==\r\n\
         3 LIST \"\" \"*\"\r\n\
         4 APPEND \"Sent\" (\\Seen) {{{}}}\r\n{message}\r\n\
         5 IDLE\r\ndone\r\n\
         6 UID fetch 1:* (FLAGS)\r\n\
         7 logout\r\n",
        message.len()
    );
    let expected = format!(
        "1 OK CAPABILITY completed\r\n\
         + \r\n\
         2 OK Logged in\r\n\
         * LIST (\\HasNoChildren) \"/\" \"*\"\r\n\
         3 OK LIST completed\r\n\
         + Ready\r\n\
         4 OK [APPENDUID 7 {}] APPEND completed\r\n\
         + idling\r\n\
         5 OK IDLE terminated\r\n\
         6 OK UID FETCH completed\r\n\
         7 OK LOGOUT completed\r\n",
        message.len()
    );
    assert_eq!(run(Limits::default(), client.as_bytes()), expected);
}

#[test]
fn refused_input_keeps_the_stream_in_sync() {
    let limits = Limits {
        line: 100,
        literal: 20,
        append: 50,
        literals: 4,
    };
    let client = format!(
        "a1 NOOP\r\n\
         a2 FROB\r\n\
         a3 APPEND INBOX {{51}}\r\n\
         a4 APPEND INBOX {{60+}}\r\n{}\r\n\
         a5 SEARCH SUBJECT {}\r\n\
         * NOOP\r\n\
         a6 AUTHENTICATE PLAIN\r\n!!!\r\n\
         a7 AUTHENTICATE LOGIN\r\n*\r\n\
         a8 IDLE\r\nNOOP\r\n\
         a9 SELECT \"&Jjo\"\r\n",
        "x".repeat(60),
        "y".repeat(200)
    );
    assert_eq!(
        run(limits, client.as_bytes()),
        "a1 OK NOOP completed\r\n\
         a2 BAD Unknown command\r\n\
         a3 NO [TOOBIG] Message too large\r\n\
         a4 BAD [TOOBIG] Literal too large\r\n\
         a5 BAD [TOOBIG] Command line too long\r\n\
         * BAD Invalid tag\r\n\
         + \r\n\
         a6 BAD Invalid base64 data\r\n\
         + VXNlcm5hbWU6\r\n\
         a7 BAD Cancelled\r\n\
         + idling\r\n\
         a8 BAD Expected DONE\r\n\
         a9 OK SELECT completed\r\n"
    );
    let invalid =
        postel::protocol::imap::Command::parse(b"a9 SELECT \"&Jjo\"\r\n").expect("parses");
    let CommandBody::Select { mailbox, .. } = invalid.body else {
        panic!("SELECT expected")
    };
    assert!(
        !mailbox.is_valid(),
        "the session answers NO/BAD to this name"
    );
}

#[test]
fn streaming_a_large_fetch() {
    let body = "Line\r\n".repeat(10_000);
    let section = Section::default();
    let mut out = Vec::new();
    let mut socket = Vec::new();
    let mut encoder = FetchEncoder::begin(3, &mut out);
    encoder.item(&FetchData::Uid(99), &mut out);
    encoder.item(&FetchData::Flags(vec![Flag::Seen]), &mut out);
    let name = FetchLiteral::Section {
        section: &section,
        origin: None,
    };
    encoder.literal_header(name, body.len() as u64, &mut out);
    socket.append(&mut out);
    for chunk in body.as_bytes().chunks(4096) {
        socket.extend_from_slice(chunk);
    }
    encoder.finish(&mut out);
    socket.append(&mut out);
    let head = format!(
        "* 3 FETCH (UID 99 FLAGS (\\Seen) BODY[] {{{}}}\r\n",
        body.len()
    );
    assert!(socket.starts_with(head.as_bytes()));
    assert!(socket.ends_with(b"Line\r\n)\r\n"));
    assert_eq!(socket.len(), head.len() + body.len() + 3);
    let greeting = Response::status(
        Condition::Ok,
        Some(Code::Capability(vec![
            "IMAP4rev1".into(),
            "LITERAL+".into(),
        ])),
        "Postel ready",
    );
    assert_eq!(
        greeting.to_bytes(),
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+] Postel ready\r\n"
    );
    assert!(MailboxName::new("INBOX").is_inbox());
}

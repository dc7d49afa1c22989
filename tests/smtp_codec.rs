//! The SMTP codec driven the way the session will drive it: a small
//! synchronous driver (line reader → parser → sequencer → DATA/BDAT
//! receivers → replies) fed client streams whole, byte-at-a-time and in
//! random chunks. Checks that the pieces hand bytes to each other without
//! losing sync: pipelining, DATA and BDAT hand-over, smuggling, skipped
//! chunks, overlong lines, the error limit.

use postel::protocol::smtp::{
    BdatReceiver, Capabilities, ChunkOutcome, ChunkSkipper, Command, DataLimits, DataOutcome,
    DataReceiver, Ehlo, ErrorCounter, ErrorVerdict, LineReader, Reply, Sequencer,
};

enum Mode {
    Command,
    Data(DataReceiver),
    Bdat,
    Skip(ChunkSkipper),
}

struct Driver {
    reader: LineReader,
    seq: Sequencer,
    caps: Capabilities,
    errors: ErrorCounter,
    mode: Mode,
    bdat: BdatReceiver,
    bdat_last: bool,
    message: Vec<u8>,
    messages: Vec<Vec<u8>>,
    replies: Vec<String>,
    closed: bool,
}

impl Driver {
    fn new() -> Self {
        Driver {
            reader: LineReader::default(),
            seq: Sequencer::new(100, false),
            caps: Capabilities {
                pipelining: true,
                size: Some(1000),
                starttls: true,
                enhanced_status_codes: true,
                chunking: true,
                ..Capabilities::default()
            },
            errors: ErrorCounter::default(),
            mode: Mode::Command,
            bdat: BdatReceiver::new(1000),
            bdat_last: false,
            message: Vec::new(),
            messages: Vec::new(),
            replies: Vec::new(),
            closed: false,
        }
    }

    fn reply(&mut self, reply: Reply) {
        let wire = String::from_utf8(reply.to_bytes()).expect("UTF-8 reply");
        self.replies.push(wire.trim_end().replace("\r\n", "|"));
        if reply.closes_connection() {
            self.closed = true;
        } else if self.errors.observe(&reply) == ErrorVerdict::Disconnect {
            self.reply(Reply::too_many_errors("mx"));
        }
    }

    /// One read from the socket.
    fn input(&mut self, bytes: &[u8]) {
        let mut pending = bytes.to_vec();
        while !self.closed {
            let consumed = match &mut self.mode {
                Mode::Command => {
                    self.reader.feed(&pending);
                    if !self.commands() {
                        return;
                    }
                    pending = self.reader.take_buffered();
                    continue;
                }
                Mode::Data(rx) => {
                    let progress = rx.feed(&pending, &mut self.message);
                    if let Some(outcome) = progress.outcome {
                        self.data_done(outcome);
                    }
                    progress.consumed
                }
                Mode::Bdat => {
                    let progress = self.bdat.feed(&pending, &mut self.message);
                    if let Some(outcome) = progress.outcome {
                        self.chunk_done(outcome);
                    }
                    progress.consumed
                }
                Mode::Skip(skipper) => {
                    let progress = skipper.feed(&pending);
                    if progress.outcome.is_some() {
                        self.mode = Mode::Command;
                    }
                    progress.consumed
                }
            };
            pending.drain(..consumed);
            if pending.is_empty() && matches!(self.mode, Mode::Data(_) | Mode::Bdat | Mode::Skip(_))
            {
                return;
            }
        }
    }

    /// Handles buffered lines; true if it switched to a data mode.
    fn commands(&mut self) -> bool {
        while let Some(line) = self.reader.next_line() {
            match line {
                Err(_) => self.reply(Reply::line_too_long()),
                Ok(line) => match Command::parse(&line.bytes) {
                    Err(e) => self.reply(e.reply()),
                    Ok(cmd) => self.command(cmd),
                },
            }
            if self.closed || !matches!(self.mode, Mode::Command) {
                return !self.closed;
            }
        }
        false
    }

    fn command(&mut self, cmd: Command) {
        if let Err(reply) = self.seq.check(&cmd, &self.caps) {
            if let Command::Bdat { size, .. } = cmd {
                self.mode = Mode::Skip(ChunkSkipper::new(size));
            }
            return self.reply(reply);
        }
        match cmd {
            Command::Ehlo(name) => {
                self.seq.on_greeting(true);
                let reply = Ehlo::new("mx")
                    .greet(name)
                    .capabilities(self.caps.clone())
                    .reply();
                self.reply(reply);
            }
            Command::Mail { params, .. } => {
                self.seq.on_mail(params.body, params.smtputf8);
                self.bdat = BdatReceiver::new(1000);
                self.reply(Reply::mail_ok());
            }
            Command::Rcpt { .. } => {
                self.seq.on_rcpt(true);
                self.reply(Reply::rcpt_ok());
            }
            Command::Data => {
                self.seq.on_data_start();
                self.mode = Mode::Data(DataReceiver::new(DataLimits {
                    max_size: 1000,
                    max_line: 998,
                }));
                self.reply(Reply::data_start());
            }
            Command::Bdat { size, last } => {
                self.bdat.begin_chunk(size, last);
                self.bdat_last = last;
                self.mode = Mode::Bdat;
            }
            Command::StartTls => {
                self.reply(Reply::start_tls());
                let discarded = self.reader.discard_buffered();
                self.replies.push(format!("(tls; {discarded} discarded)"));
                self.seq.on_tls();
                self.caps.starttls = false;
            }
            Command::Rset => {
                self.seq.on_rset();
                self.reply(Reply::ok());
            }
            Command::Quit => self.reply(Reply::quit()),
            _ => self.reply(Reply::ok()),
        }
    }

    fn data_done(&mut self, outcome: DataOutcome) {
        self.mode = Mode::Command;
        self.seq.end_transaction();
        self.deliver(outcome.reply());
    }

    fn chunk_done(&mut self, outcome: ChunkOutcome) {
        self.mode = Mode::Command;
        match outcome {
            ChunkOutcome::Accepted { size } => {
                self.seq.on_bdat_chunk(false);
                self.reply(Reply::bdat_chunk(size));
            }
            ChunkOutcome::Complete { .. } | ChunkOutcome::TooBig => {
                self.seq.on_bdat_chunk(true);
                self.deliver(outcome.reply());
            }
        }
    }

    fn deliver(&mut self, refusal: Option<Reply>) {
        let message = std::mem::take(&mut self.message);
        match refusal {
            Some(reply) => self.reply(reply),
            None => {
                self.messages.push(message);
                self.errors.reset();
                self.reply(Reply::queued("ID"));
            }
        }
    }
}

/// Runs `input` whole, byte-at-a-time and in random chunks; all runs must
/// give the same replies and messages.
fn converse(input: &[u8]) -> (Vec<String>, Vec<Vec<u8>>) {
    let mut splits: Vec<Vec<&[u8]>> = vec![vec![input], input.chunks(1).collect()];
    let mut state = 0x2545_F491_u64;
    for _ in 0..8 {
        let mut chunks = Vec::new();
        let mut rest = input;
        while !rest.is_empty() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (1 + (state % 23) as usize).min(rest.len());
            chunks.push(&rest[..n]);
            rest = &rest[n..];
        }
        splits.push(chunks);
    }
    let mut results = splits.into_iter().map(|chunks| {
        let mut driver = Driver::new();
        for chunk in chunks {
            driver.input(chunk);
        }
        (driver.replies, driver.messages)
    });
    let first = results.next().expect("one run");
    for (i, other) in results.enumerate() {
        assert_eq!(other, first, "split #{} disagrees", i + 1);
    }
    first
}

const EHLO_REPLY: &str =
    "250-mx Hello c|250-PIPELINING|250-SIZE 1000|250-STARTTLS|250-ENHANCEDSTATUSCODES|250 CHUNKING";

#[test]
fn pipelined_transaction_with_data() {
    let input = b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n\
                  Subject: x\r\n\r\nhi\r\n..dot\r\n.\r\nQUIT\r\nNOOP\r\n";
    let (replies, messages) = converse(input);
    assert_eq!(
        replies,
        [
            EHLO_REPLY,
            "250 2.1.0 Ok",
            "250 2.1.5 Ok",
            "354 End data with <CR><LF>.<CR><LF>",
            "250 2.0.0 Ok: queued as ID",
            "221 2.0.0 Bye",
        ]
    );
    assert_eq!(messages, [b"Subject: x\r\n\r\nhi\r\n.dot\r\n".to_vec()]);
}

#[test]
fn smuggled_message_stays_inside_the_refused_one() {
    for separator in ["\n.\r\n", "\r\n.\n", "\r.\r\n", "\n.\n"] {
        let input = format!(
            "EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nfirst{separator}\
             MAIL FROM:<spoof@victim.example>\r\nRCPT TO:<d@e.f>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"
        );
        let (replies, messages) = converse(input.as_bytes());
        assert_eq!(
            replies[3..],
            [
                "354 End data with <CR><LF>.<CR><LF>".to_string(),
                Reply::bare_newline().to_string().trim_end().to_string(),
                "221 2.0.0 Bye".to_string(),
            ],
            "{separator:?}"
        );
        assert!(messages.is_empty(), "{separator:?}");
    }
}

#[test]
fn bdat_chunks_with_pipelined_commands() {
    let input = b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nBDAT 7\r\nhel\r\n.\rBDAT 6 LAST\r\n world\
                  QUIT\r\n";
    let (replies, messages) = converse(input);
    assert_eq!(
        replies[3..],
        [
            "250 2.0.0 Ok: 7 octets",
            "250 2.0.0 Ok: queued as ID",
            "221 2.0.0 Bye"
        ]
    );
    assert_eq!(messages, [b"hel\r\n.\r world".to_vec()]);
}

#[test]
fn refused_bdat_chunk_is_skipped_not_executed() {
    let input = b"EHLO c\r\nBDAT 6\r\nQUIT\r\nRSET\r\nQUIT\r\n";
    let (replies, _) = converse(input);
    assert_eq!(
        replies[1..],
        [
            "503 5.5.1 Error: need MAIL command",
            "250 2.0.0 Ok",
            "221 2.0.0 Bye"
        ]
    );
}

#[test]
fn oversized_bdat_then_next_transaction() {
    let mut input =
        b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nBDAT 1200 LAST\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'Q', 1200));
    input.extend_from_slice(b"MAIL FROM:<a@b.c>\r\nQUIT\r\n");
    let (replies, messages) = converse(&input);
    assert_eq!(
        replies[3..],
        [
            "552 5.3.4 Message size exceeds fixed limit",
            "250 2.1.0 Ok",
            "221 2.0.0 Bye"
        ]
    );
    assert!(messages.is_empty());
}

#[test]
fn oversized_data_then_next_command() {
    let mut input = b"EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n".to_vec();
    input.extend(b"0123456789\r\n".repeat(100));
    input.extend_from_slice(b".\r\nRSET\r\n");
    let (replies, _) = converse(&input);
    assert_eq!(
        replies[4..],
        ["552 5.3.4 Message size exceeds fixed limit", "250 2.0.0 Ok"]
    );
}

#[test]
fn starttls_discards_plaintext_pipelined_after_it() {
    let mut driver = Driver::new();
    driver.input(b"EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@x.y>\r\nRCPT TO:<v@x.y>\r\n");
    assert_eq!(
        driver.replies[1..],
        ["220 2.0.0 Ready to start TLS", "(tls; 39 discarded)"]
    );
    driver.input(b"MAIL FROM:<a@b.c>\r\n");
    assert_eq!(driver.replies[3], "503 5.5.1 Error: send HELO/EHLO first");
}

#[test]
fn overlong_line_in_pipeline_keeps_sync() {
    let input = format!("EHLO c\r\nNOOP {}\r\nRSET\r\n", "x".repeat(3000));
    let (replies, _) = converse(input.as_bytes());
    assert_eq!(
        replies[1..],
        ["500 5.5.2 Error: line too long", "250 2.0.0 Ok"]
    );
}

#[test]
fn too_many_errors_closes() {
    let input = "BOGUS\r\n".repeat(30);
    let (replies, _) = converse(input.as_bytes());
    assert_eq!(replies.len(), 21);
    assert_eq!(replies[20], "421 4.7.0 mx Error: too many errors");
}

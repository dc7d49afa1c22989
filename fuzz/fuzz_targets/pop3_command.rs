//! Fuzzes the POP3 codec: any bytes as a command line never panic, and a
//! parsed command prints to a line that parses back to the same value;
//! dot-stuffing any bytes never produces a line that is a lone `.`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postel::protocol::pop3::{dot_stuff, Command};

fuzz_target!(|data: &[u8]| {
    if let Ok(cmd) = Command::parse(data) {
        let line = cmd.to_line();
        let body = line.strip_suffix("\r\n").expect("CRLF");
        assert_eq!(Command::parse(body.as_bytes()), Ok(cmd));
    }
    let mut out = Vec::new();
    dot_stuff(data, &mut out);
    for line in out.split(|&b| b == b'\n') {
        assert_ne!(line, b".\r", "a stuffed body never contains the terminator");
    }
});

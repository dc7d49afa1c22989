//! Fuzzes modified UTF-7 (mailbox names on the wire and on disk): encoding
//! any string decodes back to it, and any input that decodes re-encodes
//! to exactly the same bytes (one canonical form).
#![no_main]

use libfuzzer_sys::fuzz_target;
use postel::mutf7::{decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        assert_eq!(decode(&encode(s)).as_deref(), Ok(s));
        if let Ok(decoded) = decode(s) {
            assert_eq!(encode(&decoded), s);
        }
    }
});

//! Sans-IO protocol codecs: bytes in, commands or "need more" out; replies
//! out as bytes. No tokio, no sqlx, no filesystem in here.

pub mod imap;
pub mod pop3;
pub mod sasl;
pub mod smtp;

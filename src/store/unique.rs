//! Maildir file names and message bytes.
//!
//! Owns: generating Dovecot-style unique names
//! (`<secs>.M<usecs>P<pid>Q<counter>R<random>.<host>,S=<size>,W=<vsize>`),
//! splitting a file name into its identity (the base name before `:2,`)
//! and its info, reading the fields other programs rely on (`S=`, `W=`,
//! the leading timestamp), and line-ending normalisation: messages are
//! stored with CRLF so the file size is the RFC822.SIZE.
//! Must not: touch the filesystem (except [`crlf_size_of_file`]).

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The separator between a Maildir base name and its info.
pub(crate) const INFO_SEP: &str = ":2,";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Escapes a host name the way Dovecot does for Maildir names: `/` becomes
/// `\057` and `:` becomes `\072`.
pub(crate) fn escape_hostname(host: &str) -> String {
    let mut out = String::with_capacity(host.len());
    for c in host.chars() {
        match c {
            '/' => out.push_str("\\057"),
            ':' => out.push_str("\\072"),
            c => out.push(c),
        }
    }
    out
}

/// A fresh unique base name for a message of `size` CRLF octets.
/// Unique across processes (pid), within a process (counter) and across
/// pid reuse and hosts (time, random, host name).
pub(crate) fn unique_name(escaped_host: &str, size: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}.M{}P{}Q{}R{:016x}.{},S={size},W={size}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        counter,
        rand::random::<u64>(),
        escaped_host,
    )
}

/// Splits a Maildir file name into `(base, info)`; `info` is `None` when
/// the name has no `:2,` part (as in `new/`).
pub(crate) fn split_name(file: &str) -> (&str, Option<&str>) {
    match file.find(INFO_SEP) {
        Some(i) => (&file[..i], Some(&file[i + INFO_SEP.len()..])),
        None => (file, None),
    }
}

/// The file name for `base` with the given info letters.
pub(crate) fn with_info(base: &str, info: &str) -> String {
    format!("{base}{INFO_SEP}{info}")
}

/// The value of a `,<key>=<digits>` field in a base name (`S`, `W`).
pub(crate) fn field(base: &str, key: char) -> Option<u64> {
    base.split(',').skip(1).find_map(|f| {
        let v = f.strip_prefix(key)?.strip_prefix('=')?;
        v.parse().ok()
    })
}

/// The `(seconds, microseconds)` a Dovecot/Courier style name starts
/// with (`1700000000.M123456P…`), used to order new messages.
pub(crate) fn name_time(base: &str) -> Option<(u64, u32)> {
    let (secs, rest) = base.split_once('.')?;
    let secs = secs.parse().ok()?;
    let usecs = rest
        .strip_prefix('M')
        .map(|r| {
            let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap_or(0)
        })
        .unwrap_or(0);
    Some((secs, usecs))
}

/// Whether a directory entry name can be a message file: not hidden and
/// free of path separators.
pub(crate) fn is_message_name(file: &str) -> bool {
    !file.is_empty() && !file.starts_with('.') && !file.contains('/')
}

/// `bytes` with every bare LF turned into CRLF.
pub(crate) fn to_crlf(bytes: &[u8]) -> Cow<'_, [u8]> {
    if crlf_extra(bytes, false) == 0 {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 32);
    let mut prev = 0u8;
    for &b in bytes {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    Cow::Owned(out)
}

/// How many CRs normalising `bytes` adds (bare LFs); `prev_cr` says the
/// byte before `bytes` was a CR.
fn crlf_extra(bytes: &[u8], prev_cr: bool) -> u64 {
    let mut prev_cr = prev_cr;
    let mut extra = 0;
    for &b in bytes {
        if b == b'\n' && !prev_cr {
            extra += 1;
        }
        prev_cr = b == b'\r';
    }
    extra
}

/// The RFC822.SIZE of a file that may use bare LF: its length plus one
/// per bare LF. Streams the file.
///
/// # Errors
/// The file cannot be read.
pub(crate) fn crlf_size_of_file(path: &Path) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut prev_cr = false;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64 + crlf_extra(&buf[..n], prev_cr);
        prev_cr = buf[n - 1] == b'\r';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dovecot_shaped_and_distinct() {
        let host = escape_hostname("mx/1:2");
        assert_eq!(host, "mx\\0571\\0722");
        let a = unique_name(&host, 42);
        let b = unique_name(&host, 42);
        assert_ne!(a, b);
        assert!(a.ends_with(".mx\\0571\\0722,S=42,W=42"), "{a}");
        assert!(a.contains(&format!("P{}Q", std::process::id())));
        assert_eq!(field(&a, 'S'), Some(42));
        assert_eq!(field(&a, 'W'), Some(42));
        assert!(name_time(&a).is_some());
        assert!(is_message_name(&a));
    }

    #[test]
    fn split_and_fields() {
        let (base, info) = split_name("1700000000.M5P1.host,S=10,W=12:2,FS");
        assert_eq!(base, "1700000000.M5P1.host,S=10,W=12");
        assert_eq!(info, Some("FS"));
        assert_eq!(split_name("foo"), ("foo", None));
        assert_eq!(field(base, 'W'), Some(12));
        assert_eq!(field("foo,S=x", 'S'), None);
        assert_eq!(name_time(base), Some((1_700_000_000, 5)));
        assert_eq!(name_time("1700000000.123_4.host"), Some((1_700_000_000, 0)));
        assert_eq!(name_time("foreign-name"), None);
        assert_eq!(with_info("b", "S"), "b:2,S");
    }

    #[test]
    fn crlf_normalisation() {
        assert_eq!(&*to_crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
        assert!(matches!(to_crlf(b"a\r\n"), Cow::Borrowed(_)));
        assert_eq!(&*to_crlf(b"\n\n"), b"\r\n\r\n");
        assert_eq!(crlf_extra(b"\nx\r\n", true), 0);
        assert_eq!(crlf_extra(b"\nx\r\n", false), 1);
    }

    #[test]
    fn crlf_size_streams_across_chunks() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("m");
        let mut body = vec![b'x'; 64 * 1024 - 1];
        body.extend_from_slice(b"\r\nline\nend\n");
        std::fs::write(&path, &body)?;
        assert_eq!(crlf_size_of_file(&path)?, body.len() as u64 + 2);
        Ok(())
    }
}

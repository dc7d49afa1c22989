//! Checks that span several keys, run after every key was read: the TLS
//! pair, listener address clashes, greylist timing; and resolving relative
//! paths against the working directory.
//!
//! The TLS files are opened to prove they are readable, never parsed;
//! `crate::tls` parses them.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::Config;
use super::reader::Reader;
use super::sections::Bound;

/// Runs every cross-key check, after [`resolve_paths`].
pub(super) fn check(r: &mut Reader<'_>, c: &Config, bound: &[Bound]) {
    tls_pair(r, c);
    listeners(r, bound);
    greylist_timing(r, c);
}

/// Makes `server.data_dir`, `tls.cert` and `tls.key` absolute, relative
/// to the current working directory, so a later change of directory
/// cannot move them.
pub(super) fn resolve_paths(r: &mut Reader<'_>, c: &mut Config) {
    let cwd = std::env::current_dir();
    let mut resolve = |key: &str, p: &mut PathBuf| {
        if p.is_absolute() {
            return;
        }
        match &cwd {
            Ok(dir) => *p = dir.join(&*p).components().collect(),
            Err(e) => {
                let line = r.line_of_key(key).unwrap_or(0);
                let message = format!(
                    "relative path {} cannot be resolved: working directory unknown ({e})",
                    p.display()
                );
                r.report(line, key, message);
            }
        }
    };
    resolve("server.data_dir", &mut c.server.data_dir);
    if let Some(cert) = c.tls.cert.as_mut() {
        resolve("tls.cert", cert);
    }
    if let Some(key) = c.tls.key.as_mut() {
        resolve("tls.key", key);
    }
}

/// Both `tls.cert` and `tls.key`, or neither; each must be a readable file.
fn tls_pair(r: &mut Reader<'_>, c: &Config) {
    let line = |r: &Reader<'_>, key| r.line_of_key(key).unwrap_or(0);
    let neither = "set both (your own certificate) or neither (a self-signed certificate \
                   for server.hostname is generated in data_dir)";
    match (&c.tls.cert, &c.tls.key) {
        (Some(_), None) => {
            let at = line(r, "tls.cert");
            r.report(
                at,
                "tls.key",
                format!("missing while tls.cert is set: {neither}"),
            );
        }
        (None, Some(_)) => {
            let at = line(r, "tls.key");
            r.report(
                at,
                "tls.cert",
                format!("missing while tls.key is set: {neither}"),
            );
        }
        _ => {}
    }
    for (key, file) in [("tls.cert", &c.tls.cert), ("tls.key", &c.tls.key)] {
        if let Some(file) = file
            && let Err(message) = readable_file(file)
        {
            let at = line(r, key);
            r.report(at, key, message);
        }
    }
}

/// Whether `path` is a regular file this process can open for reading.
fn readable_file(path: &Path) -> Result<(), String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Err(format!("file {shown} does not exist")),
        Err(e) => Err(format!("cannot access {shown}: {e}")),
        Ok(meta) if meta.is_dir() => Err(format!("{shown} is a directory, not a PEM file")),
        Ok(_) => std::fs::File::open(path)
            .map(drop)
            .map_err(|e| format!("file {shown} is not readable: {e}")),
    }
}

/// Whether binding `a` and then `b` would fail: the same address, or a
/// wildcard and another address of the same family, on the same port.
/// Port 0 (any free port) never clashes.
fn clash(a: SocketAddr, b: SocketAddr) -> bool {
    if a.port() != b.port() || a.port() == 0 || a.is_ipv4() != b.is_ipv4() {
        return false;
    }
    a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified()
}

/// No two listener addresses may clash; the later one in the file is
/// reported, naming the earlier one.
fn listeners(r: &mut Reader<'_>, bound: &[Bound]) {
    // Defaults (line 0) count as "earlier" than anything written.
    let mut order: Vec<&Bound> = bound.iter().collect();
    order.sort_by_key(|b| b.line);
    for (i, later) in order.iter().enumerate() {
        let Some(first) = order[..i].iter().find(|b| clash(b.addr, later.addr)) else {
            continue;
        };
        let where_ = match first.line {
            0 => "its default".to_string(),
            n => format!("line {n}"),
        };
        let how = if first.addr == later.addr {
            "is already used by".to_string()
        } else {
            format!("clashes with {} of", first.addr)
        };
        let message = format!("address {} {how} {} ({where_})", later.addr, first.key);
        r.report(later.line, &later.key, message);
    }
}

/// `greylist.max_age` must exceed `greylist.delay`, or every triplet is
/// forgotten before its retry could pass.
fn greylist_timing(r: &mut Reader<'_>, c: &Config) {
    let g = &c.greylist;
    if !g.enabled || g.max_age > g.delay {
        return;
    }
    let (key, line) = match r.line_of_key("greylist.max_age") {
        Some(n) => ("greylist.max_age", n),
        None => (
            "greylist.delay",
            r.line_of_key("greylist.delay").unwrap_or(0),
        ),
    };
    let message = format!(
        "greylist.max_age ({}) must be longer than greylist.delay ({}): \
         senders would be forgotten before their retry is accepted",
        g.max_age, g.delay
    );
    r.report(line, key, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn clashes() {
        assert!(clash(a("127.0.0.1:25"), a("127.0.0.1:25")));
        assert!(clash(a("0.0.0.0:25"), a("127.0.0.1:25")));
        assert!(clash(a("10.0.0.1:25"), a("0.0.0.0:25")));
        assert!(clash(a("[::]:25"), a("[::1]:25")));
        assert!(!clash(a("0.0.0.0:25"), a("[::]:25")), "separate families");
        assert!(!clash(a("127.0.0.1:25"), a("127.0.0.2:25")));
        assert!(!clash(a("127.0.0.1:25"), a("127.0.0.1:26")));
        assert!(
            !clash(a("127.0.0.1:0"), a("127.0.0.1:0")),
            "port 0 picks a free port"
        );
    }

    #[test]
    fn readable_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("cert.pem");
        std::fs::write(&file, "x").expect("write");
        assert_eq!(readable_file(&file), Ok(()));
        let missing = readable_file(&dir.path().join("nope.pem"));
        assert!(missing.is_err_and(|m| m.contains("does not exist")));
        assert!(readable_file(dir.path()).is_err_and(|m| m.contains("directory")));
    }
}

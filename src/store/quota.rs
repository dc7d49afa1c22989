//! Maildir++ quota: the `maildirsize` file at the account root.
//!
//! Format: the first line holds the limit (`<bytes>S`; `0S` means no
//! limit), every further line `<bytes> <count>` is a delta — one line
//! appended per delivery, a negative one per expunge. Usage is the sum of
//! the deltas. The file is recalculated (all folders scanned, written to
//! a temporary name and renamed over) when it is missing, unreadable,
//! larger than 5120 bytes, older than 15 minutes, or its limit differs
//! from the one in force. As in every Maildir++ implementation, the
//! check is advisory under concurrency: two simultaneous deliveries may
//! both pass it.
//!
//! Owns: that file. Must not: know where the limit comes from (the
//! directory passes it in).

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::error::{Result, io_err};
use super::maildir::{folder_dirs, list_files};
use super::unique::{field, split_name};

/// How much an account stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaUsage {
    /// Octets of all message files.
    pub bytes: u64,
    /// Number of messages.
    pub messages: u64,
}

const FILE: &str = "maildirsize";
const MAX_SIZE: u64 = 5120;
const MAX_AGE: Duration = Duration::from_secs(15 * 60);

/// Reads the usage, recalculating when the file is stale (see module
/// docs). `limit` is the limit in force, or `None` when unknown (then the
/// file's own header is kept).
pub(crate) fn usage(account_dir: &Path, limit: Option<u64>) -> Result<QuotaUsage> {
    let path = account_dir.join(FILE);
    if let Some((header, usage)) = read_fresh(&path)
        && limit.is_none_or(|l| l == header)
    {
        return Ok(usage);
    }
    let header = limit.or_else(|| read_header(&path)).unwrap_or(0);
    recalculate(account_dir, header)
}

fn read_header(path: &Path) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    parse_header(text.lines().next()?)
}

fn parse_header(line: &str) -> Option<u64> {
    line.split(',')
        .find_map(|f| f.trim().strip_suffix('S'))
        .and_then(|v| v.parse().ok())
}

/// `(limit, usage)` from the file if it exists, parses and is fresh.
fn read_fresh(path: &Path) -> Option<(u64, QuotaUsage)> {
    let meta = fs::metadata(path).ok()?;
    let age = SystemTime::now()
        .duration_since(meta.modified().ok()?)
        .unwrap_or_default();
    if meta.len() > MAX_SIZE || age > MAX_AGE {
        return None;
    }
    let text = fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let limit = parse_header(lines.next()?)?;
    let (mut bytes, mut count) = (0i64, 0i64);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let mut it = line.split_ascii_whitespace();
        bytes += it.next()?.parse::<i64>().ok()?;
        count += it.next()?.parse::<i64>().ok()?;
    }
    let usage = QuotaUsage {
        bytes: u64::try_from(bytes).unwrap_or(0),
        messages: u64::try_from(count).unwrap_or(0),
    };
    Some((limit, usage))
}

/// Scans every folder of the account and rewrites `maildirsize`.
pub(crate) fn recalculate(account_dir: &Path, limit: u64) -> Result<QuotaUsage> {
    let mut usage = QuotaUsage::default();
    let mut dirs = vec![account_dir.to_path_buf()];
    dirs.extend(
        folder_dirs(account_dir)?
            .into_iter()
            .map(|d| account_dir.join(d)),
    );
    for dir in dirs {
        for sub in ["cur", "new"] {
            let d = dir.join(sub);
            let names = match list_files(&d) {
                Ok(v) => v,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&d)(e)),
            };
            for name in names {
                let size = match field(split_name(&name).0, 'S') {
                    Some(s) => s,
                    None => fs::metadata(d.join(&name)).map(|m| m.len()).unwrap_or(0),
                };
                usage.bytes += size;
                usage.messages += 1;
            }
        }
    }
    if account_dir.is_dir() {
        let tmp = account_dir.join(format!("{FILE}.{:016x}", rand::random::<u64>()));
        let text = format!("{limit}S\n{} {}\n", usage.bytes, usage.messages);
        fs::write(&tmp, text).map_err(io_err(&tmp))?;
        if let Err(e) = fs::rename(&tmp, account_dir.join(FILE)) {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(&tmp)(e));
        }
    }
    Ok(usage)
}

/// Appends a delta line if the file exists (a missing file is rebuilt by
/// the next [`usage`] anyway). Failures are logged: the quota file is
/// advisory and the next recalculation repairs it.
pub(crate) fn record(account_dir: &Path, bytes: i64, count: i64) {
    if bytes == 0 && count == 0 {
        return;
    }
    let path = account_dir.join(FILE);
    let res = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{bytes} {count}\n").as_bytes()));
    match res {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot update maildirsize"),
    }
}

/// Removes the file so the next [`usage`] recalculates (after deleting a
/// whole folder).
pub(crate) fn invalidate(account_dir: &Path) {
    let path = account_dir.join(FILE);
    if let Err(e) = fs::remove_file(&path)
        && e.kind() != ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove maildirsize");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::maildir::create_subdirs;

    #[test]
    fn deltas_and_recalculation() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let root = tmp.path();
        create_subdirs(root, false)?;
        fs::create_dir(root.join(".Sent")).map_err(io_err(root))?;
        create_subdirs(&root.join(".Sent"), true)?;
        fs::write(root.join("new/1.M1P1.h,S=5,W=5"), "12345").map_err(io_err(root))?;
        fs::write(root.join(".Sent/cur/foreign:2,S"), "abc").map_err(io_err(root))?;
        let u = usage(root, Some(1000))?;
        assert_eq!(
            u,
            QuotaUsage {
                bytes: 8,
                messages: 2
            }
        );
        let text = fs::read_to_string(root.join(FILE)).map_err(io_err(root))?;
        assert!(text.starts_with("1000S\n"), "{text}");
        record(root, 100, 1);
        record(root, -5, -1);
        assert_eq!(
            usage(root, Some(1000))?,
            QuotaUsage {
                bytes: 103,
                messages: 2
            }
        );
        assert_eq!(
            usage(root, None)?,
            QuotaUsage {
                bytes: 103,
                messages: 2
            }
        );
        // A different limit forces a rescan, which finds the real files.
        assert_eq!(
            usage(root, Some(2000))?,
            QuotaUsage {
                bytes: 8,
                messages: 2
            }
        );
        invalidate(root);
        record(root, 1, 1);
        assert!(!root.join(FILE).exists());
        Ok(())
    }
}

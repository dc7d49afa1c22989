//! The spool directory `data_dir/queue/`: one file per queued message,
//! named by its queue id, holding the message exactly as it will be sent.
//!
//! Writing is durable before anything is acknowledged: the bytes go to
//! `<id>.tmp`, which is fsync'd, renamed to `<id>` and the directory
//! fsync'd. The envelope and each recipient's state live in SQL; a file
//! without rows (a crash between the file and the commit) is removed by
//! [`Spool::orphans`] at the next start. Files are never changed once
//! written, so several nodes sharing the directory need no locking.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Spool files are private to the mail system.
const FILE_MODE: u32 = 0o600;

/// How much of a spool file is read at once when it is scanned or sent:
/// delivery never holds a whole message in memory.
pub(crate) const CHUNK: usize = 64 * 1024;

/// What delivery must know about a message before MAIL FROM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    /// Its size in octets (for SIZE=, RFC 1870).
    pub size: u64,
    /// It has octets above 127 (for BODY=8BITMIME, RFC 6152).
    pub eight_bit: bool,
}

/// The spool directory.
#[derive(Debug, Clone)]
pub(crate) struct Spool {
    dir: PathBuf,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

/// A new queue id: time-ordered, with enough randomness that nodes
/// sharing a spool never collide. Only `[0-9a-f]`, safe as a file name.
pub(crate) fn new_id() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:010x}{:05x}{:08x}",
        now.as_secs(),
        now.subsec_micros(),
        rand::random::<u32>()
    )
}

/// Whether `id` looks like one of ours (it names a file, so nothing
/// else may be used as a path).
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Spool {
    /// The spool at `dir` (created on first write).
    pub(crate) fn new(dir: PathBuf) -> Spool {
        Spool { dir }
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of message `id`.
    pub(crate) fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Writes message `id` durably (file and directory fsync'd).
    pub(crate) async fn write(&self, id: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let dir = self.dir.clone();
        let (tmp, path) = (dir.join(format!("{id}.tmp")), self.path(id));
        blocking(move || {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)?;
            let staged = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&tmp)
                .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()))
                // A link, unlike a rename, never replaces an existing file.
                .and_then(|()| std::fs::hard_link(&tmp, &path));
            let _ = std::fs::remove_file(&tmp);
            staged?;
            let synced = std::fs::File::open(&dir).and_then(|d| d.sync_all());
            if synced.is_err() {
                let _ = std::fs::remove_file(&path);
            }
            synced
        })
        .await
    }

    /// Reads message `id`.
    pub(crate) async fn read(&self, id: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path(id);
        blocking(move || std::fs::read(path)).await
    }

    /// The start of message `id`, through the end of its header section
    /// (the first empty line), or its first `limit` octets cut after the
    /// last complete line when the header section is longer: what a
    /// delivery status notice quotes, without reading the whole message.
    pub(crate) async fn read_head(&self, id: &str, limit: usize) -> std::io::Result<Vec<u8>> {
        let path = self.path(id);
        blocking(move || {
            let mut file = std::fs::File::open(path)?;
            let mut head = Vec::new();
            let mut buf = vec![0u8; CHUNK.min(limit.max(1))];
            while head.len() < limit {
                let n = match std::io::Read::read(&mut file, &mut buf) {
                    Ok(0) => return Ok(head),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                // Look for the empty line from a little before the new bytes.
                let from = head.len().saturating_sub(3);
                head.extend_from_slice(&buf[..n]);
                let tail = &head[from..];
                let end = tail
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|p| from + p + 4)
                    .or_else(|| {
                        tail.windows(2)
                            .position(|w| w == b"\n\n")
                            .map(|p| from + p + 2)
                    });
                if let Some(end) = end {
                    head.truncate(end);
                    return Ok(head);
                }
            }
            head.truncate(limit);
            let line_end = head.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            head.truncate(line_end);
            Ok(head)
        })
        .await
    }

    /// Scans message `id` in [`CHUNK`]s for its [`Facts`].
    pub(crate) async fn facts(&self, id: &str) -> std::io::Result<Facts> {
        let path = self.path(id);
        blocking(move || {
            let mut file = std::fs::File::open(path)?;
            let mut buf = vec![0u8; CHUNK];
            let mut facts = Facts {
                size: 0,
                eight_bit: false,
            };
            loop {
                let n = match std::io::Read::read(&mut file, &mut buf) {
                    Ok(0) => return Ok(facts),
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                facts.size += n as u64;
                facts.eight_bit |= !buf[..n].is_ascii();
            }
        })
        .await
    }

    /// Removes message `id`; a file already gone is fine.
    pub(crate) async fn remove(&self, id: &str) -> std::io::Result<()> {
        let path = self.path(id);
        blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
    }

    /// Queue ids of files (and `.tmp` leftovers, as `(name, true)`) last
    /// modified more than `older_than` ago: candidates for removal when
    /// no row names them.
    pub(crate) async fn orphans(
        &self,
        older_than: Duration,
    ) -> std::io::Result<Vec<(String, bool)>> {
        let dir = self.dir.clone();
        blocking(move || {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let cutoff = SystemTime::now()
                .checked_sub(older_than)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let mut out = Vec::new();
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let old = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < cutoff);
                let (id, tmp) = match name.strip_suffix(".tmp") {
                    Some(id) => (id.to_string(), true),
                    None => (name, false),
                };
                if old && valid_id(&id) {
                    out.push((id, tmp));
                }
            }
            Ok(out)
        })
        .await
    }

    /// Removes a leftover `<id>.tmp`.
    pub(crate) async fn remove_tmp(&self, id: &str) -> std::io::Result<()> {
        let path = self.dir.join(format!("{id}.tmp"));
        blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn write_read_remove() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("queue"));
        let id = new_id();
        assert!(valid_id(&id));
        spool.write(&id, b"hello".to_vec()).await.expect("write");
        assert_eq!(spool.read(&id).await.expect("read"), b"hello");
        let facts = spool.facts(&id).await.expect("facts");
        assert_eq!((facts.size, facts.eight_bit), (5, false));
        assert!(
            spool.write(&id, b"again".to_vec()).await.is_err(),
            "ids are never reused"
        );
        assert_eq!(
            spool.read(&id).await.expect("read"),
            b"hello",
            "original kept"
        );
        let old = spool.orphans(Duration::ZERO).await.expect("list");
        assert_eq!(old, vec![(id.clone(), false)]);
        spool.remove(&id).await.expect("remove");
        spool.remove(&id).await.expect("remove twice");
        assert!(spool.read(&id).await.is_err());
        assert!(spool.facts(&id).await.is_err());
        assert!(!valid_id("../etc/passwd") && !valid_id(""));
    }

    /// The head of a message: its header section only, or at most the
    /// limit, cut after a complete line.
    #[tokio::test]
    async fn read_head_stops_after_the_header_section() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("queue"));
        let id = new_id();
        let mut message = b"Subject: hi\r\nX-Long: ".to_vec();
        message.extend(std::iter::repeat_n(b'y', CHUNK));
        message.extend_from_slice(b"\r\n\r\nbody\r\n\r\nmore body\r\n");
        spool.write(&id, message.clone()).await.expect("write");
        let head = spool.read_head(&id, 1 << 20).await.expect("head");
        let body = b"body\r\n\r\nmore body\r\n".len();
        assert!(
            head == message[..message.len() - body],
            "{} octets",
            head.len()
        );
        assert!(head.ends_with(b"yy\r\n\r\n"));
        let cut = spool.read_head(&id, 100).await.expect("cut head");
        assert_eq!(cut, b"Subject: hi\r\n");
        let other = new_id();
        spool
            .write(&other, b"A: b\n\nbody\n".to_vec())
            .await
            .expect("write");
        assert_eq!(
            spool.read_head(&other, 1000).await.expect("lf"),
            b"A: b\n\n"
        );
        let short = new_id();
        spool
            .write(&short, b"A: b\r\n".to_vec())
            .await
            .expect("write");
        assert_eq!(
            spool.read_head(&short, 1000).await.expect("no body"),
            b"A: b\r\n"
        );
    }

    /// Facts of a message larger than one chunk, its only 8-bit octet in
    /// the last chunk.
    #[tokio::test]
    async fn facts_scan_every_chunk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::new(dir.path().join("queue"));
        let id = new_id();
        let mut body = vec![b'a'; 3 * CHUNK];
        body.extend_from_slice("é\r\n".as_bytes());
        spool.write(&id, body.clone()).await.expect("write");
        let facts = spool.facts(&id).await.expect("facts");
        assert_eq!(facts.size, body.len() as u64);
        assert!(facts.eight_bit);
    }
}

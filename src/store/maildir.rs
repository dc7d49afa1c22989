//! Blocking Maildir++ filesystem primitives. Every function here runs
//! inside `spawn_blocking`; none touches the database.
//!
//! Owns: creating folder directories (atomically, via a staging directory
//! renamed into place), scanning a folder (moving `new/` into `cur/` as
//! Dovecot does, listing `cur/`, cleaning stale `tmp/` files), finding a
//! message by base name when another process renamed it, durable writes
//! (file fsync, directory fsync).

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::error::{Result, io_err};
use super::unique::{INFO_SEP, is_message_name, split_name};

/// Files in `tmp/` older than this are leftovers of interrupted
/// deliveries and are removed by a scan (Dovecot uses the same age).
pub(crate) const TMP_MAX_AGE: Duration = Duration::from_secs(36 * 3600);

/// Prefix of staging and trash directories inside an account; such names
/// are never folders (a folder directory never starts with `..`).
pub(crate) const INTERNAL_PREFIX: &str = "..postel-";

/// Mail is private: directories are created `0700`, files `0600` (as
/// Dovecot does), whatever the umask allows beyond that.
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates a directory (with missing parents when `recursive`).
pub(crate) fn mkdir(path: &Path, recursive: bool) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(recursive)
        .mode(DIR_MODE)
        .create(path)
}

/// Creates `cur/`, `new/`, `tmp/` in `dir` (which must exist) and, for a
/// folder (not the INBOX root), the empty `maildirfolder` marker.
pub(crate) fn create_subdirs(dir: &Path, is_folder: bool) -> Result<()> {
    for sub in ["cur", "new", "tmp"] {
        let p = dir.join(sub);
        match mkdir(&p, false) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(&p)(e)),
        }
    }
    if is_folder {
        let p = dir.join("maildirfolder");
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(FILE_MODE)
            .open(&p)
            .map_err(io_err(&p))?;
    }
    Ok(())
}

/// A random name for a staging or trash directory inside `parent`.
pub(crate) fn internal_dir(parent: &Path, what: &str) -> PathBuf {
    parent.join(format!(
        "{INTERNAL_PREFIX}{what}-{:016x}",
        rand::random::<u64>()
    ))
}

/// Makes a complete folder directory under a staging name, then renames
/// it to `dir`. Returns `false` (and leaves nothing behind) when `dir`
/// already exists.
pub(crate) fn create_folder_dir(dir: &Path) -> Result<bool> {
    if dir.exists() {
        return Ok(false);
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    let staging = internal_dir(parent, "new");
    mkdir(&staging, false).map_err(io_err(&staging))?;
    let made = create_subdirs(&staging, true).and_then(|()| match fs::rename(&staging, dir) {
        Ok(()) => Ok(true),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::AlreadyExists | ErrorKind::DirectoryNotEmpty
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(io_err(dir)(e)),
    });
    if !matches!(made, Ok(true)) {
        let _ = fs::remove_dir_all(&staging);
    }
    if matches!(made, Ok(true)) {
        fsync_dir(parent)?;
    }
    made
}

/// Moves `dir` out of the way under a trash name, then deletes it.
pub(crate) fn remove_tree(dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let trash = internal_dir(parent, "deleted");
    match fs::rename(dir, &trash) {
        Ok(()) => fs::remove_dir_all(&trash).map_err(io_err(&trash)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// Flushes a directory's entries (after a rename or create into it).
pub(crate) fn fsync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Writes `bytes` to a new file at `path`, optionally sets its mtime, and
/// fsyncs it.
pub(crate) fn write_durable(path: &Path, bytes: &[u8], mtime: Option<SystemTime>) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io_err(path))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| match mtime {
            Some(t) => file.set_modified(t),
            None => Ok(()),
        })
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(io_err(path)(e));
    }
    Ok(())
}

/// The names of the message files in `dir` (skipping hidden entries,
/// subdirectories and names that are not UTF-8).
pub(crate) fn list_files(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            tracing::warn!(dir = %dir.display(), "skipping a file name that is not UTF-8");
            continue;
        };
        if !is_message_name(&name) {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_file() => out.push(name),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Scans a folder: moves every file in `new/` to `cur/` (adding `:2,`),
/// optionally removes stale `tmp/` files, and returns the names in
/// `cur/`. `Ok(None)` when the folder directory does not exist.
pub(crate) fn scan(dir: &Path, clean_tmp: bool) -> Result<Option<Vec<String>>> {
    let new = dir.join("new");
    let cur = dir.join("cur");
    let incoming = match list_files(&new) {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&new)(e)),
    };
    for name in incoming {
        let target = if name.contains(INFO_SEP) {
            name.clone()
        } else {
            format!("{name}{INFO_SEP}")
        };
        match fs::rename(new.join(&name), cur.join(&target)) {
            Ok(()) => {}
            // Another process moved it first; the listing below sees it.
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&new.join(&name))(e)),
        }
    }
    if clean_tmp {
        clean_tmp_dir(&dir.join("tmp"));
    }
    match list_files(&cur) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&cur)(e)),
    }
}

/// Removes files in `tmp/` not modified for [`TMP_MAX_AGE`]. Failures are
/// logged, never fatal: a leftover costs disk space only.
fn clean_tmp_dir(tmp: &Path) {
    let Ok(names) = list_files(tmp) else { return };
    let now = SystemTime::now();
    for name in names {
        let path = tmp.join(&name);
        let old = fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > TMP_MAX_AGE);
        if old && let Err(e) = fs::remove_file(&path) {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove stale tmp file");
        }
    }
}

/// Finds the current file of the message with base name `base` in `cur/`
/// or `new/` of `dir`: `(path, file name)`.
pub(crate) fn find_file(dir: &Path, base: &str) -> Result<Option<(PathBuf, String)>> {
    for sub in ["cur", "new"] {
        let d = dir.join(sub);
        let names = match list_files(&d) {
            Ok(v) => v,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(&d)(e)),
        };
        if let Some(name) = names.into_iter().find(|n| split_name(n).0 == base) {
            return Ok(Some((d.join(&name), name)));
        }
    }
    Ok(None)
}

/// Reads a message by its expected path, looking it up by base name if
/// another process renamed it. `Ok(None)` when it is gone.
pub(crate) fn read_message(dir: &Path, file: &str) -> Result<Option<Vec<u8>>> {
    let path = dir.join("cur").join(file);
    match fs::read(&path) {
        Ok(b) => return Ok(Some(b)),
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&path)(e)),
    }
    let base = split_name(file).0;
    match find_file(dir, base)? {
        Some((p, _)) => match fs::read(&p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&p)(e)),
        },
        None => Ok(None),
    }
}

/// The folder directories (`.name`) directly inside an account root.
pub(crate) fn folder_dirs(account_dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(account_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(account_dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(account_dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !name.starts_with('.') || name.starts_with("..") {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_moves_new_to_cur_and_lists() -> Result<()> {
        let tmp = tempfile::tempdir().map_err(io_err(Path::new("tmp")))?;
        let dir = tmp.path().join(".F");
        assert!(create_folder_dir(&dir)?);
        assert!(!create_folder_dir(&dir)?);
        assert!(dir.join("maildirfolder").is_file());
        fs::write(dir.join("new/a"), "x").map_err(io_err(&dir))?;
        fs::write(dir.join("new/b:2,S"), "y").map_err(io_err(&dir))?;
        fs::write(dir.join("cur/.hidden"), "z").map_err(io_err(&dir))?;
        let mut names = scan(&dir, true)?.unwrap_or_default();
        names.sort();
        assert_eq!(names, ["a:2,", "b:2,S"]);
        assert!(
            list_files(&dir.join("new"))
                .map_err(io_err(&dir))?
                .is_empty()
        );
        assert_eq!(scan(&tmp.path().join(".missing"), false)?, None);
        let found = find_file(&dir, "a")?.map(|(_, n)| n);
        assert_eq!(found.as_deref(), Some("a:2,"));
        assert_eq!(read_message(&dir, "a:2,FS")?, Some(b"x".to_vec()));
        assert_eq!(read_message(&dir, "zz:2,")?, None);
        let staging: Vec<_> = fs::read_dir(tmp.path())
            .map_err(io_err(&dir))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(INTERNAL_PREFIX))
            .collect();
        assert!(staging.is_empty());
        assert_eq!(folder_dirs(tmp.path())?, [".F"]);
        Ok(())
    }
}

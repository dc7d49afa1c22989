//! `postel backup DEST`: a consistent copy of a running server's state.
//!
//! The database comes first — SQLite through `VACUUM INTO`, a consistent
//! snapshot taken while the daemon keeps writing — then the files under
//! `data_dir` (`mail/`, `queue/`, `tls/`), so every message the snapshot
//! indexes is in the copy. DEST mirrors `data_dir`: restoring is copying
//! it back (owned by the daemon's user) with the daemon stopped.
//!
//! Maildir files only ever move by rename (`new/` → `cur/`, flag
//! changes), so a file that vanished between listing and copying is
//! looked for again under its base name in `new/` and `cur/`. In-flight
//! deliveries (`tmp/`) are not copied. PostgreSQL is left to `pg_dump`.

use std::ffi::OsString;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use postel::server::Services;

/// Arguments of `postel backup`.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Directory to write the copy into; must not exist or be empty.
    dest: PathBuf,
}

/// What was copied.
#[derive(Debug, Default)]
struct Stats {
    files: u64,
    bytes: u64,
}

/// Runs `postel backup`.
///
/// # Errors
/// DEST is not empty, the snapshot or a copy failed.
pub async fn run(services: &Services, args: BackupArgs) -> Result<()> {
    let dest = args.dest;
    prepare(&dest)?;
    let db_copy = dest.join("postel.db");
    let sqlite = services
        .db
        .snapshot_into(&db_copy)
        .await
        .with_context(|| format!("snapshot of the database into {}", db_copy.display()))?;
    let data_dir = services.config.server.data_dir.clone();
    let to = dest.clone();
    let stats = tokio::task::spawn_blocking(move || {
        let mut stats = Stats::default();
        for sub in ["mail", "queue", "tls"] {
            copy_tree(&data_dir.join(sub), &to.join(sub), &mut stats)?;
        }
        Ok::<_, anyhow::Error>(stats)
    })
    .await??;
    if sqlite {
        println!("database: {}", db_copy.display());
    } else {
        println!("database: PostgreSQL, not copied; back it up with pg_dump");
    }
    println!(
        "files: {} ({} bytes) under {}",
        stats.files,
        stats.bytes,
        dest.display()
    );
    Ok(())
}

/// Creates DEST (0700), or accepts it when it is an empty directory.
fn prepare(dest: &Path) -> Result<()> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{} is not empty", dest.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dest)
            .with_context(|| format!("cannot create {}", dest.display())),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dest.display())),
    }
}

/// Copies the tree at `from` (which may be missing) into `to`.
fn copy_tree(from: &Path, to: &Path, stats: &mut Stats) -> Result<()> {
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", from.display())),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(to)
        .with_context(|| format!("cannot create {}", to.display()))?;
    let in_tmp = from.file_name().is_some_and(|n| n == "tmp");
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), stats)?;
        } else if kind.is_file() && !in_tmp {
            copy_file(from, &name, to, stats)?;
        }
    }
    drop_doubles(to)
}

/// A message moved from `new/` to `cur/` while its Maildir was being
/// copied can be in both copies: keep the `cur/` one.
fn drop_doubles(maildir: &Path) -> Result<()> {
    let (new, cur) = (maildir.join("new"), maildir.join("cur"));
    let (Ok(new_entries), Ok(cur_entries)) = (std::fs::read_dir(&new), std::fs::read_dir(&cur))
    else {
        return Ok(());
    };
    let base = |n: &OsString| {
        n.to_str()
            .and_then(|s| s.split(":2,").next())
            .map(String::from)
    };
    let in_cur: std::collections::HashSet<String> = cur_entries
        .flatten()
        .filter_map(|e| base(&e.file_name()))
        .collect();
    for e in new_entries.flatten() {
        if base(&e.file_name()).is_some_and(|b| in_cur.contains(&b)) {
            std::fs::remove_file(e.path())
                .with_context(|| format!("cannot remove {}", e.path().display()))?;
        }
    }
    Ok(())
}

/// Copies `dir/name` into `to`; a Maildir message renamed meanwhile is
/// copied under its new name.
fn copy_file(dir: &Path, name: &OsString, to: &Path, stats: &mut Stats) -> Result<()> {
    let src = dir.join(name);
    match std::fs::copy(&src, to.join(name)) {
        Ok(n) => {
            stats.files += 1;
            stats.bytes += n;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let Some((moved_dir, moved)) = renamed(dir, name) else {
                return Ok(()); // deleted meanwhile (expunged, or sent from the queue)
            };
            let target = to.parent().map(|p| p.join(moved_dir_name(&moved_dir)));
            let target = target.unwrap_or_else(|| to.to_path_buf());
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&target)?;
            if let Ok(n) = std::fs::copy(moved_dir.join(&moved), target.join(&moved)) {
                stats.files += 1;
                stats.bytes += n;
            }
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("cannot copy {}", src.display())),
    }
}

fn moved_dir_name(dir: &Path) -> OsString {
    dir.file_name().map(OsString::from).unwrap_or_default()
}

/// Where a Maildir message named `name` in `dir` (`new/` or `cur/`) is
/// now: the same base name (before `:2,`) in `new/` or `cur/`.
fn renamed(dir: &Path, name: &OsString) -> Option<(PathBuf, OsString)> {
    let leaf = dir.file_name()?;
    if leaf != "new" && leaf != "cur" {
        return None;
    }
    let name = name.to_str()?;
    let base = name.split(":2,").next()?;
    let maildir = dir.parent()?;
    for sub in ["cur", "new"] {
        let candidate_dir = maildir.join(sub);
        let Ok(entries) = std::fs::read_dir(&candidate_dir) else {
            continue;
        };
        for e in entries.flatten() {
            let other = e.file_name();
            if other.to_str().and_then(|o| o.split(":2,").next()) == Some(base) {
                return Some((candidate_dir, other));
            }
        }
    }
    None
}

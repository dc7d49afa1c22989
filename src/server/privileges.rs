//! Running as an unprivileged user: `postel serve` started as root binds
//! its listeners (ports below 1024), then becomes `server.user` /
//! `server.group` before it opens the data directory, the database or a
//! certificate — as Postfix does. Everything it writes afterwards belongs
//! to that user.
//!
//! The data directory is prepared while still root: created with mode
//! 0700 and owned by the user when missing, or taken over when it is an
//! empty directory owned by root (as `StateDirectory=` or a package
//! leaves it). A data directory owned by anyone else is an error: files
//! the new user cannot write would fail much later, one by one.
//!
//! Started as non-root, the keys are ignored (with a warning) when they
//! name the current user and group, and refused otherwise.
//!
//! The switch uses libc's `setgroups`/`setgid`/`setuid` (through `nix`),
//! which change the credentials of every thread of the process.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Group, Uid, User};

use crate::config::ServerConfig;

/// Why the daemon could not become `server.user` / `server.group`.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The user or group does not exist.
    #[error("server.{key}: no such {key} {name:?}")]
    Unknown {
        /// `user` or `group`.
        key: &'static str,
        /// The name given.
        name: String,
    },
    /// Looking the name up failed.
    #[error("server.{key}: cannot look up {name:?}: {source}")]
    Lookup {
        /// `user` or `group`.
        key: &'static str,
        /// The name given.
        name: String,
        /// The cause.
        source: nix::Error,
    },
    /// Started as another, unprivileged user.
    #[error(
        "server.user/server.group ask for uid {uid} gid {gid}, but postel runs as uid {current} \
         and cannot switch; start it as root or as that user"
    )]
    NotRoot {
        /// The uid asked for.
        uid: u32,
        /// The gid asked for.
        gid: u32,
        /// The uid we run as.
        current: u32,
    },
    /// The data directory belongs to someone else.
    #[error(
        "server.data_dir {path} is owned by uid {owner}, not by {user} (uid {uid}); \
         run: chown -R {user}: {path}"
    )]
    DataDirOwner {
        /// The directory.
        path: String,
        /// Its owner.
        owner: u32,
        /// The user name.
        user: String,
        /// The user's uid.
        uid: u32,
    },
    /// Creating or handing over the data directory failed.
    #[error("server.data_dir {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A set*id call failed.
    #[error("cannot switch to uid {uid} gid {gid}: {step}: {source}")]
    Switch {
        /// The uid asked for.
        uid: u32,
        /// The gid asked for.
        gid: u32,
        /// `setgroups`, `setgid` or `setuid`.
        step: &'static str,
        /// The cause.
        source: nix::Error,
    },
    /// After the switch, root could be regained.
    #[error("still able to become root after switching to uid {0}; refusing to run")]
    NotDropped(u32),
}

/// Who to become.
#[derive(Debug, Clone)]
struct Target {
    user: String,
    uid: Uid,
    gid: Gid,
}

/// Becomes `server.user` / `server.group` (when set), preparing
/// `server.data_dir` for that user first.
///
/// # Errors
/// See [`PrivilegeError`]; the daemon must not start.
pub fn drop_privileges(server: &ServerConfig) -> Result<(), PrivilegeError> {
    if server.user.is_none() && server.group.is_none() {
        if nix::unistd::geteuid().is_root() {
            tracing::warn!(
                "running as root: set server.user, or start postel as an unprivileged user"
            );
        }
        return Ok(());
    }
    let target = resolve(server)?;
    let (euid, egid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    if !euid.is_root() {
        if target.uid == euid && target.gid == egid {
            tracing::warn!(
                user = %target.user,
                "not started as root: server.user/server.group name the current user, nothing to drop"
            );
            return Ok(());
        }
        return Err(PrivilegeError::NotRoot {
            uid: target.uid.as_raw(),
            gid: target.gid.as_raw(),
            current: euid.as_raw(),
        });
    }
    prepare_data_dir(&server.data_dir, &target)?;
    switch(&target)?;
    tracing::info!(
        user = %target.user,
        uid = target.uid.as_raw(),
        gid = target.gid.as_raw(),
        "dropped root privileges"
    );
    Ok(())
}

/// Looks up the names (a number is taken as an id).
fn resolve(server: &ServerConfig) -> Result<Target, PrivilegeError> {
    let (uid, user, primary_gid) = match &server.user {
        Some(name) => {
            let u = lookup_user(name)?;
            (u.uid, u.name, u.gid)
        }
        None => {
            let uid = nix::unistd::geteuid();
            (uid, uid.to_string(), nix::unistd::getegid())
        }
    };
    let gid = match &server.group {
        Some(name) => lookup_group(name)?,
        None => primary_gid,
    };
    Ok(Target { user, uid, gid })
}

fn lookup_user(name: &str) -> Result<User, PrivilegeError> {
    let found = match name.parse::<u32>() {
        Ok(id) => User::from_uid(Uid::from_raw(id)),
        Err(_) => User::from_name(name),
    };
    let err = |source| PrivilegeError::Lookup {
        key: "user",
        name: name.to_string(),
        source,
    };
    found.map_err(err)?.ok_or_else(|| PrivilegeError::Unknown {
        key: "user",
        name: name.to_string(),
    })
}

fn lookup_group(name: &str) -> Result<Gid, PrivilegeError> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(Gid::from_raw(id));
    }
    let err = |source| PrivilegeError::Lookup {
        key: "group",
        name: name.to_string(),
        source,
    };
    let group = Group::from_name(name).map_err(err)?;
    group.map(|g| g.gid).ok_or_else(|| PrivilegeError::Unknown {
        key: "group",
        name: name.to_string(),
    })
}

/// Creates `dir` (0700) for the target, or checks that it is theirs.
fn prepare_data_dir(dir: &Path, target: &Target) -> Result<(), PrivilegeError> {
    let io = |source| PrivilegeError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    let hand_over = |dir: &PathBuf| {
        std::os::unix::fs::chown(dir, Some(target.uid.as_raw()), Some(target.gid.as_raw()))
            .map_err(io)
    };
    let dir = dir.to_path_buf();
    match std::fs::metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(io)?;
            hand_over(&dir)
        }
        Err(e) => Err(io(e)),
        Ok(meta) if meta.uid() == target.uid.as_raw() => Ok(()),
        Ok(meta) if meta.uid() == 0 && is_empty(&dir).map_err(io)? => {
            hand_over(&dir)?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
        }
        Ok(meta) => Err(PrivilegeError::DataDirOwner {
            path: dir.display().to_string(),
            owner: meta.uid(),
            user: target.user.clone(),
            uid: target.uid.as_raw(),
        }),
    }
}

fn is_empty(dir: &Path) -> std::io::Result<bool> {
    Ok(std::fs::read_dir(dir)?.next().is_none())
}

/// setgroups, setgid, setuid — in that order, since only root may do the
/// first two — then proves root cannot be regained.
fn switch(target: &Target) -> Result<(), PrivilegeError> {
    let fail = |step| {
        move |source| PrivilegeError::Switch {
            uid: target.uid.as_raw(),
            gid: target.gid.as_raw(),
            step,
            source,
        }
    };
    nix::unistd::setgroups(&[target.gid]).map_err(fail("setgroups"))?;
    nix::unistd::setgid(target.gid).map_err(fail("setgid"))?;
    nix::unistd::setuid(target.uid).map_err(fail("setuid"))?;
    if !target.uid.is_root() && nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(PrivilegeError::NotDropped(target.uid.as_raw()));
    }
    Ok(())
}

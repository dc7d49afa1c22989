//! Names that become paths: accounts (`local@domain` → `<domain>/<local>/`)
//! and folders (`Archive/2024` → `.Archive.2024/`).
//!
//! Owns: validation, so no name can escape the mail root or alias another
//! folder, and the mapping between API folder names (UTF-8, `/` as the
//! hierarchy separator) and Maildir++ directory names (`.` separated,
//! each component in IMAP modified UTF-7, exactly as Dovecot writes them).
//! Must not: touch the filesystem.

use std::fmt;
use std::str::FromStr;

use super::error::{Result, StoreError};
use crate::mutf7;

/// The longest file name most filesystems accept (`NAME_MAX`).
const NAME_MAX: usize = 255;

fn invalid(name: &str, reason: &'static str) -> StoreError {
    StoreError::InvalidName {
        name: name.to_string(),
        reason,
    }
}

/// Splits a canonical `local@domain` into `(domain, local)`, refusing
/// anything that could leave the mail root or is not a plain path
/// component.
///
/// # Errors
/// [`StoreError::InvalidName`].
pub(crate) fn account_parts(account: &str) -> Result<(&str, &str)> {
    let (local, domain) = account
        .rsplit_once('@')
        .ok_or_else(|| invalid(account, "account must be local@domain"))?;
    for part in [local, domain] {
        if part.is_empty() {
            return Err(invalid(account, "empty local part or domain"));
        }
        if part == "." || part == ".." {
            return Err(invalid(account, "'.' and '..' are not allowed"));
        }
        if part.contains('/') || part.contains('\\') {
            return Err(invalid(account, "slashes are not allowed"));
        }
        if part.chars().any(char::is_control) {
            return Err(invalid(account, "control characters are not allowed"));
        }
        if part.len() > NAME_MAX {
            return Err(invalid(account, "name too long"));
        }
    }
    Ok((domain, local))
}

/// A validated folder name: `INBOX`, or components joined by `/`.
///
/// Refused: empty names or components, `.`/`..`, a `.` inside a component
/// (it is the on-disk separator), control characters, the LIST wildcards
/// `*` and `%`, and names too long for the filesystem. A first component
/// equal to `INBOX` in any case is the INBOX (RFC 3501 §5.1). A trailing
/// separator (IMAP `CREATE foo/`) is an empty component: strip it first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FolderName(String);

/// The RFC 6154 special use of a default folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    /// `\Sent`
    Sent,
    /// `\Drafts`
    Drafts,
    /// `\Trash`
    Trash,
    /// `\Junk`
    Junk,
    /// `\Archive`
    Archive,
}

impl SpecialUse {
    /// The IMAP attribute, e.g. `\Sent`.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Trash => "\\Trash",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Archive => "\\Archive",
        }
    }
}

/// The folders every account gets, with their special use.
pub const DEFAULT_FOLDERS: [(&str, SpecialUse); 5] = [
    ("Sent", SpecialUse::Sent),
    ("Drafts", SpecialUse::Drafts),
    ("Trash", SpecialUse::Trash),
    ("Junk", SpecialUse::Junk),
    ("Archive", SpecialUse::Archive),
];

impl FolderName {
    /// Validates `name`.
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] with the reason.
    pub fn new(name: &str) -> Result<FolderName> {
        if name.is_empty() {
            return Err(invalid(name, "empty folder name"));
        }
        let mut parts = Vec::new();
        for (i, part) in name.split('/').enumerate() {
            check_component(name, part)?;
            if i == 0 && part.eq_ignore_ascii_case("INBOX") {
                parts.push("INBOX");
            } else {
                parts.push(part);
            }
        }
        let folder = FolderName(parts.join("/"));
        if let Some(dir) = folder.dir_name()
            && dir.len() > NAME_MAX
        {
            return Err(invalid(name, "folder name too long"));
        }
        Ok(folder)
    }

    /// The INBOX.
    pub fn inbox() -> FolderName {
        FolderName("INBOX".to_string())
    }

    /// Whether this is the INBOX itself (not a child of it).
    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// The name, `/`-separated.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The enclosing folder, if any (`a/b/c` → `a/b`).
    pub fn parent(&self) -> Option<FolderName> {
        self.0
            .rsplit_once('/')
            .map(|(p, _)| FolderName(p.to_string()))
    }

    /// Whether `self` lies below `ancestor` (`a/b` is below `a`).
    pub fn is_below(&self, ancestor: &FolderName) -> bool {
        self.0.len() > ancestor.0.len()
            && self.0.starts_with(&ancestor.0)
            && self.0.as_bytes().get(ancestor.0.len()) == Some(&b'/')
    }

    /// `self` with the prefix `from` replaced by `to` (for renames).
    pub(crate) fn rebase(&self, from: &FolderName, to: &FolderName) -> FolderName {
        FolderName(format!("{}{}", to.0, &self.0[from.0.len()..]))
    }

    /// The special use, for the default folders.
    pub fn special_use(&self) -> Option<SpecialUse> {
        DEFAULT_FOLDERS
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, u)| *u)
    }

    /// The Maildir++ directory name below the account root: `None` for
    /// the INBOX (the root itself), `.Entw&APw-rfe.2024` otherwise.
    pub(crate) fn dir_name(&self) -> Option<String> {
        if self.is_inbox() {
            return None;
        }
        let mut dir = String::with_capacity(self.0.len() + 1);
        for part in self.0.split('/') {
            dir.push('.');
            dir.push_str(&mutf7::encode(part));
        }
        Some(dir)
    }

    /// The folder a Maildir++ directory entry stands for, if it is one:
    /// `.x.y` decoded, and only when encoding the result gives back the
    /// same directory name (so every folder has exactly one directory).
    pub(crate) fn from_dir_name(dir: &str) -> Option<FolderName> {
        let rest = dir.strip_prefix('.')?;
        let mut parts = Vec::new();
        for part in rest.split('.') {
            parts.push(mutf7::decode(part).ok()?);
        }
        let folder = FolderName::new(&parts.join("/")).ok()?;
        (folder.dir_name().as_deref() == Some(dir)).then_some(folder)
    }
}

fn check_component(name: &str, part: &str) -> Result<()> {
    if part.is_empty() {
        return Err(invalid(name, "empty hierarchy component"));
    }
    if part == "." || part == ".." {
        return Err(invalid(name, "'.' and '..' are not allowed"));
    }
    if part.contains('.') {
        return Err(invalid(name, "'.' is not allowed in a folder name"));
    }
    if part.chars().any(char::is_control) {
        return Err(invalid(name, "control characters are not allowed"));
    }
    if part.contains(['*', '%']) {
        return Err(invalid(name, "'*' and '%' are not allowed"));
    }
    Ok(())
}

impl fmt::Display for FolderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FolderName {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        FolderName::new(s)
    }
}

impl AsRef<str> for FolderName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts() {
        assert_eq!(
            account_parts("joe@example.org").ok(),
            Some(("example.org", "joe"))
        );
        for bad in [
            "joe",
            "@example.org",
            "joe@",
            "../x@example.org",
            "joe@..",
            "a/b@c",
            "joe@a/b",
            "jo\0e@x",
            "joe@x\n",
            ".@x",
            "x@.",
            "a\\b@c",
        ] {
            assert!(account_parts(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn folder_names_and_dirs() -> Result<()> {
        assert!(FolderName::new("inbox")?.is_inbox());
        assert_eq!(FolderName::new("Inbox/Sub")?.as_str(), "INBOX/Sub");
        assert_eq!(FolderName::new("INBOX")?.dir_name(), None);
        let f = FolderName::new("Archive/2024")?;
        assert_eq!(f.dir_name().as_deref(), Some(".Archive.2024"));
        assert_eq!(f.parent().map(|p| p.0), Some("Archive".to_string()));
        let e = FolderName::new("Entwürfe")?;
        assert_eq!(e.dir_name().as_deref(), Some(".Entw&APw-rfe"));
        assert_eq!(FolderName::from_dir_name(".Entw&APw-rfe"), Some(e));
        assert_eq!(FolderName::from_dir_name(".Archive.2024"), Some(f.clone()));
        assert_eq!(
            FolderName::new("A & B")?.dir_name().as_deref(),
            Some(".A &- B")
        );
        assert!(f.is_below(&FolderName::new("Archive")?));
        assert!(!FolderName::new("Archive2")?.is_below(&FolderName::new("Archive")?));
        Ok(())
    }

    #[test]
    fn bad_folder_names() {
        for bad in [
            "",
            "/",
            "a/",
            "/a",
            "a//b",
            ".",
            "..",
            "a/../b",
            "a.b",
            ".hidden",
            "a\u{0}b",
            "tab\there",
            "wild*",
            "per%cent",
            "del\u{7f}",
        ] {
            assert!(FolderName::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(FolderName::new(&"x".repeat(300)).is_err());
    }

    #[test]
    fn foreign_dirs_that_do_not_round_trip_are_ignored() {
        assert_eq!(FolderName::from_dir_name("..x"), None);
        assert_eq!(FolderName::from_dir_name(".Entwürfe"), None);
        assert_eq!(FolderName::from_dir_name(".a..b"), None);
        assert_eq!(FolderName::from_dir_name(".inbox"), None);
        assert_eq!(FolderName::from_dir_name("cur"), None);
    }
}

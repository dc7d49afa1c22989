//! Reading Dovecot's Maildir control files, so an existing Dovecot
//! Maildir++ tree can be taken over with every UID, UIDVALIDITY and
//! keyword intact.
//!
//! Owns: parsing `dovecot-uidlist` (version 3: header
//! `3 V<uidvalidity> N<nextuid> [G<guid> …]`, lines
//! `<uid> [<ext fields>] :<base name>`; versions 1 and 2: header
//! `<version> <uidvalidity> <nextuid>`, lines `<uid> <file name>`) and
//! `dovecot-keywords` (lines `<index> <keyword>`, index 0 is info letter
//! `a`). Must not: write these files — after adoption the SQL index is
//! the truth and Postel does not keep them up to date.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;

use super::error::{Result, StoreError, io_err};
use super::unique::split_name;

/// The parsed contents of a `dovecot-uidlist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Uidlist {
    /// The folder's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The next UID Dovecot would have assigned.
    pub nextuid: u32,
    /// Base name → UID.
    pub uids: HashMap<String, u32>,
    /// Base name → virtual (CRLF) size from a `W` extension field.
    pub vsizes: HashMap<String, u64>,
}

fn corrupt(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Parses `dovecot-uidlist` text; `path` is for error messages only.
///
/// # Errors
/// [`StoreError::Corrupt`] for an unreadable header. Malformed entry lines
/// are skipped with a warning (their files then get fresh UIDs).
pub(crate) fn parse_uidlist(path: &Path, text: &str) -> Result<Uidlist> {
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| corrupt(path, "empty file"))?;
    let (version, uidvalidity, nextuid) =
        parse_header(header).ok_or_else(|| corrupt(path, format!("bad header {header:?}")))?;
    let mut list = Uidlist {
        uidvalidity,
        nextuid,
        uids: HashMap::new(),
        vsizes: HashMap::new(),
    };
    for line in lines.filter(|l| !l.trim().is_empty()) {
        match parse_entry(version, line) {
            Some((uid, base, vsize)) if uid > 0 => {
                if let Some(w) = vsize {
                    list.vsizes.insert(base.clone(), w);
                }
                list.uids.insert(base, uid);
            }
            _ => tracing::warn!(path = %path.display(), line, "skipping bad dovecot-uidlist line"),
        }
    }
    Ok(list)
}

fn parse_header(header: &str) -> Option<(u32, u32, u32)> {
    let mut tokens = header.split_ascii_whitespace();
    let version: u32 = tokens.next()?.parse().ok()?;
    let rest: Vec<&str> = tokens.collect();
    let keyed = rest.first().is_some_and(|t| t.starts_with('V'));
    let (uidvalidity, nextuid) = if keyed {
        let get = |k: char| {
            rest.iter()
                .find_map(|t| t.strip_prefix(k).and_then(|v| v.parse::<u32>().ok()))
        };
        (get('V')?, get('N')?)
    } else {
        (rest.first()?.parse().ok()?, rest.get(1)?.parse().ok()?)
    };
    (version >= 1 && uidvalidity > 0).then_some((version, uidvalidity, nextuid))
}

fn parse_entry(version: u32, line: &str) -> Option<(u32, String, Option<u64>)> {
    let (uid, rest) = line.split_once(' ')?;
    let uid: u32 = uid.parse().ok()?;
    if version < 3 {
        let name = rest.trim();
        return (!name.is_empty()).then(|| (uid, split_name(name).0.to_string(), None));
    }
    // Extension fields come first; the name follows the first ':' that
    // starts a field.
    let (ext, name) = if let Some(name) = rest.strip_prefix(':') {
        ("", name)
    } else {
        let i = rest.find(" :")?;
        (&rest[..i], &rest[i + 2..])
    };
    let vsize = ext
        .split_ascii_whitespace()
        .find_map(|f| f.strip_prefix('W').and_then(|v| v.parse().ok()));
    let name = name.trim_end();
    (!name.is_empty()).then(|| (uid, split_name(name).0.to_string(), vsize))
}

/// Reads `dir/dovecot-uidlist`; `Ok(None)` when there is none.
///
/// # Errors
/// The file exists but cannot be read or parsed.
pub(crate) fn read_uidlist(dir: &Path) -> Result<Option<Uidlist>> {
    let path = dir.join("dovecot-uidlist");
    match std::fs::read(&path) {
        Ok(bytes) => parse_uidlist(&path, &String::from_utf8_lossy(&bytes)).map(Some),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// The keyword names of info letters `a`..`z` from `dir/dovecot-keywords`
/// (empty when there is no such file).
///
/// # Errors
/// The file exists but cannot be read.
pub(crate) fn read_keywords(dir: &Path) -> Result<Vec<Option<String>>> {
    let path = dir.join("dovecot-keywords");
    match std::fs::read(&path) {
        Ok(bytes) => Ok(parse_keywords(&String::from_utf8_lossy(&bytes))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Parses `dovecot-keywords` text into letter index → keyword.
pub(crate) fn parse_keywords(text: &str) -> Vec<Option<String>> {
    let mut map: Vec<Option<String>> = vec![None; 26];
    for line in text.lines() {
        let Some((idx, name)) = line.split_once(' ') else {
            continue;
        };
        let (Ok(idx), name) = (idx.parse::<usize>(), name.trim()) else {
            continue;
        };
        if idx < 26 && !name.is_empty() {
            map[idx] = Some(name.to_string());
        }
    }
    map
}

/// The keywords named by the lowercase letters of a Maildir info string.
pub(crate) fn keywords_of_info<'a>(
    info: &'a str,
    map: &'a [Option<String>],
) -> impl Iterator<Item = String> + 'a {
    info.bytes()
        .filter(u8::is_ascii_lowercase)
        .filter_map(move |b| map.get(usize::from(b - b'a'))?.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version3_uidlist() -> Result<()> {
        let text = "3 V1700000000 N7 G0123456789abcdef\n\
                    1 :1700000001.M1P2.host,S=10,W=12\n\
                    2 G3b W99 :1700000002.M1P2.host,S=20\n\
                    5 :1700000005.M1P2.host,S=30,W=31:2,S\n\
                    garbage\n";
        let list = parse_uidlist(Path::new("u"), text)?;
        assert_eq!((list.uidvalidity, list.nextuid), (1_700_000_000, 7));
        assert_eq!(list.uids.len(), 3);
        assert_eq!(list.uids.get("1700000002.M1P2.host,S=20"), Some(&2));
        assert_eq!(list.vsizes.get("1700000002.M1P2.host,S=20"), Some(&99));
        assert_eq!(list.uids.get("1700000005.M1P2.host,S=30,W=31"), Some(&5));
        Ok(())
    }

    #[test]
    fn version1_uidlist() -> Result<()> {
        let text = "1 1100000000 4\n1 1100000001.123.host:2,S\n3 1100000003.456.host\n";
        let list = parse_uidlist(Path::new("u"), text)?;
        assert_eq!((list.uidvalidity, list.nextuid), (1_100_000_000, 4));
        assert_eq!(list.uids.get("1100000001.123.host"), Some(&1));
        assert_eq!(list.uids.get("1100000003.456.host"), Some(&3));
        Ok(())
    }

    #[test]
    fn bad_headers() {
        for bad in ["", "x", "3 N5", "3 V0 N1", "1 abc 2"] {
            assert!(parse_uidlist(Path::new("u"), bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keywords() {
        let map = parse_keywords("0 $Label1\n1 project-x\n30 ignored\nbad\n");
        let got: Vec<String> = keywords_of_info("Sab", &map).collect();
        assert_eq!(got, ["$Label1", "project-x"]);
        assert_eq!(keywords_of_info("c", &map).count(), 0);
    }
}

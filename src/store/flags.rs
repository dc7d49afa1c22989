//! Message flags and their Maildir form.
//!
//! System flags live in the file name's info part (`:2,` followed by
//! letters in ASCII order): `D` \Draft, `F` \Flagged, `P` passed (IMAP has
//! no system flag for it; it maps to the RFC 5788 keyword `$Forwarded`),
//! `R` \Answered, `S` \Seen, `T` \Deleted. The file name is the truth for
//! these. Keywords are kept in the index row; lowercase info letters are
//! only read, through `dovecot-keywords`, when adopting Dovecot files.

use std::collections::BTreeSet;

use super::error::{Result, StoreError};

/// The keyword stored as the Maildir `P` letter.
pub const FORWARDED: &str = "$Forwarded";

/// The flags of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Flags {
    /// `\Seen`
    pub seen: bool,
    /// `\Answered`
    pub answered: bool,
    /// `\Flagged`
    pub flagged: bool,
    /// `\Deleted`
    pub deleted: bool,
    /// `\Draft`
    pub draft: bool,
    /// Keywords (IMAP atoms such as `$Junk`, `$Forwarded`, `work`).
    pub keywords: BTreeSet<String>,
}

/// How [`crate::store::Store::set_flags`] combines the given flags with a
/// message's current ones (IMAP `+FLAGS`, `-FLAGS`, `FLAGS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagMode {
    /// Set the given flags, keep the others.
    Add,
    /// Clear the given flags, keep the others.
    Remove,
    /// Make the message's flags exactly the given ones.
    Replace,
}

impl Flags {
    /// Reads the system flags from a Maildir info string (the part after
    /// `:2,`). Lowercase (keyword) letters and anything else are ignored.
    pub fn from_maildir_info(info: &str) -> Flags {
        let mut f = Flags::default();
        for c in info.chars() {
            match c {
                'D' => f.draft = true,
                'F' => f.flagged = true,
                'P' => {
                    f.keywords.insert(FORWARDED.to_string());
                }
                'R' => f.answered = true,
                'S' => f.seen = true,
                'T' => f.deleted = true,
                _ => {}
            }
        }
        f
    }

    /// The system flags as Maildir info letters, in ASCII order.
    pub fn maildir_info(&self) -> String {
        let mut s = String::with_capacity(6);
        let forwarded = self.keywords.contains(FORWARDED);
        for (on, c) in [
            (self.draft, 'D'),
            (self.flagged, 'F'),
            (forwarded, 'P'),
            (self.answered, 'R'),
            (self.seen, 'S'),
            (self.deleted, 'T'),
        ] {
            if on {
                s.push(c);
            }
        }
        s
    }

    /// The keywords other than `$Forwarded` (which is the `P` letter),
    /// space-separated, as the index row stores them.
    pub(crate) fn keywords_column(&self) -> String {
        let mut out = String::new();
        for k in self.keywords.iter().filter(|k| *k != FORWARDED) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(k);
        }
        out
    }

    /// Rebuilds flags from the index row's two columns.
    pub(crate) fn from_columns(info: &str, keywords: &str) -> Flags {
        let mut f = Flags::from_maildir_info(info);
        f.keywords
            .extend(keywords.split_ascii_whitespace().map(str::to_string));
        f
    }

    /// Whether the system flags (the file name's part) are equal.
    pub(crate) fn same_system(&self, other: &Flags) -> bool {
        self.maildir_info() == other.maildir_info()
    }

    /// Replaces the system flags with those of `system`, keeping keywords
    /// except `$Forwarded`, which follows the `P` letter.
    pub(crate) fn with_system_of(&self, system: &Flags) -> Flags {
        let mut f = system.clone();
        f.keywords.remove(FORWARDED);
        f.keywords
            .extend(self.keywords.iter().filter(|k| *k != FORWARDED).cloned());
        if system.keywords.contains(FORWARDED) {
            f.keywords.insert(FORWARDED.to_string());
        }
        f
    }

    /// Combines `self` (current flags) with `given` according to `mode`.
    pub fn apply(&self, mode: FlagMode, given: &Flags) -> Flags {
        match mode {
            FlagMode::Replace => given.clone(),
            FlagMode::Add => Flags {
                seen: self.seen || given.seen,
                answered: self.answered || given.answered,
                flagged: self.flagged || given.flagged,
                deleted: self.deleted || given.deleted,
                draft: self.draft || given.draft,
                keywords: self.keywords.union(&given.keywords).cloned().collect(),
            },
            FlagMode::Remove => Flags {
                seen: self.seen && !given.seen,
                answered: self.answered && !given.answered,
                flagged: self.flagged && !given.flagged,
                deleted: self.deleted && !given.deleted,
                draft: self.draft && !given.draft,
                keywords: self.keywords.difference(&given.keywords).cloned().collect(),
            },
        }
    }

    /// Checks that every keyword is an IMAP atom that can be stored.
    ///
    /// # Errors
    /// [`StoreError::InvalidName`] naming the first bad keyword.
    pub fn validate(&self) -> Result<()> {
        for k in &self.keywords {
            let bad = k.is_empty()
                || k.len() > 100
                || k.bytes()
                    .any(|b| b <= b' ' || b >= 0x7f || b"(){%*\"\\]".contains(&b));
            if bad {
                return Err(StoreError::InvalidName {
                    name: k.clone(),
                    reason: "keywords must be IMAP atoms",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_letters_round_trip() {
        let f = Flags::from_maildir_info("FRST");
        assert!(f.flagged && f.answered && f.seen && f.deleted && !f.draft);
        assert_eq!(f.maildir_info(), "FRST");
        let all = Flags::from_maildir_info("TSRPFD");
        assert_eq!(all.maildir_info(), "DFPRST");
        assert!(all.keywords.contains(FORWARDED));
        assert_eq!(Flags::from_maildir_info("abS").maildir_info(), "S");
    }

    #[test]
    fn columns_keep_keywords_out_of_letters() {
        let mut f = Flags::from_maildir_info("PS");
        f.keywords.insert("work".into());
        f.keywords.insert("$Junk".into());
        assert_eq!(f.keywords_column(), "$Junk work");
        assert_eq!(
            Flags::from_columns(&f.maildir_info(), &f.keywords_column()),
            f
        );
    }

    #[test]
    fn modes() {
        let cur = Flags::from_columns("S", "a b");
        let given = Flags::from_columns("F", "b c");
        assert_eq!(
            cur.apply(FlagMode::Add, &given),
            Flags::from_columns("FS", "a b c")
        );
        assert_eq!(
            cur.apply(FlagMode::Remove, &given),
            Flags::from_columns("S", "a")
        );
        assert_eq!(cur.apply(FlagMode::Replace, &given), given);
    }

    #[test]
    fn system_from_file_keeps_keywords() {
        let row = Flags::from_columns("S", "work");
        let file = Flags::from_maildir_info("FP");
        let merged = row.with_system_of(&file);
        assert_eq!(merged, Flags::from_columns("FP", "work"));
    }

    #[test]
    fn keyword_validation() {
        assert!(Flags::from_columns("", "ok $Label1").validate().is_ok());
        for bad in ["sp ace", "par(en", "quo\"te", "star*", "ümlaut", "br]"] {
            let mut f = Flags::default();
            f.keywords.insert(bad.to_string());
            assert!(f.validate().is_err(), "{bad:?}");
        }
    }
}

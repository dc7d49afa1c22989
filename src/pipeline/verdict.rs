//! Typed verdicts of the pipeline stages and their deterministic merge.
//!
//! A stage never talks to the client: it returns a [`Verdict`], and the
//! runner merges them by severity — reject > tempfail > junk > accept
//! (RFC 5321 §4.2.5: once any check says "no", the message is not
//! accepted; a temporary problem wins over a quarantine because the
//! sender will retry and the retry may be judged differently). Between
//! two verdicts of the same severity the earlier stage wins, and stages
//! always run in the same order, so one input always yields one reply.
//!
//! Replies are plain parts (code, RFC 3463 enhanced status, text): the
//! session's own reply type is built from them in `smtp/`, so this module
//! never depends on protocol types.

use std::fmt;

/// An RFC 3463 enhanced status code, `class.subject.detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedStatus(pub u8, pub u16, pub u16);

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The parts of an SMTP reply, e.g. `550 5.7.1 Rejected by DMARC policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Basic code (RFC 5321 §4.2): `4yz` temporary, `5yz` permanent.
    pub code: u16,
    /// Enhanced status (RFC 3463, RFC 7372 for authentication).
    pub status: EnhancedStatus,
    /// Human-readable text, one line, no CR/LF.
    pub text: String,
}

impl Reply {
    /// A reply from its parts.
    pub fn new(code: u16, status: EnhancedStatus, text: impl Into<String>) -> Reply {
        let text: String = text.into();
        Reply {
            code,
            status,
            text: text.replace(['\r', '\n'], " "),
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.status, self.text)
    }
}

/// What one stage (or the whole pipeline) decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Deliver normally.
    #[default]
    Accept,
    /// Deliver, but into the recipient's Junk folder (quarantine).
    Junk,
    /// Refuse for now (`4yz`); the sender keeps the message and retries.
    TempFail(Reply),
    /// Refuse for good (`5yz`).
    Reject(Reply),
}

impl Verdict {
    /// Severity used by the merge: higher wins.
    pub fn severity(&self) -> u8 {
        match self {
            Verdict::Accept => 0,
            Verdict::Junk => 1,
            Verdict::TempFail(_) => 2,
            Verdict::Reject(_) => 3,
        }
    }

    /// The more severe of `self` and `other`; `self` on a tie.
    #[must_use]
    pub fn merge(self, other: Verdict) -> Verdict {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// Merges verdicts in stage order (see the module docs).
    pub fn merge_all(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().fold(Verdict::Accept, Verdict::merge)
    }

    /// True for [`Verdict::Accept`] and [`Verdict::Junk`]: the message may
    /// be delivered.
    pub fn is_deliverable(&self) -> bool {
        self.severity() <= 1
    }

    /// The reply to send when the verdict refuses the message.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Verdict::TempFail(r) | Verdict::Reject(r) => Some(r),
            Verdict::Accept | Verdict::Junk => None,
        }
    }
}

/// The stages, in the order the runner evaluates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// DNS blocklists (connect time).
    Dnsbl,
    /// Reverse DNS (connect time).
    ReverseDns,
    /// SPF (MAIL FROM, or HELO for a null sender).
    Spf,
    /// DKIM signatures.
    Dkim,
    /// ARC chain (recorded, never decisive).
    Arc,
    /// DMARC, and the SPF fail action when no DMARC record applies.
    Dmarc,
    /// Greylisting.
    Greylist,
}

/// One stage's verdict and its part of the Authentication-Results header
/// (RFC 8601 `resinfo`, e.g. `spf=pass smtp.mailfrom=a@example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutcome {
    /// Which stage.
    pub stage: Stage,
    /// What it decided.
    pub verdict: Verdict,
    /// Its Authentication-Results entries, in header order.
    pub auth_results: Vec<String>,
}

/// Merges stage outcomes: sorted by stage order first, so the result does
/// not depend on the order they were produced in.
pub fn merge_outcomes(outcomes: &[StageOutcome]) -> Verdict {
    let mut sorted: Vec<&StageOutcome> = outcomes.iter().collect();
    sorted.sort_by_key(|o| o.stage);
    Verdict::merge_all(sorted.into_iter().map(|o| o.verdict.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(code: u16) -> Reply {
        Reply::new(
            code,
            EnhancedStatus(code as u8 / 100, 7, 1),
            format!("r{code}"),
        )
    }

    #[test]
    fn severity_order() {
        let all = [
            Verdict::Accept,
            Verdict::Junk,
            Verdict::TempFail(r(451)),
            Verdict::Reject(r(550)),
        ];
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate() {
                let m = a.clone().merge(b.clone());
                assert_eq!(m, all[i.max(j)].clone());
            }
        }
    }

    #[test]
    fn ties_keep_the_earlier_stage() {
        let outcomes = [
            StageOutcome {
                stage: Stage::Greylist,
                verdict: Verdict::TempFail(r(452)),
                auth_results: vec![],
            },
            StageOutcome {
                stage: Stage::Spf,
                verdict: Verdict::TempFail(r(451)),
                auth_results: vec![],
            },
        ];
        assert_eq!(merge_outcomes(&outcomes), Verdict::TempFail(r(451)));
    }

    #[test]
    fn reply_text_is_one_line() {
        let reply = Reply::new(550, EnhancedStatus(5, 7, 1), "a\r\nb");
        assert_eq!(reply.to_string(), "550 5.7.1 a  b");
    }
}

//! Sequence sets (RFC 3501 §9 `sequence-set`, UID sets of RFC 4315 §4)
//! and the saved search result `$` (RFC 5182 §2.1).
//!
//! Owns: [`SequenceSet`] as the client wrote it (order and direction of
//! ranges kept, so it prints back the same), and the session's view of
//! it: [`SequenceSet::resolve`] turns it into sorted, merged ranges once
//! the largest number in use is known; [`SequenceSet::from_numbers`]
//! builds the compact form for responses (ESEARCH ALL, COPYUID,
//! APPENDUID, MODIFIED).
//!
//! Must not: know whether numbers are sequence numbers or UIDs.

use std::fmt;
use std::num::NonZeroU32;
use std::ops::RangeInclusive;

use super::lexer::{Cursor, Fail, PResult};

/// One end of a range: a number or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqNumber {
    /// A number (never zero).
    Value(NonZeroU32),
    /// `*`.
    Largest,
}

impl SeqNumber {
    fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqNumber::Value(n) => n.get(),
            SeqNumber::Largest => largest,
        }
    }
}

/// One element of a set: `n` or `a:b` (either order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqRange {
    /// A single number or `*`.
    Single(SeqNumber),
    /// A range; `b:a` means the same as `a:b`.
    Range(SeqNumber, SeqNumber),
}

/// A sequence set, or `$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SequenceSet(Inner);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Inner {
    Ranges(Vec<SeqRange>),
    LastResult,
}

impl SequenceSet {
    /// A set of the given ranges; `None` if there are none.
    pub fn new(ranges: Vec<SeqRange>) -> Option<SequenceSet> {
        (!ranges.is_empty()).then_some(SequenceSet(Inner::Ranges(ranges)))
    }

    /// `$`: the result saved by the last `SEARCH RETURN (SAVE)`.
    pub fn last_result() -> SequenceSet {
        SequenceSet(Inner::LastResult)
    }

    /// A set holding one number; `None` for zero.
    pub fn single(n: u32) -> Option<SequenceSet> {
        let n = NonZeroU32::new(n)?;
        SequenceSet::new(vec![SeqRange::Single(SeqNumber::Value(n))])
    }

    /// The compact set of `numbers` in their order: runs of consecutive
    /// ascending numbers become ranges (`1 2 3 5` → `1:3,5`). Zeros are
    /// skipped; `None` if nothing is left.
    pub fn from_numbers(numbers: impl IntoIterator<Item = u32>) -> Option<SequenceSet> {
        let mut runs: Vec<(NonZeroU32, NonZeroU32)> = Vec::new();
        for n in numbers.into_iter().filter_map(NonZeroU32::new) {
            match runs.last_mut() {
                Some((_, end)) if end.checked_add(1) == Some(n) => *end = n,
                _ => runs.push((n, n)),
            }
        }
        let ranges = runs
            .into_iter()
            .map(|(a, b)| match a == b {
                true => SeqRange::Single(SeqNumber::Value(a)),
                false => SeqRange::Range(SeqNumber::Value(a), SeqNumber::Value(b)),
            })
            .collect();
        SequenceSet::new(ranges)
    }

    /// Whether this is `$`.
    pub fn is_last_result(&self) -> bool {
        matches!(self.0, Inner::LastResult)
    }

    /// The ranges as written (empty for `$`).
    pub fn ranges(&self) -> &[SeqRange] {
        match &self.0 {
            Inner::Ranges(ranges) => ranges,
            Inner::LastResult => &[],
        }
    }

    /// The numbers this set names, with `*` standing for `largest`, as
    /// sorted, merged, non-overlapping ranges. `5:*` with `largest` 3
    /// gives `3..=5` (RFC 3501 §6.4.8: such a UID range always includes
    /// the last message); the session drops numbers not in use. Empty
    /// for `$` (resolve the saved result instead).
    pub fn resolve(&self, largest: u32) -> Vec<RangeInclusive<u32>> {
        let mut spans: Vec<(u32, u32)> = self
            .ranges()
            .iter()
            .map(|r| match *r {
                SeqRange::Single(n) => (n.resolve(largest), n.resolve(largest)),
                SeqRange::Range(a, b) => {
                    let (a, b) = (a.resolve(largest), b.resolve(largest));
                    (a.min(b), a.max(b))
                }
            })
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
        for (lo, hi) in spans {
            match merged.last_mut() {
                Some((_, end)) if lo <= end.saturating_add(1) => *end = (*end).max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        merged.into_iter().map(|(lo, hi)| lo..=hi).collect()
    }

    /// Whether `n` is in the set, `*` standing for `largest`.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.ranges().iter().any(|r| match *r {
            SeqRange::Single(a) => a.resolve(largest) == n,
            SeqRange::Range(a, b) => {
                let (a, b) = (a.resolve(largest), b.resolve(largest));
                (a.min(b)..=a.max(b)).contains(&n)
            }
        })
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeqNumber::Value(n) => write!(f, "{n}"),
            SeqNumber::Largest => f.write_str("*"),
        }
    }
}

impl fmt::Display for SequenceSet {
    /// The wire form: `1:3,5,7:*` or `$`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_last_result() {
            return f.write_str("$");
        }
        for (i, range) in self.ranges().iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match range {
                SeqRange::Single(n) => write!(f, "{n}")?,
                SeqRange::Range(a, b) => write!(f, "{a}:{b}")?,
            }
        }
        Ok(())
    }
}

fn parse_number(c: &mut Cursor<'_>) -> PResult<SeqNumber> {
    if c.eat(b'*') {
        return Ok(SeqNumber::Largest);
    }
    if !c.peek().is_some_and(|b| b.is_ascii_digit()) {
        return Err(Fail::Bad("invalid sequence set"));
    }
    c.nz_number()
        .map(SeqNumber::Value)
        .map_err(|_| Fail::Bad("invalid number in sequence set"))
}

/// Reads a `sequence-set` or `$`.
pub(super) fn parse_sequence_set(c: &mut Cursor<'_>) -> PResult<SequenceSet> {
    if c.eat(b'$') {
        return Ok(SequenceSet::last_result());
    }
    let mut ranges = Vec::new();
    loop {
        let first = parse_number(c)?;
        if c.eat(b':') {
            ranges.push(SeqRange::Range(first, parse_number(c)?));
        } else {
            ranges.push(SeqRange::Single(first));
        }
        if !c.eat(b',') {
            break;
        }
    }
    SequenceSet::new(ranges).ok_or(Fail::Bad("invalid sequence set"))
}

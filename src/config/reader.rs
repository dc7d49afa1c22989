//! Reading a parsed TOML document against the config schema, keeping
//! line numbers.
//!
//! Owns: turning `toml_edit` items (which carry byte spans) into typed
//! values, and collecting a [`ConfigProblem`] — file, line, dotted key,
//! message — for every unknown key, wrong type or refused value instead of
//! stopping at the first one. A bad value leaves the default in place so
//! the rest of the file is still checked.
//!
//! Must not: know what the keys mean; `sections` and `validate` do.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use toml_edit::{Item, TableLike};

use super::load::ConfigProblem;

/// Collects problems and maps byte offsets to 1-based lines.
pub(super) struct Reader<'a> {
    file: &'a Path,
    line_starts: Vec<usize>,
    /// Every problem found so far, in discovery order.
    pub(super) problems: Vec<ConfigProblem>,
    /// Line of every key present in the file, by dotted name.
    lines: HashMap<String, usize>,
}

/// One key of a section, as written in the file.
pub(super) struct Entry<'d> {
    /// Dotted name, e.g. `smtp.relay_networks`.
    pub(super) key: String,
    /// The value.
    pub(super) item: &'d Item,
    /// Line of the key (or of the value when the key has no span).
    pub(super) line: usize,
}

/// A table of the file (`[smtp]`), opened against its list of known keys.
pub(super) struct Section<'d> {
    name: &'static str,
    table: Option<&'d dyn TableLike>,
}

impl<'a> Reader<'a> {
    /// A reader for `text`, which came from `file`.
    pub(super) fn new(file: &'a Path, text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Reader {
            file,
            line_starts,
            problems: Vec::new(),
            lines: HashMap::new(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub(super) fn line_at(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The line a span starts on; 0 without a span.
    pub(super) fn line_of(&self, span: Option<Range<usize>>) -> usize {
        span.map_or(0, |s| self.line_at(s.start))
    }

    /// The line `key` (dotted) was written on, if it was.
    pub(super) fn line_of_key(&self, key: &str) -> Option<usize> {
        self.lines.get(key).copied()
    }

    /// Records a problem.
    pub(super) fn report(&mut self, line: usize, key: &str, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            file: self.file.to_path_buf(),
            line,
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// Opens section `name` of `root`, reporting it if it is not a table
    /// and reporting every key in it that is not in `known`.
    pub(super) fn section<'d>(
        &mut self,
        root: &'d dyn TableLike,
        name: &'static str,
        known: &[&str],
    ) -> Section<'d> {
        let Some((key, item)) = root.get_key_value(name) else {
            return Section { name, table: None };
        };
        let line = self.line_of(key.span().or_else(|| item.span()));
        let Some(table) = item.as_table_like() else {
            let found = item.type_name();
            self.report(
                line,
                name,
                format!("expected a table ([{name}]), found {found}"),
            );
            return Section { name, table: None };
        };
        self.lines.insert(name.to_string(), line);
        self.unknown_keys(table, name, known, "key");
        Section {
            name,
            table: Some(table),
        }
    }

    /// Reports every key of `table` not in `known`; `prefix` is the
    /// table's dotted name ("" for the root), `what` "key" or "section".
    pub(super) fn unknown_keys(
        &mut self,
        table: &dyn TableLike,
        prefix: &str,
        known: &[&str],
        what: &str,
    ) {
        for (name, item) in table.iter() {
            if known.contains(&name) {
                continue;
            }
            let span = table
                .key(name)
                .and_then(|k| k.span())
                .or_else(|| item.span());
            let line = match self.line_of(span) {
                0 => first_line_inside(self, item),
                n => n,
            };
            let dotted = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            let hint = match closest(name, known) {
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!("; known: {}", known.join(", ")),
            };
            self.report(line, &dotted, format!("unknown {what}{hint}"));
        }
    }

    /// The entry `name` of `section`, if written; records its line.
    pub(super) fn entry<'d>(&mut self, section: &Section<'d>, name: &str) -> Option<Entry<'d>> {
        let (key, item) = section.table?.get_key_value(name)?;
        let dotted = format!("{}.{name}", section.name);
        let line = self.line_of(key.span().or_else(|| item.span()));
        self.lines.insert(dotted.clone(), line);
        Some(Entry {
            key: dotted,
            item,
            line,
        })
    }

    /// Reads entry `name` of `section` with `read`, when it is written.
    pub(super) fn get<T>(
        &mut self,
        section: &Section<'_>,
        name: &str,
        read: impl FnOnce(&mut Self, &Entry<'_>) -> Option<T>,
    ) -> Option<T> {
        let entry = self.entry(section, name)?;
        read(self, &entry)
    }

    fn wrong_type(&mut self, e: &Entry<'_>, expected: &str) {
        let found = e.item.type_name();
        self.report(
            e.line,
            &e.key,
            format!("expected {expected}, found {found}"),
        );
    }

    /// A string value, or a reported problem.
    pub(super) fn string(&mut self, e: &Entry<'_>) -> Option<String> {
        let s = e.item.as_str().map(str::to_string);
        if s.is_none() {
            self.wrong_type(e, "a string");
        }
        s
    }

    /// A boolean value (`true`/`false`), or a reported problem.
    pub(super) fn boolean(&mut self, e: &Entry<'_>) -> Option<bool> {
        let b = e.item.as_bool();
        if b.is_none() {
            self.wrong_type(e, "true or false");
        }
        b
    }

    /// An integer within `range`, or a reported problem.
    pub(super) fn integer(&mut self, e: &Entry<'_>, range: Range<i128>) -> Option<i128> {
        let Some(n) = e.item.as_integer() else {
            self.wrong_type(e, "an integer");
            return None;
        };
        let n = i128::from(n);
        if n < range.start || n >= range.end {
            let (lo, hi) = (range.start, range.end - 1);
            self.report(
                e.line,
                &e.key,
                format!("{n} is out of range ({lo} to {hi})"),
            );
            return None;
        }
        Some(n)
    }

    /// A string converted by `parse`, whose error is reported as is.
    pub(super) fn parsed<T>(
        &mut self,
        e: &Entry<'_>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.string(e)?;
        parse(&s)
            .map_err(|message| self.report(e.line, &e.key, message))
            .ok()
    }

    /// An array of strings each converted by `parse`, with the line of each
    /// element. Every bad element is reported (on its own line); then the
    /// whole list is refused.
    pub(super) fn parsed_list<T>(
        &mut self,
        e: &Entry<'_>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Vec<(T, usize)>> {
        let Some(array) = e.item.as_array() else {
            self.wrong_type(e, "an array of strings");
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        let mut ok = true;
        for value in array.iter() {
            let line = match self.line_of(value.span()) {
                0 => e.line,
                n => n,
            };
            let result = match value.as_str() {
                Some(s) => parse(s),
                None => Err(format!("expected a string, found {}", value.type_name())),
            };
            match result {
                Ok(v) => out.push((v, line)),
                Err(message) => {
                    ok = false;
                    self.report(line, &e.key, message);
                }
            }
        }
        ok.then_some(out)
    }
}

/// For an item without a span of its own (an implicit table such as the
/// `smtp` in `[smtp.extra]`), the first line of anything inside it.
fn first_line_inside(r: &Reader<'_>, item: &Item) -> usize {
    let Some(table) = item.as_table_like() else {
        return 0;
    };
    table
        .iter()
        .map(|(name, inner)| {
            let own = table
                .key(name)
                .and_then(|k| k.span())
                .or_else(|| inner.span());
            match r.line_of(own) {
                0 => first_line_inside(r, inner),
                n => n,
            }
        })
        .filter(|&n| n > 0)
        .min()
        .unwrap_or(0)
}

/// The known name closest to a misspelt `name`, if any is close enough.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 3.min(k.len() / 2).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur.push(subst.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        let r = Reader::new(Path::new("x.toml"), "a\nbc\n\nd");
        assert_eq!(r.line_at(0), 1);
        assert_eq!(r.line_at(1), 1);
        assert_eq!(r.line_at(2), 2);
        assert_eq!(r.line_at(5), 3);
        assert_eq!(r.line_at(6), 4);
    }

    #[test]
    fn suggests_near_names_only() {
        let known = ["relay_networks", "max_recipients", "max_message_size"];
        assert_eq!(closest("relay_networkz", &known), Some("relay_networks"));
        assert_eq!(closest("max_recipient", &known), Some("max_recipients"));
        assert_eq!(closest("colour", &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}

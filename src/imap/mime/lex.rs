//! RFC 5322 / RFC 2045 tokens of structured header values (atoms,
//! quoted strings, comments, domains, MIME tokens and parameters), read
//! the way Dovecot's `rfc822-parser` reads them, so that ENVELOPE and
//! BODYSTRUCTURE come out as Dovecot's do.
//!
//! Owns: [`Lexer`] and the character classes. Every method leaves the
//! cursor where Dovecot's would and answers with [`Step`]: `Fail`
//! (syntax error), `End` (input used up) or `More` (more input follows).
//!
//! Must not: allocate per byte or panic on any input; it never indexes
//! past the end.

/// What a lexer step reports (Dovecot's -1 / 0 / 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Syntax error.
    Fail,
    /// The input is used up.
    End,
    /// More input follows.
    More,
}

impl Step {
    /// `More` while input remains, else `End`.
    fn of(more: bool) -> Step {
        if more { Step::More } else { Step::End }
    }

    /// Dovecot's `ret <= 0`.
    pub(crate) fn done(self) -> bool {
        self != Step::More
    }
}

/// What [`Lexer::content_param`] read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ParamStep {
    /// No more input.
    End,
    /// A syntax error.
    Bad,
    /// A parameter: name and value.
    Param(Vec<u8>, Vec<u8>),
}

/// `atext` of RFC 5322 (8-bit octets count as atext, as in Dovecot).
pub(crate) fn is_atext(b: u8) -> bool {
    b >= 0x80 || b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// `atext` that is not a MIME `tspecial` (RFC 2045 `token` characters
/// other than `.`).
fn is_token_char(b: u8) -> bool {
    is_atext(b) && !matches!(b, b'/' | b'=' | b'?')
}

/// A cursor over one header value.
pub(crate) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
    /// Text of the last comment skipped, when asked to keep it.
    pub(crate) last_comment: Option<Vec<u8>>,
}

impl<'a> Lexer<'a> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Lexer<'a> {
        Lexer {
            data,
            pos: 0,
            last_comment: None,
        }
    }

    /// The octet under the cursor, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Whether the octet under the cursor is `b`.
    pub(crate) fn at(&self, b: u8) -> bool {
        self.peek() == Some(b)
    }

    /// Moves one octet forward.
    pub(crate) fn bump(&mut self) {
        if self.pos < self.data.len() {
            self.pos += 1;
        }
    }

    /// Whether input is used up.
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The cursor position (to rewind to).
    pub(crate) fn mark(&self) -> usize {
        self.pos
    }

    /// Rewinds to a position from [`Lexer::mark`].
    pub(crate) fn reset(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    fn more(&self) -> Step {
        Step::of(!self.at_end())
    }

    /// Skips a (nested) comment; the cursor is on `(`.
    fn skip_comment(&mut self) -> Step {
        let keep = self.last_comment.is_some();
        let mut text = Vec::new();
        let mut level = 1u32;
        self.bump();
        while let Some(b) = self.peek() {
            match b {
                b'(' => level += 1,
                b')' => {
                    level -= 1;
                    if level == 0 {
                        if keep {
                            self.last_comment = Some(text);
                        }
                        self.bump();
                        return self.more();
                    }
                }
                b'\\' => {
                    self.bump();
                    match self.peek() {
                        None => return Step::Fail,
                        Some(escaped) => text.push(escaped),
                    }
                    self.bump();
                    continue;
                }
                _ => {}
            }
            text.push(b);
            self.bump();
        }
        if keep {
            self.last_comment = Some(text);
        }
        Step::Fail
    }

    /// Skips white space, line breaks and comments.
    pub(crate) fn skip_lwsp(&mut self) -> Step {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.bump(),
                b'(' => {
                    if self.skip_comment() == Step::Fail {
                        return Step::Fail;
                    }
                }
                _ => break,
            }
        }
        self.more()
    }

    /// Appends octets while `class` holds; then skips white space.
    fn run(&mut self, out: &mut Vec<u8>, class: impl Fn(u8) -> bool) -> Step {
        let start = self.pos;
        while self.peek().is_some_and(&class) {
            self.bump();
        }
        out.extend_from_slice(&self.data[start..self.pos]);
        if self.at_end() {
            return Step::End;
        }
        self.skip_lwsp()
    }

    /// `atom`: one or more atext.
    pub(crate) fn atom(&mut self, out: &mut Vec<u8>) -> Step {
        if !self.peek().is_some_and(is_atext) {
            return Step::Fail;
        }
        self.run(out, is_atext)
    }

    /// `dot-atom`, with white space allowed around the dots (RFC 822).
    pub(crate) fn dot_atom(&mut self, out: &mut Vec<u8>) -> Step {
        if !self.peek().is_some_and(is_atext) {
            return Step::Fail;
        }
        loop {
            let step = self.run(out, is_atext);
            if step.done() {
                return step;
            }
            if !self.at(b'.') {
                return Step::More;
            }
            self.bump();
            out.push(b'.');
            let step = self.skip_lwsp();
            if step.done() {
                return step;
            }
        }
    }

    /// A MIME `token` (dots allowed); may be empty.
    pub(crate) fn mime_token(&mut self, out: &mut Vec<u8>) -> Step {
        self.run(out, |b| is_token_char(b) || b == b'.')
    }

    /// `quoted-string`: the cursor is on `"`; folding line breaks are
    /// removed and quoted pairs unescaped.
    pub(crate) fn quoted_string(&mut self, out: &mut Vec<u8>) -> Step {
        self.bump();
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    self.bump();
                    return self.skip_lwsp();
                }
                b'\n' => {
                    if out.last() == Some(&b'\r') {
                        out.pop();
                    }
                }
                b'\\' => {
                    self.bump();
                    match self.peek() {
                        None => return Step::Fail,
                        Some(escaped) => out.push(escaped),
                    }
                }
                _ => out.push(b),
            }
            self.bump();
        }
        Step::Fail
    }

    /// Atoms and dots without skipping white space inside.
    fn atom_or_dot(&mut self, out: &mut Vec<u8>) -> Step {
        self.run(out, |b| is_atext(b) || b == b'.')
    }

    /// `phrase` (RFC 5322 with obs-phrase): words joined by one space.
    pub(crate) fn phrase(&mut self, out: &mut Vec<u8>) -> Step {
        if self.at_end() {
            return Step::End;
        }
        if self.at(b'.') {
            return Step::Fail;
        }
        loop {
            let step = if self.at(b'"') {
                self.quoted_string(out)
            } else {
                self.atom_or_dot(out)
            };
            if step.done() {
                return step;
            }
            match self.peek() {
                Some(b) if is_atext(b) || b == b'"' || b == b'.' => out.push(b' '),
                _ => break,
            }
        }
        self.skip_lwsp()
    }

    /// `domain-literal`: the cursor is on `[`; kept with its brackets.
    fn domain_literal(&mut self, out: &mut Vec<u8>) -> Step {
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'\\' => {
                    self.bump();
                    if self.at_end() {
                        break;
                    }
                }
                b']' => {
                    self.bump();
                    out.extend_from_slice(&self.data[start..self.pos]);
                    return self.skip_lwsp();
                }
                _ => {}
            }
            self.bump();
        }
        Step::Fail
    }

    /// `domain` after `@` (the cursor is on `@`).
    pub(crate) fn domain(&mut self, out: &mut Vec<u8>) -> Step {
        self.bump();
        if self.skip_lwsp().done() {
            return Step::Fail;
        }
        if self.at(b'[') {
            self.domain_literal(out)
        } else {
            self.dot_atom(out)
        }
    }

    /// `type "/" subtype` of Content-Type into `out` (as `type/subtype`).
    /// On failure `out` is emptied, except when the value ends right
    /// after the type (`text`), which is kept — as Dovecot 2.3 does:
    /// `text/`, `text ; x=y`, `/plain`, `text/plain junk` and a NUL in
    /// the type all give an empty type and subtype.
    pub(crate) fn content_type(&mut self, out: &mut Vec<u8>) -> Step {
        if self.skip_lwsp().done() {
            return Step::Fail;
        }
        if self.mime_token(out).done() || out.is_empty() {
            return Step::Fail;
        }
        let fail = |out: &mut Vec<u8>| {
            out.clear();
            Step::Fail
        };
        if !self.at(b'/') {
            return fail(out);
        }
        self.bump();
        if self.skip_lwsp().done() {
            return fail(out);
        }
        out.push(b'/');
        let type_len = out.len();
        let step = self.mime_token(out);
        if step == Step::Fail || out.len() == type_len || !(self.at_end() || self.at(b';')) {
            return fail(out);
        }
        step
    }

    /// One `; attribute=value` parameter (on [`ParamStep::Bad`] the
    /// caller skips one octet and goes on).
    pub(crate) fn content_param(&mut self) -> ParamStep {
        if self.at_end() {
            return ParamStep::End;
        }
        if !self.at(b';') {
            return ParamStep::Bad;
        }
        self.bump();
        if self.skip_lwsp().done() {
            return ParamStep::Bad;
        }
        let mut key = Vec::new();
        if self.mime_token(&mut key).done() || !self.at(b'=') {
            return ParamStep::Bad;
        }
        self.bump();
        let mut value = Vec::new();
        let step = match self.skip_lwsp() {
            Step::More if self.at(b'"') => self.quoted_string(&mut value),
            Step::More if self.at(b'=') => {
                // Broken input such as name==?utf-8?b?…?= is taken whole.
                while let Some(b) = self.peek() {
                    if matches!(b, b';' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    value.push(b);
                    self.bump();
                }
                Step::More
            }
            Step::More => self.mime_token(&mut value),
            other => other,
        };
        if step == Step::Fail {
            return ParamStep::Bad;
        }
        ParamStep::Param(key, value)
    }
}

#[cfg(test)]
#[path = "lex_tests.rs"]
mod tests;

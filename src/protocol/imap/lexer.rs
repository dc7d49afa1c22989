//! The lexical layer of the command parser: a cursor over one complete
//! command (tag to final line ending, literals inline) that reads the
//! primitives of RFC 3501 §9: atoms, numbers, quoted strings, literals
//! (§4.3, `{n}` and LITERAL+ `{n+}` of RFC 7888), astrings, nstrings and
//! parenthesised lists.
//!
//! Owns: character classes and the primitive readers. Every reader is
//! total: it returns a value or a [`Fail`], never panics, and never
//! recurses; the command parsers count nesting with
//! [`Cursor::descend`], so hostile input cannot exhaust the stack.
//!
//! Lenient where real clients need it, strict where ambiguity would
//! follow: 8-bit octets are accepted inside quoted strings (they are
//! printed back as literals), a bare LF ends a line like CRLF, trailing
//! spaces before the line end are ignored; NUL, CR and LF inside quoted
//! strings, unknown escapes and NUL in string literals are refused.
//!
//! Must not: know command names or build command values.

use std::num::NonZeroU32;

/// Deepest nesting of parentheses, NOT and OR a command may use.
pub const MAX_NESTING: usize = 100;

/// Why a read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fail {
    /// The input ended inside a literal: only possible while checking a
    /// command whose literal has not arrived yet.
    Incomplete,
    /// A syntax error, with the text the client will see.
    Bad(&'static str),
    /// Nesting deeper than [`MAX_NESTING`].
    TooDeep,
}

/// Result of one read.
pub(super) type PResult<T> = Result<T, Fail>;

/// `ATOM-CHAR`: printable US-ASCII except `(){ %*"\]`.
pub(super) fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
        && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// `ASTRING-CHAR`: an atom character or `]`.
pub(super) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// `list-char`: an astring character or a LIST wildcard.
pub(super) fn is_list_char(b: u8) -> bool {
    is_astring_char(b) || matches!(b, b'%' | b'*')
}

/// Reads one command.
pub(super) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Cursor {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// The next octet, if any.
    pub(super) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Everything not read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Skips `n` octets (at most to the end).
    pub(super) fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
    }

    /// Consumes `b` if it is next.
    pub(super) fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    /// Consumes `b` or fails with `what`.
    pub(super) fn expect(&mut self, b: u8, what: &'static str) -> PResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(Fail::Bad(what))
        }
    }

    /// Consumes one space.
    pub(super) fn sp(&mut self) -> PResult<()> {
        self.expect(b' ', "expected a space")
    }

    /// Consumes octets while `keep` holds and returns them.
    pub(super) fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    /// Whether only (optional trailing spaces and) the line ending is
    /// left on this line.
    pub(super) fn at_line_end(&self) -> bool {
        let rest = self.rest();
        let n = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
        matches!(&rest[n..], [b'\r', b'\n', ..] | [b'\n', ..])
    }

    /// Consumes a line ending (CRLF or bare LF).
    fn line_end(&mut self) -> bool {
        let n = match self.rest() {
            [b'\r', b'\n', ..] => 2,
            [b'\n', ..] => 1,
            _ => 0,
        };
        self.pos += n;
        n > 0
    }

    /// Consumes trailing spaces and the final line ending, which must be
    /// the end of the command.
    pub(super) fn finish(&mut self) -> PResult<()> {
        self.take_while(|b| b == b' ');
        if self.line_end() && self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(Fail::Bad("unexpected characters at the end of the command"))
        }
    }

    /// One nesting level deeper (parenthesis, NOT, OR).
    ///
    /// # Errors
    /// [`Fail::TooDeep`] past [`MAX_NESTING`].
    pub(super) fn descend(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            Err(Fail::TooDeep)
        } else {
            Ok(())
        }
    }

    /// Back up one nesting level.
    pub(super) fn ascend(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// An atom.
    pub(super) fn atom(&mut self) -> PResult<&'a str> {
        let atom = self.take_while(is_atom_char);
        if atom.is_empty() {
            return Err(Fail::Bad("expected an atom"));
        }
        std::str::from_utf8(atom).map_err(|_| Fail::Bad("expected an atom"))
    }

    /// The atom at the cursor, upper-cased, without consuming it (empty
    /// if there is none).
    pub(super) fn peek_keyword(&self) -> String {
        let rest = self.rest();
        let n = rest
            .iter()
            .position(|&b| !is_atom_char(b))
            .unwrap_or(rest.len());
        String::from_utf8_lossy(&rest[..n]).to_ascii_uppercase()
    }

    /// An atom, upper-cased, for matching keywords.
    pub(super) fn keyword(&mut self) -> PResult<String> {
        Ok(self.atom()?.to_ascii_uppercase())
    }

    /// `number64`: one or more digits.
    pub(super) fn number64(&mut self) -> PResult<u64> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        if digits.is_empty() {
            return Err(Fail::Bad("expected a number"));
        }
        digits.iter().try_fold(0u64, |acc, &d| {
            acc.checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(Fail::Bad("number too large"))
        })
    }

    /// `number`: a 32-bit unsigned number.
    pub(super) fn number(&mut self) -> PResult<u32> {
        u32::try_from(self.number64()?).map_err(|_| Fail::Bad("number too large"))
    }

    /// `nz-number`: a non-zero 32-bit number.
    pub(super) fn nz_number(&mut self) -> PResult<NonZeroU32> {
        NonZeroU32::new(self.number()?).ok_or(Fail::Bad("zero is not allowed here"))
    }

    /// A quoted string; the cursor is at the opening `"`.
    fn quoted(&mut self) -> PResult<Vec<u8>> {
        self.expect(b'"', "expected a quoted string")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return Err(Fail::Bad("invalid escape in a quoted string")),
                    }
                }
                Some(b'\r' | b'\n' | 0) | None => {
                    return Err(Fail::Bad("unterminated quoted string"));
                }
                Some(c) => out.push(c),
            }
            self.pos += 1;
        }
    }

    /// A literal, `{n}` or `{n+}` then a line ending then n octets; the
    /// cursor is at `{`. Any octet may appear in the data.
    pub(super) fn literal(&mut self) -> PResult<&'a [u8]> {
        self.expect(b'{', "expected a literal")?;
        let len = self.number()?;
        self.eat(b'+');
        self.expect(b'}', "expected '}' after the literal size")?;
        if !self.line_end() {
            return Err(Fail::Bad("a literal size must end the line"));
        }
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| self.pos.checked_add(len))
            .ok_or(Fail::Incomplete)?;
        let data = self.buf.get(self.pos..end).ok_or(Fail::Incomplete)?;
        self.pos = end;
        Ok(data)
    }

    /// `string`: quoted or literal; NUL is refused in both.
    pub(super) fn string(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => {
                let data = self.literal()?;
                if data.contains(&0) {
                    return Err(Fail::Bad("NUL in a literal"));
                }
                Ok(data.to_vec())
            }
            _ => Err(Fail::Bad("expected a string")),
        }
    }

    /// `astring`: one or more ASTRING-CHARs, or a string.
    pub(super) fn astring(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b) if is_astring_char(b) => Ok(self.take_while(is_astring_char).to_vec()),
            _ => self.string(),
        }
    }

    /// An astring that must be UTF-8.
    pub(super) fn astring_utf8(&mut self) -> PResult<String> {
        utf8(self.astring()?)
    }

    /// A string that must be UTF-8.
    pub(super) fn string_utf8(&mut self) -> PResult<String> {
        utf8(self.string()?)
    }

    /// Whether the next word is `NIL` (not followed by more atom
    /// characters); consumes it if so.
    pub(super) fn nil(&mut self) -> bool {
        let rest = self.rest();
        let hit = rest.len() >= 3
            && rest[..3].eq_ignore_ascii_case(b"NIL")
            && !rest.get(3).is_some_and(|&b| is_astring_char(b));
        self.pos += if hit { 3 } else { 0 };
        hit
    }

    /// `nstring` that must be UTF-8: `NIL` or a string.
    pub(super) fn nstring_utf8(&mut self) -> PResult<Option<String>> {
        if self.nil() {
            Ok(None)
        } else {
            self.string_utf8().map(Some)
        }
    }

    /// `"(" [item *(SP item)] ")"`; the list may be empty.
    pub(super) fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect(b'(', "expected '('")?;
        let mut items = Vec::new();
        if self.eat(b')') {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(b')') {
                return Ok(items);
            }
            self.sp()?;
        }
    }

    /// Like [`Cursor::list`], but the list must not be empty.
    pub(super) fn list1<T>(
        &mut self,
        item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let items = self.list(item)?;
        if items.is_empty() {
            Err(Fail::Bad("empty list"))
        } else {
            Ok(items)
        }
    }
}

/// Text that must be UTF-8.
pub(super) fn utf8(bytes: Vec<u8>) -> PResult<String> {
    String::from_utf8(bytes).map_err(|_| Fail::Bad("invalid UTF-8"))
}

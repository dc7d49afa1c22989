//! Address lists of From, Sender, Reply-To, To, Cc and Bcc (RFC 5322
//! §3.4 with the obsolete forms of §4.4), parsed into ENVELOPE address
//! structures the way Dovecot's `message-address` parses them, broken
//! input included.
//!
//! Owns: [`Addr`] and [`parse_addresses`]. Group syntax becomes a start
//! marker (mailbox = group name, no host) and an end marker (all NIL),
//! as RFC 3501 §7.4.2 says. Where a part is missing Dovecot's
//! placeholders are used: `MISSING_MAILBOX`, `MISSING_DOMAIN`,
//! `SYNTAX_ERROR` (unterminated `<…>`), `INVALID_ROUTE`. A display name
//! may come from a trailing comment (`user@host (Name)`). Names stay
//! raw: encoded-words are not decoded.
//!
//! Must not: panic or loop on any input (every step consumes input or
//! stops).

use super::lex::{Lexer, Step};

/// One parsed address (or group marker).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Addr {
    /// Display name.
    pub(crate) name: Option<Vec<u8>>,
    /// Obsolete source route (`@a,@b`).
    pub(crate) route: Option<Vec<u8>>,
    /// Local part; group name for a group start.
    pub(crate) mailbox: Option<Vec<u8>>,
    /// Domain; `None` only for group markers.
    pub(crate) domain: Option<Vec<u8>>,
    invalid: bool,
}

struct Ctx<'a> {
    lx: Lexer<'a>,
    addr: Addr,
    out: Vec<Addr>,
    text: Vec<u8>,
}

/// Parses an address-list header value.
pub(crate) fn parse_addresses(value: &[u8]) -> Vec<Addr> {
    let mut lx = Lexer::new(value);
    lx.last_comment = Some(Vec::new());
    let mut ctx = Ctx {
        lx,
        addr: Addr::default(),
        out: Vec::new(),
        text: Vec::new(),
    };
    if ctx.lx.skip_lwsp() == Step::More {
        ctx.address_list();
    }
    ctx.out
}

impl Ctx<'_> {
    fn push(&mut self) {
        self.out.push(std::mem::take(&mut self.addr));
    }

    fn push_fixed(&mut self) {
        if self.addr.mailbox.is_none() {
            self.addr.mailbox = Some(b"MISSING_MAILBOX".to_vec());
            self.addr.invalid = true;
        }
        if self.addr.domain.as_ref().is_none_or(|d| d.is_empty()) {
            self.addr.domain = Some(b"MISSING_DOMAIN".to_vec());
            self.addr.invalid = true;
        }
        self.push();
    }

    fn local_part(&mut self) -> Step {
        self.text.clear();
        let step = if self.lx.at(b'"') {
            self.lx.quoted_string(&mut self.text)
        } else {
            self.lx.dot_atom(&mut self.text)
        };
        if step != Step::Fail {
            self.addr.mailbox = Some(self.text.clone());
        }
        step
    }

    fn domain(&mut self) -> Step {
        self.text.clear();
        let step = self.lx.domain(&mut self.text);
        if step != Step::Fail {
            self.addr.domain = Some(self.text.clone());
        }
        step
    }

    fn domain_list(&mut self) -> Step {
        self.text.clear();
        loop {
            if self.lx.at_end() {
                return Step::End;
            }
            if !self.lx.at(b'@') {
                break;
            }
            if !self.text.is_empty() {
                self.text.push(b',');
            }
            self.text.push(b'@');
            let step = self.lx.domain(&mut self.text);
            if step.done() {
                return step;
            }
            while self.lx.skip_lwsp() == Step::More && self.lx.at(b',') {
                self.lx.bump();
            }
        }
        self.addr.route = Some(self.text.clone());
        Step::More
    }

    fn angle_addr(&mut self) -> Step {
        self.lx.bump();
        if self.lx.skip_lwsp().done() {
            return Step::Fail;
        }
        if self.lx.at(b'@') {
            if self.domain_list() == Step::More && self.lx.at(b':') {
                self.lx.bump();
            } else {
                self.addr.route = Some(b"INVALID_ROUTE".to_vec());
                if self.lx.at_end() {
                    return Step::Fail;
                }
            }
            if self.lx.skip_lwsp().done() {
                return Step::Fail;
            }
        }
        if !self.lx.at(b'>') {
            if self.local_part().done() {
                return Step::Fail;
            }
            if self.lx.at(b'@') && self.domain().done() {
                return Step::Fail;
            }
        }
        if !self.lx.at(b'>') {
            return Step::Fail;
        }
        self.lx.bump();
        self.lx.skip_lwsp()
    }

    fn name_addr(&mut self) -> Step {
        self.text.clear();
        if self.lx.phrase(&mut self.text).done() || !self.lx.at(b'<') {
            return Step::Fail;
        }
        self.addr.name = (!self.text.is_empty()).then(|| self.text.clone());
        if self.angle_addr() == Step::Fail {
            self.addr.domain = Some(b"SYNTAX_ERROR".to_vec());
            self.addr.invalid = true;
        }
        if self.lx.at_end() {
            Step::End
        } else {
            Step::More
        }
    }

    fn addr_spec(&mut self) -> Step {
        self.lx.last_comment = Some(Vec::new());
        let quoted = self.lx.at(b'"');
        let mut step = self.local_part();
        if step.done() {
            self.addr.invalid = true;
        }
        let mut tried_domain = false;
        if step != Step::End && self.lx.at(b'@') {
            tried_domain = true;
            let domain = self.domain();
            if domain.done() {
                step = domain;
            }
        }
        let comment = self.lx.last_comment.take().unwrap_or_default();
        self.lx.last_comment = Some(Vec::new());
        if !comment.is_empty() {
            self.addr.name = Some(comment);
        } else if !tried_domain {
            // A lone word is a mailbox; more words make a display name.
            self.text.push(b' ');
            let before = self.text.len();
            self.lx.phrase(&mut self.text);
            if self.text.len() != before {
                self.addr.mailbox = None;
                self.addr.name = Some(self.text.clone());
            } else if !quoted {
                self.addr.domain = Some(Vec::new());
            }
            self.addr.invalid = true;
            step = Step::Fail;
        }
        step
    }

    fn mailbox(&mut self) -> Step {
        let start = self.lx.mark();
        let mut step = self.name_addr();
        if step == Step::Fail {
            self.lx.reset(start);
            step = self.addr_spec();
            let a = &mut self.addr;
            if a.invalid && a.name.is_none() && a.mailbox.is_some() && a.domain.is_none() {
                a.name = a.mailbox.take();
            }
        }
        if step == Step::Fail {
            self.addr.invalid = true;
        }
        self.push_fixed();
        step
    }

    fn group(&mut self) -> Step {
        self.text.clear();
        if self.lx.phrase(&mut self.text).done() || !self.lx.at(b':') {
            return Step::Fail;
        }
        self.lx.bump();
        let mut step = self.lx.skip_lwsp();
        self.addr.mailbox = Some(self.text.clone());
        self.push();
        if step == Step::More && !self.lx.at(b';') {
            loop {
                self.mailbox();
                if !self.lx.at(b',') {
                    break;
                }
                self.lx.bump();
                if self.lx.skip_lwsp().done() {
                    step = Step::Fail;
                    break;
                }
            }
        }
        if step != Step::Fail {
            if self.lx.at(b';') {
                self.lx.bump();
                step = self.lx.skip_lwsp();
            } else {
                step = Step::Fail;
            }
        }
        self.push();
        if step == Step::End {
            Step::End
        } else {
            Step::More
        }
    }

    fn address(&mut self) -> Step {
        let start = self.lx.mark();
        let step = self.group();
        if step != Step::Fail {
            return step;
        }
        self.lx.reset(start);
        self.addr = Addr::default();
        self.mailbox()
    }

    fn address_list(&mut self) {
        loop {
            if self.address() == Step::End || !self.lx.at(b',') {
                break;
            }
            self.lx.bump();
            match self.lx.skip_lwsp() {
                Step::More => {}
                Step::Fail => {
                    self.push_fixed();
                    break;
                }
                Step::End => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(value: &str) -> Vec<String> {
        let s = |v: &Option<Vec<u8>>| match v {
            Some(v) => format!("{:?}", String::from_utf8_lossy(v)),
            None => "NIL".to_owned(),
        };
        parse_addresses(value.as_bytes())
            .iter()
            .map(|a| {
                format!(
                    "{} {} {} {}",
                    s(&a.name),
                    s(&a.route),
                    s(&a.mailbox),
                    s(&a.domain)
                )
            })
            .collect()
    }

    #[test]
    fn plain_and_named_addresses() {
        assert_eq!(
            show("a@b.example, \"X, Y\" <x@y.example>"),
            [
                "NIL NIL \"a\" \"b.example\"",
                "\"X, Y\" NIL \"x\" \"y.example\""
            ]
        );
    }

    #[test]
    fn groups_become_markers() {
        assert_eq!(
            show("G: a@b;, undisclosed-recipients:;"),
            [
                "NIL NIL \"G\" NIL",
                "NIL NIL \"a\" \"b\"",
                "NIL NIL NIL NIL",
                "NIL NIL \"undisclosed-recipients\" NIL",
                "NIL NIL NIL NIL"
            ]
        );
    }

    #[test]
    fn broken_addresses_get_placeholders() {
        assert_eq!(show("local"), ["NIL NIL \"local\" \"MISSING_DOMAIN\""]);
        assert_eq!(show("x <y@z"), ["\"x\" NIL \"y\" \"SYNTAX_ERROR\""]);
        assert_eq!(show("a@b (Real Name)"), ["\"Real Name\" NIL \"a\" \"b\""]);
        assert_eq!(
            show(";"),
            ["NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\""]
        );
        assert!(show("").is_empty());
    }
}

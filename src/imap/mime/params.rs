//! The `Content-*` header fields of one MIME part (RFC 2045 §5–6, RFC
//! 2183 Content-Disposition, RFC 3066 Content-Language, RFC 2557
//! Content-Location) and MIME parameters with RFC 2231 continuations,
//! parsed as Dovecot parses them.
//!
//! Owns: [`ContentFields`] and [`parse_params`]. RFC 2231 segments
//! (`name*0`, `name*1*`…) are merged into one `name` or `name*`
//! parameter; the value is left encoded (`utf-8''%E2%82%AC`), as IMAP
//! servers return it. Non-RFC 2231 parameters come first, in header
//! order; merged ones follow, sorted by name.
//!
//! Must not: decode values or judge them; BODYSTRUCTURE wants them as
//! sent.

use super::header::Field;
use super::lex::{Lexer, ParamStep, Step};

/// A MIME parameter: name and value, as raw octets.
pub(crate) type Param = (Vec<u8>, Vec<u8>);

/// The Content-* fields of a part, first occurrence of each.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContentFields {
    /// Content-Type type (`text`), as written.
    pub(crate) media_type: Option<Vec<u8>>,
    /// Content-Type subtype (`plain`); empty when the type had none.
    pub(crate) subtype: Vec<u8>,
    /// Content-Type parameters.
    pub(crate) params: Vec<Param>,
    /// Content-Transfer-Encoding token.
    pub(crate) encoding: Option<Vec<u8>>,
    /// Content-ID, raw value.
    pub(crate) id: Option<Vec<u8>>,
    /// Content-Description, raw value.
    pub(crate) description: Option<Vec<u8>>,
    /// Content-MD5, raw value.
    pub(crate) md5: Option<Vec<u8>>,
    /// Content-Disposition type and parameters.
    pub(crate) disposition: Option<(Vec<u8>, Vec<Param>)>,
    /// Content-Language tags.
    pub(crate) language: Option<Vec<Vec<u8>>>,
    /// Content-Location, raw value.
    pub(crate) location: Option<Vec<u8>>,
}

impl ContentFields {
    /// Reads the Content-* fields among `fields` (others are ignored).
    pub(crate) fn parse(fields: &[Field]) -> ContentFields {
        let mut c = ContentFields::default();
        for f in fields {
            let Some(name) = strip_prefix_ci(&f.name, b"content-") else {
                continue;
            };
            let v = &f.value;
            match name.to_ascii_lowercase().as_slice() {
                b"type" if c.media_type.is_none() => c.set_type(v),
                b"transfer-encoding" if c.encoding.is_none() => c.encoding = encoding(v),
                b"id" if c.id.is_none() => c.id = Some(v.clone()),
                b"md5" if c.md5.is_none() => c.md5 = Some(v.clone()),
                b"description" if c.description.is_none() => c.description = Some(v.clone()),
                b"location" if c.location.is_none() => c.location = Some(v.clone()),
                b"language" if c.language.is_none() => c.language = language(v),
                b"disposition" if c.disposition.as_ref().is_none_or(|d| d.1.is_empty()) => {
                    if let Some(d) = disposition(v) {
                        c.disposition = Some(d);
                    }
                }
                _ => {}
            }
        }
        c
    }

    fn set_type(&mut self, value: &[u8]) {
        let mut lx = Lexer::new(value);
        lx.skip_lwsp();
        let mut full = Vec::new();
        let step = lx.content_type(&mut full);
        let (ty, sub) = match full.iter().position(|&b| b == b'/') {
            Some(slash) => (full[..slash].to_vec(), full[slash + 1..].to_vec()),
            None => (full, Vec::new()),
        };
        self.media_type = Some(ty);
        self.subtype = sub;
        if step != Step::Fail {
            self.params = parse_params(&mut lx);
        }
    }

    /// Whether the type is `text` (or absent, which defaults to text).
    pub(crate) fn is_text(&self) -> bool {
        self.media_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case(b"text"))
    }
}

/// `value` without the ASCII-case-insensitive `prefix`.
pub(crate) fn strip_prefix_ci<'v>(value: &'v [u8], prefix: &[u8]) -> Option<&'v [u8]> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &value[prefix.len()..])
}

fn encoding(value: &[u8]) -> Option<Vec<u8>> {
    let mut lx = Lexer::new(value);
    lx.skip_lwsp();
    let mut token = Vec::new();
    // Dovecot keeps the token only when nothing but white space follows.
    let ok = lx.mime_token(&mut token) != Step::Fail && lx.skip_lwsp() == Step::End;
    (ok && !token.is_empty()).then_some(token)
}

fn disposition(value: &[u8]) -> Option<(Vec<u8>, Vec<Param>)> {
    let mut lx = Lexer::new(value);
    lx.skip_lwsp();
    let mut kind = Vec::new();
    if lx.mime_token(&mut kind) == Step::Fail {
        return None;
    }
    let params = parse_params(&mut lx);
    Some((kind, params))
}

fn language(value: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut lx = Lexer::new(value);
    let mut langs = Vec::new();
    lx.skip_lwsp();
    loop {
        let mut tag = Vec::new();
        if lx.atom(&mut tag) == Step::Fail {
            break;
        }
        langs.push(tag);
        if !lx.at(b',') {
            break;
        }
        lx.bump();
        lx.skip_lwsp();
    }
    (!langs.is_empty()).then_some(langs)
}

/// One RFC 2231 segment: `name*<index>[*]=value`.
struct Segment {
    name: Vec<u8>,
    index: u32,
    extended: bool,
    value: Vec<u8>,
}

/// Splits `key` as an RFC 2231 segment name. `index` carries over from
/// the previous segment when the key has no number (as in Dovecot).
fn segment(key: &[u8], index: &mut u32) -> Option<(Vec<u8>, bool)> {
    let star = key.iter().position(|&b| b == b'*')?;
    let mut rest = &key[star..];
    if rest.len() > 1 {
        rest = &rest[1..];
        *index = 0;
        while let Some((&d, tail)) = rest.split_first().filter(|(d, _)| d.is_ascii_digit()) {
            *index = index.wrapping_mul(10).wrapping_add(u32::from(d - b'0'));
            rest = tail;
        }
    }
    let extended = rest.first() == Some(&b'*');
    if extended {
        rest = &rest[1..];
    }
    rest.is_empty().then(|| (key[..star].to_vec(), extended))
}

/// Reads `; name=value` parameters to the end of `lx`, merging RFC 2231
/// segments.
pub(crate) fn parse_params(lx: &mut Lexer<'_>) -> Vec<Param> {
    let mut plain = Vec::new();
    let mut segments = Vec::new();
    let mut index = 0u32;
    loop {
        match lx.content_param() {
            ParamStep::End => break,
            ParamStep::Bad => {
                if lx.at_end() {
                    break;
                }
                lx.bump();
            }
            ParamStep::Param(key, value) => match segment(&key, &mut index) {
                Some((name, extended)) => segments.push(Segment {
                    name,
                    index,
                    extended,
                    value,
                }),
                None => plain.push((key, value)),
            },
        }
    }
    merge_segments(&mut plain, segments);
    plain
}

fn merge_segments(out: &mut Vec<Param>, mut segments: Vec<Segment>) {
    segments.sort_by(|a, b| a.name.cmp(&b.name).then(a.index.cmp(&b.index)));
    let mut i = 0;
    while i < segments.len() {
        let group_len = segments[i..]
            .iter()
            .take_while(|s| s.name.eq_ignore_ascii_case(&segments[i].name))
            .count();
        let group = &segments[i..i + group_len];
        i += group_len;
        let complete = group.iter().zip(0u32..).all(|(s, n)| s.index == n);
        if !complete {
            for s in group {
                let mut key = s.name.clone();
                key.extend_from_slice(format!("*{}", s.index).as_bytes());
                if s.extended {
                    key.push(b'*');
                }
                out.push((key, s.value.clone()));
            }
            continue;
        }
        let any_extended = group.iter().any(|s| s.extended);
        let mut value = Vec::new();
        if any_extended && !group[0].extended {
            value.extend_from_slice(b"''");
        }
        for s in group {
            if any_extended && !s.extended {
                for &b in &s.value {
                    if b == b'%' {
                        value.extend_from_slice(b"%25");
                    } else {
                        value.push(b);
                    }
                }
            } else {
                value.extend_from_slice(&s.value);
            }
        }
        let mut key = group[0].name.clone();
        if any_extended {
            key.push(b'*');
        }
        out.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(input: &[u8]) -> Vec<(String, String)> {
        let mut lx = Lexer::new(input);
        parse_params(&mut lx)
            .into_iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn continuations_merge_and_come_last() {
        let got = params(b"; title*1=\" world\"; title*0=hello; a=b");
        assert_eq!(got, vec![pair("a", "b"), pair("title", "hello world")]);
    }

    #[test]
    fn extended_segments_stay_encoded() {
        let got = params(b"; f*0*=utf-8''%E2%82%AC; f*1=100%");
        assert_eq!(got, vec![pair("f*", "utf-8''%E2%82%AC100%25")]);
    }

    #[test]
    fn gaps_keep_segments_apart() {
        let got = params(b"; x*0=a; x*2=c");
        assert_eq!(got, vec![pair("x*0", "a"), pair("x*2", "c")]);
    }

    #[test]
    fn garbage_between_params_is_skipped() {
        // An empty name is kept, as Dovecot keeps it.
        let got = params(b"; =x; ok=1;;; y");
        assert_eq!(got, vec![pair("", "x"), pair("ok", "1")]);
    }
}

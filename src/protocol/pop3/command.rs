//! POP3 commands: `KEYWORD [args]` lines of at most 255 octets (RFC 2449
//! §4), keywords case-insensitive.

/// Longest command line (CRLF included), RFC 2449 §4.
pub const MAX_LINE: usize = 255;
/// Longest AUTH line or SASL response line (RFC 5034 §4 lets them be longer).
pub const MAX_AUTH_LINE: usize = 12288;

/// One POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `CAPA`.
    Capa,
    /// `STLS`.
    Stls,
    /// `USER name`.
    User(String),
    /// `PASS password` (the rest of the line, spaces included).
    Pass(String),
    /// `AUTH [mechanism [initial-response]]`; no mechanism lists them.
    Auth {
        /// The mechanism, upper-cased.
        mechanism: Option<String>,
        /// The initial response (base64 or `=`).
        initial: Option<String>,
    },
    /// `STAT`.
    Stat,
    /// `LIST [n]`.
    List(Option<u32>),
    /// `RETR n`.
    Retr(u32),
    /// `DELE n`.
    Dele(u32),
    /// `NOOP`.
    Noop,
    /// `RSET`.
    Rset,
    /// `QUIT`.
    Quit,
    /// `TOP n lines`.
    Top(u32, u32),
    /// `UIDL [n]`.
    Uidl(Option<u32>),
}

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Empty line.
    #[error("empty command")]
    Empty,
    /// Not a POP3 command we know.
    #[error("unknown command")]
    Unknown,
    /// Known command, wrong arguments; the text says which form is right.
    #[error("syntax: {0}")]
    Syntax(&'static str),
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Command {
    /// Parses one line without its CRLF.
    ///
    /// # Errors
    /// [`ParseError`] with the reason.
    pub fn parse(line: &[u8]) -> Result<Command, ParseError> {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches([' ', '\t']);
        if line.is_empty() {
            return Err(ParseError::Empty);
        }
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(ParseError::Syntax("control characters in command"));
        }
        let (keyword, rest) = match line.split_once(' ') {
            Some((k, r)) => (k, r),
            None => (line, ""),
        };
        let args: Vec<&str> = rest.split_whitespace().collect();
        let keyword = keyword.to_ascii_uppercase();
        let none = |c: Command, usage| {
            if args.is_empty() {
                Ok(c)
            } else {
                Err(ParseError::Syntax(usage))
            }
        };
        match keyword.as_str() {
            "CAPA" => none(Command::Capa, "CAPA"),
            "STLS" => none(Command::Stls, "STLS"),
            "STAT" => none(Command::Stat, "STAT"),
            "NOOP" => none(Command::Noop, "NOOP"),
            "RSET" => none(Command::Rset, "RSET"),
            "QUIT" => none(Command::Quit, "QUIT"),
            "USER" => match args.as_slice() {
                [name] => Ok(Command::User((*name).to_string())),
                _ => Err(ParseError::Syntax("USER name")),
            },
            "PASS" if !rest.is_empty() => Ok(Command::Pass(rest.to_string())),
            "PASS" => Err(ParseError::Syntax("PASS password")),
            "AUTH" => match args.as_slice() {
                [] => Ok(Command::Auth {
                    mechanism: None,
                    initial: None,
                }),
                [m] => Ok(Command::Auth {
                    mechanism: Some(m.to_ascii_uppercase()),
                    initial: None,
                }),
                [m, ir] => Ok(Command::Auth {
                    mechanism: Some(m.to_ascii_uppercase()),
                    initial: Some((*ir).to_string()),
                }),
                _ => Err(ParseError::Syntax("AUTH mechanism [initial-response]")),
            },
            "LIST" | "UIDL" => {
                let n = match args.as_slice() {
                    [] => None,
                    [n] => Some(number(n).ok_or(ParseError::Syntax("LIST|UIDL [msg]"))?),
                    _ => return Err(ParseError::Syntax("LIST|UIDL [msg]")),
                };
                Ok(if keyword == "LIST" {
                    Command::List(n)
                } else {
                    Command::Uidl(n)
                })
            }
            "RETR" | "DELE" => match args.as_slice() {
                [n] => {
                    let n = number(n).ok_or(ParseError::Syntax("RETR|DELE msg"))?;
                    Ok(if keyword == "RETR" {
                        Command::Retr(n)
                    } else {
                        Command::Dele(n)
                    })
                }
                _ => Err(ParseError::Syntax("RETR|DELE msg")),
            },
            "TOP" => match args.as_slice() {
                [n, l] => match (number(n), number(l)) {
                    (Some(n), Some(l)) => Ok(Command::Top(n, l)),
                    _ => Err(ParseError::Syntax("TOP msg lines")),
                },
                _ => Err(ParseError::Syntax("TOP msg lines")),
            },
            _ => Err(ParseError::Unknown),
        }
    }

    /// The canonical line for this command (CRLF included).
    pub fn to_line(&self) -> String {
        let opt = |k: &str, n: &Option<u32>| match n {
            Some(n) => format!("{k} {n}"),
            None => k.to_string(),
        };
        let body = match self {
            Command::Capa => "CAPA".into(),
            Command::Stls => "STLS".into(),
            Command::User(u) => format!("USER {u}"),
            Command::Pass(p) => format!("PASS {p}"),
            Command::Auth {
                mechanism: None, ..
            } => "AUTH".into(),
            Command::Auth {
                mechanism: Some(m),
                initial: None,
            } => format!("AUTH {m}"),
            Command::Auth {
                mechanism: Some(m),
                initial: Some(i),
            } => format!("AUTH {m} {i}"),
            Command::Stat => "STAT".into(),
            Command::List(n) => opt("LIST", n),
            Command::Uidl(n) => opt("UIDL", n),
            Command::Retr(n) => format!("RETR {n}"),
            Command::Dele(n) => format!("DELE {n}"),
            Command::Noop => "NOOP".into(),
            Command::Rset => "RSET".into(),
            Command::Quit => "QUIT".into(),
            Command::Top(n, l) => format!("TOP {n} {l}"),
        };
        format!("{body}\r\n")
    }
}

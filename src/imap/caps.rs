//! The CAPABILITY list: exactly what this server implements, by session
//! stage (RFC 3501 §6.1.1, §7.2.1).
//!
//! Before login on a plaintext connection the client learns STARTTLS and
//! `LOGINDISABLED` (RFC 3501 §6.2.3, §11.1) unless loopback logins are
//! allowed; AUTH= mechanisms are offered only where a login may succeed.
//! After login the full list is sent again (in the tagged OK), so clients
//! need not ask.

/// Extensions that need no login to be useful, in every stage.
const ALWAYS: [&str; 5] = ["IMAP4rev1", "SASL-IR", "LITERAL+", "ID", "ENABLE"];

/// Extensions of the authenticated stages.
const AFTER_LOGIN: [&str; 15] = [
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "UIDPLUS",
    "MOVE",
    "CHILDREN",
    "SPECIAL-USE",
    "CONDSTORE",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "ESEARCH",
    "SORT",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "STATUS=SIZE",
];

/// Where the session is, as far as capabilities go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Not logged in; `tls`: TLS is active; `may_login`: credentials may
    /// be sent now (TLS, or loopback where allowed).
    Anonymous {
        /// TLS is active.
        tls: bool,
        /// LOGIN and AUTHENTICATE are allowed.
        may_login: bool,
    },
    /// Logged in.
    Authenticated,
}

/// The capability atoms for `stage`; `append_limit` is advertised as
/// `APPENDLIMIT=n` (RFC 7889).
pub fn capabilities(stage: Stage, append_limit: u32) -> Vec<String> {
    let mut caps: Vec<String> = ALWAYS.iter().map(|c| c.to_string()).collect();
    match stage {
        Stage::Anonymous { tls, may_login } => {
            if !tls {
                caps.push("STARTTLS".into());
            }
            if may_login {
                caps.push("AUTH=PLAIN".into());
            } else {
                caps.push("LOGINDISABLED".into());
            }
        }
        Stage::Authenticated => {
            caps.extend(AFTER_LOGIN.iter().map(|c| c.to_string()));
            caps.push(format!("APPENDLIMIT={append_limit}"));
        }
    }
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_before_login_disables_login() {
        let caps = capabilities(
            Stage::Anonymous {
                tls: false,
                may_login: false,
            },
            10,
        );
        assert!(caps.contains(&"STARTTLS".into()) && caps.contains(&"LOGINDISABLED".into()));
        assert!(!caps.iter().any(|c| c.starts_with("AUTH=")));
        assert!(!caps.contains(&"IDLE".into()));
    }

    #[test]
    fn after_login_no_duplicates_and_no_starttls() {
        let caps = capabilities(Stage::Authenticated, 10);
        let mut dedup = caps.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), caps.len());
        assert!(!caps.contains(&"STARTTLS".into()));
        assert!(caps.contains(&"APPENDLIMIT=10".into()));
    }
}

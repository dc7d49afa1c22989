//! The door of a listener: connection limits and bans checked before a
//! session starts, and the refusal said in the protocol's own words
//! before the connection is closed — SMTP `421 4.7.0` (RFC 5321 §3.8),
//! IMAP `* BYE` (RFC 3501 §7.1.5), POP3 `-ERR [SYS/TEMP]` (RFC 3206).
//! Nothing the client sent is read.
//!
//! Implicit-TLS listeners (465, 993, 995) handshake first, since the
//! client would not understand plaintext there; refusals in progress
//! are bounded, so a flood costs at most [`MAX_REFUSING`] handshakes
//! at a time and the rest are closed without a word.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::Security;
use super::limits::{ConnLimiter, ConnPermit, Refusal};
use crate::net::{Stream, Transport};
use crate::protocol::smtp::{EnhancedStatus, Reply};
use crate::server::listener::Protocol;

/// Refusals being said at once per listener.
pub const MAX_REFUSING: usize = 64;
/// Deadline for the TLS handshake and the write of a refusal.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(5);

/// What a listener checks before running a session; cheap to clone.
#[derive(Clone)]
pub struct Gate {
    protocol: Protocol,
    hostname: String,
    limiter: Arc<ConnLimiter>,
    security: Security,
    refusing: Arc<Semaphore>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// The gate of one listener (shared by all its sockets).
    pub fn new(protocol: Protocol, security: &Security) -> Gate {
        let config = security.config();
        let limits = &config.limits;
        Gate {
            protocol,
            hostname: config.server.hostname.clone(),
            limiter: ConnLimiter::new(
                limits.max_connections,
                limits.max_connections_per_ip,
                config.limit_exceptions().to_vec(),
            ),
            security: security.clone(),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
        }
    }

    /// Counts a connection from `ip` (synchronous, for the accept loop).
    ///
    /// # Errors
    /// The limit it would cross.
    pub fn admit(&self, ip: IpAddr) -> Result<ConnPermit, Refusal> {
        self.limiter.admit(ip)
    }

    /// Whether `ip` is banned (see [`Security::is_banned`]).
    pub async fn is_banned(&self, ip: IpAddr) -> bool {
        self.security.is_banned(ip).await
    }

    /// Says `why` on `tcp` and closes it, in a task of its own.
    pub fn refuse(
        &self,
        tracker: &tokio_util::task::TaskTracker,
        tcp: TcpStream,
        why: Refusal,
        tls: Arc<rustls::ServerConfig>,
    ) {
        let Ok(permit) = self.refusing.clone().try_acquire_owned() else {
            return; // Dropping closes it.
        };
        let gate = self.clone();
        tracker.spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(REFUSAL_DEADLINE, gate.say(tcp, why, tls)).await;
        });
    }

    async fn say(&self, tcp: TcpStream, why: Refusal, tls: Arc<rustls::ServerConfig>) {
        let mut stream = Stream::Plain(tcp);
        if self.protocol.implicit_tls() {
            stream = match stream.start_tls(tls).await {
                Ok(s) => s,
                Err(_) => return,
            };
        }
        let words = refusal(self.protocol, why, &self.hostname);
        if stream.write_all(&words).await.is_ok() {
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
        }
    }
}

/// The line that refuses a connection for `why` in `protocol`'s words.
pub fn refusal(protocol: Protocol, why: Refusal, hostname: &str) -> Vec<u8> {
    let text = match why {
        Refusal::Banned => "Too many failed logins from your address, try again later",
        Refusal::TooManyFromAddress => "Too many connections from your address",
        Refusal::TooManyConnections => "Too many connections, try again later",
    };
    let mut out = Vec::with_capacity(96);
    match protocol {
        Protocol::Smtp | Protocol::Submission | Protocol::Submissions => {
            Reply::new(
                421,
                Some(EnhancedStatus::new(4, 7, 0)),
                format!("{hostname} {text}"),
            )
            .write_to(&mut out);
        }
        Protocol::Imap | Protocol::Imaps => {
            use crate::protocol::imap::{Condition, Response};
            Response::status(Condition::Bye, None, text).write_to(&mut out);
        }
        Protocol::Pop3 | Protocol::Pop3s => {
            use crate::protocol::pop3::{Code, err};
            out.extend(err(Some(Code::SysTemp), text));
        }
        Protocol::Http | Protocol::Https => {
            let status = match why {
                Refusal::Banned => "403 Forbidden",
                Refusal::TooManyFromAddress => "429 Too Many Requests",
                Refusal::TooManyConnections => "503 Service Unavailable",
            };
            let body = format!("{text}\n");
            out.extend(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\n\
                     Content-Length: {}\r\nRetry-After: 60\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_protocol_refuses_in_its_own_words() {
        let s = |p, w| String::from_utf8(refusal(p, w, "mx.test")).expect("utf8");
        assert_eq!(
            s(Protocol::Smtp, Refusal::TooManyFromAddress),
            "421 4.7.0 mx.test Too many connections from your address\r\n"
        );
        assert!(s(Protocol::Imaps, Refusal::Banned).starts_with("* BYE Too many failed logins"));
        assert_eq!(
            s(Protocol::Pop3, Refusal::TooManyConnections),
            "-ERR [SYS/TEMP] Too many connections, try again later\r\n"
        );
    }
}

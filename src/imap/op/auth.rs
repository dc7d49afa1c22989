//! NotAuthenticated-state commands (RFC 3501 §6.2): STARTTLS, LOGIN and
//! AUTHENTICATE PLAIN with SASL-IR (RFC 4959).
//!
//! Credentials are refused before TLS (`NO [PRIVACYREQUIRED]`, and
//! `LOGINDISABLED` in the capabilities) unless the client is on loopback
//! and the configuration allows it. A failed login waits as long as the
//! shared `crate::security` says for the client's address and never tells an
//! unknown user from a wrong password.

use super::super::error::{ImapError, Result};
use super::super::session::{Account, Session, State};
use crate::directory::Secret;
use crate::net::Transport;
use crate::protocol::imap::{AuthenticateLine, Code, CommandBody, RespText, Response, Tag};
use crate::protocol::sasl::{Credentials, Exchange, Mechanism, Step};

/// How long the TLS handshake after STARTTLS may take.
const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(60);

impl<S: Transport> Session<S> {
    pub(super) async fn dispatch_auth(&mut self, tag: &Tag, body: CommandBody) -> Result<RespText> {
        if !matches!(self.state, State::NotAuthenticated) {
            return Err(ImapError::bad("Already logged in"));
        }
        match body {
            CommandBody::StartTls => self.handle_starttls(tag).await,
            CommandBody::Login { username, password } => {
                self.require_privacy()?;
                self.handle_login(&username, Secret::new(password.expose()))
                    .await
            }
            CommandBody::Authenticate { mechanism, initial } => {
                self.require_privacy()?;
                let initial = initial.map(|s| s.expose().to_string());
                self.handle_authenticate(&mechanism, initial).await
            }
            _ => Err(ImapError::bad("Unexpected command")),
        }
    }

    fn require_privacy(&self) -> Result<()> {
        if self.may_login() {
            return Ok(());
        }
        Err(ImapError::no_code(
            Code::PrivacyRequired,
            "Plaintext authentication disallowed on non-secure connections; use STARTTLS",
        ))
    }

    /// STARTTLS: the tagged OK goes out in plaintext, everything the
    /// client pipelined behind the command is thrown away (RFC 3501
    /// §6.2.1, RFC 2595 §3.1), then the handshake. The OK is sent here,
    /// before the handshake, so this returns [`ImapError::Handled`].
    async fn handle_starttls(&mut self, tag: &Tag) -> Result<RespText> {
        if self.tls() {
            return Err(ImapError::bad("TLS is already active"));
        }
        self.push(&Response::ok(tag, "Begin TLS negotiation now"));
        self.flush().await?;
        let dropped = self.parser.discard_buffered();
        if dropped > 0 {
            tracing::info!(
                octets = dropped,
                "discarded plaintext pipelined after STARTTLS"
            );
        }
        let stream = self.stream.take().ok_or(ImapError::Gone)?;
        let tls = self.services.tls.clone();
        match tokio::time::timeout(HANDSHAKE, stream.start_tls(tls)).await {
            Ok(Ok(s)) => {
                self.stream = Some(s);
                self.state = State::NotAuthenticated;
                Err(ImapError::Handled)
            }
            Ok(Err(e)) => {
                tracing::info!(error = %e, "STARTTLS handshake failed");
                Err(ImapError::Gone)
            }
            Err(_) => Err(ImapError::Gone),
        }
    }

    pub(super) async fn handle_login(
        &mut self,
        username: &str,
        password: Secret,
    ) -> Result<RespText> {
        let ip = self.peer.ip();
        let security = self.services.security.clone();
        let verified = if security.is_banned(ip).await {
            None // Banned since connecting: no more guesses.
        } else {
            self.services
                .directory
                .verify_password(username, &password)
                .await?
        };
        let Some(user) = verified else {
            let delay = security.login_failed(ip).await;
            crate::metrics::auth_failed("imap");
            tokio::time::sleep(delay).await;
            tracing::info!(%username, "imap authentication failed");
            return Err(ImapError::no_code(
                Code::AuthenticationFailed,
                "Authentication failed",
            ));
        };
        security.login_succeeded(ip).await;
        tracing::info!(account = %user.address, "imap login");
        let events = self.services.store.subscribe(&user.address);
        self.state = State::Authenticated(Account { user, events });
        let caps = self.capabilities();
        Ok(RespText::with_code(Code::Capability(caps), "Logged in"))
    }

    async fn handle_authenticate(
        &mut self,
        mechanism: &str,
        initial: Option<String>,
    ) -> Result<RespText> {
        if Mechanism::parse(mechanism) != Some(Mechanism::Plain) {
            return Err(ImapError::no("Unsupported authentication mechanism"));
        }
        let creds = match Exchange::start(Mechanism::Plain, initial.as_deref()) {
            Ok((ex, step)) => self.converse(ex, step).await?,
            Err(_) => return Err(ImapError::bad("Invalid SASL initial response")),
        };
        match creds {
            Some(c) if c.authzid.as_deref().is_none_or(|z| z == c.username) => {
                self.handle_login(&c.username, Secret::new(c.password))
                    .await
            }
            Some(_) => Err(ImapError::no_code(
                Code::AuthorizationFailed,
                "Authorization identity refused",
            )),
            None => Err(ImapError::bad("Authentication cancelled or malformed")),
        }
    }

    /// Runs the SASL exchange: a `+` challenge, the client's line, until
    /// the mechanism is done. `None` when the client cancelled (`*`) or
    /// sent something malformed.
    async fn converse(&mut self, mut ex: Exchange, mut step: Step) -> Result<Option<Credentials>> {
        loop {
            match step {
                Step::Done(c) => return Ok(Some(c)),
                Step::Challenge(ch) => {
                    self.push(&Response::challenge(ch));
                    self.flush().await?;
                }
            }
            let line = loop {
                if let Some(line) = self.parser.next_authenticate() {
                    break line;
                }
                let more = self.read_more().await?;
                self.parser.feed(&more);
            };
            step = match line {
                Ok(AuthenticateLine::Response(data)) => match ex.step(data.expose()) {
                    Ok(s) => s,
                    Err(_) => return Ok(None),
                },
                Ok(AuthenticateLine::Cancel) | Err(_) => return Ok(None),
            };
        }
    }
}

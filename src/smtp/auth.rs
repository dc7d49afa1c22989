//! AUTH (RFC 4954) on the submission listeners: PLAIN and LOGIN over the
//! sans-IO exchanges of [`crate::protocol::sasl`], checked against the
//! directory. A failure answers `535 5.7.8` after a delay that grows with
//! repeated failures from the same address; the answer is the same for
//! an unknown user and a wrong password.

use super::session::{Session, Stop};
use crate::directory::Secret;
use crate::net::{ReadEnd, Transport};
use crate::protocol::sasl::{Credentials, Exchange, Mechanism, SaslError, Step};
use crate::protocol::smtp::{EnhancedStatus, LineError, Reply, SaslResponse};

impl<S: Transport> Session<S> {
    /// AUTH mechanism [initial-response].
    pub(super) async fn handle_auth(
        &mut self,
        mechanism: String,
        initial: Option<SaslResponse>,
    ) -> Result<(), Stop> {
        let Some(mech) = Mechanism::parse(&mechanism) else {
            self.reply(Reply::auth_mechanism_unsupported());
            return Ok(());
        };
        let started = Exchange::start(mech, initial.as_ref().map(SaslResponse::expose));
        let credentials = match started {
            Ok((exchange, step)) => match self.converse(exchange, step).await? {
                Ok(c) => c,
                Err(e) => {
                    self.reply(sasl_error(e));
                    return Ok(());
                }
            },
            Err(e) => {
                self.reply(sasl_error(e));
                return Ok(());
            }
        };
        self.check_credentials(credentials).await;
        Ok(())
    }

    /// Runs challenges until the exchange yields credentials.
    async fn converse(
        &mut self,
        mut exchange: Exchange,
        mut step: Step,
    ) -> Result<Result<Credentials, SaslError>, Stop> {
        loop {
            let challenge = match step {
                Step::Done(c) => return Ok(Ok(c)),
                Step::Challenge(c) => c,
            };
            self.reply(Reply::auth_challenge(&challenge));
            self.flush().await?;
            let Some(line) = self.read_sasl_line().await? else {
                return Err(Stop::Gone);
            };
            step = match exchange.step(&line) {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            };
        }
    }

    /// Reads one SASL response line (long lines allowed).
    async fn read_sasl_line(&mut self) -> Result<Option<String>, Stop> {
        self.reader.set_sasl(true);
        let line = loop {
            match self.reader.next_line() {
                Some(Ok(line)) => break Some(String::from_utf8_lossy(&line.bytes).into_owned()),
                Some(Err(LineError::TooLong { .. })) => break Some(String::from("!")),
                None => {}
            }
            let mut buf = Vec::new();
            match self.read(&mut buf, self.settings.command_timeout).await? {
                Ok(_) => self.reader.feed(&buf),
                Err(ReadEnd::Closed) => break None,
                Err(ReadEnd::TimedOut) => {
                    self.close_with(Reply::timeout(&self.settings.hostname));
                    break None;
                }
            }
        };
        self.reader.set_sasl(false);
        Ok(line)
    }

    async fn check_credentials(&mut self, c: Credentials) {
        let ip = self.peer.ip();
        let security = self.services.security.clone();
        // Acting as someone else is not supported; a client banned since
        // connecting gets no more guesses.
        let other = c.authzid.as_deref().is_some_and(|z| z != c.username);
        let user = if other || security.is_banned(ip).await {
            None
        } else {
            let password = Secret::new(c.password);
            match self
                .services
                .directory
                .verify_password(&c.username, &password)
                .await
            {
                Ok(u) => u,
                Err(e) => {
                    tracing::error!(error = %e, "directory unavailable during AUTH");
                    self.reply(Reply::new(
                        454,
                        Some(EnhancedStatus::new(4, 7, 0)),
                        "Temporary authentication failure",
                    ));
                    return;
                }
            }
        };
        match user {
            Some(user) => {
                security.login_succeeded(ip).await;
                tracing::info!(user = %user.address, "authenticated");
                self.ctx.authenticated = Some(user.address.clone());
                self.user = Some(user);
                self.seq.on_authenticated();
                self.reply(Reply::auth_ok());
            }
            None => {
                let delay = security.login_failed(ip).await;
                crate::metrics::auth_failed("smtp");
                tracing::info!(username = %c.username, "authentication failed");
                tokio::time::sleep(delay).await;
                self.reply(Reply::auth_failed());
            }
        }
    }
}

fn sasl_error(e: SaslError) -> Reply {
    match e {
        SaslError::Cancelled => Reply::auth_cancelled(),
        SaslError::BadBase64 | SaslError::Malformed | SaslError::Finished => Reply::new(
            501,
            Some(EnhancedStatus::new(5, 5, 2)),
            "Invalid SASL response",
        ),
    }
}

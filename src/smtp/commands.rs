//! HELO/EHLO, MAIL, RSET and STARTTLS.

use super::session::{Session, Stop};
use crate::net::Transport;
use crate::pipeline::Verdict;
use crate::protocol::smtp::{Ehlo, MailParams, Reply, ReversePath};

/// Longest wait for a STARTTLS handshake.
const TLS_HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(60);

impl<S: Transport> Session<S> {
    /// HELO (`extended = false`) or EHLO: resets the transaction (RFC 5321
    /// §4.1.4) and answers with our name, and for EHLO the extensions.
    pub(super) fn handle_helo(&mut self, name: String, extended: bool) {
        self.reset_transaction();
        self.ctx.set_helo(&name, extended);
        self.seq.on_greeting(extended);
        let reply = if extended {
            Ehlo::new(self.settings.hostname.clone())
                .greet(name)
                .capabilities(self.capabilities())
                .reply()
        } else {
            Reply::helo(&self.settings.hostname)
        };
        self.reply(reply);
    }

    /// MAIL FROM: starts a transaction; SPF starts here.
    pub(super) async fn handle_mail(&mut self, from: ReversePath, params: MailParams) {
        if let Some(size) = params.size
            && size > self.settings.max_message_size
        {
            self.reply(Reply::message_too_big());
            return;
        }
        let sender = from.mailbox().map(mailbox_string).unwrap_or_default();
        if let Err(refusal) = self.check_envelope_sender(&sender).await {
            self.reply(refusal);
            return;
        }
        let verdict = self.services.pipeline.on_mail(&mut self.ctx, &sender).await;
        self.ctx.smtputf8 = params.smtputf8;
        match verdict {
            Verdict::TempFail(r) | Verdict::Reject(r) => self.reply(super::data::map_reply(&r)),
            Verdict::Accept | Verdict::Junk => {
                if let Err(r) = self
                    .services
                    .security
                    .take_message(self.peer.ip(), self.ctx.authenticated.as_deref())
                {
                    return self.reply(r);
                }
                self.reset_transaction();
                self.tx.from = Some(from);
                self.tx.size_hint = params.size.unwrap_or(0);
                self.seq.on_mail(params.body, params.smtputf8);
                self.reply(Reply::mail_ok());
            }
        }
    }

    /// RSET: forget the transaction.
    pub(super) fn handle_rset(&mut self) {
        self.reset_transaction();
        self.ctx.reset_transaction();
        self.seq.on_rset();
        self.reply(Reply::ok());
    }

    /// STARTTLS (RFC 3207): answer 220, throw away anything the client
    /// pipelined after the command (it was sent in plaintext and must not
    /// be taken as if it came over TLS), then handshake and start over.
    pub(super) async fn handle_starttls(&mut self) -> Result<(), Stop> {
        self.reply(Reply::start_tls());
        self.flush().await?;
        let dropped = self.reader.discard_buffered();
        if dropped > 0 {
            tracing::warn!(
                octets = dropped,
                "discarded plaintext pipelined after STARTTLS"
            );
        }
        let stream = self.stream.take().ok_or(Stop::Gone)?;
        let handshake = stream.start_tls(self.services.tls.clone());
        match tokio::time::timeout(TLS_HANDSHAKE, handshake).await {
            Ok(Ok(tls)) => {
                if let Some(info) = tls.tls_info() {
                    tracing::info!(version = %info.version, cipher = %info.cipher, "STARTTLS");
                    self.ctx.start_tls(super::data::tls_info(&info));
                }
                self.stream = Some(tls);
                self.reset_transaction();
                self.seq.on_tls();
                Ok(())
            }
            Ok(Err(e)) => {
                tracing::info!(error = %e, "STARTTLS handshake failed");
                Err(Stop::Gone)
            }
            Err(_) => {
                tracing::info!("STARTTLS handshake timed out");
                Err(Stop::Gone)
            }
        }
    }
}

/// `local@domain` as the directory and the pipeline want it (no quoting).
pub(super) fn mailbox_string(m: &crate::protocol::smtp::Mailbox) -> String {
    format!("{}@{}", m.local_part(), m.domain())
}

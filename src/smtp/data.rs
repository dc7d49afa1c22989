//! DATA and BDAT, and what happens at the end of a message: the inbound
//! checks, then durable delivery — local copies and the outbound queue,
//! all or nothing — then, only then, `250`.

use std::collections::BTreeMap;

use super::session::{Recipient, Session, Stop};
use crate::delivery::{DeliveryError, LocalTarget};
use crate::net::{ReadEnd, Transport};
use crate::pipeline::{self, Verdict};
use crate::protocol::smtp::{
    BdatReceiver, ChunkOutcome, ChunkSkipper, DataLimits, DataOutcome, DataReceiver,
    EnhancedStatus, Reply,
};
use crate::queue::{self, AcceptError, Outbound, OutboundRecipient};

/// The pipeline's reply parts as an SMTP reply.
pub(super) fn map_reply(r: &pipeline::Reply) -> Reply {
    let s = r.status;
    Reply::new(
        r.code,
        Some(EnhancedStatus::new(s.0, s.1, s.2)),
        r.text.clone(),
    )
}

/// The stream's TLS facts as the pipeline's Received header wants them.
pub(super) fn tls_info(info: &crate::net::TlsInfo) -> pipeline::TlsInfo {
    pipeline::TlsInfo {
        version: info.version.clone(),
        cipher: info.cipher.clone(),
    }
}

/// A short, unique, sortable message id for the `250` reply and logs.
fn new_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:x}{:05x}{:04x}",
        now.as_secs(),
        now.subsec_micros(),
        n & 0xffff
    )
}

impl<S: Transport> Session<S> {
    /// DATA: `354`, then the message up to `<CRLF>.<CRLF>`.
    pub(super) async fn handle_data(&mut self) -> Result<(), Stop> {
        self.reply(Reply::data_start());
        self.flush().await?;
        self.seq.on_data_start();
        let mut rx = DataReceiver::new(DataLimits {
            max_size: self.settings.max_message_size,
            max_line: 998,
        });
        let mut message = Vec::new();
        let mut input = self.reader.take_buffered();
        let outcome = loop {
            let progress = rx.feed(&input, &mut message);
            if let Some(outcome) = progress.outcome {
                self.reader.feed(&input[progress.consumed..]);
                break outcome;
            }
            input.clear();
            if self.read_data(&mut input).await? {
                return Ok(());
            }
        };
        self.seq.end_transaction();
        match outcome {
            DataOutcome::Complete { .. } => self.finish_message(message).await,
            refused => {
                if let Some(r) = refused.reply() {
                    self.reply(r);
                }
                self.reset_transaction();
            }
        }
        Ok(())
    }

    /// Reads message data; `Ok(true)` when the session must end (timeout
    /// answered, or the peer left).
    async fn read_data(&mut self, buf: &mut Vec<u8>) -> Result<bool, Stop> {
        match self
            .read_until(buf, self.settings.data_timeout, true)
            .await?
        {
            Ok(_) => Ok(false),
            Err(ReadEnd::Closed) => Err(Stop::Gone),
            Err(ReadEnd::TimedOut) => {
                self.close_with(Reply::timeout(&self.settings.hostname));
                Ok(true)
            }
        }
    }

    /// BDAT (RFC 3030): one chunk of exactly `size` octets.
    pub(super) async fn handle_bdat(&mut self, size: u64, last: bool) -> Result<(), Stop> {
        let max = self.settings.max_message_size;
        let rx = self.bdat.get_or_insert_with(|| BdatReceiver::new(max));
        rx.begin_chunk(size, last);
        let mut message = std::mem::take(&mut self.message);
        let mut input = self.reader.take_buffered();
        let outcome = loop {
            let rx = self.bdat.get_or_insert_with(|| BdatReceiver::new(max));
            let progress = rx.feed(&input, &mut message);
            if let Some(outcome) = progress.outcome {
                self.reader.feed(&input[progress.consumed..]);
                break outcome;
            }
            input.clear();
            if self.read_data(&mut input).await? {
                return Ok(());
            }
        };
        match outcome {
            ChunkOutcome::Accepted { size } => {
                self.message = message;
                self.seq.on_bdat_chunk(false);
                self.reply(Reply::bdat_chunk(size));
            }
            ChunkOutcome::Complete { .. } => {
                self.seq.on_bdat_chunk(true);
                self.finish_message(message).await;
            }
            ChunkOutcome::TooBig => {
                self.seq.end_transaction();
                self.reset_transaction();
                self.reply(Reply::message_too_big());
            }
        }
        Ok(())
    }

    /// Reads and drops the octets of a refused BDAT chunk.
    pub(super) async fn skip_chunk(&mut self, size: u64) -> Result<(), Stop> {
        let mut skipper = ChunkSkipper::new(size);
        let mut input = self.reader.take_buffered();
        loop {
            let progress = skipper.feed(&input);
            if progress.outcome.is_some() {
                self.reader.feed(&input[progress.consumed..]);
                return Ok(());
            }
            input.clear();
            if self.read_data(&mut input).await? {
                return Ok(());
            }
        }
    }

    /// DKIM-signs a submitted message with every active key of its
    /// `From:` domain (the envelope sender's domain when it has none), so
    /// the queued and the local copies carry the same signatures. Mail from
    /// the Internet passes unchanged. A signing failure refuses the message
    /// temporarily rather than sending it unsigned.
    async fn sign_submitted(
        &self,
        message: Vec<u8>,
        sender: Option<&str>,
    ) -> Result<Vec<u8>, Reply> {
        if self.settings.mode != super::Mode::Submission {
            return Ok(message);
        }
        let from_domain = mail_parser::MessageParser::new()
            .parse_headers(&message)
            .and_then(|m| {
                m.from()
                    .and_then(|f| f.first())
                    .and_then(|a| a.address())
                    .and_then(|a| a.rsplit_once('@'))
                    .map(|(_, d)| d.to_ascii_lowercase())
            });
        let Some(domain) = from_domain.or_else(|| {
            sender
                .and_then(|s| s.rsplit_once('@'))
                .map(|(_, d)| d.to_ascii_lowercase())
        }) else {
            return Ok(message);
        };
        match self.services.dkim.sign(&domain, &message).await {
            Ok(headers) if headers.is_empty() => Ok(message),
            Ok(headers) => {
                let mut signed = Vec::with_capacity(headers.len() + message.len());
                signed.extend_from_slice(headers.as_bytes());
                signed.extend_from_slice(&message);
                Ok(signed)
            }
            Err(crate::dkim::DkimError::NoFrom) => Ok(message),
            Err(e) => {
                tracing::error!(%domain, error = %e, "DKIM signing failed");
                Err(Reply::new(
                    451,
                    Some(EnhancedStatus::new(4, 3, 0)),
                    "Signing failed; try again later",
                ))
            }
        }
    }

    /// End of message: checks, then delivery, then the reply.
    async fn finish_message(&mut self, message: Vec<u8>) {
        let id = new_id();
        let tx = std::mem::take(&mut self.tx);
        self.reset_transaction();
        if let Err(refusal) = self.check_header_from(&message).await {
            self.ctx.reset_transaction();
            crate::metrics::message_answered(refusal.code, false);
            self.reply(refusal);
            return;
        }
        let added = self.missing_headers(&message, &id);
        let sender = tx.from.as_ref().and_then(|f| f.mailbox());
        let sender_text = sender.map(super::commands::mailbox_string);
        let rcpts: Vec<String> = tx.recipients.iter().map(|r| r.address.clone()).collect();
        let smtputf8 = self.ctx.smtputf8;
        let outcome = self
            .services
            .pipeline
            .on_data(&self.ctx, &id, &rcpts, &message)
            .await;
        self.ctx.reset_transaction();
        let folder = match &outcome.verdict {
            Verdict::Accept => "INBOX",
            Verdict::Junk => "Junk",
            Verdict::TempFail(r) | Verdict::Reject(r) => {
                tracing::info!(%id, from = ?sender_text, rcpts = rcpts.len(), size = message.len(),
                    code = r.code, reason = %r.text, "message refused");
                let grey = outcome
                    .stages
                    .iter()
                    .any(|s| s.stage == pipeline::Stage::Greylist && !s.verdict.is_deliverable());
                crate::metrics::message_answered(r.code, grey);
                self.reply(map_reply(r));
                return;
            }
        };
        // The message as it leaves here: our headers, the submission
        // fixes, the client's message (forged Authentication-Results cut).
        let assembled = outcome.assemble(&message);
        let split = outcome.headers_to_prepend.len();
        let mut outbound = Vec::with_capacity(assembled.len() + added.len());
        outbound.extend_from_slice(&assembled[..split]);
        outbound.extend_from_slice(added.as_bytes());
        outbound.extend_from_slice(&assembled[split..]);
        let outbound = match self.sign_submitted(outbound, sender_text.as_deref()).await {
            Ok(signed) => signed,
            Err(refusal) => {
                crate::metrics::message_answered(refusal.code, false);
                self.reply(refusal);
                return;
            }
        };
        let envelope = Outbound {
            sender: sender.map(ToString::to_string),
            recipients: outbound_recipients(&tx.recipients),
            smtputf8,
        };
        let mut stored = format!(
            "Return-Path: <{}>\r\n",
            sender_text.clone().unwrap_or_default()
        )
        .into_bytes();
        stored.extend_from_slice(&outbound);
        let reply = self
            .deliver(&id, &tx.recipients, folder, &stored, &envelope, &outbound)
            .await;
        tracing::info!(%id, from = ?sender_text, rcpts = rcpts.len(), size = stored.len(), %folder,
            remote = envelope.recipients.len(), code = reply.code, "message");
        crate::metrics::message_answered(reply.code, false);
        self.reply(reply);
    }

    /// Stores local copies in `folder` and queues the remote recipients,
    /// all or nothing; the reply to send.
    async fn deliver(
        &self,
        id: &str,
        recipients: &[Recipient],
        folder: &str,
        stored: &[u8],
        envelope: &Outbound,
        outbound: &[u8],
    ) -> Reply {
        let mut targets: BTreeMap<String, u64> = BTreeMap::new();
        for r in recipients {
            targets.extend(r.accounts.iter().cloned());
        }
        let targets: Vec<LocalTarget> = targets
            .into_iter()
            .map(|(account, quota_bytes)| LocalTarget {
                account,
                folder: folder.into(),
                quota_bytes,
            })
            .collect();
        let services = &self.services;
        let started = std::time::Instant::now();
        let accepted = queue::accept(
            &services.store,
            &services.queue,
            &targets,
            stored,
            Some((envelope, outbound)),
        )
        .await;
        match accepted {
            Ok(queued) => {
                crate::metrics::local_delivered(targets.len(), started.elapsed());
                if let Some(queue_id) = queued {
                    tracing::info!(%id, %queue_id, rcpts = envelope.recipients.len(), "queued");
                }
                Reply::queued(id)
            }
            Err(AcceptError::Local(DeliveryError::OverQuota { account }))
                if recipients.len() == 1 =>
            {
                tracing::info!(%id, %account, "over quota");
                Reply::new(552, Some(EnhancedStatus::new(5, 2, 2)), "Mailbox full")
            }
            Err(AcceptError::Local(DeliveryError::OverQuota { account })) => Reply::new(
                452,
                Some(EnhancedStatus::new(4, 2, 2)),
                format!("Mailbox of <{account}> is full; try again later"),
            ),
            Err(e) => {
                tracing::error!(%id, error = %e, "delivery failed");
                Reply::new(
                    451,
                    Some(EnhancedStatus::new(4, 3, 0)),
                    "Local delivery failed; try again later",
                )
            }
        }
    }
}

/// The queue's recipients: every remote address of every accepted
/// recipient, with the RCPT TO address as the original when forwarded.
fn outbound_recipients(recipients: &[Recipient]) -> Vec<OutboundRecipient> {
    recipients
        .iter()
        .flat_map(|r| {
            r.remote.iter().map(|address| OutboundRecipient {
                address: address.clone(),
                original: (!address.eq_ignore_ascii_case(&r.address)).then(|| r.address.clone()),
            })
        })
        .collect()
}

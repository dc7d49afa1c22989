//! DATA and BDAT, and what happens at the end of a message: the inbound
//! checks, then durable delivery, then — only then — `250`.

use std::collections::BTreeMap;

use super::session::{Session, Stop};
use crate::delivery::{self, DeliveryError, LocalTarget};
use crate::net::{ReadEnd, Transport};
use crate::pipeline::{self, Verdict};
use crate::protocol::smtp::{
    BdatReceiver, ChunkOutcome, ChunkSkipper, DataLimits, DataOutcome, DataReceiver,
    EnhancedStatus, Reply,
};

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
        match self.read(buf, self.settings.data_timeout).await? {
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

    /// End of message: checks, then delivery, then the reply.
    async fn finish_message(&mut self, message: Vec<u8>) {
        let id = new_id();
        let tx = std::mem::take(&mut self.tx);
        self.reset_transaction();
        if let Err(refusal) = self.check_header_from(&message).await {
            self.ctx.reset_transaction();
            self.reply(refusal);
            return;
        }
        let added = self.missing_headers(&message, &id);
        let sender = tx
            .from
            .as_ref()
            .and_then(|f| f.mailbox())
            .map(super::commands::mailbox_string);
        let rcpts: Vec<String> = tx.recipients.iter().map(|r| r.address.clone()).collect();
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
                tracing::info!(%id, from = ?sender, rcpts = rcpts.len(), size = message.len(),
                    code = r.code, reason = %r.text, "message refused");
                self.reply(map_reply(r));
                return;
            }
        };
        let mut stored =
            format!("Return-Path: <{}>\r\n", sender.clone().unwrap_or_default()).into_bytes();
        let assembled = outcome.assemble(&message);
        let split = outcome.headers_to_prepend.len();
        stored.extend_from_slice(&assembled[..split]);
        stored.extend_from_slice(added.as_bytes());
        stored.extend_from_slice(&assembled[split..]);
        let mut targets: BTreeMap<String, u64> = BTreeMap::new();
        for r in &tx.recipients {
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
        let reply = match delivery::deliver_local(&self.services.store, &targets, &stored).await {
            Ok(()) => Reply::queued(&id),
            Err(DeliveryError::OverQuota { account }) if rcpts.len() == 1 => {
                tracing::info!(%id, %account, "over quota");
                Reply::new(552, Some(EnhancedStatus::new(5, 2, 2)), "Mailbox full")
            }
            Err(DeliveryError::OverQuota { account }) => Reply::new(
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
        };
        tracing::info!(%id, from = ?sender, rcpts = rcpts.len(), size = stored.len(), %folder,
            code = reply.code, "message");
        self.reply(reply);
    }
}

//! Sending notices back to the envelope sender: built by `dsn`, sent with
//! the null sender `<>` (RFC 5321 §4.5.5, so a failing notice never
//! causes another), never to a null sender. A sender in a local domain
//! gets the notice in the INBOX of the account(s) the address resolves
//! to (aliases that forward elsewhere are queued); any other sender's
//! notice is queued like other mail.

use super::admin::{MessageInfo, RecipientState};
use super::dsn::{Dsn, DsnKind, DsnRecipient};
use super::{AcceptError, Outbound, OutboundRecipient, Queue, accept, domain_of, ms};
use crate::delivery::{DeliveryError, LocalTarget};
use crate::directory::Directory;
use crate::store::Store;

/// The most of the original message's header section a notice quotes.
const MAX_QUOTED_HEAD: usize = 256 * 1024;

/// What became of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Delivered locally and/or queued.
    Done,
    /// Not sent, for this reason (null sender, unknown local sender, full
    /// mailbox); nobody will retry it.
    Dropped(&'static str),
}

/// Sends notices; holds what local delivery needs.
#[derive(Clone, Debug)]
pub(crate) struct Notifier {
    pub queue: Queue,
    pub store: Store,
    pub directory: Directory,
}

impl Notifier {
    /// Sends a `kind` notice about `rows` of message `info`.
    ///
    /// # Errors
    /// A temporary problem (database, disk): try again later.
    pub(crate) async fn notify(
        &self,
        info: &MessageInfo,
        rows: &[RecipientState],
        kind: DsnKind,
    ) -> Result<Sent, String> {
        if info.sender.is_empty() {
            return Ok(Sent::Dropped("the message had a null sender"));
        }
        // Only the header section is quoted (RFC 3464 text/rfc822-headers).
        let original = self
            .queue
            .spool()
            .read_head(&info.id, MAX_QUOTED_HEAD)
            .await
            .unwrap_or_default();
        let recipients: Vec<DsnRecipient> = rows
            .iter()
            .map(|r| DsnRecipient {
                recipient: r.recipient.clone(),
                original: Some(r.original.clone()).filter(|o| !o.is_empty()),
                status: r.status_code.clone(),
                diagnostic: r.diagnostic.clone(),
                remote_mta: r.remote_mta.clone(),
                message: r.last_error.clone(),
                last_attempt: r.updated_at,
            })
            .collect();
        let max_age = ms(self.queue.settings().max_age.get());
        let dsn = Dsn {
            kind,
            hostname: self.queue.hostname(),
            queue_id: &info.id,
            sender: &info.sender,
            arrival: info.created_at,
            retry_until: Some(info.created_at.saturating_add(max_age)),
            recipients: &recipients,
            original: &original,
        }
        .build();
        self.send(&info.sender, &dsn).await
    }

    /// Delivers or queues `dsn` for `sender`.
    async fn send(&self, sender: &str, dsn: &[u8]) -> Result<Sent, String> {
        let dir = &self.directory;
        let local = dir
            .is_local_domain(&domain_of(sender))
            .await
            .map_err(|e| e.to_string())?;
        let (targets, remote) = if local {
            let Some(route) = dir.resolve(sender).await.map_err(|e| e.to_string())? else {
                return Ok(Sent::Dropped("the sender is not a local address"));
            };
            let mut targets = Vec::new();
            for account in route.local {
                let user = dir.get_user(&account).await.map_err(|e| e.to_string())?;
                if let Some(user) = user.filter(|u| u.enabled) {
                    targets.push(LocalTarget {
                        account,
                        folder: "INBOX".into(),
                        quota_bytes: user.quota_bytes,
                    });
                }
            }
            (targets, route.remote)
        } else {
            (Vec::new(), vec![sender.to_string()])
        };
        if targets.is_empty() && remote.is_empty() {
            return Ok(Sent::Dropped("the sender has no usable mailbox"));
        }
        let outbound = Outbound {
            sender: None,
            recipients: remote
                .into_iter()
                .map(|address| OutboundRecipient {
                    address,
                    original: None,
                })
                .collect(),
            smtputf8: !sender.is_ascii(),
        };
        let mut stored = b"Return-Path: <>\r\n".to_vec();
        stored.extend_from_slice(dsn);
        match accept(
            &self.store,
            &self.queue,
            &targets,
            &stored,
            Some((&outbound, dsn)),
        )
        .await
        {
            Ok(_) => Ok(Sent::Done),
            Err(AcceptError::Local(DeliveryError::OverQuota { .. })) => {
                Ok(Sent::Dropped("the sender's mailbox is full"))
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

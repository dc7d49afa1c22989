//! Delivery of an accepted message to local mailboxes, all or nothing.
//!
//! Owns: the two-phase commit across recipients. Phase 1 writes the
//! message into every recipient's `tmp/` and fsyncs it (quota is checked
//! here); phase 2 renames each into `new/` and fsyncs the directories.
//! If phase 1 fails for anyone, every prepared copy is removed and nobody
//! gets the message, so the sender's retry cannot create duplicates. The
//! caller acknowledges (SMTP `250`) only after [`deliver_local`] returns
//! `Ok`.
//!
//! Must not: decide who the recipients are (the directory does) or speak
//! SMTP (the session maps [`DeliveryError`] to replies).

use crate::store::{Prepared, Store, StoreError};

/// One local copy to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTarget {
    /// Canonical account address.
    pub account: String,
    /// Folder ("INBOX", "Junk", …).
    pub folder: String,
    /// The account's quota in octets; 0 = unlimited.
    pub quota_bytes: u64,
}

/// Why a delivery did not happen. Nothing was delivered in either case.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// A recipient's quota would be exceeded.
    #[error("mailbox of {account} is full")]
    OverQuota {
        /// The full account.
        account: String,
    },
    /// The store failed (disk, database).
    #[error("delivery to {account} failed: {source}")]
    Store {
        /// The account being written.
        account: String,
        /// The cause.
        source: StoreError,
    },
}

/// Writes `message` into every target's folder, durably, or into none.
///
/// # Errors
/// [`DeliveryError`]; on error no target received the message.
pub async fn deliver_local(
    store: &Store,
    targets: &[LocalTarget],
    message: &[u8],
) -> Result<(), DeliveryError> {
    prepare_local(store, targets, message).await?.commit().await
}

/// Local copies written to `tmp/` and fsynced (phase 1), not yet visible.
/// Lets a caller put another durable write (the outbound queue) between
/// the phases, so the whole message is accepted all or nothing.
#[derive(Debug)]
#[must_use = "commit or abort the prepared copies"]
pub struct LocalBatch {
    prepared: Vec<(String, Prepared)>,
}

/// Phase 1 for every target: the message in each `tmp/`, fsynced.
///
/// # Errors
/// [`DeliveryError`]; on error every copy made so far is removed.
pub async fn prepare_local(
    store: &Store,
    targets: &[LocalTarget],
    message: &[u8],
) -> Result<LocalBatch, DeliveryError> {
    let mut prepared = Vec::with_capacity(targets.len());
    for t in targets {
        match store
            .prepare(&t.account, &t.folder, message, t.quota_bytes)
            .await
        {
            Ok(p) => prepared.push((t.account.clone(), p)),
            Err(e) => {
                LocalBatch { prepared }.abort().await;
                return Err(match e {
                    StoreError::OverQuota { .. } => DeliveryError::OverQuota {
                        account: t.account.clone(),
                    },
                    source => DeliveryError::Store {
                        account: t.account.clone(),
                        source,
                    },
                });
            }
        }
    }
    Ok(LocalBatch { prepared })
}

impl LocalBatch {
    /// Phase 2: every copy renamed into `new/`, directories fsynced.
    ///
    /// # Errors
    /// The first commit that failed (the others are still committed).
    pub async fn commit(self) -> Result<(), DeliveryError> {
        let mut first_error = None;
        for (account, p) in self.prepared {
            if let Err(source) = p.commit().await {
                // A rename or directory fsync failed after others succeeded:
                // report it (the caller answers 4xx and the sender retries;
                // recipients already committed may see the message twice,
                // which is the only duplicate this design allows).
                tracing::error!(%account, error = %source, "commit failed");
                first_error.get_or_insert(DeliveryError::Store { account, source });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Removes every prepared copy.
    pub async fn abort(self) {
        for (_, p) in self.prepared {
            p.abort().await;
        }
    }
}

//! Accepting one message for local and remote recipients at once, all
//! or nothing: phase 1 writes every local copy to `tmp/` and the spool
//! file (all fsync'd); then the queue rows are committed; then the local
//! copies are renamed into place. A failure before the queue commit
//! leaves nothing anywhere, so the client's retry cannot duplicate.

use super::{Outbound, Queue, QueueError};
use crate::delivery::{self, DeliveryError, LocalTarget};
use crate::store::Store;

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// Local delivery failed (quota, store). Nothing was queued.
    #[error(transparent)]
    Local(#[from] DeliveryError),
    /// The queue could not take the message. Nothing was delivered.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Delivers `local_message` to `targets` and queues `outbound` (with
/// `outbound_message`, the message as it will be sent) for its remote
/// recipients. Returns the queue id when something was queued.
///
/// # Errors
/// [`AcceptError`]. On error before the queue commit nothing was
/// delivered or queued; a failed local rename after it is reported like
/// [`delivery::deliver_local`] reports it (the remote copies are queued).
pub async fn accept(
    store: &Store,
    queue: &Queue,
    targets: &[LocalTarget],
    local_message: &[u8],
    outbound: Option<(&Outbound, &[u8])>,
) -> Result<Option<String>, AcceptError> {
    let outbound = outbound.filter(|(o, _)| !o.recipients.is_empty());
    let Some((envelope, bytes)) = outbound else {
        delivery::deliver_local(store, targets, local_message).await?;
        return Ok(None);
    };
    let local = delivery::prepare_local(store, targets, local_message).await?;
    let spooled = match queue.prepare(envelope, bytes).await {
        Ok(p) => p,
        Err(e) => {
            local.abort().await;
            return Err(e.into());
        }
    };
    let id = match spooled.commit().await {
        Ok(id) => id,
        Err(e) => {
            local.abort().await;
            return Err(e.into());
        }
    };
    local.commit().await?;
    Ok(Some(id))
}

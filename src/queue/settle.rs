//! After an attempt: recording each recipient's outcome with its next
//! retry (or expiry), then per message the failure notice, the one-time
//! delay notice, and removal once nothing is left to do. Also the sweep
//! that sends notices a dead worker left unsent.

use std::collections::{BTreeMap, HashSet};

use super::admin::MessageInfo;
use super::bounce::{Notifier, Sent};
use super::dsn::DsnKind;
use super::store::{self, Claimed, Outcome, OutcomeKind};
use super::{Queue, ms, now_ms};
use crate::config::QueueConfig;

/// How long a notice that could not be sent waits before the next try.
const NOTICE_RETRY_MS: i64 = 5 * 60 * 1000;

/// When to try again after a temporary failure, or `None` when the
/// recipient has been queued for `max_age` (then it expires). The wait
/// is `retry[attempts_before]`, the last one repeating; the last attempt
/// is made exactly at expiry.
pub(crate) fn next_attempt(
    q: &QueueConfig,
    created_at: i64,
    attempts_before: i64,
    now: i64,
) -> Option<i64> {
    let expires = created_at.saturating_add(ms(q.max_age.get()));
    if now >= expires {
        return None;
    }
    let last = q.retry.len().saturating_sub(1);
    let index = usize::try_from(attempts_before)
        .unwrap_or(usize::MAX)
        .min(last);
    let wait = q.retry.get(index).map_or(60_000, |d| ms(d.get()));
    Some(now.saturating_add(wait).min(expires))
}

/// What one worker did to one message, for the follow-up.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    /// Rows this worker marked failed (its notice to send).
    pub failed: HashSet<i64>,
    /// Some rows were deferred.
    pub deferred: bool,
}

/// Records `results` for rows of message `info` held by `owner`.
/// Deferred rows past `max_age` become failures (4.4.7).
pub(crate) async fn record(
    queue: &Queue,
    owner: &str,
    info: &MessageInfo,
    results: Vec<(Claimed, Outcome)>,
    touched: &mut BTreeMap<String, Touched>,
) {
    let now = now_ms();
    let entry = touched.entry(info.id.clone()).or_default();
    let mut rows = Vec::with_capacity(results.len());
    for (row, mut o) in results {
        let next = match o.kind {
            OutcomeKind::Deferred => {
                match next_attempt(queue.settings(), info.created_at, row.attempts, now) {
                    Some(next) => next,
                    None => {
                        o.kind = OutcomeKind::Failed;
                        o.status = "4.4.7".into();
                        o.message = format!(
                            "gave up after {} attempts over {}: {}",
                            row.attempts + 1,
                            queue.settings().max_age,
                            o.message
                        );
                        now
                    }
                }
            }
            _ => now,
        };
        match o.kind {
            OutcomeKind::Failed => {
                entry.failed.insert(row.id);
                crate::metrics::remote_bounced();
            }
            OutcomeKind::Deferred => {
                entry.deferred = true;
                crate::metrics::remote_deferred();
            }
            OutcomeKind::Delivered => crate::metrics::remote_delivered(now - info.created_at),
        }
        tracing::info!(queue_id = %info.id, rcpt = %row.recipient, status = %o.status,
            outcome = ?o.kind, detail = %o.message, "recipient");
        rows.push((row.id, o, next));
    }
    match store::record(queue.db(), owner, &rows).await {
        Ok(n) if n < rows.len() as u64 => tracing::warn!(queue_id = %info.id,
            "some recipients changed hands or were deleted meanwhile; their outcome was not recorded"),
        Ok(_) => {}
        Err(e) => {
            tracing::error!(queue_id = %info.id, error = %e, "cannot record delivery outcomes")
        }
    }
}

/// Sends the failure notice for `failed` rows (held by `owner`) of
/// message `id`, then marks them bounced; on trouble, postpones them.
async fn notify_failed(
    notifier: &Notifier,
    owner: &str,
    info: &MessageInfo,
    failed: &HashSet<i64>,
) {
    let db = notifier.queue.db();
    let rows = match store::recipients(db, &info.id).await {
        Ok(rows) => rows,
        Err(e) => return tracing::error!(queue_id = %info.id, error = %e, "cannot read recipients"),
    };
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| failed.contains(&r.id) && r.status == "failed")
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return;
    }
    let result = notifier.notify(info, &rows, DsnKind::Failed).await;
    let saved = match &result {
        Ok(sent) => {
            match sent {
                Sent::Done => {
                    tracing::info!(queue_id = %info.id, to = %info.sender, rcpts = ids.len(), "bounce sent")
                }
                Sent::Dropped(why) => {
                    tracing::info!(queue_id = %info.id, rcpts = ids.len(), why, "no bounce sent")
                }
            }
            store::mark_bounced(db, owner, &ids).await
        }
        Err(e) => {
            tracing::warn!(queue_id = %info.id, error = %e, "cannot send the bounce now; will retry");
            store::postpone(db, owner, &ids, now_ms() + NOTICE_RETRY_MS).await
        }
    };
    if let Err(e) = saved {
        tracing::error!(queue_id = %info.id, error = %e, "cannot record the bounce");
    }
}

/// Sends the delay notice once, when the message is old enough.
async fn maybe_warn(notifier: &Notifier, info: &MessageInfo) {
    let q = notifier.queue.settings();
    let warn = ms(q.warn_after.get());
    if warn == 0 || info.warned || info.sender.is_empty() || now_ms() - info.created_at < warn {
        return;
    }
    let db = notifier.queue.db();
    match store::set_warned(db, &info.id).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            return tracing::error!(queue_id = %info.id, error = %e, "cannot record the delay notice");
        }
    }
    let rows = store::recipients(db, &info.id).await.unwrap_or_default();
    let pending: Vec<_> = rows.into_iter().filter(|r| r.status == "queued").collect();
    if pending.is_empty() {
        return;
    }
    match notifier.notify(info, &pending, DsnKind::Delayed).await {
        Ok(_) => tracing::info!(queue_id = %info.id, to = %info.sender, "delay notice sent"),
        Err(e) => tracing::warn!(queue_id = %info.id, error = %e, "delay notice not sent"),
    }
}

/// Removes message `id` (rows, then file) when nothing is left to do.
pub(crate) async fn finish(queue: &Queue, id: &str) {
    match store::finish_if_done(queue.db(), id).await {
        Ok(true) => {
            if let Err(e) = queue.spool().remove(id).await {
                tracing::warn!(queue_id = %id, error = %e, "cannot remove the spool file");
            }
            tracing::info!(queue_id = %id, "removed from the queue: every recipient is done");
        }
        Ok(false) => {}
        Err(e) => {
            tracing::error!(queue_id = %id, error = %e, "cannot check whether the message is done")
        }
    }
}

/// The follow-up for every message a worker touched.
pub(crate) async fn after(notifier: &Notifier, owner: &str, touched: BTreeMap<String, Touched>) {
    for (id, t) in touched {
        let info = match store::message(notifier.queue.db(), &id).await {
            Ok(Some(info)) => info,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(queue_id = %id, error = %e, "cannot read the message");
                continue;
            }
        };
        if !t.failed.is_empty() {
            notify_failed(notifier, owner, &info, &t.failed).await;
        }
        if t.deferred {
            maybe_warn(notifier, &info).await;
        }
        finish(&notifier.queue, &id).await;
    }
}

/// Sends the notices of failed rows no live worker holds (their worker
/// died, or sending failed before). Returns how many rows it handled.
pub(crate) async fn sweep_failed(notifier: &Notifier, owner: &str, until: i64) -> usize {
    let db = notifier.queue.db();
    let rows = match store::claim_failed(db, owner, until, 50).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "cannot look for unsent bounces");
            return 0;
        }
    };
    let n = rows.len();
    let mut touched: BTreeMap<String, Touched> = BTreeMap::new();
    for row in rows {
        touched
            .entry(row.message_id)
            .or_default()
            .failed
            .insert(row.id);
    }
    after(notifier, owner, touched).await;
    if let Err(e) = store::release(db, owner).await {
        tracing::warn!(error = %e, "cannot release leases");
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HumanDuration;

    #[test]
    fn schedule_repeats_the_last_wait_and_ends_at_max_age() {
        let q = QueueConfig {
            retry: vec![HumanDuration::from_secs(60), HumanDuration::from_secs(300)],
            max_age: HumanDuration::from_secs(3600),
            ..QueueConfig::default()
        };
        assert_eq!(next_attempt(&q, 0, 0, 1_000), Some(61_000));
        assert_eq!(next_attempt(&q, 0, 1, 1_000), Some(301_000));
        assert_eq!(
            next_attempt(&q, 0, 9, 1_000),
            Some(301_000),
            "the last wait repeats"
        );
        assert_eq!(
            next_attempt(&q, 0, 9, 3_500_000),
            Some(3_600_000),
            "last try at expiry"
        );
        assert_eq!(next_attempt(&q, 0, 9, 3_600_000), None, "expired");
    }
}

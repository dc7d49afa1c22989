//! The scheduler: one loop per process that looks for due work and
//! starts workers within the concurrency limits.
//!
//! Every pass it (1) sends notices that a dead worker left unsent,
//! (2) lists domains with due, unclaimed recipients, and (3) starts a
//! worker per domain (one more per [`CLAIM_MESSAGES`] due recipients, up
//! to `queue.max_connections_per_domain`, and never more than
//! `queue.max_connections` in all). Then it sleeps until the next row
//! is due, a worker finishes, [`Queue::wake`] is called after a new
//! message, or [`POLL`] passes — the poll is what makes `postel queue
//! flush` (another process) and other nodes' work visible.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::bounce::Notifier;
use super::worker::{self, CLAIM_MESSAGES, Ctx, LEASE};
use super::{Queue, QueueError, ms, now_ms, settle, store};
use crate::directory::Directory;
use crate::dns::Resolver;
use crate::server::Shutdown;
use crate::store::Store;

/// The longest the loop sleeps without looking at the database.
pub const POLL: Duration = Duration::from_secs(2);

/// How often leftovers are cleaned: spool files without rows, messages
/// whose recipients are all done.
const HOUSEKEEPING: Duration = Duration::from_secs(3600);

/// Spool files younger than this are never considered leftovers (another
/// node may be between writing the file and committing its rows).
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// Delivers the queue until shutdown.
#[derive(Debug)]
pub struct Runner {
    ctx: Arc<Ctx>,
}

impl Runner {
    /// A runner for `queue`, resolving through `resolver` and delivering
    /// bounces for local senders into `store`.
    ///
    /// # Errors
    /// [`QueueError::Tls`] when no client TLS configuration can be built.
    pub fn new(
        queue: Queue,
        resolver: Resolver,
        store: Store,
        directory: Directory,
    ) -> Result<Runner, QueueError> {
        let relay = queue.relay();
        let mx_tls = super::tls::opportunistic().map_err(QueueError::Tls)?;
        let relay_tls = if relay.tls_verify {
            super::tls::verified(relay.tls_ca_file.as_deref())
        } else {
            Ok(mx_tls.clone())
        };
        if relay.host.is_some()
            && let Err(e) = &relay_tls
        {
            tracing::error!(error = %e, "relay TLS unusable; outbound mail will wait");
        }
        Ok(Runner {
            ctx: Arc::new(Ctx {
                notifier: Notifier {
                    queue,
                    store,
                    directory,
                },
                resolver,
                mx_tls,
                relay_tls,
            }),
        })
    }

    /// Starts the loop on `tracker`; it stops when `shutdown` fires.
    pub fn spawn(self, tracker: &TaskTracker, shutdown: &Shutdown) {
        let (tracker2, shutdown) = (tracker.clone(), shutdown.clone());
        tracker.spawn(async move { self.run(tracker2, shutdown).await });
    }

    async fn run(self, tracker: TaskTracker, mut shutdown: Shutdown) {
        let queue = self.ctx.notifier.queue.clone();
        let node = queue.hostname().to_string();
        match store::release_node(queue.db(), &node).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "released queue leases of the previous run"),
            Err(e) => tracing::warn!(error = %e, "cannot release old queue leases"),
        }
        let mut last_housekeeping = None;
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
        let mut active: HashMap<String, usize> = HashMap::new();
        let settings = queue.settings().clone();
        loop {
            if shutdown.is_triggered() {
                return;
            }
            if last_housekeeping.is_none_or(|t: tokio::time::Instant| t.elapsed() >= HOUSEKEEPING) {
                housekeeping(&queue).await;
                last_housekeeping = Some(tokio::time::Instant::now());
            }
            let sweeper = worker::owner(&node);
            settle::sweep_failed(&self.ctx.notifier, &sweeper, now_ms() + ms(LEASE)).await;
            let now = now_ms();
            let mut wake_at = now + ms(POLL);
            let domains = store::domains(queue.db(), now).await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read the queue");
                Vec::new()
            });
            for d in domains {
                if d.due == 0 {
                    wake_at = wake_at.min(d.next);
                    continue;
                }
                // Due rows stand in for messages: close enough to size the crew.
                let wanted =
                    usize::try_from((d.due + CLAIM_MESSAGES - 1) / CLAIM_MESSAGES).unwrap_or(1);
                let limit = wanted.min(settings.max_connections_per_domain);
                let running = active.get(&d.domain).copied().unwrap_or(0);
                for _ in running..limit {
                    if active.values().sum::<usize>() >= settings.max_connections {
                        break;
                    }
                    *active.entry(d.domain.clone()).or_default() += 1;
                    let (ctx, domain, stop, done) = (
                        self.ctx.clone(),
                        d.domain.clone(),
                        shutdown.clone(),
                        done_tx.clone(),
                    );
                    tracker.spawn(async move {
                        worker::run(ctx, domain.clone(), stop).await;
                        let _ = done.send(domain);
                    });
                }
            }
            let sleep = Duration::from_millis(u64::try_from(wake_at - now_ms()).unwrap_or(0));
            tokio::select! {
                _ = shutdown.wait() => return,
                _ = tokio::time::sleep(sleep) => {}
                _ = queue.woken() => {}
                Some(domain) = done_rx.recv() => finished(&mut active, &domain),
            }
            while let Ok(domain) = done_rx.try_recv() {
                finished(&mut active, &domain);
            }
        }
    }
}

fn finished(active: &mut HashMap<String, usize>, domain: &str) {
    if let Some(n) = active.get_mut(domain) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            active.remove(domain);
        }
    }
}

/// Removes spool files without rows and messages with nothing left to do
/// (a crash between an outcome and the clean-up).
async fn housekeeping(queue: &Queue) {
    match queue.spool().orphans(ORPHAN_AGE).await {
        Ok(files) => {
            for (id, tmp) in files {
                if tmp {
                    let _ = queue.spool().remove_tmp(&id).await;
                } else if let Ok(false) = store::exists(queue.db(), &id).await {
                    tracing::info!(queue_id = %id, "removing a queue file without a queue entry");
                    let _ = queue.spool().remove(&id).await;
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot scan the queue directory"),
    }
    match store::finished_messages(queue.db()).await {
        Ok(ids) => {
            for id in ids {
                settle::finish(queue, &id).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot look for finished messages"),
    }
}

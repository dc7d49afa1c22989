//! Group commit: one directory fsync shared by the deliveries that
//! renamed a file into the same directory at about the same time.
//!
//! A delivery is durable once its file was fsync'd in `tmp/`, renamed
//! into `new/` (or `cur/`), and the directory was fsync'd *after* the
//! rename. The fsync flushes every entry of the directory, so one fsync
//! that starts after N renames finished makes all N durable.
//!
//! Each directory has a small commit queue: a delivery whose rename
//! returned joins the *open* batch of its directory and waits. A driver
//! task (started by the first arrival when none runs) takes the open
//! batch — closing it, so later arrivals open the next one — fsyncs the
//! directory, and hands the result to every member of that batch; then it
//! takes the next batch, until none is waiting. A batch is taken only
//! after each of its members joined, and members join only after their
//! rename returned, so the fsync that answers a delivery always started
//! after its rename: nobody is told "durable" before the fsync that
//! follows their rename completed. A failed fsync fails every member of
//! its batch (the caller answers 4xx; the sender's retry may duplicate,
//! never lose). With one delivery at a time this is exactly one fsync per
//! delivery, as before; under load, deliveries arriving while an fsync
//! runs share the next one.
//!
//! Must not: fsync anything but directories of the store, or reorder
//! replies (each caller still waits for its own batch).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::error::{Result, StoreError};

/// The operation that makes a directory's entries durable (`fsync` of the
/// directory; replaced in tests to count calls or inject failures).
pub(crate) type SyncFn = Arc<dyn Fn(&Path) -> std::io::Result<()> + Send + Sync>;

/// What a batch's members learn: `None` while the fsync is pending, then
/// success or the error (kind and text, rebuilt for every member).
type Outcome = Option<std::result::Result<(), (std::io::ErrorKind, String)>>;

/// The commit queues of every directory of one store.
pub(crate) struct DirSyncs {
    queues: Mutex<HashMap<PathBuf, Arc<DirQueue>>>,
    sync: SyncFn,
    /// Directory fsyncs performed (for benchmarks and tests).
    fsyncs: AtomicU64,
}

/// One directory's queue.
#[derive(Default)]
struct DirQueue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    /// The batch that arrivals join; taken by the driver just before the
    /// fsync that will answer it starts.
    open: Option<watch::Sender<Outcome>>,
    /// Whether a driver task is running for this directory.
    driving: bool,
}

impl std::fmt::Debug for DirSyncs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirSyncs")
            .field("fsyncs", &self.fsyncs.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl DirSyncs {
    /// Queues that fsync with `sync`.
    pub(crate) fn new(sync: SyncFn) -> Arc<DirSyncs> {
        Arc::new(DirSyncs {
            queues: Mutex::new(HashMap::new()),
            sync,
            fsyncs: AtomicU64::new(0),
        })
    }

    /// How many directory fsyncs were made so far.
    pub(crate) fn fsyncs(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Waits until an fsync of `dir` that started after this call
    /// completed. Call it after the rename into `dir` returned.
    ///
    /// # Errors
    /// [`StoreError::Io`] when that fsync failed (every member of the
    /// batch gets the error), or when the queue's driver was stopped (the
    /// runtime is shutting down).
    pub(crate) async fn sync(self: &Arc<Self>, dir: &Path) -> Result<()> {
        let mut rx = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            let queue = queues.entry(dir.to_path_buf()).or_default().clone();
            let mut state = queue.state.lock().unwrap_or_else(PoisonError::into_inner);
            let rx = state
                .open
                .get_or_insert_with(|| watch::channel(None).0)
                .subscribe();
            if !state.driving {
                state.driving = true;
                let (this, dir, queue) = (self.clone(), dir.to_path_buf(), queue.clone());
                tokio::spawn(async move { this.drive(dir, queue).await });
            }
            rx
        };
        let failed = |kind, text: String| StoreError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(kind, text),
        };
        match rx.wait_for(Option::is_some).await {
            Ok(outcome) => match &*outcome {
                Some(Ok(())) => Ok(()),
                Some(Err((kind, text))) => Err(failed(*kind, text.clone())),
                None => Err(failed(std::io::ErrorKind::Other, "no outcome".into())),
            },
            Err(_) => Err(failed(
                std::io::ErrorKind::Interrupted,
                "directory commit queue stopped".into(),
            )),
        }
    }

    /// The driver: fsyncs for one batch after another while any waits,
    /// then forgets the idle queue.
    async fn drive(self: Arc<Self>, dir: PathBuf, queue: Arc<DirQueue>) {
        let mut guard = DriverGuard {
            queue: &queue,
            armed: true,
        };
        loop {
            let batch = {
                let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
                let mut state = queue.state.lock().unwrap_or_else(PoisonError::into_inner);
                match state.open.take() {
                    Some(batch) => batch,
                    None => {
                        state.driving = false;
                        guard.armed = false;
                        if queues.get(&dir).is_some_and(|q| Arc::ptr_eq(q, &queue)) {
                            queues.remove(&dir);
                        }
                        return;
                    }
                }
            };
            let (d, sync) = (dir.clone(), self.sync.clone());
            self.fsyncs.fetch_add(1, Ordering::Relaxed);
            let outcome = match tokio::task::spawn_blocking(move || sync(&d)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err((e.kind(), e.to_string())),
                Err(e) => Err((std::io::ErrorKind::Other, e.to_string())),
            };
            if let Err((_, text)) = &outcome {
                tracing::error!(dir = %dir.display(), error = %text, "directory fsync failed");
            }
            batch.send_replace(Some(outcome));
        }
    }
}

/// Resets a queue whose driver stopped without finishing (its task was
/// cancelled or panicked): the open batch is dropped, so its members get
/// an error instead of waiting forever, and the next arrival starts a new
/// driver.
struct DriverGuard<'a> {
    queue: &'a DirQueue,
    armed: bool,
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut state = self
                .queue
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.driving = false;
            state.open = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// A fake fsync: counts calls, blocks each call until released, and
    /// fails the calls whose number (from 1) is in `fail`.
    struct Fake {
        calls: AtomicUsize,
        gate: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
        fail: Vec<usize>,
    }

    fn fake(fail: Vec<usize>) -> (Arc<Fake>, std::sync::mpsc::Sender<()>, Arc<DirSyncs>) {
        let (release, gate) = std::sync::mpsc::channel();
        let f = Arc::new(Fake {
            calls: AtomicUsize::new(0),
            gate: std::sync::Mutex::new(gate),
            fail,
        });
        let f2 = f.clone();
        let syncs = DirSyncs::new(Arc::new(move |_: &Path| {
            let n = f2.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let _ = f2
                .gate
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv();
            if f2.fail.contains(&n) {
                Err(std::io::Error::other(format!("injected failure {n}")))
            } else {
                Ok(())
            }
        }));
        (f, release, syncs)
    }

    async fn until(what: impl Fn() -> bool) {
        for _ in 0..500 {
            if what() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("condition not reached");
    }

    /// Arrivals during a running fsync share the next one; every waiter
    /// is answered only after an fsync that started after it arrived.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn arrivals_during_an_fsync_share_the_next() {
        let (fake, release, syncs) = fake(Vec::new());
        let dir = PathBuf::from("/virtual/new");
        let first = tokio::spawn({
            let (s, d) = (syncs.clone(), dir.clone());
            async move { s.sync(&d).await }
        });
        until(|| fake.calls.load(Ordering::SeqCst) == 1).await;
        let mut later = Vec::new();
        for _ in 0..19 {
            let (s, d) = (syncs.clone(), dir.clone());
            later.push(tokio::spawn(async move { s.sync(&d).await }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The first fsync started before they arrived: nobody may be done.
        assert!(!first.is_finished());
        assert!(later.iter().all(|t| !t.is_finished()));
        release.send(()).ok();
        assert!(first.await.is_ok_and(|r| r.is_ok()));
        // Still not done: their fsync is the second one, not yet released.
        until(|| fake.calls.load(Ordering::SeqCst) == 2).await;
        assert!(later.iter().all(|t| !t.is_finished()));
        release.send(()).ok();
        for t in later {
            assert!(t.await.is_ok_and(|r| r.is_ok()));
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        assert_eq!(syncs.fsyncs(), 2);
        // Idle queues are forgotten.
        until(|| syncs.queues.lock().map(|q| q.is_empty()).unwrap_or(false)).await;
    }

    /// A failed fsync fails every member of its batch, and only them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_fsync_fails_its_whole_batch() {
        let (fake, release, syncs) = fake(vec![2]);
        let dir = PathBuf::from("/virtual/new");
        let spawn = |s: Arc<DirSyncs>, d: PathBuf| tokio::spawn(async move { s.sync(&d).await });
        let first = spawn(syncs.clone(), dir.clone());
        until(|| fake.calls.load(Ordering::SeqCst) == 1).await;
        let batch: Vec<_> = (0..5).map(|_| spawn(syncs.clone(), dir.clone())).collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(()).ok();
        assert!(first.await.is_ok_and(|r| r.is_ok()));
        until(|| fake.calls.load(Ordering::SeqCst) == 2).await;
        // Arrivals during the failing fsync belong to the third batch.
        let next: Vec<_> = (0..3).map(|_| spawn(syncs.clone(), dir.clone())).collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(()).ok();
        for t in batch {
            match t.await {
                Ok(Err(StoreError::Io { path, source })) => {
                    assert_eq!(path, dir);
                    assert!(source.to_string().contains("injected failure 2"));
                }
                other => panic!("expected an I/O error, got {other:?}"),
            }
        }
        until(|| fake.calls.load(Ordering::SeqCst) == 3).await;
        release.send(()).ok();
        for t in next {
            assert!(t.await.is_ok_and(|r| r.is_ok()));
        }
    }

    /// Different directories never share an fsync.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn directories_have_their_own_queues() {
        let calls = Arc::new(std::sync::Mutex::new(Vec::<PathBuf>::new()));
        let c = calls.clone();
        let syncs = DirSyncs::new(Arc::new(move |d: &Path| {
            c.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(d.to_path_buf());
            Ok(())
        }));
        let (a, b) = (PathBuf::from("/v/a/new"), PathBuf::from("/v/b/new"));
        let (ra, rb) = tokio::join!(syncs.sync(&a), syncs.sync(&b));
        assert!(ra.is_ok() && rb.is_ok());
        let mut seen = calls.lock().unwrap_or_else(PoisonError::into_inner).clone();
        seen.sort();
        assert_eq!(seen, [a, b]);
    }
}

//! The shutdown signal shared by listeners, sessions and background work.
//!
//! Shutdown has two steps. [`ShutdownTrigger::trigger`] begins the
//! *drain*: listeners stop accepting, sessions waiting for a command say
//! goodbye (`421 4.3.2`, `* BYE`, `-ERR [SYS/TEMP]`) and close, and a
//! session in the middle of a message (SMTP DATA/BDAT) keeps receiving
//! it and answers it as usual. [`ShutdownTrigger::abort`] ends the drain
//! when its deadline (`server.shutdown_timeout`) has passed: whatever is
//! still receiving a message gives up with `421`, so nothing is ever
//! delivered half.

use tokio::sync::watch;

/// Where shutdown is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Running,
    Draining,
    Abort,
}

/// A shutdown signal: cheap to clone; [`Shutdown::wait`] resolves once
/// shutdown has begun, [`Shutdown::wait_abort`] once its deadline passed.
#[derive(Clone, Debug)]
pub struct Shutdown {
    rx: watch::Receiver<Phase>,
}

/// The sending half of [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<Phase>,
}

/// A new shutdown pair.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(Phase::Running);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    /// Begins shutdown everywhere: stop accepting, close idle sessions,
    /// let messages in progress finish.
    pub fn trigger(&self) {
        self.advance(Phase::Draining);
    }

    /// Ends the drain: messages still in progress are refused (`421`).
    pub fn abort(&self) {
        self.advance(Phase::Abort);
    }

    fn advance(&self, to: Phase) {
        self.tx.send_if_modified(|p| {
            let later = *p < to;
            if later {
                *p = to;
            }
            later
        });
    }
}

impl Shutdown {
    /// Whether shutdown has begun.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow() >= Phase::Draining
    }

    /// Resolves once shutdown has begun.
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means "stop".
        let _ = self.rx.wait_for(|p| *p >= Phase::Draining).await;
    }

    /// Resolves once the drain deadline has passed (or the trigger is
    /// gone): work that was allowed to finish must stop now.
    pub async fn wait_abort(&mut self) {
        let _ = self.rx.wait_for(|p| *p >= Phase::Abort).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn phases_advance_in_order_only() {
        let (trigger, shutdown) = shutdown_channel();
        assert!(!shutdown.is_triggered());
        let mut abort = shutdown.clone();
        let pending = tokio::time::timeout(Duration::from_millis(20), abort.wait_abort()).await;
        assert!(pending.is_err(), "abort before any trigger");
        trigger.trigger();
        assert!(shutdown.is_triggered());
        let mut w = shutdown.clone();
        w.wait().await;
        let pending = tokio::time::timeout(Duration::from_millis(20), abort.wait_abort()).await;
        assert!(pending.is_err(), "draining is not abort");
        trigger.abort();
        abort.wait_abort().await;
        trigger.trigger();
        assert!(shutdown.is_triggered(), "no way back from abort");
        let mut again = shutdown.clone();
        tokio::time::timeout(Duration::from_millis(20), again.wait_abort())
            .await
            .expect("still aborted");
    }

    #[tokio::test]
    async fn a_dropped_trigger_means_stop() {
        let (trigger, shutdown) = shutdown_channel();
        drop(trigger);
        let mut s = shutdown.clone();
        s.wait().await;
        s.wait_abort().await;
    }
}

//! The signals `postel serve` answers while running: SIGHUP reloads the
//! configuration and certificates, SIGTERM and SIGINT stop the daemon.
//! The same loop pings systemd's watchdog and refreshes the `STATUS=`
//! line, so a wedged runtime stops pinging and systemd restarts it.

use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::reload::ReloadError;
use super::{Live, ServerError, notify};
use crate::queue::Queue;

/// How often the `STATUS=` line is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// Longest wait for the queue size in a status line (the watchdog shares
/// the loop and must not wait for a busy database).
const STATUS_QUERY_LIMIT: Duration = Duration::from_secs(2);

/// The handlers, installed before anything else so that a signal during
/// start-up is not lost to the default action.
pub(super) struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    /// Installs the SIGTERM, SIGINT and SIGHUP handlers.
    pub(super) fn install() -> Result<Signals, ServerError> {
        let install = |kind| signal(kind).map_err(ServerError::Signals);
        Ok(Signals {
            term: install(SignalKind::terminate())?,
            int: install(SignalKind::interrupt())?,
            hup: install(SignalKind::hangup())?,
        })
    }

    /// Reloads on SIGHUP, pings the watchdog and refreshes the status
    /// until SIGTERM or SIGINT arrives; returns that signal's name.
    pub(super) async fn serve(&mut self, live: &Live, queue: &Queue) -> &'static str {
        let watchdog = notify::watchdog_interval();
        if let Some(every) = watchdog {
            tracing::info!(every_ms = every.as_millis(), "pinging the systemd watchdog");
        }
        let mut dog = tokio::time::interval(watchdog.unwrap_or(STATUS_EVERY));
        let mut status = tokio::time::interval(STATUS_EVERY);
        status.tick().await;
        loop {
            tokio::select! {
                _ = self.term.recv() => return "SIGTERM",
                _ = self.int.recv() => return "SIGINT",
                _ = self.hup.recv() => reload(live, queue).await,
                _ = dog.tick(), if watchdog.is_some() => notify::watchdog(),
                _ = status.tick() => notify::status_line(&status_line(live, queue).await),
            }
        }
    }
}

/// The status line, without waiting long for the database.
async fn status_line(live: &Live, queue: &Queue) -> String {
    tokio::time::timeout(STATUS_QUERY_LIMIT, notify::status(live, queue))
        .await
        .unwrap_or_else(|_| format!("accepting: {} connections, queue unknown", live.sessions()))
}

/// Handles one SIGHUP: `RELOADING=1`, reload, log, `READY=1`.
async fn reload(live: &Live, queue: &Queue) {
    notify::reloading();
    tracing::info!("SIGHUP: reloading the configuration");
    match live.reload() {
        Ok(done) => {
            for key in done.restart_needed {
                tracing::warn!(
                    key,
                    "changed, but takes effect only after a restart; the old value stays in force"
                );
            }
            tracing::info!("configuration reloaded; new connections use it");
        }
        Err(ReloadError::Config(e)) => {
            for problem in &e.problems {
                tracing::error!("{problem}");
            }
            tracing::error!("reload refused; the previous configuration stays in force");
        }
        Err(e) => {
            tracing::error!(error = %e, "reload refused; the previous configuration stays in force");
        }
    }
    notify::ready(&status_line(live, queue).await);
}

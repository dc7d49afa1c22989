//! Telling systemd how the daemon is (`sd_notify(3)`), for `Type=notify`
//! and `Type=notify-reload` units: `READY=1` once listening, `STATUS=`
//! lines, `RELOADING=1` with `MONOTONIC_USEC=` while a SIGHUP is handled,
//! `WATCHDOG=1` pings when the unit sets `WatchdogSec=`, and `STOPPING=1`.
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing.

use std::time::Duration;

use sd_notify::NotifyState;

use super::Live;
use crate::queue::Queue;

/// Sends `states`; a failure is logged, never fatal.
fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::warn!(error = %e, "sd_notify failed");
    }
}

/// `READY=1` with a status line.
pub(super) fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `STATUS=…` alone.
pub(super) fn status_line(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// `RELOADING=1` and the `MONOTONIC_USEC=` that `Type=notify-reload`
/// wants with it.
pub(super) fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[
            NotifyState::Reloading,
            now,
            NotifyState::Status("reloading"),
        ]),
        Err(_) => send(&[NotifyState::Reloading, NotifyState::Status("reloading")]),
    }
}

/// `STOPPING=1`.
pub(super) fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// `WATCHDOG=1`.
pub(super) fn watchdog() {
    send(&[NotifyState::Watchdog]);
}

/// How often to ping the watchdog: half of `WATCHDOG_USEC`, when systemd
/// set it for this process (`WATCHDOG_PID` absent or ours, as
/// `sd_watchdog_enabled(3)` reads them).
pub(super) fn watchdog_interval() -> Option<Duration> {
    watchdog_from(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    )
}

fn watchdog_from(usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    if let Some(pid) = pid
        && pid.trim().parse::<u32>().ok() != Some(me)
    {
        return None;
    }
    Some(Duration::from_micros(usec / 2).max(Duration::from_millis(10)))
}

/// The status line: "accepting: N connections, queue M".
pub(super) async fn status(live: &Live, queue: &Queue) -> String {
    let sessions = live.sessions();
    match queue.size().await {
        Ok(queued) => format!("accepting: {sessions} connections, queue {queued}"),
        Err(_) => format!("accepting: {sessions} connections, queue unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_pinged_at_half_its_period_for_this_process_only() {
        let half = Some(Duration::from_secs(15));
        assert_eq!(watchdog_from(Some("30000000"), None, 7), half);
        assert_eq!(watchdog_from(Some("30000000"), Some("7"), 7), half);
        assert_eq!(watchdog_from(Some("30000000"), Some("8"), 7), None);
        assert_eq!(watchdog_from(None, Some("7"), 7), None);
        assert_eq!(watchdog_from(Some("0"), None, 7), None);
        assert_eq!(watchdog_from(Some("soon"), None, 7), None);
    }
}

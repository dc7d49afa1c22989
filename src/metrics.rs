//! Counters, gauges and histograms for Prometheus, kept in atomics.
//!
//! Owns: one process-wide [`Registry`] (plain atomics, no locks) that the
//! listeners, sessions and the queue bump through the free functions
//! below, and its rendering in the Prometheus text exposition format
//! 0.0.4 (every name prefixed `postel_`). The HTTP listener serves it at
//! `/metrics`, adding gauges read from the database at scrape time.
//!
//! Must not: know protocol or queue types; callers pass plain names,
//! codes and durations.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The listeners, as named by `[listen]`; connection metrics per name.
pub const LISTENERS: [&str; 9] = [
    "smtp",
    "submission",
    "submissions",
    "imap",
    "imaps",
    "pop3",
    "pop3s",
    "http",
    "https",
];

/// Protocols that authenticate users.
pub const AUTH_PROTOCOLS: [&str; 3] = ["smtp", "imap", "pop3"];

/// How an SMTP transaction ended after DATA/BDAT.
const MESSAGE_RESULTS: [&str; 4] = ["accepted", "rejected", "deferred", "greylisted"];

/// What became of one recipient of the outbound queue after an attempt.
const QUEUE_RESULTS: [&str; 3] = ["delivered", "deferred", "bounced"];

/// Delivery routes with a latency histogram.
const ROUTES: [&str; 2] = ["local", "remote"];

/// Histogram bucket upper bounds in seconds: local writes take
/// milliseconds, remote delivery from acceptance can take hours.
pub const BUCKETS: [f64; 16] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 600.0, 3600.0,
    86400.0,
];

/// A latency histogram: cumulative on rendering, per bucket in memory.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    /// Observations above the last bucket.
    overflow: AtomicU64,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Histogram {
            buckets: [const { AtomicU64::new(0) }; BUCKETS.len()],
            overflow: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        match BUCKETS.iter().position(|le| secs <= *le) {
            Some(i) => self.buckets[i].fetch_add(1, Ordering::Relaxed),
            None => self.overflow.fetch_add(1, Ordering::Relaxed),
        };
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// How many observations were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Every metric the process keeps in memory.
#[derive(Debug)]
pub struct Registry {
    connections: [AtomicU64; LISTENERS.len()],
    connections_open: [AtomicU64; LISTENERS.len()],
    auth_failures: [AtomicU64; AUTH_PROTOCOLS.len()],
    tls_ok: AtomicU64,
    tls_failed: AtomicU64,
    messages: [AtomicU64; MESSAGE_RESULTS.len()],
    queue: [AtomicU64; QUEUE_RESULTS.len()],
    local_deliveries: AtomicU64,
    latency: [Histogram; ROUTES.len()],
}

static REGISTRY: Registry = Registry::new();

/// The process-wide registry.
pub fn global() -> &'static Registry {
    &REGISTRY
}

impl Registry {
    const fn new() -> Self {
        Registry {
            connections: [const { AtomicU64::new(0) }; LISTENERS.len()],
            connections_open: [const { AtomicU64::new(0) }; LISTENERS.len()],
            auth_failures: [const { AtomicU64::new(0) }; AUTH_PROTOCOLS.len()],
            tls_ok: AtomicU64::new(0),
            tls_failed: AtomicU64::new(0),
            messages: [const { AtomicU64::new(0) }; MESSAGE_RESULTS.len()],
            queue: [const { AtomicU64::new(0) }; QUEUE_RESULTS.len()],
            local_deliveries: AtomicU64::new(0),
            latency: [Histogram::new(), Histogram::new()],
        }
    }

    /// Renders every metric in the text exposition format 0.0.4.
    pub fn render(&self, out: &mut String) {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        family(
            out,
            "postel_connections_total",
            "counter",
            "Connections accepted, per listener.",
        );
        for (name, n) in LISTENERS.iter().zip(&self.connections) {
            sample(
                out,
                "postel_connections_total",
                &[("listener", name)],
                load(n),
            );
        }
        family(
            out,
            "postel_connections_open",
            "gauge",
            "Connections open now, per listener.",
        );
        for (name, n) in LISTENERS.iter().zip(&self.connections_open) {
            sample(
                out,
                "postel_connections_open",
                &[("listener", name)],
                load(n),
            );
        }
        family(
            out,
            "postel_tls_handshakes_total",
            "counter",
            "Server-side TLS handshakes (implicit TLS and STARTTLS), by result.",
        );
        let tls = [("ok", &self.tls_ok), ("failed", &self.tls_failed)];
        for (result, n) in tls {
            sample(
                out,
                "postel_tls_handshakes_total",
                &[("result", result)],
                load(n),
            );
        }
        family(
            out,
            "postel_auth_failures_total",
            "counter",
            "Failed logins, per protocol.",
        );
        for (name, n) in AUTH_PROTOCOLS.iter().zip(&self.auth_failures) {
            sample(
                out,
                "postel_auth_failures_total",
                &[("protocol", name)],
                load(n),
            );
        }
        family(
            out,
            "postel_messages_total",
            "counter",
            "SMTP transactions at the end of DATA, by result.",
        );
        for (name, n) in MESSAGE_RESULTS.iter().zip(&self.messages) {
            sample(out, "postel_messages_total", &[("result", name)], load(n));
        }
        family(
            out,
            "postel_local_deliveries_total",
            "counter",
            "Mailbox copies written by SMTP delivery.",
        );
        sample(
            out,
            "postel_local_deliveries_total",
            &[],
            load(&self.local_deliveries),
        );
        family(
            out,
            "postel_queue_recipients_total",
            "counter",
            "Outbound recipient attempts, by outcome (bounced: failed for good, sender notified).",
        );
        for (name, n) in QUEUE_RESULTS.iter().zip(&self.queue) {
            sample(
                out,
                "postel_queue_recipients_total",
                &[("outcome", name)],
                load(n),
            );
        }
        family(
            out,
            "postel_delivery_duration_seconds",
            "histogram",
            "Local: the durable write of an accepted message; remote: acceptance to delivery.",
        );
        for (route, h) in ROUTES.iter().zip(&self.latency) {
            render_histogram(out, "postel_delivery_duration_seconds", route, h);
        }
    }

    /// The latency histogram of `route` (`"local"` or `"remote"`).
    pub fn latency(&self, route: &str) -> Option<&Histogram> {
        ROUTES
            .iter()
            .position(|r| *r == route)
            .map(|i| &self.latency[i])
    }
}

fn render_histogram(out: &mut String, name: &str, route: &str, h: &Histogram) {
    let mut cumulative = 0;
    for (le, n) in BUCKETS.iter().zip(&h.buckets) {
        cumulative += n.load(Ordering::Relaxed);
        let le = le.to_string();
        let labels = [("route", route), ("le", le.as_str())];
        sample(out, &format!("{name}_bucket"), &labels, cumulative);
    }
    cumulative += h.overflow.load(Ordering::Relaxed);
    let labels = [("route", route), ("le", "+Inf")];
    sample(out, &format!("{name}_bucket"), &labels, cumulative);
    let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {sum}");
    sample(
        out,
        &format!("{name}_count"),
        &[("route", route)],
        cumulative,
    );
}

/// Writes the `# HELP` and `# TYPE` lines of a metric family.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes one sample line; label values are escaped.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// Label value escaping of the text format: `\`, `"` and newline.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn bump(list: &[AtomicU64], names: &[&str], name: &str) {
    if let Some(i) = names.iter().position(|n| *n == name) {
        list[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts an accepted connection on `listener` and keeps it in the
/// "open" gauge until the guard is dropped.
#[must_use = "the connection counts as open while the guard lives"]
pub fn connection(listener: &str) -> ConnectionGuard {
    let r = global();
    let index = LISTENERS.iter().position(|n| *n == listener);
    if let Some(i) = index {
        r.connections[i].fetch_add(1, Ordering::Relaxed);
        r.connections_open[i].fetch_add(1, Ordering::Relaxed);
    }
    ConnectionGuard { index }
}

/// Keeps a connection in `postel_connections_open`.
#[derive(Debug)]
pub struct ConnectionGuard {
    index: Option<usize>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Some(i) = self.index {
            global().connections_open[i].fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Counts a server-side TLS handshake.
pub fn tls_handshake(ok: bool) {
    let r = global();
    let n = if ok { &r.tls_ok } else { &r.tls_failed };
    n.fetch_add(1, Ordering::Relaxed);
}

/// Counts a failed login over `protocol` (`smtp`, `imap`, `pop3`).
pub fn auth_failed(protocol: &str) {
    bump(&global().auth_failures, &AUTH_PROTOCOLS, protocol);
}

/// Counts the answer to a message at the end of DATA: 2xx accepted, 5xx
/// rejected, 4xx deferred, or greylisted.
pub fn message_answered(code: u16, greylisted: bool) {
    let result = match code {
        _ if greylisted => "greylisted",
        200..=299 => "accepted",
        500..=599 => "rejected",
        _ => "deferred",
    };
    bump(&global().messages, &MESSAGE_RESULTS, result);
}

/// Counts `copies` mailbox copies written in `took`.
pub fn local_delivered(copies: usize, took: Duration) {
    let r = global();
    r.local_deliveries
        .fetch_add(u64::try_from(copies).unwrap_or(u64::MAX), Ordering::Relaxed);
    r.latency[0].observe(took);
}

/// Counts an outbound recipient delivered `since_accepted_ms` after the
/// message was accepted.
pub fn remote_delivered(since_accepted_ms: i64) {
    let ms = u64::try_from(since_accepted_ms).unwrap_or(0);
    bump(&global().queue, &QUEUE_RESULTS, "delivered");
    global().latency[1].observe(Duration::from_millis(ms));
}

/// Counts an outbound recipient that will be tried again.
pub fn remote_deferred() {
    bump(&global().queue, &QUEUE_RESULTS, "deferred");
}

/// Counts an outbound recipient that failed for good (a bounce follows).
pub fn remote_bounced() {
    bump(&global().queue, &QUEUE_RESULTS, "bounced");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_with_inf() {
        let h = Histogram::new();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(2));
        h.observe(Duration::from_secs(200_000));
        let mut out = String::new();
        render_histogram(&mut out, "x", "local", &h);
        assert!(
            out.contains("x_bucket{route=\"local\",le=\"0.001\"} 0\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"local\",le=\"0.005\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"local\",le=\"2.5\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"local\",le=\"86400\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("x_bucket{route=\"local\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("x_count{route=\"local\"} 3\n"), "{out}");
        assert!(out.contains("x_sum{route=\"local\"} 200002.003\n"), "{out}");
    }

    #[test]
    fn guard_counts_open_connections() {
        let open = |r: &Registry| r.connections_open[7].load(Ordering::Relaxed);
        let g = connection("http");
        assert!(open(global()) >= 1);
        drop(g);
        // Other tests may open connections meanwhile; ours is gone.
        let _ = connection("no-such-listener");
        let mut out = String::new();
        global().render(&mut out);
        assert!(out.contains("# TYPE postel_connections_open gauge\n"));
        assert!(out.contains("postel_connections_total{listener=\"http\"} "));
    }

    #[test]
    fn labels_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("a", "x\"y\\z\n")], 1);
        assert_eq!(out, "m{a=\"x\\\"y\\\\z\\n\"} 1\n");
    }
}

//! `/healthz` (is the database answering?) and `/metrics` (Prometheus
//! text format 0.0.4: the in-memory [`crate::metrics`] registry plus
//! gauges read from the database at scrape time).

use std::time::Duration;

use hyper::{Response, StatusCode};

use super::{Body, Site};
use crate::metrics::{family, sample};

/// How long a database query of these pages may take.
const DB_TIMEOUT: Duration = Duration::from_secs(5);

/// The Prometheus text format's media type.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Whether the database answers a trivial query in time.
async fn database_up(site: &Site) -> bool {
    let q = sqlx::query("SELECT 1").fetch_one(site.services().db.pool());
    matches!(tokio::time::timeout(DB_TIMEOUT, q).await, Ok(Ok(_)))
}

/// `200 ok` when the database answers, `503` otherwise.
pub async fn health(site: &Site) -> Response<Body> {
    if database_up(site).await {
        super::text(StatusCode::OK, "ok\n")
    } else {
        super::text(StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
    }
}

/// The queue's size: messages, and recipients per status.
async fn queue_size(site: &Site) -> Result<(u64, Vec<(String, u64)>), crate::queue::QueueError> {
    let queue = &site.services().queue;
    Ok((queue.size().await?, queue.recipients_by_status().await?))
}

/// Every metric.
pub async fn metrics(site: &Site) -> Response<Body> {
    let mut out = String::with_capacity(8192);
    crate::metrics::global().render(&mut out);
    let queue = tokio::time::timeout(DB_TIMEOUT, queue_size(site)).await;
    let (up, queue) = match queue {
        Ok(Ok(q)) => (1, Some(q)),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot read the queue size");
            (0, None)
        }
        Err(_) => (0, None),
    };
    family(
        &mut out,
        "postel_database_up",
        "gauge",
        "1 when the database answered this scrape.",
    );
    sample(&mut out, "postel_database_up", &[], up);
    if let Some((messages, by_status)) = queue {
        family(
            &mut out,
            "postel_queue_messages",
            "gauge",
            "Messages in the outbound queue.",
        );
        sample(&mut out, "postel_queue_messages", &[], messages);
        family(
            &mut out,
            "postel_queue_recipients",
            "gauge",
            "Recipients in the outbound queue, by status (queued, failed, delivered, bounced).",
        );
        for status in ["queued", "failed", "delivered", "bounced"] {
            let n = by_status
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            sample(
                &mut out,
                "postel_queue_recipients",
                &[("status", status)],
                n,
            );
        }
    }
    super::response(StatusCode::OK, METRICS_CONTENT_TYPE, out)
}

//! One worker: claims the due recipients of one domain, routes the
//! domain once, and delivers message after message over as few
//! connections as possible — each host in turn until every message has
//! an answer — recording each transaction's outcome at once.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::admin::MessageInfo;
use super::bounce::Notifier;
use super::client::{Client, SessionError, Spec, Timeouts, TlsPolicy};
use super::route::{self, Target};
use super::settle::{self, Touched};
use super::spool::Facts;
use super::store::{self, Claimed, Outcome, OutcomeKind};
use super::transaction::{self, Envelope, Stage, TxRcpt};
use super::{ms, now_ms};
use crate::config::RelayTls;
use crate::dns::Resolver;
use crate::server::Shutdown;

/// How long a claim lasts without renewal; renewed every quarter of it.
pub(crate) const LEASE: Duration = Duration::from_secs(300);

/// Most messages one worker claims at once (it sends them one after the
/// other, over one connection when it can). A domain with more due work
/// gets more workers, up to `queue.max_connections_per_domain`.
pub(crate) const CLAIM_MESSAGES: i64 = 10;

/// Rounds of re-sending recipients refused with 452 (too many
/// recipients) on the same connection.
const MAX_452_ROUNDS: usize = 20;

/// What every worker shares.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub notifier: Notifier,
    pub resolver: Resolver,
    /// Opportunistic TLS for MX hosts.
    pub mx_tls: Arc<rustls::ClientConfig>,
    /// TLS for the smarthost (verified unless `relay.tls_verify = false`).
    pub relay_tls: Result<Arc<rustls::ClientConfig>, String>,
}

/// A lease owner name: `<node>:<random>`.
pub(crate) fn owner(node: &str) -> String {
    format!("{node}:{:016x}", rand::random::<u64>())
}

/// Renews a worker's leases until dropped.
struct Renewal(tokio::task::JoinHandle<()>);

impl Renewal {
    fn start(db: crate::db::Db, owner: String) -> Renewal {
        Renewal(tokio::spawn(async move {
            let mut tick = tokio::time::interval(LEASE / 4);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = store::renew(&db, &owner, now_ms() + ms(LEASE)).await {
                    tracing::warn!(error = %e, "cannot renew queue leases");
                }
            }
        }))
    }
}

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One message's share of the work. The message itself stays in its
/// spool file until it is sent, in chunks: a worker holds no message
/// bodies, however many it claimed.
struct Batch {
    info: MessageInfo,
    facts: Facts,
    rows: Vec<Claimed>,
}

impl Ctx {
    fn spec(&self, target: &Target) -> Result<Spec, String> {
        let q = &self.notifier.queue;
        let relay = q.relay();
        let settings = q.settings();
        let (tls, auth) = if relay.host.is_some() {
            let config = self.relay_tls.clone()?;
            let tls = match relay.tls {
                RelayTls::Starttls => TlsPolicy::Required(config),
                RelayTls::Implicit => TlsPolicy::Implicit(config),
                RelayTls::None => TlsPolicy::Off,
            };
            let auth = relay.username.clone().zip(relay.password.clone());
            (tls, auth)
        } else {
            (TlsPolicy::Opportunistic(self.mx_tls.clone()), None)
        };
        Ok(Spec {
            host: target.host.clone(),
            addr: target.addr,
            helo: q.hostname().to_string(),
            tls,
            auth,
            timeouts: Timeouts {
                connect: settings.connect_timeout.get(),
                command: settings.command_timeout.get(),
                data: settings.data_timeout.get(),
            },
        })
    }
}

/// Claims and delivers the due recipients of `domain`.
pub(crate) async fn run(ctx: Arc<Ctx>, domain: String, shutdown: Shutdown) {
    let queue = &ctx.notifier.queue;
    let db = queue.db();
    let owner = owner(queue.hostname());
    let rows = match store::claim(db, &domain, &owner, now_ms() + ms(LEASE), CLAIM_MESSAGES).await {
        Ok(rows) if rows.is_empty() => return,
        Ok(rows) => rows,
        Err(e) => return tracing::error!(%domain, error = %e, "cannot claim queued mail"),
    };
    let _renewal = Renewal::start(db.clone(), owner.clone());
    let mut touched = BTreeMap::new();
    let batches = load(&ctx, &owner, rows, &mut touched).await;
    let resolved = route::resolve(&ctx.resolver, queue.relay(), queue.hostname(), &domain).await;
    match resolved {
        Err(outcome) => {
            tracing::info!(%domain, status = %outcome.status, error = %outcome.message, "no route");
            for b in batches {
                let results = b.rows.into_iter().map(|r| (r, outcome.clone())).collect();
                settle::record(queue, &owner, &b.info, results, &mut touched).await;
            }
        }
        Ok(targets) => {
            deliver(
                &ctx,
                &owner,
                &domain,
                targets,
                batches,
                &shutdown,
                &mut touched,
            )
            .await
        }
    }
    settle::after(&ctx.notifier, &owner, touched).await;
    if let Err(e) = store::release(db, &owner).await {
        tracing::warn!(error = %e, "cannot release queue leases");
    }
}

/// Groups claimed rows by message and scans each spool file for its
/// size and 8-bit content; a message whose file is gone fails (nothing
/// can be sent).
async fn load(
    ctx: &Ctx,
    owner: &str,
    rows: Vec<Claimed>,
    touched: &mut BTreeMap<String, Touched>,
) -> Vec<Batch> {
    let queue = &ctx.notifier.queue;
    let mut by_message: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
    for r in rows {
        by_message.entry(r.message_id.clone()).or_default().push(r);
    }
    let mut out = Vec::new();
    for (id, rows) in by_message {
        let info = match store::message(queue.db(), &id).await {
            Ok(Some(info)) => info,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(queue_id = %id, error = %e, "cannot read the envelope");
                continue;
            }
        };
        match queue.spool().facts(&id).await {
            Ok(facts) => out.push(Batch { info, facts, rows }),
            Err(e) => {
                tracing::error!(queue_id = %id, error = %e, "queue file unreadable");
                let o = Outcome {
                    kind: OutcomeKind::Failed,
                    status: "5.3.0".into(),
                    diagnostic: String::new(),
                    message: format!("the queued copy of the message was lost: {e}"),
                    remote: String::new(),
                };
                let results = rows.into_iter().map(|r| (r, o.clone())).collect();
                settle::record(queue, owner, &info, results, touched).await;
            }
        }
    }
    out
}

/// Tries each target until every batch got an answer.
async fn deliver(
    ctx: &Ctx,
    owner: &str,
    domain: &str,
    targets: Vec<Target>,
    batches: Vec<Batch>,
    shutdown: &Shutdown,
    touched: &mut BTreeMap<String, Touched>,
) {
    let mut pending: VecDeque<Batch> = batches.into();
    let mut last: Option<(SessionError, String)> = None;
    for target in targets {
        if pending.is_empty() || shutdown.is_triggered() {
            break;
        }
        let spec = match ctx.spec(&target) {
            Ok(spec) => spec,
            Err(e) => {
                last = Some((
                    SessionError {
                        reply: None,
                        message: e,
                    },
                    target.host.clone(),
                ));
                break;
            }
        };
        let started = Instant::now();
        let mut client = match Client::connect(&spec).await {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(%domain, mx = %target.host, ip = %target.addr.ip(), error = %e.message,
                    code = e.reply.as_ref().map_or(0, |r| r.code), messages = pending.len(),
                    duration_ms = started.elapsed().as_millis(), "delivery attempt failed");
                last = Some((e, target.host));
                continue;
            }
        };
        if let Some(tls) = client.tls() {
            tracing::debug!(mx = %target.host, version = %tls.version, cipher = %tls.cipher, "TLS");
        }
        let mut healthy = true;
        while let Some(mut batch) = pending.pop_front() {
            if shutdown.is_triggered() {
                pending.push_front(batch);
                break;
            }
            if let Err(e) = send_message(ctx, owner, domain, &mut client, &mut batch, touched).await
            {
                last = Some((e, target.host.clone()));
                pending.push_front(batch);
                healthy = false;
                break;
            }
        }
        if healthy {
            client.quit().await;
        }
    }
    if shutdown.is_triggered() {
        return;
    }
    let relayed = ctx.notifier.queue.relay().host.is_some();
    for batch in pending {
        let outcome = unreachable(last.as_ref(), relayed);
        let results = batch
            .rows
            .into_iter()
            .map(|r| (r, outcome.clone()))
            .collect();
        settle::record(&ctx.notifier.queue, owner, &batch.info, results, touched).await;
    }
}

/// The outcome for messages no host took: the last session error, which
/// is permanent only for a 5xx from an MX (a smarthost's 5xx, such as a
/// refused AUTH, is our configuration's fault, not the message's).
fn unreachable(last: Option<&(SessionError, String)>, relayed: bool) -> Outcome {
    let (e, host) = match last {
        Some((e, host)) => (e.clone(), host.clone()),
        None => (
            SessionError {
                reply: None,
                message: "no host could be tried".into(),
            },
            String::new(),
        ),
    };
    let permanent = e.is_permanent() && !relayed;
    let status = match &e.reply {
        Some(r) => r
            .status
            .map_or_else(|| format!("{}.0.0", r.code / 100), |s| s.to_string()),
        None => "4.4.1".into(),
    };
    Outcome {
        kind: if permanent {
            OutcomeKind::Failed
        } else {
            OutcomeKind::Deferred
        },
        status: if permanent || status.starts_with('4') {
            status
        } else {
            "4.4.1".into()
        },
        diagnostic: e
            .reply
            .as_ref()
            .map(super::client::one_line)
            .unwrap_or_default(),
        message: if host.is_empty() {
            e.message
        } else {
            format!("{host}: {}", e.message)
        },
        remote: host,
    }
}

/// Sends one message's recipients over `client`, in transactions of at
/// most `max_recipients_per_transaction`; recipients refused with 452
/// while others were accepted go again in the next transaction. Rows are
/// removed from the batch as their outcome is recorded.
///
/// # Errors
/// The connection failed; the rows still in the batch are untouched.
async fn send_message(
    ctx: &Ctx,
    owner: &str,
    domain: &str,
    client: &mut Client,
    batch: &mut Batch,
    touched: &mut BTreeMap<String, Touched>,
) -> Result<(), SessionError> {
    let queue = &ctx.notifier.queue;
    let max = queue.settings().max_recipients_per_transaction.max(1);
    let path = queue.spool().path(&batch.info.id);
    let mut rounds = 0;
    while !batch.rows.is_empty() {
        let n = batch.rows.len().min(max);
        let addresses: Vec<String> = batch.rows[..n]
            .iter()
            .map(|r| r.recipient.clone())
            .collect();
        let env = Envelope {
            sender: &batch.info.sender,
            smtputf8: batch.info.smtputf8,
            body: &path,
            facts: batch.facts,
        };
        let started = Instant::now();
        let sent = transaction::send(client, &env, &addresses).await;
        log_attempt(client, domain, &batch.info.id, n, started, &sent);
        let results = sent?;
        let delivered = results.iter().any(|r| matches!(r, TxRcpt::Delivered(_)));
        let chunk: Vec<Claimed> = batch.rows.drain(..n).collect();
        let mut record = Vec::new();
        for (row, r) in chunk.into_iter().zip(results) {
            let too_many = matches!(&r, TxRcpt::Refused(reply, Stage::Rcpt) if reply.code == 452);
            if too_many && delivered && rounds < MAX_452_ROUNDS {
                batch.rows.push(row);
            } else {
                record.push((row, r.outcome(client.host())));
            }
        }
        settle::record(queue, owner, &batch.info, record, touched).await;
        rounds += 1;
    }
    Ok(())
}

/// One event per transaction attempt: where, how protected, what came back.
fn log_attempt(
    client: &Client,
    domain: &str,
    id: &str,
    rcpts: usize,
    started: Instant,
    sent: &Result<Vec<TxRcpt>, SessionError>,
) {
    let tls = client.tls();
    let (version, cipher) = tls.map_or((String::from("none"), String::new()), |t| {
        (t.version, t.cipher)
    });
    let (code, delivered, error) = match sent {
        Ok(results) => {
            let code = results.iter().find_map(|r| match r {
                TxRcpt::Delivered(reply) | TxRcpt::Refused(reply, _) => Some(reply.code),
                TxRcpt::Local(..) => None,
            });
            let delivered = results
                .iter()
                .filter(|r| matches!(r, TxRcpt::Delivered(_)))
                .count();
            (code.unwrap_or(0), delivered, String::new())
        }
        Err(e) => (e.reply.as_ref().map_or(0, |r| r.code), 0, e.message.clone()),
    };
    tracing::info!(queue_id = %id, %domain, mx = %client.host(), ip = %client.addr().ip(),
        tls = %version, %cipher, code, rcpts, delivered, %error,
        duration_ms = started.elapsed().as_millis(), "delivery attempt");
}

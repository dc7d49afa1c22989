//! Listening sockets: bind every configured address, accept connections,
//! do the implicit-TLS handshake for the `*s` listeners, and hand each
//! connection to its protocol's session in a task of its own, with one
//! tracing span per connection.
//!
//! Holds no global state: the caller passes bound listeners, the handler
//! and a [`Shutdown`]; tests bind `127.0.0.1:0`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::Shutdown;
use crate::net::{Stream, Transport};

/// The services Postel listens for; names match the `[listen]` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Inbound MTA, port 25.
    Smtp,
    /// Submission with STARTTLS, port 587.
    Submission,
    /// Submission over implicit TLS, port 465.
    Submissions,
    /// IMAP with STARTTLS, port 143.
    Imap,
    /// IMAP over implicit TLS, port 993.
    Imaps,
    /// POP3 with STLS, port 110.
    Pop3,
    /// POP3 over implicit TLS, port 995.
    Pop3s,
}

impl Protocol {
    /// The `[listen]` key of this protocol.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Submission => "submission",
            Protocol::Submissions => "submissions",
            Protocol::Imap => "imap",
            Protocol::Imaps => "imaps",
            Protocol::Pop3 => "pop3",
            Protocol::Pop3s => "pop3s",
        }
    }

    /// Whether TLS starts with the first byte.
    pub fn implicit_tls(self) -> bool {
        matches!(
            self,
            Protocol::Submissions | Protocol::Imaps | Protocol::Pop3s
        )
    }
}

/// One accepted connection, TLS already up for implicit-TLS listeners.
#[derive(Debug)]
pub struct Conn {
    /// The stream.
    pub stream: Stream,
    /// The client.
    pub peer: SocketAddr,
    /// Our address the client connected to.
    pub local: SocketAddr,
    /// Which listener accepted it.
    pub protocol: Protocol,
    /// Process-unique connection number, for logs.
    pub id: u64,
}

/// What runs a session for an accepted connection.
pub type Handler =
    Arc<dyn Fn(Conn, Shutdown) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A bound listener and what it serves.
#[derive(Debug)]
pub struct Bound {
    /// The socket.
    pub listener: TcpListener,
    /// The protocol.
    pub protocol: Protocol,
}

/// Binds `addrs` for `protocol`.
///
/// # Errors
/// An address that cannot be bound, named in the error.
pub async fn bind(protocol: Protocol, addrs: &[SocketAddr]) -> std::io::Result<Vec<Bound>> {
    let mut out = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = bind_one(*addr).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {addr} (listen.{}): {e}", protocol.name()),
            )
        })?;
        out.push(Bound { listener, protocol });
    }
    Ok(out)
}

fn bind_one(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    if addr.is_ipv6() {
        // "[::]:25" beside "0.0.0.0:25" must not be dual-stack, or the
        // second bind fails with "address in use".
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}

/// Limits that apply to every listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most concurrent connections per listener.
    pub max_connections: usize,
    /// Deadline for an implicit-TLS handshake.
    pub tls_handshake: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            tls_handshake: Duration::from_secs(30),
        }
    }
}

static CONN_IDS: AtomicU64 = AtomicU64::new(1);

/// Accepts on `bound` until shutdown, running `handler` per connection in
/// tasks tracked by `tracker` (so shutdown can wait for them).
pub fn spawn(
    bound: Bound,
    tls: Arc<rustls::ServerConfig>,
    handler: Handler,
    limits: Limits,
    tracker: TaskTracker,
    shutdown: Shutdown,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let t = tracker.clone();
    tracker.spawn(async move {
        let mut stop = shutdown.clone();
        loop {
            let accepted = tokio::select! {
                _ = stop.wait() => break,
                r = bound.listener.accept() => r,
            };
            let (tcp, peer) = match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(listener = bound.protocol.name(), error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(%peer, listener = bound.protocol.name(), "connection limit reached");
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let local = tcp.local_addr().unwrap_or(peer);
            let id = CONN_IDS.fetch_add(1, Ordering::Relaxed);
            let protocol = bound.protocol;
            let span = tracing::info_span!("conn", id, %peer, listener = protocol.name());
            let (handler, tls, shutdown) = (handler.clone(), tls.clone(), shutdown.clone());
            t.spawn(
                async move {
                    let _permit = permit;
                    let mut stream = Stream::Plain(tcp);
                    if protocol.implicit_tls() {
                        let hs = tokio::time::timeout(limits.tls_handshake, stream.start_tls(tls));
                        stream = match hs.await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::info!(error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::info!("TLS handshake timed out");
                                return;
                            }
                        };
                    }
                    let conn = Conn {
                        stream,
                        peer,
                        local,
                        protocol,
                        id,
                    };
                    handler(conn, shutdown).await;
                }
                .instrument(span),
            );
        }
    });
}

//! Connections as sessions see them: a plain or TLS stream that can be
//! upgraded in place (STARTTLS / STLS), reads bounded by an idle timeout,
//! and facts about the TLS layer for logs and `Received:` headers.
//!
//! Must not: know any protocol. Sessions are generic over [`Transport`],
//! so they can be driven by a real socket or, in tests, an in-memory pipe.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// What was negotiated on a TLS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    /// IANA cipher suite name, e.g. "TLS13_AES_256_GCM_SHA384".
    pub cipher: String,
    /// The SNI name the client asked for, if any.
    pub sni: Option<String>,
}

/// A byte stream a session runs over, which may be upgraded to TLS.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + Sized + 'static {
    /// Performs a server-side TLS handshake over this stream.
    fn start_tls(
        self,
        config: Arc<rustls::ServerConfig>,
    ) -> impl std::future::Future<Output = io::Result<Self>> + Send;

    /// TLS parameters when TLS is active.
    fn tls_info(&self) -> Option<TlsInfo>;
}

/// A TCP connection, before or after its TLS handshake.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// The peer's address.
    ///
    /// # Errors
    /// The socket is no longer connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Stream::Plain(s) => s.peer_addr(),
            Stream::Tls(s) => s.get_ref().0.peer_addr(),
        }
    }

    /// The local address the client connected to.
    ///
    /// # Errors
    /// The socket is no longer connected.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Stream::Plain(s) => s.local_addr(),
            Stream::Tls(s) => s.get_ref().0.local_addr(),
        }
    }
}

impl Transport for Stream {
    async fn start_tls(self, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        match self {
            Stream::Plain(tcp) => {
                let tls = TlsAcceptor::from(config).accept(tcp).await;
                crate::metrics::tls_handshake(tls.is_ok());
                Ok(Stream::Tls(Box::new(tls?)))
            }
            Stream::Tls(_) => Err(io::Error::other("TLS is already active")),
        }
    }

    fn tls_info(&self) -> Option<TlsInfo> {
        let Stream::Tls(s) = self else { return None };
        let conn = s.get_ref().1;
        Some(TlsInfo {
            version: conn
                .protocol_version()
                .map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default(),
            cipher: conn
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default(),
            sni: conn.server_name().map(str::to_string),
        })
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How a bounded read ended without data.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadEnd {
    /// The peer closed the connection.
    Closed,
    /// Nothing arrived within the idle timeout.
    TimedOut,
}

/// Reads what is available into `buf` (appending up to `max` bytes),
/// waiting at most `idle` for the first byte.
///
/// # Errors
/// I/O errors of the stream.
pub async fn read_some<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    max: usize,
    idle: Duration,
) -> io::Result<Result<usize, ReadEnd>> {
    let want = max.clamp(1, 64 * 1024);
    buf.reserve(want);
    let mut limited = (&mut *stream).take(want as u64);
    match tokio::time::timeout(idle, limited.read_buf(buf)).await {
        Err(_) => Ok(Err(ReadEnd::TimedOut)),
        Ok(Ok(0)) => Ok(Err(ReadEnd::Closed)),
        Ok(Ok(n)) => Ok(Ok(n)),
        Ok(Err(e)) => Err(e),
    }
}

impl Transport for tokio::io::DuplexStream {
    async fn start_tls(self, _config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        Err(io::Error::other(
            "TLS is not available on an in-memory pipe",
        ))
    }

    fn tls_info(&self) -> Option<TlsInfo> {
        None
    }
}

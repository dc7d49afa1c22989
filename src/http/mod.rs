//! The HTTP listener (`listen.http`, `listen.https`): client
//! autoconfiguration, the MTA-STS policy, health and metrics.
//!
//! Owns: serving HTTP/1.1 with hyper over connections the shared
//! listener accepted (TLS already up on `https`), request limits (header
//! size and time, body size and time, idle keep-alive), routing, and the
//! facts every page shares ([`Site`]: host name, advertised ports, local
//! domains). Each page lives in its own file: [`autoconfig`]
//! (Thunderbird), [`autodiscover`] (Outlook), [`mobileconfig`] (Apple),
//! [`mta_sts`] (RFC 8461) and [`status`] (`/healthz`, `/metrics`).
//!
//! Must not: authenticate anyone. Nothing here is secret: the pages tell
//! which servers and ports to use, never whether an account exists.

pub mod autoconfig;
pub mod autodiscover;
pub mod mobileconfig;
pub mod mta_sts;
pub mod status;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use crate::server::listener::{Conn, Handler};
use crate::server::{BoundAddrs, Services, Shutdown};

/// Longest time to receive a request's headers, and the longest a
/// keep-alive connection may sit idle before its next request.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time to receive a request body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body (an autodiscover request is a few hundred bytes).
pub const MAX_BODY: usize = 64 * 1024;
/// Largest read buffer, which bounds the request head.
pub const MAX_HEAD: usize = 16 * 1024;
/// How long a connection may finish its request once shutdown began.
const DRAIN: Duration = Duration::from_secs(5);

/// The response body type.
pub type Body = Full<Bytes>;

/// Where clients should connect, per service: the port of the first
/// address bound for it (the configured port, or the one the system
/// picked for port 0), `None` when the service is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ports {
    /// IMAP with STARTTLS.
    pub imap: Option<u16>,
    /// IMAP over TLS.
    pub imaps: Option<u16>,
    /// POP3 with STLS.
    pub pop3: Option<u16>,
    /// POP3 over TLS.
    pub pop3s: Option<u16>,
    /// Submission with STARTTLS.
    pub submission: Option<u16>,
    /// Submission over TLS.
    pub submissions: Option<u16>,
}

impl Ports {
    /// The ports of the listeners that were bound.
    pub fn from_bound(b: &BoundAddrs) -> Ports {
        let first = |v: &[std::net::SocketAddr]| v.first().map(std::net::SocketAddr::port);
        Ports {
            imap: first(&b.imap),
            imaps: first(&b.imaps),
            pop3: first(&b.pop3),
            pop3s: first(&b.pop3s),
            submission: first(&b.submission),
            submissions: first(&b.submissions),
        }
    }
}

/// How a client reaches one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The port.
    pub port: u16,
    /// TLS from the first byte (`true`) or STARTTLS (`false`).
    pub implicit_tls: bool,
}

impl Endpoint {
    /// Both endpoints of a service that are on, implicit TLS first
    /// (RFC 8314 §3 prefers it).
    fn pair(tls: Option<u16>, starttls: Option<u16>) -> Vec<Endpoint> {
        let a = tls.map(|port| Endpoint {
            port,
            implicit_tls: true,
        });
        let b = starttls.map(|port| Endpoint {
            port,
            implicit_tls: false,
        });
        a.into_iter().chain(b).collect()
    }
}

/// What every page needs: the server's facts.
#[derive(Clone)]
pub struct Site {
    services: Services,
    ports: Ports,
}

/// The account a request is about: its address when the client named
/// one, its domain, and every local domain (the requested one first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `local@domain` as the client gave it, when it did.
    pub address: Option<String>,
    /// The domain, lowercase.
    pub domain: String,
    /// Every local domain, `domain` first.
    pub domains: Vec<String>,
}

impl Site {
    /// A site for `services`, advertising `ports`.
    pub fn new(services: Services, ports: Ports) -> Site {
        Site { services, ports }
    }

    /// The host name clients connect to.
    pub fn hostname(&self) -> &str {
        &self.services.config.server.hostname
    }

    /// The shared services.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// IMAP endpoints, implicit TLS first.
    pub fn imap(&self) -> Vec<Endpoint> {
        Endpoint::pair(self.ports.imaps, self.ports.imap)
    }

    /// POP3 endpoints, implicit TLS first.
    pub fn pop3(&self) -> Vec<Endpoint> {
        Endpoint::pair(self.ports.pop3s, self.ports.pop3)
    }

    /// Submission endpoints, implicit TLS first.
    pub fn submission(&self) -> Vec<Endpoint> {
        Endpoint::pair(self.ports.submissions, self.ports.submission)
    }

    /// Which account a request is about: the domain of `address` when
    /// given, else the domain the `host` name stands for
    /// (`autoconfig.example.com` → `example.com`), else the first local
    /// domain. `Ok(None)` when that domain is not local (or there is none).
    ///
    /// # Errors
    /// The directory could not be read.
    pub async fn target(
        &self,
        address: Option<&str>,
        host: Option<&str>,
    ) -> Result<Option<Target>, crate::directory::DirectoryError> {
        let mut domains: Vec<String> = self
            .services
            .directory
            .list_domains()
            .await?
            .into_iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        let wanted = match address {
            Some(a) => match domain_of_address(a) {
                Some(d) => d,
                None => return Ok(None),
            },
            None => match host.and_then(|h| domain_of_host(h, &domains)) {
                Some(d) => d,
                None => match domains.first() {
                    Some(d) => d.clone(),
                    None => return Ok(None),
                },
            },
        };
        let Some(i) = domains.iter().position(|d| *d == wanted) else {
            return Ok(None);
        };
        let domain = domains.remove(i);
        domains.insert(0, domain.clone());
        Ok(Some(Target {
            address: address.map(str::to_string),
            domain,
            domains,
        }))
    }
}

/// The lowercase domain of `local@domain`, if it looks like an address.
pub fn domain_of_address(a: &str) -> Option<String> {
    if a.len() > 254 || a.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let (local, domain) = a.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some(domain.to_ascii_lowercase())
}

/// The local domain a `Host:` value names: itself, or itself without an
/// `autoconfig.`, `autodiscover.` or `mta-sts.` label.
fn domain_of_host(host: &str, domains: &[String]) -> Option<String> {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let bare = ["autoconfig.", "autodiscover.", "mta-sts."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(&name);
    [bare, name.as_str()]
        .into_iter()
        .find(|d| domains.iter().any(|x| x == d))
        .map(str::to_string)
}

/// Escapes text for XML element content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The value of query parameter `name` (case-insensitive name),
/// percent-decoded, `+` as space.
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        k.eq_ignore_ascii_case(name).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` and `+`; invalid escapes stay as written, invalid
/// UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A response with `status`, `content_type` and `body`.
pub fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A short plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    response(status, "text/plain; charset=utf-8", body)
}

/// `404 Not Found`.
pub fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

/// `503` after a directory or database error, which is logged.
pub fn unavailable(e: &dyn std::fmt::Display) -> Response<Body> {
    tracing::warn!(error = %e, "http: backend unavailable");
    text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable\n")
}

/// The `Host:` header, when it is text.
pub fn host(req: &Request<Incoming>) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
}

/// What the router found for a path.
enum Route {
    Autoconfig,
    Autodiscover,
    Mobileconfig,
    MtaSts,
    Health,
    Metrics,
}

fn route(path: &str) -> Option<Route> {
    Some(match path {
        "/mail/config-v1.1.xml" | "/.well-known/autoconfig/mail/config-v1.1.xml" => {
            Route::Autoconfig
        }
        p if p.eq_ignore_ascii_case("/autodiscover/autodiscover.xml") => Route::Autodiscover,
        "/apple/mobileconfig" | "/.well-known/apple/mobileconfig" => Route::Mobileconfig,
        "/.well-known/mta-sts.txt" => Route::MtaSts,
        "/healthz" => Route::Health,
        "/metrics" => Route::Metrics,
        _ => return None,
    })
}

/// Answers one request.
async fn serve(site: Arc<Site>, req: Request<Incoming>) -> Response<Body> {
    let Some(found) = route(req.uri().path()) else {
        return not_found();
    };
    let method = req.method().clone();
    let read_only = method == Method::GET || method == Method::HEAD;
    match found {
        Route::Autodiscover if method == Method::POST => {
            let host = host(&req).map(str::to_string);
            match read_body(req).await {
                Ok(body) => autodiscover::post(&site, &body, host.as_deref()).await,
                Err(r) => r,
            }
        }
        _ if !read_only => {
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            let allow = match found {
                Route::Autodiscover => "GET, HEAD, POST",
                _ => "GET, HEAD",
            };
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
            r
        }
        Route::Autoconfig => autoconfig::get(&site, &req).await,
        Route::Autodiscover => autodiscover::get(&site, &req).await,
        Route::Mobileconfig => mobileconfig::get(&site, &req).await,
        Route::MtaSts => mta_sts::get(&site),
        Route::Health => status::health(&site).await,
        Route::Metrics => status::metrics(&site).await,
    }
}

/// The request body, at most [`MAX_BODY`] octets within [`BODY_TIMEOUT`];
/// otherwise the error response.
async fn read_body(req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    let too_large = || text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let collect = Limited::new(req.into_body(), MAX_BODY).collect();
    match tokio::time::timeout(BODY_TIMEOUT, collect).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(text(StatusCode::BAD_REQUEST, "bad request body\n")),
        Err(_) => Err(text(
            StatusCode::REQUEST_TIMEOUT,
            "request body timed out\n",
        )),
    }
}

/// The session handler for the `http` and `https` listeners, advertising
/// `ports`.
pub fn handler(services: Services, ports: Ports) -> Handler {
    let site = Arc::new(Site::new(services, ports));
    Arc::new(move |conn, shutdown| Box::pin(run(site.clone(), conn, shutdown)))
}

/// Serves one connection until the client leaves, a limit ends it, or
/// shutdown (then the request in progress may finish within [`DRAIN`]).
async fn run(site: Arc<Site>, conn: Conn, mut shutdown: Shutdown) {
    let service = hyper::service::service_fn(move |req| {
        let site = site.clone();
        async move { Ok::<_, Infallible>(serve(site, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(conn.stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        r = connection.as_mut() => r,
        () = shutdown.wait() => {
            connection.as_mut().graceful_shutdown();
            match tokio::time::timeout(DRAIN, connection.as_mut()).await {
                Ok(r) => r,
                Err(_) => return,
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "http connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_keys_parse_and_clash_like_the_others() {
        let p = std::path::Path::new("/etc/postel/h.toml");
        let text = "[listen]\nhttp = [\"127.0.0.1:8080\"]\nhttps = [\"[::1]:8443\"]\n";
        let c = crate::config::load::parse(p, text).expect("valid");
        assert_eq!(c.listen.http, ["127.0.0.1:8080".parse().expect("addr")]);
        assert_eq!(c.listen.https, ["[::1]:8443".parse().expect("addr")]);
        let d = crate::config::load::parse(p, "").expect("valid");
        assert!(d.listen.http.is_empty() && d.listen.https.is_empty());
        let text = "[listen]\nhttp = [\"nope\"]\nhttps = [\"127.0.0.1:25\"]\n";
        let e = crate::config::load::parse(p, text).expect_err("invalid");
        let t = e.to_string();
        assert!(t.contains("h.toml:2: listen.http:"), "{t}");
        assert!(
            t.contains("h.toml:3: listen.https:") && t.contains("listen.smtp"),
            "{t}"
        );
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(
            xml_escape("a<b>&\"c\"'d'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
    }

    #[test]
    fn query_parameters_decode() {
        let q = Some("x=1&EmailAddress=al%2Bice%40Example.com&y");
        assert_eq!(
            query_param(q, "emailaddress").as_deref(),
            Some("al+ice@Example.com")
        );
        assert_eq!(query_param(q, "y").as_deref(), Some(""));
        assert_eq!(query_param(q, "z"), None);
        assert_eq!(percent_decode("a+b%zz%4"), "a b%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn host_names_map_to_domains() {
        let d = vec!["example.com".to_string(), "other.org".to_string()];
        assert_eq!(
            domain_of_host("autoconfig.Example.com:8080", &d).as_deref(),
            Some("example.com")
        );
        assert_eq!(
            domain_of_host("mta-sts.other.org", &d).as_deref(),
            Some("other.org")
        );
        assert_eq!(
            domain_of_host("other.org.", &d).as_deref(),
            Some("other.org")
        );
        assert_eq!(domain_of_host("autoconfig.nope.net", &d), None);
        assert_eq!(domain_of_address("a@B.org").as_deref(), Some("b.org"));
        assert_eq!(domain_of_address("a b@c"), None);
        assert_eq!(domain_of_address("@c"), None);
    }
}

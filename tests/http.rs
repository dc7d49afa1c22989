//! The HTTP listener end to end: curl fetches every page over HTTP and
//! HTTPS, Python checks the documents the way clients read them
//! (xml.etree for Thunderbird's autoconfig and Outlook's autodiscover,
//! plistlib for Apple's profile), the MTA-STS policy's format, health,
//! and that the Prometheus counters move after an SMTP delivery, a failed
//! IMAP login and TLS handshakes. Also the request limits.

mod common;
#[path = "common/sink.rs"]
mod sink;

use std::time::Duration;

use common::server::{TestServer, builder};
use common::smtp_client::Client;
use postel::http::{Ports, Site, Target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A fetched page.
#[derive(Debug)]
struct Page {
    status: u16,
    content_type: String,
    body: String,
}

/// Whether curl is installed; prints why a test is skipped otherwise.
fn have_curl() -> bool {
    let ok = std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::skip("curl is not installed");
    }
    ok
}

/// Fetches `url` with curl (`-k`: the test certificate is self-signed).
async fn curl(method: &str, url: &str, headers: &[&str], body: Option<&str>) -> Page {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-sS", "-k", "--max-time", "20"]);
    if method == "HEAD" {
        cmd.arg("-I");
    } else {
        cmd.args(["-X", method]);
    }
    cmd.args(["-o", "-", "-w", "\n%{http_code}\n%{content_type}"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(b) = body {
        cmd.args(["--data-binary", b]);
    }
    cmd.arg(url);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("curl runs"))
        .await
        .expect("join");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 page");
    let mut parts = text.rsplitn(3, '\n');
    let content_type = parts.next().unwrap_or_default().to_string();
    let status = parts.next().unwrap_or_default().parse().expect("status");
    let body = parts.next().unwrap_or_default().to_string();
    Page {
        status,
        content_type,
        body,
    }
}

async fn get(url: &str) -> Page {
    curl("GET", url, &[], None).await
}

/// Runs a Python check that reads the document from argv[1] and the
/// expectations (JSON) from argv[2]; panics with its output on failure.
async fn check(script: &str, document: &str, expected: serde_json_lite::Value) {
    let (ok, out) = common::python(
        format!("import sys, json\ndoc = sys.argv[1]\nexp = json.loads(sys.argv[2])\n{script}"),
        vec![document.to_string(), expected.0],
    )
    .await;
    assert!(ok, "python check failed:\n{out}\ndocument:\n{document}");
}

/// Just enough JSON building for the expectations.
mod serde_json_lite {
    /// A JSON text.
    pub struct Value(pub String);

    /// A JSON string.
    pub fn s(v: &str) -> String {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }

    /// A JSON object from already encoded values.
    pub fn obj(fields: &[(&str, String)]) -> Value {
        let inner: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}: {v}", s(k)))
            .collect();
        Value(format!("{{{}}}", inner.join(", ")))
    }
}
use serde_json_lite::{obj, s};

async fn server() -> TestServer {
    let srv = builder()
        .http()
        .config("[imap]\nallow_plaintext_auth_on_loopback = true\n")
        .start()
        .await;
    srv.with_users("example.com", &["alice"]).await;
    srv.with_users("other.org", &["bob"]).await;
    srv
}

fn base(s: &TestServer) -> String {
    format!("http://{}", s.http.expect("http listener"))
}

fn tls_base(s: &TestServer) -> String {
    format!("https://{}", s.https.expect("https listener"))
}

/// The ports the server listens on, as JSON.
fn ports(s: &TestServer) -> String {
    format!(
        "{{\"imaps\": {}, \"imap\": {}, \"pop3s\": {}, \"pop3\": {}, \"submissions\": {}, \"submission\": {}}}",
        s.imaps.port(),
        s.imap.port(),
        s.pop3s.port(),
        s.pop3.port(),
        s.submissions.port(),
        s.submission.port()
    )
}

/// Thunderbird's reading of clientConfig 1.1 (see Mozilla's
/// `readFromXML.js`): every incomingServer/outgoingServer with hostname,
/// port, socketType, username, authentication.
const THUNDERBIRD: &str = r#"
import xml.etree.ElementTree as ET
root = ET.fromstring(doc)
assert root.tag == "clientConfig" and root.get("version") == "1.1", root.attrib
provs = root.findall("emailProvider")
assert len(provs) == 1
p = provs[0]
assert p.get("id") == exp["domain"], p.get("id")
assert [d.text for d in p.findall("domain")] == exp["domains"], [d.text for d in p.findall("domain")]
assert p.findtext("displayName"), "displayName"
def servers(tag):
    out = []
    for s in p.findall(tag):
        assert s.findtext("hostname") == exp["host"], s.findtext("hostname")
        assert s.findtext("username") == "%EMAILADDRESS%"
        assert s.findtext("authentication") == "password-cleartext"
        out.append((s.get("type"), int(s.findtext("port")), s.findtext("socketType")))
    return out
P = exp["ports"]
want_in = []
if P.get("imaps"): want_in.append(("imap", P["imaps"], "SSL"))
if P.get("imap"): want_in.append(("imap", P["imap"], "STARTTLS"))
if P.get("pop3s"): want_in.append(("pop3", P["pop3s"], "SSL"))
if P.get("pop3"): want_in.append(("pop3", P["pop3"], "STARTTLS"))
want_out = []
if P.get("submissions"): want_out.append(("smtp", P["submissions"], "SSL"))
if P.get("submission"): want_out.append(("smtp", P["submission"], "STARTTLS"))
got_in, got_out = servers("incomingServer"), servers("outgoingServer")
assert got_in == want_in, (got_in, want_in)
assert got_out == want_out, (got_out, want_out)
print("ok")
"#;

#[tokio::test]
async fn thunderbird_autoconfig() {
    if !have_curl() {
        return;
    }
    let srv = server().await;
    let expected = |domain: &str, domains: &[&str]| {
        let list: Vec<String> = domains.iter().map(|d| s(d)).collect();
        obj(&[
            ("domain", s(domain)),
            ("domains", format!("[{}]", list.join(", "))),
            ("host", s("mail.test")),
            ("ports", ports(&srv)),
        ])
    };
    // As Thunderbird asks autoconfig.<domain>, with the address.
    let url = format!(
        "{}/mail/config-v1.1.xml?emailaddress=bob%40Other.org",
        base(&srv)
    );
    let page = get(&url).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.content_type.contains("xml"), "{page:?}");
    check(
        THUNDERBIRD,
        &page.body,
        expected("other.org", &["other.org", "example.com"]),
    )
    .await;
    // The well-known path on the domain itself, over HTTPS, domain from Host.
    let url = format!(
        "{}/.well-known/autoconfig/mail/config-v1.1.xml",
        tls_base(&srv)
    );
    let page = curl("GET", &url, &["Host: autoconfig.example.com"], None).await;
    assert_eq!(page.status, 200, "{page:?}");
    check(
        THUNDERBIRD,
        &page.body,
        expected("example.com", &["example.com", "other.org"]),
    )
    .await;
    // A domain that is not ours.
    let url = format!(
        "{}/mail/config-v1.1.xml?emailaddress=eve@elsewhere.net",
        base(&srv)
    );
    assert_eq!(get(&url).await.status, 404);

    // Only enabled services are offered: without POP3 and STARTTLS IMAP.
    let ports = Ports {
        imaps: Some(993),
        submissions: Some(465),
        submission: Some(587),
        ..Ports::default()
    };
    let site = Site::new(srv.services.clone(), ports);
    let target = Target {
        address: None,
        domain: "example.com".into(),
        domains: vec!["example.com".into()],
    };
    let doc = postel::http::autoconfig::document(&site, &target);
    let exp = obj(&[
        ("domain", s("example.com")),
        ("domains", "[\"example.com\"]".into()),
        ("host", s("mail.test")),
        (
            "ports",
            "{\"imaps\": 993, \"submissions\": 465, \"submission\": 587}".into(),
        ),
    ]);
    check(THUNDERBIRD, &doc, exp).await;
    srv.stop().await;
}

/// Outlook's reading of the POX response (MS-OXDSCLI): the Outlook
/// 2006a response schema, one Account with Protocol entries.
const OUTLOOK: &str = r#"
import xml.etree.ElementTree as ET
R = "{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}"
O = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
root = ET.fromstring(doc)
assert root.tag == R + "Autodiscover", root.tag
resp = root.find(O + "Response")
assert resp is not None, "no Outlook Response"
acct = resp.find(O + "Account")
assert acct.findtext(O + "AccountType") == "email"
assert acct.findtext(O + "Action") == "settings"
got = {}
for p in acct.findall(O + "Protocol"):
    t = p.findtext(O + "Type")
    assert t not in got, "one Protocol per Type"
    assert p.findtext(O + "Server") == exp["host"]
    assert p.findtext(O + "LoginName") == exp["login"], p.findtext(O + "LoginName")
    assert p.findtext(O + "SPA") == "off"
    assert p.findtext(O + "SSL") == "on"
    assert p.findtext(O + "AuthRequired") == "on"
    assert p.findtext(O + "DomainRequired") == "off"
    got[t] = (int(p.findtext(O + "Port")), p.findtext(O + "Encryption"))
P = exp["ports"]
want = {"IMAP": (P["imaps"], "SSL"), "POP3": (P["pop3s"], "SSL"), "SMTP": (P["submissions"], "SSL")}
assert got == want, (got, want)
print("ok")
"#;

const OUTLOOK_ERROR: &str = r#"
import xml.etree.ElementTree as ET
R = "{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}"
root = ET.fromstring(doc)
assert root.tag == R + "Autodiscover", root.tag
code = root.find(R + "Response/" + R + "Error/" + R + "ErrorCode").text
assert code == exp["code"], code
print("ok")
"#;

fn outlook_request(address: &str, schema: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\n\
         <Request>\n<EMailAddress>{address}</EMailAddress>\n\
         <AcceptableResponseSchema>{schema}</AcceptableResponseSchema>\n\
         </Request>\n</Autodiscover>\n"
    )
}

const SCHEMA_2006A: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

#[tokio::test]
async fn outlook_autodiscover() {
    if !have_curl() {
        return;
    }
    let srv = server().await;
    let exp = |login: &str| {
        obj(&[
            ("host", s("mail.test")),
            ("login", s(login)),
            ("ports", ports(&srv)),
        ])
    };
    let xml_header = ["Content-Type: text/xml"];
    // Outlook POSTs to https://autodiscover.<domain>/autodiscover/autodiscover.xml.
    let url = format!("{}/Autodiscover/Autodiscover.xml", tls_base(&srv));
    let req = outlook_request("alice@example.com", SCHEMA_2006A);
    let page = curl("POST", &url, &xml_header, Some(&req)).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.content_type.contains("xml"), "{page:?}");
    check(OUTLOOK, &page.body, exp("alice@example.com")).await;
    // Plain HTTP and GET with the address in the query.
    let url = format!(
        "{}/autodiscover/autodiscover.xml?emailaddress=bob@other.org",
        base(&srv)
    );
    check(OUTLOOK, &get(&url).await.body, exp("bob@other.org")).await;
    // An address with XML specials is escaped, not injected.
    let url = format!("{}/autodiscover/autodiscover.xml", base(&srv));
    let tricky = "a&amp;b&lt;c@example.com";
    let page = curl(
        "POST",
        &url,
        &xml_header,
        Some(&outlook_request(tricky, SCHEMA_2006A)),
    )
    .await;
    check(OUTLOOK, &page.body, exp("a&b<c@example.com")).await;
    // No address, another schema, a foreign domain.
    let page = curl("POST", &url, &xml_header, Some("<Autodiscover/>")).await;
    check(OUTLOOK_ERROR, &page.body, obj(&[("code", s("600"))])).await;
    let mobile =
        "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
    let req = outlook_request("alice@example.com", mobile);
    let page = curl("POST", &url, &xml_header, Some(&req)).await;
    check(OUTLOOK_ERROR, &page.body, obj(&[("code", s("601"))])).await;
    let req = outlook_request("eve@elsewhere.net", SCHEMA_2006A);
    let page = curl("POST", &url, &xml_header, Some(&req)).await;
    assert_eq!(page.status, 404, "{page:?}");
    srv.stop().await;
}

const APPLE: &str = r#"
import plistlib
pl = plistlib.loads(doc.encode())
assert pl["PayloadType"] == "Configuration"
assert pl["PayloadVersion"] == 1
assert len(pl["PayloadUUID"]) == 36
(m,) = pl["PayloadContent"]
assert m["PayloadType"] == "com.apple.mail.managed", m["PayloadType"]
assert m["EmailAccountType"] == "EmailTypeIMAP"
assert m["EmailAddress"] == exp["address"]
assert m["IncomingMailServerHostName"] == exp["host"]
assert m["IncomingMailServerPortNumber"] == exp["imaps"]
assert m["IncomingMailServerUseSSL"] is True
assert m["IncomingMailServerUsername"] == exp["address"]
assert m["IncomingMailServerAuthentication"] == "EmailAuthPassword"
assert m["OutgoingMailServerHostName"] == exp["host"]
assert m["OutgoingMailServerPortNumber"] == exp["submissions"]
assert m["OutgoingMailServerUseSSL"] is True
assert m["OutgoingMailServerUsername"] == exp["address"]
assert m["OutgoingPasswordSameAsIncomingPassword"] is True
assert m["PayloadUUID"] != pl["PayloadUUID"]
print("ok")
"#;

#[tokio::test]
async fn apple_mobileconfig() {
    if !have_curl() {
        return;
    }
    let srv = server().await;
    let url = format!(
        "{}/apple/mobileconfig?emailaddress=alice@example.com",
        tls_base(&srv)
    );
    let page = get(&url).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.content_type, "application/x-apple-aspen-config");
    let exp = obj(&[
        ("address", s("alice@example.com")),
        ("host", s("mail.test")),
        ("imaps", srv.imaps.port().to_string()),
        ("submissions", srv.submissions.port().to_string()),
    ]);
    check(APPLE, &page.body, exp).await;
    // The same profile twice (same UUIDs: a download replaces, not adds).
    assert_eq!(get(&url).await.body, page.body);
    let none = format!("{}/apple/mobileconfig", base(&srv));
    assert_eq!(get(&none).await.status, 400);
    let foreign = format!("{none}?emailaddress=eve@elsewhere.net");
    assert_eq!(get(&foreign).await.status, 404);
    srv.stop().await;
}

#[tokio::test]
async fn mta_sts_policy() {
    if !have_curl() {
        return;
    }
    let srv = builder()
        .http()
        .config("[mta_sts]\nmode = \"enforce\"\nmax_age = \"1d\"\nmx = [\"mail.test\", \"*.backup.test\"]\n")
        .start()
        .await;
    let url = format!("{}/.well-known/mta-sts.txt", tls_base(&srv));
    let page = curl("GET", &url, &["Host: mta-sts.example.com"], None).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.content_type.starts_with("text/plain"), "{page:?}");
    // RFC 8461 §3.2: key/value lines, CRLF (or LF) separated.
    let lines: Vec<&str> = page.body.split_terminator("\r\n").collect();
    assert_eq!(
        lines,
        [
            "version: STSv1",
            "mode: enforce",
            "mx: mail.test",
            "mx: *.backup.test",
            "max_age: 86400"
        ],
        "{page:?}"
    );
    let id = postel::http::mta_sts::policy_id(&srv.services.config);
    assert!(
        !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );
    srv.stop().await;

    let srv = builder()
        .http()
        .config("[mta_sts]\nenabled = false\n")
        .start()
        .await;
    let url = format!("{}/.well-known/mta-sts.txt", base(&srv));
    assert_eq!(get(&url).await.status, 404);
    srv.stop().await;
}

/// The value of the sample `series` (name with labels) in `text`.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .expect("number")
}

#[tokio::test]
async fn health_and_metrics_move() {
    if !have_curl() {
        return;
    }
    let srv = server().await;
    let health = get(&format!("{}/healthz", base(&srv))).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let metrics_url = format!("{}/metrics", base(&srv));
    let before = get(&metrics_url).await;
    assert_eq!(before.status, 200);
    assert!(
        before.content_type.starts_with("text/plain; version=0.0.4"),
        "{before:?}"
    );
    let b = before.body.as_str();
    // Every sample line is `name{labels} value` of a declared family.
    for line in b.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        assert!(name.starts_with("postel_"), "{line}");
        let family = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            b.contains(&format!("# TYPE {name} ")) || b.contains(&format!("# TYPE {family} ")),
            "{line}"
        );
    }
    assert_eq!(metric(b, "postel_database_up"), 1.0);
    assert_eq!(metric(b, "postel_queue_messages"), 0.0);

    // An SMTP delivery, a failed IMAP login, TLS handshakes.
    let (mut c, greeting) = Client::connect(srv.smtp).await;
    assert_eq!(greeting.code, 220);
    c.expect("EHLO client.test", 250).await;
    let r = c
        .send_mail(
            "someone@remote.test",
            &["alice@example.com"],
            "Subject: hi\r\nFrom: someone@remote.test\r\n\r\nhello\r\n",
        )
        .await;
    assert_eq!(r.code, 250, "{r:?}");
    c.expect("QUIT", 221).await;
    let (ok, out) = common::python(
        r#"
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
c = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx, timeout=20)
try:
    c.login("alice@example.com", "wrong")
    raise SystemExit("bad password accepted")
except imaplib.IMAP4.error:
    pass
c.logout()
print("ok")
"#,
        vec![srv.imaps.port().to_string()],
    )
    .await;
    assert!(ok, "{out}");
    let after = get(&metrics_url).await.body;
    let a = after.as_str();
    let moved = |series: &str| metric(a, series) - metric(b, series);
    assert!(
        moved("postel_messages_total{result=\"accepted\"}") >= 1.0,
        "{a}"
    );
    assert!(moved("postel_local_deliveries_total") >= 1.0, "{a}");
    let local = "postel_delivery_duration_seconds_count{route=\"local\"}";
    assert!(moved(local) >= 1.0, "{a}");
    assert!(moved("postel_connections_total{listener=\"smtp\"}") >= 1.0);
    assert!(moved("postel_connections_total{listener=\"imaps\"}") >= 1.0);
    assert!(moved("postel_connections_total{listener=\"http\"}") >= 1.0);
    assert!(
        moved("postel_auth_failures_total{protocol=\"imap\"}") >= 1.0,
        "{a}"
    );
    assert!(
        moved("postel_tls_handshakes_total{result=\"ok\"}") >= 1.0,
        "{a}"
    );
    // This scrape's own connection is open.
    assert!(metric(a, "postel_connections_open{listener=\"http\"}") >= 1.0);

    // A failed handshake: plain text to the HTTPS port.
    let mut tcp = tokio::net::TcpStream::connect(srv.https.expect("https"))
        .await
        .expect("connect");
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut sink)).await;
    let later = get(&metrics_url).await.body;
    let failed = "postel_tls_handshakes_total{result=\"failed\"}";
    assert!(metric(&later, failed) > metric(b, failed), "{later}");

    // Without a database, /healthz says so.
    srv.services.db.close().await;
    let health = get(&format!("{}/healthz", base(&srv))).await;
    assert_eq!(health.status, 503, "{health:?}");
    let m = get(&metrics_url).await;
    assert_eq!(m.status, 200);
    assert_eq!(metric(&m.body, "postel_database_up"), 0.0);
    srv.stop().await;
}

#[tokio::test]
async fn limits_and_routing() {
    if !have_curl() {
        return;
    }
    let srv = server().await;
    let url = format!("{}/autodiscover/autodiscover.xml", base(&srv));
    let big = "x".repeat(postel::http::MAX_BODY + 1);
    let page = curl("POST", &url, &["Content-Type: text/xml"], Some(&big)).await;
    assert_eq!(page.status, 413, "{}", page.status);
    assert_eq!(get(&format!("{}/nope", base(&srv))).await.status, 404);
    let page = curl("PUT", &format!("{}/healthz", base(&srv)), &[], Some("x")).await;
    assert_eq!(page.status, 405);
    let page = curl("HEAD", &format!("{}/healthz", base(&srv)), &["X: y"], None).await;
    assert_eq!(page.status, 200);

    // An idle connection is closed after the header timeout.
    let addr = srv.http.expect("http");
    let mut idle = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let limit = postel::http::HEADER_TIMEOUT + Duration::from_secs(5);
    let read = tokio::time::timeout(limit, idle.read(&mut buf)).await;
    assert!(read.is_ok(), "idle connection still open after {limit:?}");
    assert!(started.elapsed() >= postel::http::HEADER_TIMEOUT - Duration::from_secs(1));

    // A head larger than the buffer is refused.
    let mut big_head = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "y".repeat(postel::http::MAX_HEAD + 1)
    );
    let _ = big_head.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), big_head.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn queue_outcomes_move_metrics() {
    if !have_curl() {
        return;
    }
    let mut b = sink::Behaviour::default();
    b.rcpt.insert(
        "bob@remote.test".into(),
        [sink::answer(451, "4.7.1 Later")].into(),
    );
    b.rcpt.insert(
        "gone@remote.test".into(),
        [sink::answer(550, "5.1.1 Gone")].into(),
    );
    let sinks = sink::start(&["127.0.0.2"], b).await;
    let config = format!(
        "[queue]\nretry = [\"1s\"]\nmax_age = \"1h\"\n[relay]\nmx_port = {}\n",
        sink::port(&sinks)
    );
    let srv = builder()
        .http()
        .config(&config)
        .records([
            common::dns::mx("remote.test", 10, "mx1.remote.test"),
            common::dns::a("mx1.remote.test", "127.0.0.2"),
        ])
        .start()
        .await;
    srv.with_users("example.org", &["alice"]).await;
    let metrics_url = format!("{}/metrics", base(&srv));
    let before = get(&metrics_url).await.body;
    let (mut c, _) = Client::connect(srv.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let msg = "From: alice@example.org\r\nSubject: out\r\n\r\nhello\r\n";
    let to = ["bob@remote.test", "gone@remote.test"];
    let r = c.send_mail("alice@example.org", &to, msg).await;
    assert_eq!(r.code, 250, "{r:?}");
    c.expect("QUIT", 221).await;
    let got = sinks[0].wait_delivered(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    // The outcome is recorded right after the remote's answer.
    let mut after = String::new();
    for _ in 0..50 {
        after = get(&metrics_url).await.body;
        if metric(&after, "postel_queue_messages") == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let moved = |series: &str| metric(&after, series) - metric(&before, series);
    assert!(
        moved("postel_queue_recipients_total{outcome=\"delivered\"}") >= 1.0,
        "{after}"
    );
    assert!(
        moved("postel_queue_recipients_total{outcome=\"deferred\"}") >= 1.0,
        "{after}"
    );
    assert!(
        moved("postel_queue_recipients_total{outcome=\"bounced\"}") >= 1.0,
        "{after}"
    );
    let remote = "postel_delivery_duration_seconds_count{route=\"remote\"}";
    assert!(moved(remote) >= 1.0, "{after}");
    // The retry waited a second: the delivery took at least that long.
    let fast = "postel_delivery_duration_seconds_bucket{route=\"remote\",le=\"0.5\"}";
    assert!(moved(remote) > moved(fast), "{after}");
    assert_eq!(metric(&after, "postel_queue_messages"), 0.0, "{after}");
    srv.stop().await;
}

#[tokio::test]
async fn greylisted_messages_are_counted() {
    if !have_curl() {
        return;
    }
    let srv = builder()
        .http()
        .config("[greylist]\nenabled = true\n[smtp]\nrelay_networks = []\n")
        .start()
        .await;
    srv.with_users("example.com", &["alice"]).await;
    let metrics_url = format!("{}/metrics", base(&srv));
    let before = get(&metrics_url).await.body;
    let (mut c, _) = Client::connect(srv.smtp).await;
    c.expect("EHLO client.test", 250).await;
    let msg = "From: x@remote.test\r\nSubject: grey\r\n\r\nhello\r\n";
    let r = c
        .send_mail("x@remote.test", &["alice@example.com"], msg)
        .await;
    assert_eq!(r.code, 451, "{r:?}");
    c.expect("QUIT", 221).await;
    let after = get(&metrics_url).await.body;
    let series = "postel_messages_total{result=\"greylisted\"}";
    assert!(metric(&after, series) > metric(&before, series), "{after}");
    srv.stop().await;
}

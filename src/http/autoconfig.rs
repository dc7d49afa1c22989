//! Thunderbird autoconfiguration: `/mail/config-v1.1.xml` and
//! `/.well-known/autoconfig/mail/config-v1.1.xml`, the `clientConfig`
//! version 1.1 format (as in Mozilla's ISPDB). Thunderbird asks
//! `autoconfig.<domain>` with `?emailaddress=`, then the domain itself
//! under `/.well-known/`.

use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::{Body, Endpoint, Site, Target, xml_escape};

/// Answers a GET.
pub async fn get(site: &Site, req: &Request<Incoming>) -> Response<Body> {
    let address = super::query_param(req.uri().query(), "emailaddress");
    match site.target(address.as_deref(), super::host(req)).await {
        Ok(Some(target)) => super::response(
            StatusCode::OK,
            "application/xml; charset=utf-8",
            document(site, &target),
        ),
        Ok(None) => super::not_found(),
        Err(e) => super::unavailable(&e),
    }
}

/// The `clientConfig` document for `target`: one `emailProvider` for
/// all local domains, every enabled service, implicit TLS first.
pub fn document(site: &Site, target: &Target) -> String {
    let host = xml_escape(site.hostname());
    let id = xml_escape(&target.domain);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<clientConfig version=\"1.1\">\n");
    let _ = writeln!(x, "  <emailProvider id=\"{id}\">");
    for d in &target.domains {
        let _ = writeln!(x, "    <domain>{}</domain>", xml_escape(d));
    }
    let _ = writeln!(x, "    <displayName>{id} mail</displayName>");
    let _ = writeln!(x, "    <displayShortName>{id}</displayShortName>");
    let services = [
        ("incomingServer", "imap", site.imap()),
        ("incomingServer", "pop3", site.pop3()),
        ("outgoingServer", "smtp", site.submission()),
    ];
    for (element, kind, endpoints) in services {
        for e in endpoints {
            server(&mut x, element, kind, &host, e);
        }
    }
    x.push_str("  </emailProvider>\n</clientConfig>\n");
    x
}

fn server(x: &mut String, element: &str, kind: &str, host: &str, e: Endpoint) {
    let socket = if e.implicit_tls { "SSL" } else { "STARTTLS" };
    let _ = write!(
        x,
        "    <{element} type=\"{kind}\">\n\
         \x20     <hostname>{host}</hostname>\n\
         \x20     <port>{port}</port>\n\
         \x20     <socketType>{socket}</socketType>\n\
         \x20     <username>%EMAILADDRESS%</username>\n\
         \x20     <authentication>password-cleartext</authentication>\n\
         \x20   </{element}>\n",
        port = e.port
    );
}

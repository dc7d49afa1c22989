//! Outlook autodiscover, the "plain old XML" flavour:
//! `/autodiscover/autodiscover.xml`. Outlook POSTs a request naming the
//! `EMailAddress` and the `AcceptableResponseSchema` (the Outlook 2006a
//! schema) and reads one `Protocol` per `Type` (IMAP, POP3, SMTP) from the
//! `Account` of the response. A GET with `?emailaddress=` gets the same.

use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use super::{Body, Endpoint, Site, xml_escape};

/// The response envelope's namespace.
pub const RESPONSE_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
/// The Outlook response schema, the only one served.
pub const OUTLOOK_NS: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

/// Answers a POST carrying the request XML.
pub async fn post(site: &Site, body: &[u8], host: Option<&str>) -> Response<Body> {
    let text = String::from_utf8_lossy(body);
    if let Some(schema) = element_text(&text, "AcceptableResponseSchema")
        && schema.trim() != OUTLOOK_NS
    {
        return xml(error(601, "Provider is not available"));
    }
    let address = element_text(&text, "EMailAddress").map(|a| a.trim().to_string());
    answer(site, address, host).await
}

/// Answers a GET with `?emailaddress=`.
pub async fn get(site: &Site, req: &Request<Incoming>) -> Response<Body> {
    let address = super::query_param(req.uri().query(), "emailaddress");
    answer(site, address, super::host(req)).await
}

async fn answer(site: &Site, address: Option<String>, host: Option<&str>) -> Response<Body> {
    let Some(address) = address.filter(|a| super::domain_of_address(a).is_some()) else {
        return xml(error(600, "Invalid Request"));
    };
    match site.target(Some(&address), host).await {
        Ok(Some(_)) => xml(document(site, &address)),
        Ok(None) => super::not_found(),
        Err(e) => super::unavailable(&e),
    }
}

fn xml(body: String) -> Response<Body> {
    super::response(StatusCode::OK, "application/xml; charset=utf-8", body)
}

/// The settings for `address`: one `Protocol` per type that is on,
/// implicit TLS preferred.
pub fn document(site: &Site, address: &str) -> String {
    let host = xml_escape(site.hostname());
    let login = xml_escape(address);
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"{RESPONSE_NS}\">\n\
         \x20 <Response xmlns=\"{OUTLOOK_NS}\">\n\
         \x20   <Account>\n\
         \x20     <AccountType>email</AccountType>\n\
         \x20     <Action>settings</Action>\n"
    );
    let services = [
        ("IMAP", site.imap()),
        ("POP3", site.pop3()),
        ("SMTP", site.submission()),
    ];
    for (kind, endpoints) in services {
        if let Some(e) = endpoints.first() {
            protocol(&mut x, kind, &host, &login, *e);
        }
    }
    x.push_str("    </Account>\n  </Response>\n</Autodiscover>\n");
    x
}

fn protocol(x: &mut String, kind: &str, host: &str, login: &str, e: Endpoint) {
    // `SSL on` with `Encryption` saying which: "SSL" is TLS from the first
    // byte, "TLS" is STARTTLS.
    let encryption = if e.implicit_tls { "SSL" } else { "TLS" };
    let _ = write!(
        x,
        "      <Protocol>\n\
         \x20       <Type>{kind}</Type>\n\
         \x20       <Server>{host}</Server>\n\
         \x20       <Port>{port}</Port>\n\
         \x20       <DomainRequired>off</DomainRequired>\n\
         \x20       <LoginName>{login}</LoginName>\n\
         \x20       <SPA>off</SPA>\n\
         \x20       <SSL>on</SSL>\n\
         \x20       <Encryption>{encryption}</Encryption>\n\
         \x20       <AuthRequired>on</AuthRequired>\n",
        port = e.port
    );
    if kind == "SMTP" {
        x.push_str("        <UsePOPAuth>on</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>\n");
    }
    x.push_str("      </Protocol>\n");
}

/// An autodiscover error response (600 invalid request, 601 provider not
/// available).
pub fn error(code: u16, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"{RESPONSE_NS}\">\n\
         \x20 <Response>\n\
         \x20   <Error>\n\
         \x20     <ErrorCode>{code}</ErrorCode>\n\
         \x20     <Message>{}</Message>\n\
         \x20     <DebugData />\n\
         \x20   </Error>\n\
         \x20 </Response>\n\
         </Autodiscover>\n",
        xml_escape(message)
    )
}

/// The text of the first element whose local name (without a namespace
/// prefix) is `name`, entities decoded; `None` when absent.
pub fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find(['>', ' ', '\t', '\r', '\n', '/'])?;
        let tag = &rest[..end];
        let local = tag.rsplit_once(':').map_or(tag, |(_, l)| l);
        if local != name || tag.starts_with(['/', '?', '!']) {
            continue;
        }
        let close = rest.find('>')?;
        if rest[..close].ends_with('/') {
            return Some(String::new());
        }
        let content = &rest[close + 1..];
        let text = &content[..content.find('<').unwrap_or(content.len())];
        return Some(decode_entities(text));
    }
    None
}

/// Decodes the predefined entities and character references.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| e.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_address_in_a_request() {
        let req = "<?xml version=\"1.0\"?>\n<a:Autodiscover xmlns:a=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
            <a:Request><a:EMailAddress>al&amp;ice@example.com</a:EMailAddress>\
            <a:AcceptableResponseSchema>http://x</a:AcceptableResponseSchema></a:Request></a:Autodiscover>";
        assert_eq!(
            element_text(req, "EMailAddress").as_deref(),
            Some("al&ice@example.com")
        );
        assert_eq!(
            element_text(req, "AcceptableResponseSchema").as_deref(),
            Some("http://x")
        );
        assert_eq!(element_text(req, "Missing"), None);
        assert_eq!(
            element_text("<EMailAddress/>", "EMailAddress").as_deref(),
            Some("")
        );
        assert_eq!(element_text("<EMailAddress", "EMailAddress"), None);
        assert_eq!(decode_entities("&#65;&#x42;&bogus;&"), "AB&bogus;&");
    }
}

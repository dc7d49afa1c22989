//! Apple configuration profile: `/apple/mobileconfig?emailaddress=…`
//! (also under `/.well-known/apple/mobileconfig`), an unsigned property
//! list with one `com.apple.mail.managed` payload (IMAP in, SMTP out)
//! that iOS and macOS install from Safari.

use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};

use super::{Body, Site, xml_escape};

/// The media type Apple devices install profiles from.
pub const CONTENT_TYPE: &str = "application/x-apple-aspen-config";

/// Answers a GET; the address is required.
pub async fn get(site: &Site, req: &Request<Incoming>) -> Response<Body> {
    let Some(address) = super::query_param(req.uri().query(), "emailaddress")
        .filter(|a| super::domain_of_address(a).is_some())
    else {
        return super::text(
            StatusCode::BAD_REQUEST,
            "add ?emailaddress=you@example.com\n",
        );
    };
    let target = match site.target(Some(&address), super::host(req)).await {
        Ok(Some(t)) => t,
        Ok(None) => return super::not_found(),
        Err(e) => return super::unavailable(&e),
    };
    let Some(profile) = profile(site, &address) else {
        return super::text(
            StatusCode::NOT_FOUND,
            "IMAP or submission is not enabled on this server\n",
        );
    };
    let mut r = super::response(StatusCode::OK, CONTENT_TYPE, profile);
    let file = format!("attachment; filename=\"{}.mobileconfig\"", target.domain);
    if let Ok(v) = HeaderValue::from_str(&file) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A UUID (version 5 layout) derived from `parts`, so downloading the
/// profile again replaces the installed one instead of adding another.
fn uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&h.finalize()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Reverse-DNS identifier prefix from the host name (`mail.example.com`
/// → `com.example.mail`).
fn reverse_dns(host: &str) -> String {
    host.split('.').rev().collect::<Vec<_>>().join(".")
}

/// The profile for `address`, or `None` when IMAP or submission is off.
pub fn profile(site: &Site, address: &str) -> Option<String> {
    let incoming = *site.imap().first()?;
    let outgoing = *site.submission().first()?;
    let host = site.hostname();
    let id_base = format!(
        "{}.postel.{}",
        reverse_dns(host),
        address
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    );
    let a = xml_escape(address);
    let h = xml_escape(host);
    let domain = address.rsplit_once('@').map_or(address, |(_, d)| d);
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         <key>PayloadContent</key>\n<array>\n<dict>\n",
    );
    let tls = |b: bool| if b { "<true/>" } else { "<false/>" };
    let _ = write!(
        x,
        "<key>EmailAccountDescription</key><string>{a}</string>\n\
         <key>EmailAccountType</key><string>EmailTypeIMAP</string>\n\
         <key>EmailAddress</key><string>{a}</string>\n\
         <key>IncomingMailServerAuthentication</key><string>EmailAuthPassword</string>\n\
         <key>IncomingMailServerHostName</key><string>{h}</string>\n\
         <key>IncomingMailServerPortNumber</key><integer>{ip}</integer>\n\
         <key>IncomingMailServerUseSSL</key>{it}\n\
         <key>IncomingMailServerUsername</key><string>{a}</string>\n\
         <key>OutgoingMailServerAuthentication</key><string>EmailAuthPassword</string>\n\
         <key>OutgoingMailServerHostName</key><string>{h}</string>\n\
         <key>OutgoingMailServerPortNumber</key><integer>{op}</integer>\n\
         <key>OutgoingMailServerUseSSL</key>{ot}\n\
         <key>OutgoingMailServerUsername</key><string>{a}</string>\n\
         <key>OutgoingPasswordSameAsIncomingPassword</key><true/>\n\
         <key>PayloadDescription</key><string>Mail account {a}</string>\n\
         <key>PayloadDisplayName</key><string>{a}</string>\n\
         <key>PayloadIdentifier</key><string>{pid}</string>\n\
         <key>PayloadType</key><string>com.apple.mail.managed</string>\n\
         <key>PayloadUUID</key><string>{puuid}</string>\n\
         <key>PayloadVersion</key><integer>1</integer>\n\
         <key>PreventAppSheet</key><false/>\n\
         <key>PreventMove</key><false/>\n\
         <key>SMIMEEnabled</key><false/>\n\
         </dict>\n</array>\n",
        ip = incoming.port,
        it = tls(incoming.implicit_tls),
        op = outgoing.port,
        ot = tls(outgoing.implicit_tls),
        pid = xml_escape(&format!("{id_base}.mail")),
        puuid = uuid(&[host, address, "mail"]),
    );
    let _ = write!(
        x,
        "<key>PayloadDescription</key><string>Mail settings for {a} on {h}</string>\n\
         <key>PayloadDisplayName</key><string>{d} mail</string>\n\
         <key>PayloadIdentifier</key><string>{pid}</string>\n\
         <key>PayloadOrganization</key><string>{d}</string>\n\
         <key>PayloadRemovalDisallowed</key><false/>\n\
         <key>PayloadType</key><string>Configuration</string>\n\
         <key>PayloadUUID</key><string>{puuid}</string>\n\
         <key>PayloadVersion</key><integer>1</integer>\n\
         </dict>\n</plist>\n",
        d = xml_escape(domain),
        pid = xml_escape(&id_base),
        puuid = uuid(&[host, address, "profile"]),
    );
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let u = uuid(&["mail.test", "a@b", "mail"]);
        assert_eq!(u, uuid(&["mail.test", "a@b", "mail"]));
        assert_ne!(u, uuid(&["mail.test", "a@b", "profile"]));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "A" | "B"), "{u}");
        assert_eq!(reverse_dns("mail.example.com"), "com.example.mail");
    }
}

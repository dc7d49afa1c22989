//! What the pipeline remembers about one SMTP session: set by the
//! session (HELO, TLS, AUTH) and by the pipeline (client checks, SPF).

use std::net::IpAddr;

use super::headers::TlsInfo;
use super::headers::received::protocol_name;
use super::rdns::Iprev;
use super::spf::SpfCheck;
use super::verdict::StageOutcome;

/// Per-session state shared between the SMTP session and the pipeline.
#[derive(Debug, Clone)]
pub struct SessionCtx {
    ip: IpAddr,
    /// The HELO/EHLO argument (empty before the greeting).
    pub helo: String,
    /// EHLO (true) or HELO (false).
    pub esmtp: bool,
    /// TLS parameters once STARTTLS (or implicit TLS) succeeded.
    pub tls: Option<TlsInfo>,
    /// The authenticated user, after a successful AUTH.
    pub authenticated: Option<String>,
    /// Whether the current transaction asked for SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// Leave the client's name and address out of `Received:`.
    pub hide_client: bool,
    pub(super) iprev: Iprev,
    pub(super) client_outcomes: Vec<StageOutcome>,
    pub(super) mail_from: Option<String>,
    pub(super) spf: Option<SpfCheck>,
}

impl SessionCtx {
    /// A fresh context for a client at `ip` (IPv4-mapped IPv6 addresses,
    /// as a dual-stack listener reports them, are stored as IPv4).
    pub fn new(ip: IpAddr) -> SessionCtx {
        SessionCtx {
            ip: ip.to_canonical(),
            helo: String::new(),
            esmtp: false,
            tls: None,
            authenticated: None,
            smtputf8: false,
            hide_client: false,
            iprev: Iprev::NotChecked,
            client_outcomes: Vec::new(),
            mail_from: None,
            spf: None,
        }
    }

    /// The client's address.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Records HELO (`esmtp = false`) or EHLO (`true`); starts over the
    /// transaction (RFC 5321 §4.1.4).
    pub fn set_helo(&mut self, name: &str, esmtp: bool) {
        self.helo = name.to_string();
        self.esmtp = esmtp;
        self.reset_transaction();
    }

    /// After a successful STARTTLS: everything the client said before is
    /// forgotten (RFC 3207 §4.2); connect-time checks stay.
    pub fn start_tls(&mut self, tls: TlsInfo) {
        self.tls = Some(tls);
        self.helo.clear();
        self.esmtp = false;
        self.authenticated = None;
        self.reset_transaction();
    }

    /// RSET, or a transaction finished: forgets MAIL FROM and its SPF.
    pub fn reset_transaction(&mut self) {
        self.mail_from = None;
        self.spf = None;
        self.smtputf8 = false;
    }

    /// The forward-confirmed reverse DNS result of the client.
    pub fn iprev(&self) -> &Iprev {
        &self.iprev
    }

    /// The client's confirmed host name, if any.
    pub fn rdns_name(&self) -> Option<&str> {
        self.iprev.name()
    }

    /// The current transaction's MAIL FROM (empty for `<>`).
    pub fn mail_from(&self) -> Option<&str> {
        self.mail_from.as_deref()
    }

    /// The current transaction's SPF result, once `on_mail` ran.
    pub fn spf(&self) -> Option<&SpfCheck> {
        self.spf.as_ref()
    }

    /// The connect-time stage outcomes (DNSBL, reverse DNS).
    pub fn client_outcomes(&self) -> &[StageOutcome] {
        &self.client_outcomes
    }

    /// The Received `with` protocol (RFC 3848, RFC 6531).
    pub fn protocol(&self) -> &'static str {
        protocol_name(
            self.esmtp,
            self.tls.is_some(),
            self.authenticated.is_some(),
            self.smtputf8,
        )
    }
}

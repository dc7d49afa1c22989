//! Submission policy (RFC 6409, RFC 8314): TLS before AUTH and MAIL,
//! AUTH before MAIL, senders the user may use, and the header fixes a
//! submission server makes (`Message-ID:`, `Date:`).

use std::net::IpAddr;

use super::Mode;
use super::session::Session;
use crate::config::SenderPolicy;
use crate::directory::SenderRules;
use crate::net::Transport;
use crate::pipeline::headers::received::rfc5322_date;
use crate::protocol::smtp::{Command, EnhancedStatus, Reply};

/// `553 5.7.1`: the user may not send as this address.
fn not_owner(address: &str) -> Reply {
    Reply::new(
        553,
        Some(EnhancedStatus::new(5, 7, 1)),
        format!("Sender address <{address}> not owned by the authenticated user"),
    )
}

/// `451 4.3.0`: the directory could not be asked; the client may retry.
fn directory_unavailable() -> Reply {
    Reply::new(
        451,
        Some(EnhancedStatus::new(4, 3, 0)),
        "Temporary failure checking the sender; try again later",
    )
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

impl<S: Transport> Session<S> {
    /// Whether AUTH may be offered and used now.
    pub(super) fn auth_allowed(&self) -> bool {
        self.settings.mode == Mode::Submission
            && (self.seq.is_tls()
                || (self.settings.submission.allow_plaintext_auth_on_loopback
                    && is_loopback(self.peer.ip())))
    }

    /// The submission rules checked before the usual sequencing: TLS
    /// first (`530 5.7.0 Must issue a STARTTLS command first`), then AUTH
    /// before MAIL (`530 5.7.0 Authentication required`).
    pub(super) fn submission_gate(&self, command: &Command) -> Result<(), Reply> {
        if self.settings.mode != Mode::Submission {
            return Ok(());
        }
        let needs_session = matches!(command, Command::Mail { .. } | Command::Auth { .. });
        if needs_session && !self.auth_allowed() {
            return Err(Reply::tls_required());
        }
        if matches!(command, Command::Mail { .. }) && self.user.is_none() {
            return Err(Reply::auth_required());
        }
        Ok(())
    }

    /// The sender rules of the logged-in user (its override, its
    /// domain's, then `[submission]`), read at every use so that a change
    /// with `postel user|domain sender-policy` applies to the next message.
    ///
    /// # Errors
    /// `451 4.3.0` when the directory cannot be read.
    async fn sender_rules(&self) -> Result<SenderRules, Reply> {
        let defaults = &self.settings.submission;
        let Some(user) = &self.user else {
            return Ok(SenderRules {
                policy: defaults.sender_policy,
                check_header_from: defaults.check_header_from,
            });
        };
        self.services
            .directory
            .sender_rules(&user.address, defaults)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot read the sender rules");
                directory_unavailable()
            })
    }

    /// Whether the logged-in user may use `address` as a sender under
    /// `policy`.
    ///
    /// # Errors
    /// `451 4.3.0` when the directory cannot be read.
    async fn may_send_as(&self, policy: SenderPolicy, address: &str) -> Result<bool, Reply> {
        let Some(user) = &self.user else {
            return Ok(false);
        };
        let dir = &self.services.directory;
        Ok(match policy {
            SenderPolicy::Any => true,
            SenderPolicy::Domain => {
                let domain = |a: &str| a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
                domain(address).is_some() && domain(address) == domain(&user.address)
            }
            SenderPolicy::Owned => dir.owns(&user.address, address).await.map_err(|e| {
                tracing::error!(error = %e, "cannot check sender ownership");
                directory_unavailable()
            })?,
        })
    }

    /// Checks the envelope sender of a submission (MAIL FROM): `Err` with
    /// the refusal (`553 5.7.1`, or `451` on a directory failure).
    pub(super) async fn check_envelope_sender(&self, address: &str) -> Result<(), Reply> {
        if self.settings.mode != Mode::Submission {
            return Ok(());
        }
        let rules = self.sender_rules().await?;
        if self.may_send_as(rules.policy, address).await? {
            Ok(())
        } else {
            Err(not_owner(address))
        }
    }

    /// Checks the `From:` header of a submitted message; `Err` with the
    /// refusal when an address in it may not be used.
    pub(super) async fn check_header_from(&self, message: &[u8]) -> Result<(), Reply> {
        if self.settings.mode != Mode::Submission {
            return Ok(());
        }
        let rules = self.sender_rules().await?;
        if !rules.check_header_from {
            return Ok(());
        }
        let parsed = mail_parser::MessageParser::new().parse_headers(message);
        let addresses: Vec<String> = parsed
            .as_ref()
            .and_then(|m| m.from())
            .map(|from| {
                from.iter()
                    .filter_map(|a| a.address().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if addresses.is_empty() {
            return Err(Reply::new(
                553,
                Some(EnhancedStatus::new(5, 7, 1)),
                "Message has no From: address",
            ));
        }
        for a in &addresses {
            if !self.may_send_as(rules.policy, a).await? {
                return Err(not_owner(a));
            }
        }
        Ok(())
    }

    /// Headers a submission server adds when the client left them out:
    /// `Message-ID:` and `Date:` (RFC 6409 §8).
    pub(super) fn missing_headers(&self, message: &[u8], id: &str) -> String {
        if self.settings.mode != Mode::Submission {
            return String::new();
        }
        let header_end = message
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(message.len(), |p| p + 2);
        let head = String::from_utf8_lossy(&message[..header_end]).to_ascii_lowercase();
        let has = |name: &str| head.starts_with(name) || head.contains(&format!("\n{name}"));
        let mut out = String::new();
        if !has("message-id:") {
            out.push_str(&format!(
                "Message-ID: <{id}@{}>\r\n",
                self.settings.hostname
            ));
        }
        if !has("date:") {
            out.push_str(&format!(
                "Date: {}\r\n",
                rfc5322_date(time::OffsetDateTime::now_utc())
            ));
        }
        out
    }
}

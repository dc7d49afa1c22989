//! RCPT TO: who may receive here, and who may relay.
//!
//! Local domains: the directory resolves users, aliases, sub-addresses,
//! catch-alls and `postmaster@` (`550 5.1.1` otherwise); a recipient
//! whose quota is already used up is refused with `552 5.2.2` here, so a
//! multi-recipient message is not held back by one full mailbox.
//! Other domains: only relay clients (and, later, authenticated ones)
//! may relay; everyone else gets `554 5.7.1 Relaying denied`. Until the
//! outbound queue exists, relaying is refused with `451 4.3.2`, so the
//! message stays with the sender instead of being lost.

use super::commands::mailbox_string;
use super::session::{Recipient, Session};
use crate::net::Transport;
use crate::pipeline::Verdict;
use crate::protocol::smtp::{EnhancedStatus, ForwardPath, Reply};

fn reply(code: u16, status: (u8, u16, u16), text: &str) -> Reply {
    Reply::new(
        code,
        Some(EnhancedStatus::new(status.0, status.1, status.2)),
        text,
    )
}

impl<S: Transport> Session<S> {
    /// RCPT TO.
    pub(super) async fn handle_rcpt(&mut self, to: ForwardPath) {
        if let Verdict::Reject(r) | Verdict::TempFail(r) = &self.client_verdict {
            let r = super::data::map_reply(r);
            self.refuse_rcpt(r);
            return;
        }
        let address = match &to {
            ForwardPath::Mailbox(m) => mailbox_string(m),
            ForwardPath::Postmaster => match self.postmaster_address().await {
                Some(a) => a,
                None => return self.refuse_rcpt(Reply::user_unknown()),
            },
        };
        match self.route(&address).await {
            Ok(accounts) => {
                self.tx.recipients.push(Recipient { address, accounts });
                self.seq.on_rcpt(true);
                self.reply(Reply::rcpt_ok());
            }
            Err(r) => self.refuse_rcpt(r),
        }
    }

    fn refuse_rcpt(&mut self, r: Reply) {
        self.seq.on_rcpt(false);
        self.reply(r);
    }

    /// `<Postmaster>` without a domain (RFC 5321 §4.5.1): the postmaster
    /// of our host name's domain if it is local, else of the first local
    /// domain.
    async fn postmaster_address(&self) -> Option<String> {
        let dir = &self.services.directory;
        let host = &self.settings.hostname;
        if dir.is_local_domain(host).await.unwrap_or(false) {
            return Some(format!("postmaster@{host}"));
        }
        let domains = dir.list_domains().await.ok()?;
        domains
            .into_iter()
            .next()
            .map(|d| format!("postmaster@{d}"))
    }

    /// Local accounts (with quotas) that `address` delivers to, or the
    /// refusal.
    async fn route(&self, address: &str) -> Result<Vec<(String, u64)>, Reply> {
        let dir = &self.services.directory;
        let temp = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "directory lookup failed");
            Reply::local_error()
        };
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        if !dir.is_local_domain(domain).await.map_err(|e| temp(&e))? {
            return Err(self.relay_refusal());
        }
        let Some(resolution) = dir.resolve(address).await.map_err(|e| temp(&e))? else {
            return Err(Reply::user_unknown());
        };
        if !resolution.remote.is_empty() {
            return Err(reply(
                451,
                (4, 3, 2),
                "Forwarding to remote addresses is not available yet; try again later",
            ));
        }
        let mut accounts = Vec::with_capacity(resolution.local.len());
        for account in resolution.local {
            let user = dir.get_user(&account).await.map_err(|e| temp(&e))?;
            let Some(user) = user else {
                return Err(Reply::user_unknown());
            };
            if !user.enabled {
                return Err(reply(550, (5, 2, 1), "Mailbox disabled"));
            }
            if user.quota_bytes > 0 {
                let used = self
                    .services
                    .store
                    .quota_usage(&account)
                    .await
                    .map_err(|e| temp(&e))?;
                if used.bytes.saturating_add(self.tx.size_hint) > user.quota_bytes {
                    return Err(reply(552, (5, 2, 2), "Mailbox full"));
                }
            }
            accounts.push((account, user.quota_bytes));
        }
        Ok(accounts)
    }

    fn relay_refusal(&self) -> Reply {
        let may_relay =
            self.settings.is_relay_client(self.peer.ip()) || self.ctx.authenticated.is_some();
        if may_relay {
            reply(
                451,
                (4, 3, 2),
                "Relaying is not available yet; try again later",
            )
        } else {
            Reply::relay_denied()
        }
    }
}

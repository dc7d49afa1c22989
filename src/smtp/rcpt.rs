//! RCPT TO: who may receive here, and who may relay.
//!
//! Local domains: the directory resolves users, aliases, sub-addresses,
//! catch-alls and `postmaster@` (`550 5.1.1` otherwise); a recipient
//! whose quota is already used up is refused with `552 5.2.2` here, so a
//! multi-recipient message is not held back by one full mailbox.
//! Other domains: clients in `smtp.relay_networks` and authenticated
//! (submission) clients may relay — the recipient goes to the outbound
//! queue; everyone else gets `554 5.7.1 Relay access denied`. Aliases
//! whose targets are in remote domains forward through the queue too,
//! for any client (the alias is ours, so this is not relaying).
//!
//! A local recipient's directory answer (accounts, quotas, forwards) is
//! kept for [`super::RECIPIENT_CACHE_TTL`] per listener: a busy sender's
//! next messages to the same address skip the SQL reads of alias
//! resolution. Only answers that accept are kept, so a new user or alias
//! is seen at once; a removed or disabled one may still receive for that
//! long. The quota usage is checked live every time.

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
        let (address, wire) = match &to {
            ForwardPath::Mailbox(m) => (mailbox_string(m), m.to_string()),
            ForwardPath::Postmaster => match self.postmaster_address().await {
                Some(a) => (a.clone(), a),
                None => return self.refuse_rcpt(Reply::user_unknown()),
            },
        };
        match self.route(&address, &wire).await {
            Ok((accounts, remote)) => {
                let user = self.ctx.authenticated.as_deref();
                if let Err(r) = self.services.security.take_recipient(self.peer.ip(), user) {
                    return self.refuse_rcpt(r);
                }
                self.tx.recipients.push(Recipient {
                    address,
                    accounts,
                    remote,
                });
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

    /// Local accounts (with quotas) and remote addresses that `address`
    /// delivers to, or the refusal. `wire` is the address in SMTP form
    /// (quoted local part when needed), used for relayed recipients.
    async fn route(
        &self,
        address: &str,
        wire: &str,
    ) -> Result<(Vec<(String, u64)>, Vec<String>), Reply> {
        let cache = &self.settings.recipients;
        let (accounts, remote) = match cache.get_fresh(address) {
            Some(hit) => hit,
            None => {
                let (route, cacheable) = self.lookup(address, wire).await?;
                if cacheable {
                    let until = std::time::Instant::now() + super::RECIPIENT_CACHE_TTL;
                    cache.put(address.to_string(), route.clone(), until);
                }
                route
            }
        };
        for (account, quota_bytes) in &accounts {
            if *quota_bytes > 0 {
                let used = self
                    .services
                    .store
                    .quota_usage(account)
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "quota lookup failed");
                        Reply::local_error()
                    })?;
                if used.bytes.saturating_add(self.tx.size_hint) > *quota_bytes {
                    return Err(reply(552, (5, 2, 2), "Mailbox full"));
                }
            }
        }
        Ok((accounts, remote))
    }

    /// The directory's answer for `address`: local accounts with their
    /// quotas and remote addresses, and whether it may be cached (a
    /// local recipient whose accounts are all enabled; never a relayed
    /// one, which depends on the client).
    async fn lookup(
        &self,
        address: &str,
        wire: &str,
    ) -> Result<((Vec<(String, u64)>, Vec<String>), bool), Reply> {
        let dir = &self.services.directory;
        let temp = |e: &dyn std::fmt::Display| {
            tracing::error!(error = %e, "directory lookup failed");
            Reply::local_error()
        };
        let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
        if !dir.is_local_domain(domain).await.map_err(|e| temp(&e))? {
            return if self.may_relay() {
                Ok(((Vec::new(), vec![wire.to_string()]), false))
            } else {
                Err(Reply::relay_denied())
            };
        }
        let Some(resolution) = dir.resolve(address).await.map_err(|e| temp(&e))? else {
            return Err(Reply::user_unknown());
        };
        let mut accounts = Vec::with_capacity(resolution.local.len());
        for account in resolution.local {
            let user = dir.get_user(&account).await.map_err(|e| temp(&e))?;
            let Some(user) = user else {
                return Err(Reply::user_unknown());
            };
            if !user.enabled {
                return Err(reply(550, (5, 2, 1), "Mailbox disabled"));
            }
            accounts.push((account, user.quota_bytes));
        }
        Ok(((accounts, resolution.remote), true))
    }

    /// Whether this client may send to other domains: it is in
    /// `smtp.relay_networks` or has authenticated.
    fn may_relay(&self) -> bool {
        self.settings.is_relay_client(self.peer.ip()) || self.ctx.authenticated.is_some()
    }
}

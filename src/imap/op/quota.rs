//! GETQUOTA and GETQUOTAROOT (RFC 9208 §4.2–4.3) with the STORAGE
//! resource (RFC 9208 §5.1, in units of 1024 octets).
//!
//! Each account has one quota root, `""`, covering every folder; its
//! limit is the user's `quota_bytes` from the directory, its usage the
//! store's Maildir++ `maildirsize`. An account without a limit has no
//! quota root. SETQUOTA is not offered: quotas are set with the CLI.

use super::super::error::{ImapError, Result};
use super::super::session::Session;
use super::store_name;
use crate::net::Transport;
use crate::protocol::imap::{Data, MailboxName, QuotaResource, RespText, Response};

/// The one quota root.
const ROOT: &str = "";

impl<S: Transport> Session<S> {
    pub(super) async fn handle_getquotaroot(&mut self, mailbox: &MailboxName) -> Result<RespText> {
        store_name(mailbox)?;
        let limit = self.quota_bytes().await?;
        let roots = match limit {
            0 => Vec::new(),
            _ => vec![ROOT.to_string()],
        };
        self.push(&Response::Data(Data::QuotaRoot {
            mailbox: mailbox.clone(),
            roots,
        }));
        if limit > 0 {
            self.push_quota(limit).await?;
        }
        Ok(Self::done("GETQUOTAROOT completed"))
    }

    pub(super) async fn handle_getquota(&mut self, root: &str) -> Result<RespText> {
        let limit = self.quota_bytes().await?;
        if root != ROOT || limit == 0 {
            return Err(ImapError::no("No such quota root"));
        }
        self.push_quota(limit).await?;
        Ok(Self::done("GETQUOTA completed"))
    }

    async fn push_quota(&mut self, limit: u64) -> Result<()> {
        let address = self.address()?;
        let usage = self.services.store.quota_usage(&address).await?;
        self.push(&Response::Data(Data::Quota {
            root: ROOT.to_string(),
            resources: vec![QuotaResource {
                name: "STORAGE".to_string(),
                usage: usage.bytes.div_ceil(1024),
                limit: limit / 1024,
            }],
        }));
        Ok(())
    }
}

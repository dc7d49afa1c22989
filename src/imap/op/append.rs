//! APPEND (RFC 3501 §6.3.11) with APPENDUID (UIDPLUS, RFC 4315 §3),
//! OVERQUOTA (RFC 9208 §4.3) and APPENDLIMIT (RFC 7889: the codec refuses
//! bigger literals before they are sent).
//!
//! The message is stored durably and has its UID before the OK
//! (`Store::append` fsyncs and registers it). Appending to the selected
//! mailbox is announced with EXISTS before the tagged OK.

use std::time::SystemTime;

use super::super::error::{ImapError, Result};
use super::super::session::{Session, State};
use super::{flags_from_wire, store_name};
use crate::net::Transport;
use crate::protocol::imap::{Append, Code, RespText, SequenceSet};

impl<S: Transport> Session<S> {
    pub(super) async fn handle_append(&mut self, append: Append) -> Result<RespText> {
        let name = store_name(&append.mailbox)?;
        let flags = flags_from_wire(&append.flags)?;
        if append.message.is_empty() {
            return Err(ImapError::no("Can't save an empty message"));
        }
        let date = append.date.map(SystemTime::from);
        let quota = self.quota_bytes().await?;
        let address = self.address()?;
        let (uidvalidity, uid) = self
            .services
            .store
            .append(&address, &name, &append.message, &flags, date, quota)
            .await
            .map_err(|e| ImapError::from(e).try_create())?;
        if let State::Selected(_, sel) = &mut self.state
            && sel.name == name
        {
            sel.dirty = true;
        }
        let uids = SequenceSet::single(uid).ok_or_else(|| ImapError::no("No UID assigned"))?;
        let code = Code::AppendUid {
            uid_validity: uidvalidity,
            uids,
        };
        Ok(RespText::with_code(code, "APPEND completed"))
    }

    /// The account's quota in octets (0: none), as the directory says
    /// now (it may have changed since login).
    pub(super) async fn quota_bytes(&self) -> Result<u64> {
        let account = self
            .account()
            .ok_or_else(|| ImapError::bad("Log in first"))?;
        let current = self
            .services
            .directory
            .get_user(&account.user.address)
            .await?;
        Ok(current.map_or(account.user.quota_bytes, |u| u.quota_bytes))
    }
}

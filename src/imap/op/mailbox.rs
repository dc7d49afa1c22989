//! Mailbox commands of the authenticated state (RFC 3501 §6.3.1–6.3.7,
//! §6.3.10): SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
//! UNSUBSCRIBE, STATUS; CONDSTORE's SELECT parameter and HIGHESTMODSEQ
//! (RFC 7162 §3.1.2, §3.1.8); STATUS=SIZE (RFC 8438).

use std::time::Instant;

use super::super::error::{ImapError, Result};
use super::super::session::{Selected, Session, State};
use super::super::tables;
use super::super::view::MailboxView;
use super::{flag_responses, store_name};
use crate::net::Transport;
use crate::protocol::imap::{
    Code, Condition, Data, MailboxName, RespText, Response, StatusItem, StatusValue,
};
use crate::store::FolderName;

impl<S: Transport> Session<S> {
    /// SELECT and EXAMINE. Any selected mailbox is closed first, even if
    /// this one cannot be opened (RFC 3501 §6.3.1).
    pub(super) async fn handle_select(
        &mut self,
        mailbox: &MailboxName,
        read_only: bool,
        condstore: bool,
    ) -> Result<RespText> {
        if self.deselect() && self.condstore {
            self.push(&Response::status(
                Condition::Ok,
                Some(Code::Closed),
                "Closed",
            ));
        }
        let name = store_name(mailbox)?;
        let address = self.address()?;
        let snap = self.services.store.sync(&address, &name).await?;
        if condstore {
            self.condstore = true;
        }
        let newest = snap.messages.last().map(|m| m.uid);
        let mut view = MailboxView::new(snap);
        if !read_only && let Some(newest) = newest {
            let db = &self.services.db;
            let uv = view.uidvalidity();
            let before = tables::claim_recent(db, &address, &name, uv, newest).await?;
            view.mark_recent(before, newest);
        }
        self.select_responses(&view, read_only);
        let State::Authenticated(account) = std::mem::replace(&mut self.state, State::Logout)
        else {
            return Err(ImapError::bad("Log in first"));
        };
        let selected = Selected {
            name,
            read_only,
            view,
            dirty: false,
            synced_at: Instant::now(),
        };
        self.state = State::Selected(account, selected);
        let (code, text) = match read_only {
            true => (Code::ReadOnly, "EXAMINE completed"),
            false => (Code::ReadWrite, "SELECT completed"),
        };
        Ok(RespText::with_code(code, text))
    }

    fn select_responses(&mut self, view: &MailboxView, read_only: bool) {
        for r in flag_responses(view.keywords().iter(), read_only) {
            self.push(&r);
        }
        self.push(&Response::Data(Data::Exists(view.exists())));
        self.push(&Response::Data(Data::Recent(view.recent_count())));
        if let Some((seq, _)) = view.iter().find(|(_, m)| !m.flags.seen) {
            self.push(&Response::status(
                Condition::Ok,
                Some(Code::Unseen(seq)),
                "First unseen",
            ));
        }
        let ok = |code, text| Response::status(Condition::Ok, Some(code), text);
        self.push(&ok(Code::UidValidity(view.uidvalidity()), "UIDs valid"));
        self.push(&ok(Code::UidNext(view.uidnext()), "Predicted next UID"));
        self.push(&ok(Code::HighestModSeq(view.highest_modseq()), "Highest"));
    }

    pub(super) async fn handle_create(&mut self, mailbox: &MailboxName) -> Result<RespText> {
        let name = store_name(mailbox)?;
        let address = self.address()?;
        self.services.store.create_folder(&address, &name).await?;
        Ok(Self::done("CREATE completed"))
    }

    /// DELETE: the folder goes; folders below it stay (they become
    /// children of a name that is `\Noselect`, RFC 3501 §6.3.4). Deleting
    /// the selected mailbox closes it.
    pub(super) async fn handle_delete(&mut self, mailbox: &MailboxName) -> Result<RespText> {
        let name = store_name(mailbox)?;
        if name == "INBOX" {
            return Err(ImapError::no_code(Code::Cannot, "INBOX can't be deleted"));
        }
        let address = self.address()?;
        self.services.store.delete_folder(&address, &name).await?;
        if self.selected().is_some_and(|s| s.name == name) {
            self.deselect();
        }
        Ok(Self::done("DELETE completed"))
    }

    /// RENAME: the folder and everything below it, with subscriptions.
    /// Renaming INBOX moves its messages and leaves it empty (RFC 3501
    /// §6.3.5).
    pub(super) async fn handle_rename(
        &mut self,
        from: &MailboxName,
        to: &MailboxName,
    ) -> Result<RespText> {
        let (from, to) = (store_name(from)?, store_name(to)?);
        let address = self.address()?;
        self.services
            .store
            .rename_folder(&address, &from, &to)
            .await?;
        if from != "INBOX" {
            tables::rename(&self.services.db, &address, &from, &to).await?;
            if let State::Selected(_, sel) = &mut self.state
                && let Some(rest) = sel.name.strip_prefix(&from)
                && (rest.is_empty() || rest.starts_with('/'))
            {
                sel.name = format!("{to}{rest}");
            }
        }
        Ok(Self::done("RENAME completed"))
    }

    /// SUBSCRIBE: any valid name, existing or not (RFC 3501 §6.3.6).
    pub(super) async fn handle_subscribe(&mut self, mailbox: &MailboxName) -> Result<RespText> {
        let name = store_name(mailbox)?;
        FolderName::new(&name)?;
        let address = self.address()?;
        tables::subscribe(&self.services.db, &address, &name).await?;
        Ok(Self::done("SUBSCRIBE completed"))
    }

    pub(super) async fn handle_unsubscribe(&mut self, mailbox: &MailboxName) -> Result<RespText> {
        let name = store_name(mailbox)?;
        let address = self.address()?;
        tables::unsubscribe(&self.services.db, &address, &name).await?;
        Ok(Self::done("UNSUBSCRIBE completed"))
    }

    pub(super) async fn handle_status(
        &mut self,
        mailbox: &MailboxName,
        items: &[StatusItem],
    ) -> Result<RespText> {
        let name = store_name(mailbox)?;
        let values = self.status_values(&name, items).await?;
        self.push(&Response::Data(Data::Status {
            mailbox: mailbox.clone(),
            items: values,
        }));
        Ok(Self::done("STATUS completed"))
    }

    /// The STATUS values of a folder (also for LIST-STATUS). Asking for
    /// HIGHESTMODSEQ enables CONDSTORE (RFC 7162 §3.1).
    pub(super) async fn status_values(
        &mut self,
        name: &str,
        items: &[StatusItem],
    ) -> Result<Vec<StatusValue>> {
        let address = self.address()?;
        let snap = self.services.store.sync(&address, name).await?;
        let needs_recent = items.contains(&StatusItem::Recent);
        let mark = match needs_recent {
            true => {
                tables::recent_mark(&self.services.db, &address, name, snap.uidvalidity).await?
            }
            false => 0,
        };
        let count = |f: &dyn Fn(&crate::store::MessageMeta) -> bool| {
            u32::try_from(snap.messages.iter().filter(|m| f(m)).count()).unwrap_or(u32::MAX)
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(match item {
                StatusItem::Messages => StatusValue::Messages(count(&|_| true)),
                StatusItem::Recent => StatusValue::Recent(count(&|m| m.uid > mark)),
                StatusItem::UidNext => StatusValue::UidNext(snap.uidnext),
                StatusItem::UidValidity => StatusValue::UidValidity(snap.uidvalidity),
                StatusItem::Unseen => StatusValue::Unseen(count(&|m| !m.flags.seen)),
                StatusItem::HighestModSeq => {
                    self.condstore = true;
                    StatusValue::HighestModSeq(snap.highest_modseq)
                }
                StatusItem::Size => StatusValue::Size(snap.messages.iter().map(|m| m.size).sum()),
            });
        }
        Ok(out)
    }
}

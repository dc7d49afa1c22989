//! TRANSACTION-state commands and QUIT (the UPDATE state).

use super::{INBOX, Maildrop, Msg, Session, State};
use crate::net::Transport;
use crate::protocol::pop3::{self, Code, Command, MultiLine};
use crate::store::{FlagMode, Flags, StoreError};

impl Maildrop {
    /// The live (not deleted) message numbered `n` (1-based).
    fn get(&self, n: u32) -> Option<&Msg> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        self.messages.get(i).filter(|m| !m.deleted)
    }

    fn uidl(&self, m: &Msg) -> String {
        format!("{:08X}{:08X}", m.uid, self.uidvalidity)
    }
}

impl<S: Transport> Session<S> {
    pub(super) async fn handle_transaction(&mut self, command: Command) {
        let State::Transaction(drop) = &mut self.state else {
            self.out.extend(pop3::err(None, "Not logged in"));
            return;
        };
        let no_such = || pop3::err(None, "No such message");
        let reply = match command {
            Command::Stat => {
                let live = drop.messages.iter().filter(|m| !m.deleted);
                let (n, size) = live.fold((0, 0), |(n, s), m| (n + 1, s + m.size));
                pop3::ok(&format!("{n} {size}"))
            }
            Command::List(None) | Command::Uidl(None) => {
                let uidl = matches!(command, Command::Uidl(_));
                let mut m = MultiLine::new("Listing follows");
                for (i, msg) in drop.messages.iter().enumerate().filter(|(_, m)| !m.deleted) {
                    let v = if uidl {
                        drop.uidl(msg)
                    } else {
                        msg.size.to_string()
                    };
                    m.line(&format!("{} {v}", i + 1));
                }
                m.finish()
            }
            Command::List(Some(n)) => match drop.get(n) {
                Some(m) => pop3::ok(&format!("{n} {}", m.size)),
                None => no_such(),
            },
            Command::Uidl(Some(n)) => match drop.get(n) {
                Some(m) => pop3::ok(&format!("{n} {}", drop.uidl(m))),
                None => no_such(),
            },
            Command::Dele(n) => match usize::try_from(n).ok().and_then(|n| n.checked_sub(1)) {
                Some(i) if drop.messages.get(i).is_some_and(|m| !m.deleted) => {
                    drop.messages[i].deleted = true;
                    pop3::ok(&format!("Message {n} deleted"))
                }
                _ => no_such(),
            },
            Command::Rset => {
                drop.messages.iter_mut().for_each(|m| m.deleted = false);
                pop3::ok("")
            }
            Command::Retr(n) => return self.send_message(n, None).await,
            Command::Top(n, lines) => return self.send_message(n, Some(lines)).await,
            _ => pop3::err(None, "Command not valid in this state"),
        };
        self.out.extend(reply);
    }

    /// RETR (whole message, sets `\Seen`) or TOP (headers + n lines).
    async fn send_message(&mut self, n: u32, top: Option<u32>) {
        let State::Transaction(drop) = &self.state else {
            return;
        };
        let Some(msg) = drop.get(n) else {
            self.out.extend(pop3::err(None, "No such message"));
            return;
        };
        let (account, uid) = (drop.account.clone(), msg.uid);
        let store = self.services.store.clone();
        let bytes = match store.read(&account, INBOX, uid).await {
            Ok(b) => b,
            Err(StoreError::NotFound) => {
                self.out.extend(pop3::err(
                    Some(Code::SysPerm),
                    "Message was removed by another session",
                ));
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "pop3 read failed");
                self.out
                    .extend(pop3::err(Some(Code::SysTemp), "Cannot read the message"));
                return;
            }
        };
        let mut m = MultiLine::new(&format!("{} octets", bytes.len()));
        match top {
            Some(lines) => m.body(pop3::top(&bytes, lines)),
            None => m.body(&bytes),
        }
        self.out.extend(m.finish());
        if top.is_none()
            && let State::Transaction(drop) = &mut self.state
        {
            drop.retrieved.insert(uid);
        }
    }

    /// QUIT: in TRANSACTION state, expunge what was marked (UPDATE state).
    pub(super) async fn handle_quit(&mut self) {
        self.done = true;
        let State::Transaction(drop) = &self.state else {
            self.out.extend(pop3::ok("Bye"));
            return;
        };
        let uids: Vec<u32> = drop
            .messages
            .iter()
            .filter(|m| m.deleted)
            .map(|m| m.uid)
            .collect();
        let seen: Vec<u32> = drop
            .messages
            .iter()
            .filter(|m| !m.deleted && drop.retrieved.contains(&m.uid))
            .map(|m| m.uid)
            .collect();
        if !seen.is_empty() {
            let flags = Flags {
                seen: true,
                ..Flags::default()
            };
            let store = &self.services.store;
            if let Err(e) = store
                .set_flags(&drop.account, INBOX, &seen, FlagMode::Add, &flags, None)
                .await
            {
                tracing::warn!(error = %e, "cannot set \\Seen on retrieved messages");
            }
        }
        if uids.is_empty() {
            self.out.extend(pop3::ok("Bye"));
            return;
        }
        match self
            .services
            .store
            .expunge(&drop.account, INBOX, &uids)
            .await
        {
            Ok(removed) => {
                tracing::info!(account = %drop.account, deleted = removed.len(), "pop3 update");
                self.out
                    .extend(pop3::ok(&format!("Bye; {} messages deleted", uids.len())));
            }
            Err(e) => {
                tracing::error!(error = %e, "pop3 expunge failed");
                self.out.extend(pop3::err(
                    Some(Code::SysTemp),
                    "Some deleted messages were not removed",
                ));
            }
        }
    }
}

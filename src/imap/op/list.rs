//! LIST and LSUB (RFC 3501 §6.3.8–6.3.9), with LIST-EXTENDED (RFC 5258:
//! selection SUBSCRIBED, RECURSIVEMATCH, SPECIAL-USE; return SUBSCRIBED,
//! CHILDREN, SPECIAL-USE; several patterns), LIST-STATUS (RFC 5819),
//! CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes.
//!
//! Names that exist only as parents of folders (the store lets `a/b`
//! exist without `a`) are listed `\Noselect` (`\NonExistent` in an
//! extended LIST), as RFC 3501 and RFC 5258 §3 ask.

use std::collections::{BTreeSet, HashMap};

use super::super::error::{ImapError, Result};
use super::super::names::{self, DELIMITER, Pattern, Tree};
use super::super::session::Session;
use super::super::tables;
use crate::net::Transport;
use crate::protocol::imap::{
    Data, List, ListItem, ListReturn, ListSelect, MailboxAttribute, MailboxName, RespText,
    Response, StatusItem,
};
use crate::store::SpecialUse;

/// What an extended LIST asked for.
#[derive(Debug, Default)]
struct Options {
    extended: bool,
    only_subscribed: bool,
    recursive: bool,
    only_special: bool,
    subscribed: bool,
    special: bool,
    status: Option<Vec<StatusItem>>,
}

impl Options {
    fn of(list: &List) -> Options {
        let selection = list.selection.clone().unwrap_or_default();
        let returns = list.returns.clone().unwrap_or_default();
        let only_subscribed = selection.contains(&ListSelect::Subscribed);
        let only_special = selection.contains(&ListSelect::SpecialUse);
        Options {
            extended: list.is_extended(),
            only_subscribed,
            recursive: selection.contains(&ListSelect::RecursiveMatch),
            only_special,
            subscribed: only_subscribed || returns.contains(&ListReturn::Subscribed),
            special: !list.is_extended()
                || only_special
                || returns.contains(&ListReturn::SpecialUse),
            status: returns.iter().find_map(|r| match r {
                ListReturn::Status(items) => Some(items.clone()),
                _ => None,
            }),
        }
    }
}

fn wire_text(name: &MailboxName) -> Result<String> {
    name.as_str()
        .map(str::to_string)
        .ok_or_else(|| ImapError::bad("Mailbox name is not valid modified UTF-7"))
}

fn special_attribute(u: SpecialUse) -> MailboxAttribute {
    match u {
        SpecialUse::Sent => MailboxAttribute::Sent,
        SpecialUse::Drafts => MailboxAttribute::Drafts,
        SpecialUse::Trash => MailboxAttribute::Trash,
        SpecialUse::Junk => MailboxAttribute::Junk,
        SpecialUse::Archive => MailboxAttribute::Archive,
    }
}

fn item(name: &str, attributes: Vec<MailboxAttribute>, child_info: Vec<String>) -> ListItem {
    ListItem {
        attributes,
        delimiter: Some(DELIMITER),
        mailbox: MailboxName::new(name),
        child_info,
    }
}

/// What LIST looks through.
struct Found<'a> {
    /// The folders (and their parents).
    tree: &'a Tree,
    /// The names that may be listed (folders, plus subscriptions for
    /// the SUBSCRIBED selection).
    candidates: &'a Tree,
    subs: &'a BTreeSet<String>,
    special: &'a HashMap<String, SpecialUse>,
}

impl Found<'_> {
    /// The LIST entries matching any pattern and the selection, with
    /// whether each exists (for LIST-STATUS).
    fn entries(&self, patterns: &[Pattern], options: &Options) -> Vec<(ListItem, bool)> {
        let mut listed = Vec::new();
        for (name, _) in self.candidates.iter() {
            if !patterns.iter().any(|p| p.matches(name)) {
                continue;
            }
            let subscribed = self.subs.contains(name);
            let mut child_info = Vec::new();
            if options.only_subscribed && !subscribed {
                let below = self
                    .candidates
                    .descendants(name)
                    .any(|d| self.subs.contains(d));
                if !(options.recursive && below) {
                    continue;
                }
                child_info.push("SUBSCRIBED".to_string());
            }
            let use_ = self.special.get(name).copied();
            if options.only_special && use_.is_none() {
                continue;
            }
            let node = self.tree.get(name);
            let exists = node.is_some_and(|n| n.exists);
            let mut attrs = Vec::new();
            if !exists {
                attrs.push(match options.extended {
                    true => MailboxAttribute::NonExistent,
                    false => MailboxAttribute::NoSelect,
                });
            }
            attrs.push(match node.is_some_and(|n| n.has_children) {
                true => MailboxAttribute::HasChildren,
                false => MailboxAttribute::HasNoChildren,
            });
            if options.subscribed && subscribed {
                attrs.push(MailboxAttribute::Subscribed);
            }
            if let Some(u) = use_.filter(|_| options.special) {
                attrs.push(special_attribute(u));
            }
            listed.push((item(name, attrs, child_info), exists));
        }
        listed
    }
}

impl<S: Transport> Session<S> {
    pub(super) async fn handle_list(&mut self, list: List) -> Result<RespText> {
        let options = Options::of(&list);
        let reference = wire_text(&list.reference)?;
        let mut patterns = Vec::with_capacity(list.patterns.len());
        for p in &list.patterns {
            patterns.push(names::combine(&reference, &wire_text(p)?));
        }
        if !options.extended && patterns.iter().all(String::is_empty) {
            // The delimiter query (RFC 3501 §6.3.8).
            let root = item("", vec![MailboxAttribute::NoSelect], Vec::new());
            self.push(&Response::Data(Data::List(root)));
            return Ok(Self::done("LIST completed"));
        }
        let patterns: Vec<Pattern> = patterns.iter().map(|p| Pattern::new(p)).collect();
        let address = self.address()?;
        let folders = self.services.store.list_folders(&address).await?;
        let special: HashMap<String, SpecialUse> = folders
            .iter()
            .filter_map(|f| f.special_use.map(|u| (f.name.clone(), u)))
            .collect();
        let tree = Tree::new(folders.iter().map(|f| f.name.as_str()));
        let subs: BTreeSet<String> = match options.subscribed {
            true => tables::subscriptions(&self.services.db, &address)
                .await?
                .into_iter()
                .collect(),
            false => BTreeSet::new(),
        };
        let mut candidates = tree.clone();
        if options.only_subscribed {
            candidates = Tree::new(
                folders
                    .iter()
                    .map(|f| f.name.as_str())
                    .chain(subs.iter().map(String::as_str)),
            );
        }
        let found = Found {
            tree: &tree,
            candidates: &candidates,
            subs: &subs,
            special: &special,
        };
        let listed = found.entries(&patterns, &options);
        for (entry, exists) in listed {
            let name = entry.mailbox.as_str().unwrap_or_default().to_string();
            self.send(&Response::Data(Data::List(entry))).await?;
            if let Some(items) = &options.status
                && exists
            {
                self.list_status(&name, items).await?;
            }
        }
        Ok(Self::done("LIST completed"))
    }

    /// LIST-STATUS: a STATUS response after a listed mailbox; a folder
    /// that vanished meanwhile is skipped (RFC 5819 §2).
    async fn list_status(&mut self, name: &str, items: &[StatusItem]) -> Result<()> {
        match self.status_values(name, items).await {
            Ok(values) => {
                self.push(&Response::Data(Data::Status {
                    mailbox: MailboxName::new(name),
                    items: values,
                }));
                Ok(())
            }
            Err(ImapError::Store(crate::store::StoreError::NoSuchFolder(_))) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// LSUB: subscribed names matching the pattern; a name subscribed
    /// but missing is `\Noselect`, and a parent of subscribed names that
    /// `%` hides is listed `\Noselect` too (RFC 3501 §6.3.9).
    pub(super) async fn handle_lsub(
        &mut self,
        reference: &MailboxName,
        pattern: &MailboxName,
    ) -> Result<RespText> {
        let pattern = Pattern::new(&names::combine(
            &wire_text(reference)?,
            &wire_text(pattern)?,
        ));
        let address = self.address()?;
        let subs = tables::subscriptions(&self.services.db, &address).await?;
        let folders = self.services.store.list_folders(&address).await?;
        let existing: BTreeSet<&str> = folders.iter().map(|f| f.name.as_str()).collect();
        let tree = Tree::of_names(subs.iter().map(String::as_str));
        let mut items = Vec::new();
        for (name, node) in tree.iter() {
            if !pattern.matches(name) {
                continue;
            }
            let subscribed = node.exists;
            if !subscribed && tree.descendants(name).any(|d| pattern.matches(d)) {
                continue;
            }
            let mut attrs = Vec::new();
            if !subscribed || !existing.contains(name) {
                attrs.push(MailboxAttribute::NoSelect);
            }
            items.push(item(name, attrs, Vec::new()));
        }
        for entry in items {
            self.send(&Response::Data(Data::Lsub(entry))).await?;
        }
        Ok(Self::done("LSUB completed"))
    }
}

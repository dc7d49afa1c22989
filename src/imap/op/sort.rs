//! SORT and UID SORT (RFC 5256 §3): the messages SEARCH would find, in
//! the order of the sort criteria, ties broken by sequence number.
//!
//! Keys: ARRIVAL (INTERNALDATE), DATE (the Date header, else
//! INTERNALDATE), SIZE, SUBJECT (the base subject of §2.1), FROM, TO, CC
//! (the first address's mailbox, §3), each optionally REVERSE. The keys
//! that need the message read it once per message.

use std::cmp::Ordering;

use super::super::error::Result;
use super::super::mime;
use super::super::session::Session;
use super::search::{check_charset, unix_secs};
use crate::net::Transport;
use crate::protocol::imap::{Data, RespText, Response, Sort, SortCriterion, SortKey};

/// One message's sort keys, in criteria order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Number(i64),
    Text(String),
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Number(_), Value::Text(_)) => Ordering::Less,
            (Value::Text(_), Value::Number(_)) => Ordering::Greater,
        }
    }
}

fn needs_message(key: SortKey) -> bool {
    !matches!(key, SortKey::Arrival | SortKey::Size)
}

/// The i;ascii-casemap comparator of RFC 5256 §2: ASCII letters folded.
fn casemap(s: String) -> String {
    s.to_ascii_uppercase()
}

fn value(key: SortKey, bytes: &[u8], internal: i64, size: u64) -> Value {
    match key {
        SortKey::Arrival => Value::Number(internal),
        SortKey::Size => Value::Number(i64::try_from(size).unwrap_or(i64::MAX)),
        SortKey::Date => Value::Number(mime::sort_date(bytes, internal)),
        SortKey::Subject => Value::Text(casemap(mime::sort_subject(bytes))),
        SortKey::From | SortKey::DisplayFrom => Value::Text(mime::sort_mailbox(bytes, "from")),
        SortKey::To | SortKey::DisplayTo => Value::Text(mime::sort_mailbox(bytes, "to")),
        SortKey::Cc => Value::Text(mime::sort_mailbox(bytes, "cc")),
    }
}

fn compare(criteria: &[SortCriterion], a: &[Value], b: &[Value]) -> Ordering {
    for (c, (x, y)) in criteria.iter().zip(a.iter().zip(b)) {
        let o = x.cmp(y);
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl<S: Transport> Session<S> {
    pub(super) async fn handle_sort(&mut self, sort: Sort) -> Result<RespText> {
        check_charset(Some(&sort.charset))?;
        let hits = self.run_search(&sort.search).await?;
        let read = sort.criteria.iter().any(|c| needs_message(c.key));
        let address = self.address()?;
        let name = self.selected().map(|s| s.name.clone()).unwrap_or_default();
        let mut rows = Vec::with_capacity(hits.len());
        for (seq, uid, _) in hits {
            let Some(msg) = self.selected().and_then(|s| s.view.get(seq)).cloned() else {
                continue;
            };
            let bytes = match read {
                true => match self.services.store.read(&address, &name, uid).await {
                    Ok(b) => b,
                    Err(crate::store::StoreError::NotFound) => continue,
                    Err(e) => return Err(e.into()),
                },
                false => Vec::new(),
            };
            let internal = unix_secs(msg.internal_date);
            let keys: Vec<Value> = sort
                .criteria
                .iter()
                .map(|c| value(c.key, &bytes, internal, msg.size))
                .collect();
            rows.push((keys, seq, uid));
        }
        rows.sort_by(|a, b| compare(&sort.criteria, &a.0, &b.0).then(a.1.cmp(&b.1)));
        let numbers = rows
            .into_iter()
            .map(|(_, seq, uid)| if sort.uid { uid } else { seq })
            .collect();
        self.push(&Response::Data(Data::Sort {
            numbers,
            modseq: None,
        }));
        Ok(Self::done("SORT completed"))
    }
}

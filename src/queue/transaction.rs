//! One mail transaction on an open connection: MAIL, RCPT for each
//! recipient, DATA, the message, the final reply (RFC 5321 §3.3), with
//! PIPELINING (RFC 2920) when offered: MAIL, every RCPT and DATA go out
//! in one write and the replies are read in order.
//!
//! Before anything is sent, what cannot work is settled locally: a
//! message larger than the server's SIZE (RFC 1870 §6: not sent, a
//! permanent failure), addresses that need SMTPUTF8 when it is not
//! offered (RFC 6531 §3.2: 5.6.7), addresses that do not parse.

use std::path::Path;

use super::client::{Client, SessionError, one_line};
use super::spool::Facts;
use super::store::{Outcome, OutcomeKind};
use crate::protocol::smtp::{
    Body, Command, EnhancedStatus, ForwardPath, MailParams, RcptParams, Reply, ReversePath,
};

/// The message of a transaction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Envelope<'a> {
    /// The envelope sender; empty for `<>`.
    pub sender: &'a str,
    /// The message arrived with SMTPUTF8.
    pub smtputf8: bool,
    /// The spool file holding the message, sent from there in chunks.
    pub body: &'a Path,
    /// Its size and whether it is 8-bit.
    pub facts: Facts,
}

/// Which command a refusal answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Mail,
    Rcpt,
    Data,
    EndOfData,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Mail => "MAIL FROM",
            Stage::Rcpt => "RCPT TO",
            Stage::Data => "DATA",
            Stage::EndOfData => "end of data",
        }
    }
}

/// What one recipient got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxRcpt {
    /// Accepted: the reply to the end of data.
    Delivered(Reply),
    /// Not delivered: the server's reply and what it answered.
    Refused(Reply, Stage),
    /// Never sent, for a local reason.
    Local(EnhancedStatus, String),
}

impl TxRcpt {
    /// As a recorded outcome, with `host` as the remote MTA.
    pub(crate) fn outcome(&self, host: &str) -> Outcome {
        let (kind, status, diagnostic, message) = match self {
            TxRcpt::Delivered(r) => {
                let d = one_line(r);
                let msg = format!("delivered to {host}: {d}");
                (OutcomeKind::Delivered, status_of(r), d, msg)
            }
            TxRcpt::Refused(r, stage) => {
                let d = one_line(r);
                let kind = if r.is_permanent() {
                    OutcomeKind::Failed
                } else {
                    OutcomeKind::Deferred
                };
                let msg = format!("{host} said: {d} (in reply to {})", stage.name());
                (kind, status_of(r), d, msg)
            }
            TxRcpt::Local(st, text) => {
                let kind = if st.class == 5 {
                    OutcomeKind::Failed
                } else {
                    OutcomeKind::Deferred
                };
                (kind, *st, String::new(), text.clone())
            }
        };
        Outcome {
            kind,
            status: status.to_string(),
            diagnostic,
            message,
            remote: host.to_string(),
        }
    }
}

/// The reply's enhanced status, or `class.0.0`.
fn status_of(r: &Reply) -> EnhancedStatus {
    let class = u8::try_from(r.code / 100).unwrap_or(4);
    r.status.unwrap_or(EnhancedStatus::new(class, 0, 0))
}

fn local(status: (u8, u16, u16), text: String) -> TxRcpt {
    TxRcpt::Local(EnhancedStatus::new(status.0, status.1, status.2), text)
}

/// Sends one message to `rcpts`; one result per recipient, in order.
///
/// # Errors
/// [`SessionError`] when the connection failed or the server closed it
/// (`421`) before the transaction ended: nothing is known, try elsewhere.
pub(crate) async fn send(
    client: &mut Client,
    env: &Envelope<'_>,
    rcpts: &[String],
) -> Result<Vec<TxRcpt>, SessionError> {
    let caps = client.capabilities().clone();
    let host = client.host().to_string();
    let size = env.facts.size;
    if let Some(limit) = caps.size.filter(|&l| l > 0 && size > l) {
        let text = format!("message of {size} octets exceeds the size limit ({limit}) of {host}");
        return Ok(vec![local((5, 3, 4), text); rcpts.len()]);
    }
    let from = if env.sender.is_empty() {
        Ok(ReversePath::Null)
    } else {
        ReversePath::parse(&format!("<{}>", env.sender))
    };
    let from = match from {
        Ok(f) if !f.is_ascii() && !caps.smtputf8 => {
            let text = format!("{host} does not support SMTPUTF8, needed for the sender");
            return Ok(vec![local((5, 6, 7), text); rcpts.len()]);
        }
        Ok(f) => f,
        Err(e) => {
            let text = format!("invalid sender address: {e}");
            return Ok(vec![local((5, 1, 7), text); rcpts.len()]);
        }
    };
    let mut results: Vec<Option<TxRcpt>> = vec![None; rcpts.len()];
    let mut paths = Vec::new();
    for (i, r) in rcpts.iter().enumerate() {
        match ForwardPath::parse(&format!("<{r}>")) {
            Ok(p) if !p.is_ascii() && !caps.smtputf8 => {
                let text = format!("{host} does not support SMTPUTF8, needed for this address");
                results[i] = Some(local((5, 6, 7), text));
            }
            Ok(p) => paths.push((i, p)),
            Err(e) => results[i] = Some(local((5, 1, 3), format!("invalid address: {e}"))),
        }
    }
    if !paths.is_empty() {
        let needs_utf8 = !from.is_ascii() || paths.iter().any(|(_, p)| !p.is_ascii());
        let params = MailParams {
            size: caps.size.map(|_| size),
            body: if caps.eight_bit_mime && env.facts.eight_bit {
                Body::EightBitMime
            } else {
                Body::SevenBit
            },
            smtputf8: caps.smtputf8 && (needs_utf8 || env.smtputf8),
            ..MailParams::default()
        };
        let mail = Command::Mail { from, params }.to_line();
        exchange(client, env, &mail, &paths, caps.pipelining, &mut results).await?;
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| local((4, 3, 0), "not attempted".into())))
        .collect())
}

/// Fails with the reply when it is `421` (the server is closing).
fn closing(reply: Reply) -> Result<Reply, SessionError> {
    if reply.code == 421 {
        return Err(SessionError {
            message: format!("connection closed by the server: {}", one_line(&reply)),
            reply: Some(reply),
        });
    }
    Ok(reply)
}

/// MAIL, RCPTs and DATA, pipelined or one by one, then the message.
async fn exchange(
    client: &mut Client,
    env: &Envelope<'_>,
    mail: &str,
    paths: &[(usize, ForwardPath)],
    pipelining: bool,
    results: &mut [Option<TxRcpt>],
) -> Result<(), SessionError> {
    let t = client.timeouts();
    if client.dirty {
        let r = closing(client.command("RSET\r\n").await?)?;
        if !r.is_positive() {
            return Err(SessionError {
                message: format!("RSET refused: {}", one_line(&r)),
                reply: Some(r),
            });
        }
    }
    client.dirty = true;
    let lines: Vec<String> = paths
        .iter()
        .map(|(_, to)| {
            let to = to.clone();
            let params = RcptParams::default();
            Command::Rcpt { to, params }.to_line()
        })
        .collect();
    let mut rcpt_replies = Vec::with_capacity(paths.len());
    let (mail_reply, data_reply) = if pipelining {
        let mut batch = mail.to_string();
        lines.iter().for_each(|l| batch.push_str(l));
        batch.push_str("DATA\r\n");
        client.write(batch.as_bytes(), t.command).await?;
        let mail_reply = closing(client.read_reply(t.command).await?)?;
        for _ in &lines {
            rcpt_replies.push(closing(client.read_reply(t.command).await?)?);
        }
        (
            mail_reply,
            Some(closing(client.read_reply(t.command).await?)?),
        )
    } else {
        let mail_reply = closing(client.command(mail).await?)?;
        if mail_reply.is_positive() {
            for l in &lines {
                rcpt_replies.push(closing(client.command(l).await?)?);
            }
        }
        let any = rcpt_replies.iter().any(Reply::is_positive);
        let data = if any {
            Some(closing(client.command("DATA\r\n").await?)?)
        } else {
            None
        };
        (mail_reply, data)
    };
    finish(
        client,
        env,
        paths,
        mail_reply,
        rcpt_replies,
        data_reply,
        results,
    )
    .await
}

/// Assigns results from the replies and sends the message if DATA was
/// accepted for at least one recipient.
async fn finish(
    client: &mut Client,
    env: &Envelope<'_>,
    paths: &[(usize, ForwardPath)],
    mail_reply: Reply,
    rcpt_replies: Vec<Reply>,
    data_reply: Option<Reply>,
    results: &mut [Option<TxRcpt>],
) -> Result<(), SessionError> {
    let t = client.timeouts();
    let mut accepted = Vec::new();
    for (n, (i, _)) in paths.iter().enumerate() {
        results[*i] = Some(match (&mail_reply, rcpt_replies.get(n)) {
            (m, _) if !m.is_positive() => TxRcpt::Refused(m.clone(), Stage::Mail),
            (_, Some(r)) if r.is_positive() => {
                accepted.push(*i);
                continue;
            }
            (_, Some(r)) => TxRcpt::Refused(r.clone(), Stage::Rcpt),
            (_, None) => local((4, 3, 0), "no reply to RCPT TO".into()),
        });
    }
    let Some(data_reply) = data_reply else {
        return Ok(());
    };
    if accepted.is_empty() {
        // Pipelined DATA was accepted although no recipient was: end the
        // (empty) message at once so the server aborts it.
        if data_reply.code == 354 {
            client.write(b".\r\n", t.command).await?;
            closing(client.read_reply(t.data).await?)?;
        }
        return Ok(());
    }
    if data_reply.code != 354 {
        for i in accepted {
            results[i] = Some(TxRcpt::Refused(data_reply.clone(), Stage::Data));
        }
        return Ok(());
    }
    client.send_data(env.body, t.data).await?;
    let end = client.read_reply(t.data).await?;
    client.dirty = false;
    for i in accepted {
        results[i] = Some(if end.is_positive() {
            TxRcpt::Delivered(end.clone())
        } else {
            TxRcpt::Refused(end.clone(), Stage::EndOfData)
        });
    }
    Ok(())
}

//! `postel queue`: look at and act on the outbound queue. Everything goes
//! through the database, so it works while the daemon runs: `flush` makes
//! mail due now and the daemon picks it up at its next poll (within a few
//! seconds); `delete` removes a message without a bounce.

use anyhow::{Result, bail};
use clap::Subcommand;
use time::OffsetDateTime;
use time::macros::format_description;

use postel::queue::admin::{QueuedMessage, RecipientState};
use postel::server::Services;

#[derive(Subcommand, Debug)]
pub enum QueueCmd {
    /// List queued messages: id, sender, recipients with their state,
    /// attempts, next try and last error.
    List,
    /// Show one message: its header section and every recipient's state.
    Show {
        /// The queue id (from `list`).
        id: String,
    },
    /// Make queued recipients due now: of one message, or all.
    Flush {
        /// The queue id; every message when left out.
        id: Option<String>,
    },
    /// Remove a message from the queue, without delivering it and
    /// without notifying its sender.
    Delete {
        /// The queue id.
        id: String,
    },
}

/// Runs one `queue` subcommand.
///
/// # Errors
/// Unknown ids, database or spool trouble.
pub async fn run(services: &Services, cmd: QueueCmd) -> Result<()> {
    let queue = &services.queue;
    match cmd {
        QueueCmd::List => {
            let all = queue.list().await?;
            if all.is_empty() {
                println!("the queue is empty");
            }
            for m in &all {
                print_message(m);
            }
        }
        QueueCmd::Show { id } => {
            let (m, headers) = queue.show(&id).await?;
            print_message(&m);
            for r in &m.recipients {
                print_details(r);
            }
            println!();
            print!("{}", headers.replace("\r\n", "\n"));
        }
        QueueCmd::Flush { id } => {
            let n = queue.flush(id.as_deref()).await?;
            if n == 0 && id.is_none() {
                println!("nothing to flush");
            } else {
                println!("{n} recipient(s) due now");
            }
        }
        QueueCmd::Delete { id } => {
            if id.is_empty() {
                bail!("no queue id given");
            }
            queue.delete(&id).await?;
            println!("deleted {id}");
        }
    }
    Ok(())
}

/// `2024-11-05 07:20:00 UTC` for unix milliseconds.
fn when(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| ms.to_string())
}

fn print_message(m: &QueuedMessage) {
    let i = &m.info;
    let sender = if i.sender.is_empty() {
        "<>".to_string()
    } else {
        format!("<{}>", i.sender)
    };
    println!(
        "{}\t{}\t{} octets\tfrom {sender}",
        i.id,
        when(i.created_at),
        i.size
    );
    for r in &m.recipients {
        let next = if r.status == "queued" {
            when(r.next_attempt)
        } else {
            "-".to_string()
        };
        let error = if r.last_error.is_empty() {
            String::new()
        } else {
            format!("\t{}", r.last_error)
        };
        println!(
            "\t<{}>\t{}\tattempts={}\tnext={next}{error}",
            r.recipient, r.status, r.attempts
        );
    }
}

fn print_details(r: &RecipientState) {
    println!("\n<{}>", r.recipient);
    let fields = [
        ("original", r.original.clone()),
        ("status", r.status.clone()),
        ("status code", r.status_code.clone()),
        ("remote MTA", r.remote_mta.clone()),
        ("diagnostic", r.diagnostic.clone()),
        ("last change", when(r.updated_at)),
    ];
    for (name, value) in fields {
        if !value.is_empty() {
            println!("\t{name}: {value}");
        }
    }
}

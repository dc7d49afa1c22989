//! `postel ban …`: the client addresses refused at connect, whether
//! banned automatically after failed logins (`[security]`) or by hand.
//! The bans are in the database, so a running server (every node)
//! honours a change within seconds.

use anyhow::{Result, bail};
use clap::Subcommand;
use time::OffsetDateTime;
use time::macros::format_description;

use postel::config::duration;
use postel::security::bans;
use postel::server::Services;

/// The `ban` subcommands.
#[derive(Subcommand, Debug)]
pub enum BanCmd {
    /// List active bans: address, reason, since, until.
    List,
    /// Ban an address or network (refused at connect, logins fail).
    Add {
        /// An IP address (`192.0.2.7`) or network (`192.0.2.0/24`).
        address: String,
        /// How long, e.g. `1h`, `7d`; default `security.ban_time`.
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
        /// Until `postel ban del` (overrides --for).
        #[arg(long)]
        permanent: bool,
        /// What the list shows as the reason.
        #[arg(long, default_value = "banned by the administrator")]
        reason: String,
    },
    /// Lift the ban of an address or network and forget its failed logins.
    Del {
        /// The address or network as listed.
        address: String,
    },
}

/// Runs one `ban` subcommand.
///
/// # Errors
/// A malformed address or duration, or a database failure.
pub async fn run(services: &Services, cmd: BanCmd) -> Result<()> {
    let db = &services.db;
    match cmd {
        BanCmd::List => {
            let list = bans::active(db, bans::now_ms()).await?;
            if list.is_empty() {
                println!("no active bans");
            }
            for b in list {
                let until = b.until.map_or_else(|| "permanent".to_string(), when);
                println!(
                    "{}\t{}\tsince {}\tuntil {until}",
                    b.address,
                    b.reason,
                    when(b.since)
                );
            }
        }
        BanCmd::Add {
            address,
            duration,
            permanent,
            reason,
        } => {
            let net = bans::parse_target(&address).map_err(anyhow::Error::msg)?;
            let length = match duration {
                Some(d) => duration::parse(&d)?,
                None => services.config.security.ban_time.get(),
            };
            if !permanent && length.is_zero() {
                bail!("a ban of zero length would end at once");
            }
            let now = bans::now_ms();
            let ms = i64::try_from(length.as_millis()).unwrap_or(i64::MAX);
            let until = (!permanent).then(|| now.saturating_add(ms));
            bans::add(db, &net, &reason, now, until).await?;
            let key = bans::target_key(&net);
            match until {
                Some(u) => println!("banned {key} until {}", when(u)),
                None => println!("banned {key} until deleted"),
            }
        }
        BanCmd::Del { address } => {
            let net = bans::parse_target(&address).map_err(anyhow::Error::msg)?;
            let key = bans::target_key(&net);
            if !bans::del(db, &net).await? {
                bail!("{key} is not banned");
            }
            println!("unbanned {key}");
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

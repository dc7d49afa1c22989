//! Command line: `postel [-c FILE] <command>`. Every subcommand opens (and
//! migrates) the database on first use; problems are reported as one line
//! on stderr by `main`.

mod backup;
mod ban;
mod dkim;
mod dns;
mod queue;
mod sender;

use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use postel::config::{self, Config};
use postel::directory::{Directory, Secret};
use postel::server::{self, Services};

/// Postel: SMTP, submission, IMAP and POP3 over one Maildir store.
#[derive(Parser, Debug)]
#[command(name = "postel", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        short,
        long,
        env = "POSTEL_CONFIG",
        default_value = "/etc/postel/postel.toml",
        global = true
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the daemon (until SIGTERM or SIGINT).
    Serve,
    /// Validate the configuration; print every problem with file, line and key.
    CheckConfig,
    /// Manage local domains.
    #[command(subcommand)]
    Domain(DomainCmd),
    /// Manage users (mailbox owners).
    #[command(subcommand)]
    User(UserCmd),
    /// Manage aliases, including `@domain` catch-alls.
    #[command(subcommand)]
    Alias(AliasCmd),
    /// Deliver a message read from stdin into a user's mailbox (like an LDA).
    Deliver(DeliverArgs),
    /// Inspect and manage greylisting state.
    #[command(subcommand)]
    Greylist(GreylistCmd),
    /// Inspect and manage the outbound queue.
    #[command(subcommand)]
    Queue(queue::QueueCmd),
    /// Manage DKIM signing keys and print their DNS records.
    #[command(subcommand)]
    Dkim(dkim::DkimCmd),
    /// List, add and lift bans of client addresses.
    #[command(subcommand)]
    Ban(ban::BanCmd),
    /// Print the DNS records a domain needs (`dns DOMAIN`), or check that
    /// they are published (`dns check DOMAIN`).
    Dns(dns::DnsArgs),
    /// Copy the database (a consistent SQLite snapshot) and the data
    /// directory's mail, queue and TLS files into DEST, while running.
    Backup(backup::BackupArgs),
}

#[derive(Subcommand, Debug)]
enum GreylistCmd {
    /// List greylisted triplets and the permanent allow list.
    List,
    /// Never greylist a client network/address or a sender domain (SPF must pass).
    Allow {
        /// `192.0.2.0/24`, `192.0.2.7`, `2001:db8::/48` or `example.com`.
        entry: String,
    },
    /// Remove an entry from the allow list.
    Disallow {
        /// As given to `allow`.
        entry: String,
    },
    /// Forget triplets: those older than greylist.max_age, or all with --all.
    Purge {
        /// Forget every triplet and counter (the allow list stays).
        #[arg(long)]
        all: bool,
    },
}

#[derive(Subcommand, Debug)]
enum DomainCmd {
    /// Add a local domain.
    Add {
        /// Domain name.
        domain: String,
    },
    /// Delete a local domain (it must have no users).
    Del {
        /// Domain name.
        domain: String,
    },
    /// List local domains (with their sender-policy overrides).
    List,
    /// Show or set the domain's submission sender rules (overriding
    /// `[submission]` for its users): POLICY owned|domain|any|default.
    SenderPolicy(sender::SenderArgs),
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Add a user; the password is read from stdin (first line) or prompted twice.
    Add {
        /// The user's address (its domain must exist).
        address: String,
        /// Storage quota in bytes; 0 = unlimited.
        #[arg(long, default_value_t = 0)]
        quota: u64,
        /// Adopt an existing (Dovecot) Maildir++ tree, keeping UIDs and keywords.
        #[arg(long, value_name = "PATH")]
        adopt_maildir: Option<PathBuf>,
    },
    /// Delete a user (the Maildir stays on disk unless --purge).
    Del {
        /// The user's address.
        address: String,
        /// Also delete the user's mail.
        #[arg(long)]
        purge: bool,
    },
    /// List users (never prints password hashes).
    List {
        /// Only users of this domain.
        domain: Option<String>,
    },
    /// Change a user's password (stdin or prompt, as for add).
    Passwd {
        /// The user's address.
        address: String,
    },
    /// Change a user's quota.
    Quota {
        /// The user's address.
        address: String,
        /// Quota in bytes; 0 = unlimited.
        bytes: u64,
    },
    /// Show or set the user's submission sender rules (overriding the
    /// domain's and `[submission]`): POLICY owned|domain|any|default.
    SenderPolicy(sender::SenderArgs),
}

#[derive(Subcommand, Debug)]
enum AliasCmd {
    /// Add SOURCE → TARGET… (SOURCE may be @domain for a catch-all).
    Add {
        /// local@domain or @domain.
        source: String,
        /// One or more target addresses, local or remote.
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Delete targets of SOURCE (all of them when none is given).
    Del {
        /// local@domain or @domain.
        source: String,
        /// Targets to remove.
        targets: Vec<String>,
    },
    /// List aliases.
    List,
}

#[derive(Args, Debug)]
struct DeliverArgs {
    /// Recipient address (users, aliases and catch-alls resolve as for SMTP).
    recipient: String,
    /// Folder to deliver into instead of INBOX.
    #[arg(long, default_value = "INBOX")]
    folder: String,
}

/// Runs one command.
///
/// # Errors
/// Anything that went wrong, for `main` to print as one line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::CheckConfig => return check_config(&cli.config),
        Command::Serve => {
            let config = load_config(&cli.config)?;
            postel::telemetry::init(&config.log.level);
            server::run(config).await?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let config = load_config(&cli.config)?;
    postel::telemetry::init("warn");
    let services = Services::open(config).await?;
    let result = match cli.command {
        Command::Domain(cmd) => domain(&services, cmd).await,
        Command::User(cmd) => user(&services, cmd).await,
        Command::Alias(cmd) => alias(&services.directory, cmd).await,
        Command::Deliver(args) => deliver(&services, args).await,
        Command::Greylist(cmd) => greylist(&services, cmd).await,
        Command::Queue(cmd) => queue::run(&services, cmd).await,
        Command::Dkim(cmd) => dkim::run(&services, cmd).await,
        Command::Ban(cmd) => ban::run(&services, cmd).await,
        Command::Dns(args) => {
            let code = dns::run(&services, args).await;
            services.db.close().await;
            return code;
        }
        Command::Backup(args) => backup::run(&services, args).await,
        Command::Serve | Command::CheckConfig => Ok(()),
    };
    services.db.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

fn load_config(path: &std::path::Path) -> Result<Config> {
    config::load::load(path).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))
}

fn check_config(path: &std::path::Path) -> Result<ExitCode> {
    match config::load::load(path) {
        Ok(_) => {
            println!("{}: OK", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            for p in &e.problems {
                eprintln!("{p}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn domain(services: &Services, cmd: DomainCmd) -> Result<()> {
    let dir = &services.directory;
    match cmd {
        DomainCmd::Add { domain } => {
            let d = dir.add_domain(&domain).await?;
            println!("added domain {d}");
        }
        DomainCmd::Del { domain } => {
            dir.delete_domain(&domain).await?;
            println!("deleted domain {domain}");
        }
        DomainCmd::List => {
            for d in dir.list_domains().await? {
                let overrides = dir.domain_sender(&d).await?;
                println!("{d}{}", sender::columns(&overrides));
            }
        }
        DomainCmd::SenderPolicy(args) => {
            sender::domain(dir, &services.config.submission, args).await?;
        }
    }
    Ok(())
}

async fn user(services: &Services, cmd: UserCmd) -> Result<()> {
    let (dir, store) = (&services.directory, &services.store);
    match cmd {
        UserCmd::Add {
            address,
            quota,
            adopt_maildir,
        } => {
            let password = read_password()?;
            let user = dir.add_user(&address, &password, quota).await?;
            let made = match &adopt_maildir {
                Some(path) => store
                    .adopt_maildir(&user.address, path)
                    .await
                    .map(|r| println!("adopted {}: {r}", path.display())),
                None => store.create_account(&user.address).await,
            };
            if let Err(e) = made {
                // Leave no user without a usable mailbox.
                dir.delete_user(&user.address).await.ok();
                return Err(e).context(format!("cannot set up the mailbox of {}", user.address));
            }
            println!("added user {}", user.address);
        }
        UserCmd::Del { address, purge } => {
            let addr = dir.delete_user(&address).await?;
            store.delete_account(&addr, purge).await?;
            println!(
                "deleted user {addr}{}",
                if purge { " and its mail" } else { "" }
            );
        }
        UserCmd::List { domain } => {
            for u in dir.list_users(domain.as_deref()).await? {
                let quota = if u.quota_bytes == 0 {
                    "unlimited".to_string()
                } else {
                    u.quota_bytes.to_string()
                };
                let state = if u.enabled { "enabled" } else { "disabled" };
                let overrides = sender::columns(&u.sender);
                println!("{}\tquota={quota}\t{state}{overrides}", u.address);
            }
        }
        UserCmd::Passwd { address } => {
            if dir.get_user(&address).await?.is_none() {
                bail!("no such user {address}");
            }
            let password = read_password()?;
            dir.set_password(&address, &password).await?;
            println!("password changed for {address}");
        }
        UserCmd::Quota { address, bytes } => {
            dir.set_quota(&address, bytes).await?;
            println!("quota of {address} set to {bytes}");
        }
        UserCmd::SenderPolicy(args) => {
            sender::user(dir, &services.config.submission, args).await?;
        }
    }
    Ok(())
}

async fn alias(dir: &Directory, cmd: AliasCmd) -> Result<()> {
    match cmd {
        AliasCmd::Add { source, targets } => {
            dir.add_alias(&source, &targets).await?;
            println!("added alias {source} -> {}", targets.join(", "));
        }
        AliasCmd::Del { source, targets } => {
            let n = dir.delete_alias(&source, &targets).await?;
            println!("deleted {n} alias target(s) of {source}");
        }
        AliasCmd::List => {
            for a in dir.list_aliases().await? {
                println!("{}\t{}", a.source, a.target);
            }
        }
    }
    Ok(())
}

async fn deliver(services: &Services, args: DeliverArgs) -> Result<()> {
    let mut message = Vec::new();
    std::io::stdin()
        .take(services.config.smtp.max_message_size.saturating_add(1))
        .read_to_end(&mut message)
        .context("cannot read the message from stdin")?;
    if message.len() as u64 > services.config.smtp.max_message_size {
        bail!("message larger than smtp.max_message_size");
    }
    let Some(route) = services.directory.resolve(&args.recipient).await? else {
        bail!("no such recipient {}", args.recipient);
    };
    if route.local.is_empty() {
        bail!("{} is not a local recipient", args.recipient);
    }
    for account in &route.local {
        let quota = services
            .directory
            .get_user(account)
            .await?
            .map_or(0, |u| u.quota_bytes);
        let delivered = services
            .store
            .deliver(account, &args.folder, &message, quota)
            .await
            .with_context(|| format!("delivery to {account} failed"))?;
        println!("delivered to {account}: {}", delivered.path.display());
    }
    Ok(())
}

async fn greylist(services: &Services, cmd: GreylistCmd) -> Result<()> {
    use postel::pipeline::greylist::admin::{self, AllowEntry};
    let db = &services.db;
    match cmd {
        GreylistCmd::List => {
            let now = postel::db::now_unix();
            for t in admin::list(db).await? {
                let state = if t.passes > 0 {
                    format!("passed {}x", t.passes)
                } else {
                    "waiting".to_string()
                };
                let age = now.saturating_sub(t.last_seen / 1000);
                println!(
                    "{}\t{}\t{}\t{state}\tlast seen {age}s ago",
                    t.client, t.sender, t.recipient
                );
            }
            for entry in admin::allowed(db).await? {
                println!("allow\t{entry}");
            }
        }
        GreylistCmd::Allow { entry } => {
            let e: AllowEntry = entry.parse()?;
            admin::allow(db, &e).await?;
            println!("allowed {e}");
        }
        GreylistCmd::Disallow { entry } => {
            let e: AllowEntry = entry.parse()?;
            if !admin::disallow(db, &e).await? {
                bail!("{e} is not on the allow list");
            }
            println!("removed {e}");
        }
        GreylistCmd::Purge { all } => {
            let counts = if all {
                admin::purge_all(db).await?
            } else {
                admin::expire(db, services.config.greylist.max_age.get()).await?
            };
            println!(
                "purged {} triplet(s), {} client counter(s), {} DKIM domain(s)",
                counts.triplets, counts.clients, counts.domains
            );
        }
    }
    Ok(())
}

/// The new password: the first line of stdin when it is not a terminal,
/// otherwise prompted twice without echo.
fn read_password() -> Result<Secret> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            bail!("no password on stdin (the first line is the password)");
        }
        return Ok(Secret::new(pw));
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let second = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    if first != second {
        bail!("the passwords do not match");
    }
    if first.is_empty() {
        bail!("the password must not be empty");
    }
    Ok(Secret::new(first))
}

//! `postel dns DOMAIN` (the records to publish, as a zone file or JSON)
//! and `postel dns check DOMAIN` (are they published?). The work is in
//! `postel::dnsrecords`; this file only parses options and prints.

use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use postel::dkim::{Keys, normalize_domain};
use postel::dnsrecords::{self, CheckInput, DmarcPolicy, Plan, SpfAll, check, render};
use postel::server::Services;

/// `postel dns …`: either `DOMAIN [options]` or `check DOMAIN [options]`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DnsArgs {
    #[command(subcommand)]
    check: Option<DnsCmd>,
    #[command(flatten)]
    print: Options,
}

/// The `dns` subcommands.
#[derive(Subcommand, Debug)]
enum DnsCmd {
    /// Query the configured resolvers and report each record as OK,
    /// missing or wrong; exit status 1 when something is wrong.
    Check(Options),
}

/// What both forms take.
#[derive(Args, Debug)]
struct Options {
    /// The local domain.
    #[arg(required = true)]
    domain: Option<String>,
    /// SPF's final term: `fail` (-all) or `softfail` (~all, while testing).
    #[arg(long, value_enum, default_value_t = SpfAllArg::Fail)]
    spf_all: SpfAllArg,
    /// DMARC policy for mail failing SPF and DKIM alignment.
    #[arg(long, value_enum, default_value_t = DmarcArg::Quarantine)]
    dmarc: DmarcArg,
    /// A public address of the server (repeatable): A/AAAA and PTR
    /// records are written for it; `check` requires SPF to authorise it
    /// and its reverse DNS to name server.hostname.
    #[arg(long = "address", value_name = "IP")]
    addresses: Vec<IpAddr>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SpfAllArg {
    /// `-all`.
    Fail,
    /// `~all`.
    Softfail,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DmarcArg {
    /// `p=none`: reports only.
    None,
    /// `p=quarantine`: to the spam folder.
    Quarantine,
    /// `p=reject`: refused.
    Reject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A zone-file fragment (records) or a report (check).
    Text,
    /// JSON on one line.
    Json,
}

impl Options {
    fn spf_all(&self) -> SpfAll {
        match self.spf_all {
            SpfAllArg::Fail => SpfAll::Fail,
            SpfAllArg::Softfail => SpfAll::SoftFail,
        }
    }

    fn dmarc(&self) -> DmarcPolicy {
        match self.dmarc {
            DmarcArg::None => DmarcPolicy::None,
            DmarcArg::Quarantine => DmarcPolicy::Quarantine,
            DmarcArg::Reject => DmarcPolicy::Reject,
        }
    }

    /// The domain, normalised, after checking it is a local one.
    async fn local_domain(&self, services: &Services) -> Result<String> {
        let given = self.domain.as_deref().unwrap_or_default();
        let domain = normalize_domain(given)?;
        if !services.directory.is_local_domain(&domain).await? {
            bail!(
                "domain {domain} is not a local domain (add it with `postel domain add {domain}`)"
            );
        }
        Ok(domain)
    }
}

/// Runs `postel dns …`.
///
/// # Errors
/// Not a local domain, database failure; DNS problems are findings, not
/// errors.
pub async fn run(services: &Services, args: DnsArgs) -> Result<ExitCode> {
    match args.check {
        None => print(services, &args.print).await,
        Some(DnsCmd::Check(opts)) => check(services, &opts).await,
    }
}

async fn print(services: &Services, opts: &Options) -> Result<ExitCode> {
    let domain = opts.local_domain(services).await?;
    let hostname = services.config.server.hostname.to_ascii_lowercase();
    let mta_sts_id = mta_sts_id(services);
    let keys = Keys::new(services.directory.clone())
        .active(&domain)
        .await?;
    let records = dnsrecords::plan(&Plan {
        domain: &domain,
        hostname: &hostname,
        listen: &services.config.listen,
        dkim: &keys,
        spf_all: opts.spf_all(),
        dmarc: opts.dmarc(),
        addresses: &opts.addresses,
        mta_sts_id: mta_sts_id.as_deref(),
    });
    match opts.format {
        Format::Text => print!("{}", render::zone_file(&domain, &hostname, &records)),
        Format::Json => println!("{}", render::json(&domain, &hostname, &records)),
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(services: &Services, opts: &Options) -> Result<ExitCode> {
    let domain = opts.local_domain(services).await?;
    let hostname = services.config.server.hostname.to_ascii_lowercase();
    let keys = Keys::new(services.directory.clone());
    let dkim = check::keys_for_check(&keys, &domain).await?;
    let mta_sts_id = mta_sts_id(services);
    let input = CheckInput {
        domain: &domain,
        hostname: &hostname,
        listen: &services.config.listen,
        dkim: &dkim,
        spf_all: opts.spf_all(),
        dmarc: opts.dmarc(),
        addresses: &opts.addresses,
        mta_sts_id: mta_sts_id.as_deref(),
    };
    let findings = check::check(&services.resolver, &input).await;
    match opts.format {
        Format::Text => print!("{}", render::check_text(&domain, &findings)),
        Format::Json => println!("{}", render::check_json(&domain, &findings)),
    }
    Ok(if findings.iter().any(|f| f.fails()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The id of the MTA-STS policy the HTTP listener serves, if one is.
fn mta_sts_id(services: &Services) -> Option<String> {
    use postel::http::mta_sts;
    mta_sts::policy_text(&services.config).map(|_| mta_sts::policy_id(&services.config))
}

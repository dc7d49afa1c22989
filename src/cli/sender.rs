//! `postel user sender-policy` and `postel domain sender-policy`: show or
//! change a user's or a domain's override of `[submission]`
//! `sender_policy` and `check_header_from`.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};

use postel::config::{SenderPolicy, SubmissionConfig};
use postel::directory::{Directory, SenderOverride, Setting};

/// A sender policy as given on the command line.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum PolicyArg {
    /// Own address, sub-addresses and aliases that deliver to the user.
    Owned,
    /// Any address of the user's domain.
    Domain,
    /// Any address.
    Any,
    /// Remove the override: inherit the domain's or the configuration's.
    Default,
}

/// On, off, or inherit.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SwitchArg {
    /// Check the `From:` header.
    On,
    /// Do not check it.
    Off,
    /// Remove the override.
    Default,
}

/// The arguments of `sender-policy`.
#[derive(Args, Debug)]
pub struct SenderArgs {
    /// The user's address (for `user`) or the domain (for `domain`).
    #[arg(value_name = "ADDRESS|DOMAIN")]
    pub target: String,
    /// New MAIL FROM policy; without it (and without --header-from) the
    /// settings in force are shown.
    #[arg(value_enum)]
    pub policy: Option<PolicyArg>,
    /// Whether the `From:` header must also pass the policy.
    #[arg(long, value_enum)]
    pub header_from: Option<SwitchArg>,
}

impl SenderArgs {
    fn settings(&self) -> (Setting<SenderPolicy>, Setting<bool>) {
        let policy = match self.policy {
            None => Setting::Keep,
            Some(PolicyArg::Owned) => Setting::Set(SenderPolicy::Owned),
            Some(PolicyArg::Domain) => Setting::Set(SenderPolicy::Domain),
            Some(PolicyArg::Any) => Setting::Set(SenderPolicy::Any),
            Some(PolicyArg::Default) => Setting::Inherit,
        };
        let check = match self.header_from {
            None => Setting::Keep,
            Some(SwitchArg::On) => Setting::Set(true),
            Some(SwitchArg::Off) => Setting::Set(false),
            Some(SwitchArg::Default) => Setting::Inherit,
        };
        (policy, check)
    }

    fn changes(&self) -> bool {
        self.policy.is_some() || self.header_from.is_some()
    }
}

/// `postel user sender-policy ADDRESS [POLICY] [--header-from …]`.
///
/// # Errors
/// Unknown user; database failure.
pub async fn user(dir: &Directory, defaults: &SubmissionConfig, args: SenderArgs) -> Result<()> {
    if args.changes() {
        let (policy, check) = args.settings();
        dir.set_user_sender(&args.target, policy, check).await?;
    }
    let Some(user) = dir.get_user(&args.target).await? else {
        bail!("no such user {}", args.target);
    };
    let domain = user
        .address
        .rsplit_once('@')
        .map_or("", |(_, d)| d)
        .to_string();
    let domain_override = dir.domain_sender(&domain).await?;
    println!(
        "{}\t{}",
        user.address,
        describe(
            &[("user", user.sender), ("domain", domain_override)],
            defaults
        )
    );
    Ok(())
}

/// `postel domain sender-policy DOMAIN [POLICY] [--header-from …]`.
///
/// # Errors
/// Unknown domain; database failure.
pub async fn domain(dir: &Directory, defaults: &SubmissionConfig, args: SenderArgs) -> Result<()> {
    let found = if args.changes() {
        let (policy, check) = args.settings();
        dir.set_domain_sender(&args.target, policy, check).await?
    } else {
        dir.domain_sender(&args.target).await?
    };
    let name = postel::directory::address::normalize_domain(&args.target)?;
    println!("{name}\t{}", describe(&[("domain", found)], defaults));
    Ok(())
}

/// The settings in force and where each comes from:
/// `sender_policy=any (user)\tcheck_header_from=true (configuration)`.
fn describe(layers: &[(&str, SenderOverride)], defaults: &SubmissionConfig) -> String {
    let policy = layers
        .iter()
        .find_map(|(name, o)| o.policy.map(|p| (p, *name)))
        .unwrap_or((defaults.sender_policy, "configuration"));
    let check = layers
        .iter()
        .find_map(|(name, o)| o.check_header_from.map(|c| (c, *name)))
        .unwrap_or((defaults.check_header_from, "configuration"));
    format!(
        "sender_policy={} ({})\tcheck_header_from={} ({})",
        policy.0, policy.1, check.0, check.1
    )
}

/// The overrides as extra columns for `list`: empty when none is set.
pub fn columns(o: &SenderOverride) -> String {
    let mut out = String::new();
    if let Some(p) = o.policy {
        out.push_str(&format!("\tsender_policy={p}"));
    }
    if let Some(c) = o.check_header_from {
        out.push_str(&format!("\tcheck_header_from={c}"));
    }
    out
}

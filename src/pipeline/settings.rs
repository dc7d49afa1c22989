//! Settings of the pipeline: the `[auth]` section (defined in the config
//! tree, re-exported here), and [`PipelineSettings`], everything a [`super::Pipeline`] needs
//! gathered from the loaded [`Config`].

use ipnet::IpNet;

pub use crate::config::{AuthConfig, FailAction, ReverseDns};
use crate::config::{Config, GreylistConfig};

/// Everything the pipeline reads from the configuration.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Our name: `by` of Received, authserv-id of Authentication-Results.
    pub hostname: String,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `[greylist]`.
    pub greylist: GreylistConfig,
    /// `smtp.relay_networks`: trusted clients, exempt from greylisting.
    pub relay_networks: Vec<IpNet>,
}

impl PipelineSettings {
    /// Settings from a loaded configuration and its `[auth]` section.
    pub fn from_config(config: &Config, auth: &AuthConfig) -> PipelineSettings {
        PipelineSettings {
            hostname: config.server.hostname.clone(),
            auth: auth.clone(),
            greylist: config.greylist.clone(),
            relay_networks: config.smtp.relay_networks.clone(),
        }
    }

    /// Whether `ip` is one of the relay networks.
    pub fn is_relay(&self, ip: std::net::IpAddr) -> bool {
        self.relay_networks.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_defaults_and_keys() {
        let auth: AuthConfig = toml::from_str("").unwrap_or_default();
        assert_eq!(auth.spf_fail, FailAction::Mark);
        assert_eq!(auth.reverse_dns, ReverseDns::Check);
        assert!(auth.dnsbl.is_empty());
        let auth: Result<AuthConfig, _> = toml::from_str(
            "spf_fail = \"reject\"\ndnsbl = [\"zen.spamhaus.org\"]\nreverse_dns = \"require\"",
        );
        let auth = auth.unwrap_or_default();
        assert_eq!(auth.spf_fail, FailAction::Reject);
        assert_eq!(auth.dnsbl, vec!["zen.spamhaus.org".to_string()]);
        assert!(toml::from_str::<AuthConfig>("nope = 1").is_err());
        assert!(toml::from_str::<AuthConfig>("spf_fail = \"bounce\"").is_err());
    }
}

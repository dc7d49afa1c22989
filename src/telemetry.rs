//! Logging: one `tracing` subscriber for the process, filtered by
//! `RUST_LOG` when set, else by `[log] level`. Lines go to stderr, which
//! systemd's journal captures. No passwords or message bodies are ever
//! logged (passwords travel as [`crate::directory::Secret`]).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `level` is a `RUST_LOG`-style filter.
/// Calling it twice is harmless (the second call does nothing).
pub fn init(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

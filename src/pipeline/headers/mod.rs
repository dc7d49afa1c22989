//! Trace and authentication headers the pipeline adds to each inbound
//! message: `Received:` ([`received`], RFC 5321 §4.4) and
//! `Authentication-Results:` ([`auth_results`], RFC 8601), plus removal
//! of forged Authentication-Results claiming our name.

pub mod auth_results;
pub mod received;

pub use received::{ReceivedInfo, TlsInfo};

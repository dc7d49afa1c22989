//! Commands valid in any state (RFC 3501 §6.1: CAPABILITY, NOOP,
//! LOGOUT; RFC 2971 ID) and the small authenticated-state extensions
//! ENABLE (RFC 5161) and NAMESPACE (RFC 2342).

use super::super::error::{ImapError, Result};
use super::super::names::DELIMITER;
use super::super::session::{Session, State};
use crate::net::Transport;
use crate::protocol::imap::{Atom, Condition, Data, Namespace, RespText, Response};

impl<S: Transport> Session<S> {
    pub(super) fn handle_capability(&mut self) -> Result<RespText> {
        let caps = self.capabilities();
        self.push(&Response::Data(Data::Capability(caps)));
        Ok(Self::done("Capability completed"))
    }

    /// NOOP: a sync point; what changed is told before the tagged OK.
    pub(super) async fn handle_noop(&mut self) -> Result<RespText> {
        self.refresh(true).await?;
        Ok(Self::done("NOOP completed"))
    }

    pub(super) fn handle_logout(&mut self) -> Result<RespText> {
        self.push(&Response::status(Condition::Bye, None, "Logging out"));
        self.state = State::Logout;
        Ok(Self::done("Logout completed"))
    }

    /// ID (RFC 2971): we say who we are; what the client says is only
    /// logged.
    pub(super) fn handle_id(&mut self) -> Result<RespText> {
        let fields = vec![
            ("name".to_string(), Some("Postel".to_string())),
            (
                "version".to_string(),
                Some(env!("CARGO_PKG_VERSION").to_string()),
            ),
        ];
        self.push(&Response::Data(Data::Id(Some(fields))));
        Ok(Self::done("ID completed"))
    }

    /// ENABLE (RFC 5161): CONDSTORE is the only extension that needs it
    /// here; others are ignored, as the RFC says.
    pub(super) fn handle_enable(&mut self, caps: &[Atom]) -> Result<RespText> {
        let mut enabled = Vec::new();
        for cap in caps {
            if cap.as_str().eq_ignore_ascii_case("CONDSTORE") && !self.condstore {
                self.condstore = true;
                enabled.push("CONDSTORE".to_string());
            }
        }
        self.push(&Response::Data(Data::Enabled(enabled)));
        Ok(Self::done("ENABLE completed"))
    }

    /// NAMESPACE (RFC 2342): one personal namespace, no prefix.
    pub(super) fn handle_namespace(&mut self) -> Result<RespText> {
        if self.account().is_none() {
            return Err(ImapError::bad("Log in first"));
        }
        self.push(&Response::Data(Data::Namespace {
            personal: vec![Namespace {
                prefix: String::new(),
                delimiter: Some(DELIMITER),
            }],
            other: Vec::new(),
            shared: Vec::new(),
        }));
        Ok(Self::done("NAMESPACE completed"))
    }
}

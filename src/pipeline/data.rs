//! The end-of-DATA runner: authentication stages, greylisting, merge,
//! headers. Each step is one small function; `run` only sequences them.

use std::ops::Range;

use mail_auth::AuthenticatedMessage;
use time::OffsetDateTime;

use super::greylist::GreylistRequest;
use super::headers::{ReceivedInfo, auth_results, received};
use super::session::SessionCtx;
use super::spf::SpfCheck;
use super::verdict::{EnhancedStatus, Reply, Stage, StageOutcome, Verdict, merge_outcomes};
use super::{Pipeline, dkim, dmarc, spf};

/// What the session does with a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataOutcome {
    /// The merged verdict: deliver (Accept: inbox, Junk: Junk folder) or
    /// answer the reply.
    pub verdict: Verdict,
    /// `Authentication-Results:` then `Received:`, CRLF-terminated, to
    /// write before the message.
    pub headers_to_prepend: String,
    /// Byte ranges of the received message to leave out: forged
    /// Authentication-Results fields claiming our hostname.
    pub strip: Vec<Range<usize>>,
    /// Every stage's outcome, in stage order (for the log line).
    pub stages: Vec<StageOutcome>,
}

impl DataOutcome {
    /// The message as it is to be stored: our headers, then the received
    /// message without the stripped ranges.
    pub fn assemble(&self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.headers_to_prepend.len() + message.len());
        out.extend_from_slice(self.headers_to_prepend.as_bytes());
        out.extend_from_slice(&auth_results::without_ranges(message, &self.strip));
        out
    }
}

/// Order of the entries in Authentication-Results.
const AR_ORDER: [Stage; 5] = [
    Stage::Spf,
    Stage::Dkim,
    Stage::Dmarc,
    Stage::Arc,
    Stage::ReverseDns,
];

pub(super) async fn run(
    p: &Pipeline,
    ctx: &SessionCtx,
    id: &str,
    recipients: &[String],
    message: &[u8],
) -> DataOutcome {
    let mut stages: Vec<StageOutcome> = ctx.client_outcomes.clone();
    let auth_parts = match &ctx.authenticated {
        Some(user) => vec![format!(
            "auth=pass smtp.auth={}",
            auth_results::pvalue(user)
        )],
        None => {
            let (outcomes, dkim_domains, spf) = authenticate(p, ctx, message).await;
            stages.extend(outcomes);
            if let Some(g) = greylist_stage(p, ctx, &stages, recipients, &spf, &dkim_domains).await
            {
                stages.push(g);
            }
            ar_parts(&stages)
        }
    };
    stages.sort_by_key(|s| s.stage);
    let verdict = merge_outcomes(&stages);
    let hostname = &p.settings.hostname;
    let mut headers = auth_results::build(hostname, &auth_parts);
    headers.push_str(&received::build(&ReceivedInfo {
        helo: &ctx.helo,
        rdns: ctx.rdns_name(),
        ip: ctx.ip(),
        hide_client: ctx.hide_client,
        hostname,
        protocol: ctx.protocol(),
        id,
        tls: ctx.tls.as_ref(),
        recipients,
        date: OffsetDateTime::now_utc(),
    }));
    tracing::debug!(id, ?verdict, "inbound checks done");
    DataOutcome {
        verdict,
        headers_to_prepend: headers,
        strip: auth_results::forged_ranges(message, hostname),
        stages,
    }
}

fn ar_parts(stages: &[StageOutcome]) -> Vec<String> {
    AR_ORDER
        .iter()
        .flat_map(|want| stages.iter().filter(move |s| s.stage == *want))
        .flat_map(|s| s.auth_results.iter().cloned())
        .collect()
}

/// SPF (from MAIL FROM, or run now if the session skipped `on_mail`),
/// DKIM, ARC and DMARC. Returns the outcomes, the aligned passing DKIM
/// domains, and the SPF check.
async fn authenticate(
    p: &Pipeline,
    ctx: &SessionCtx,
    message: &[u8],
) -> (Vec<StageOutcome>, Vec<String>, SpfCheck) {
    let resolver = &p.resolver;
    let authenticator = resolver.authenticator();
    let spf = match ctx.spf() {
        Some(spf) => spf.clone(),
        None => {
            spf::check(
                resolver,
                ctx.ip(),
                &ctx.helo,
                ctx.mail_from().unwrap_or(""),
                &p.settings.hostname,
            )
            .await
        }
    };
    let mut outcomes = vec![outcome(
        Stage::Spf,
        spf.verdict_at_mail(),
        vec![spf.auth_result()],
    )];
    let Some(parsed) = AuthenticatedMessage::parse(message) else {
        outcomes.push(outcome(
            Stage::Dkim,
            Verdict::Accept,
            vec!["dkim=none".into()],
        ));
        outcomes.push(outcome(
            Stage::Dmarc,
            spf_only(p, ctx, &spf),
            vec!["dmarc=none".into()],
        ));
        return (outcomes, Vec::new(), spf);
    };
    let dkim_outputs = authenticator
        .verify_dkim(resolver.auth_params(&parsed))
        .await;
    let signatures = dkim::summarize(&dkim_outputs);
    let arc = authenticator
        .verify_arc(resolver.auth_params(&parsed))
        .await;
    let dmarc = dmarc::check(resolver, &parsed, &dkim_outputs, &spf).await;
    let from_domain = from_domain(&parsed);
    let dkim_domains = dkim::aligned_pass_domains(&signatures, &from_domain);
    outcomes.push(outcome(
        Stage::Dkim,
        Verdict::Accept,
        dkim::auth_results(&signatures),
    ));
    outcomes.push(outcome(
        Stage::Arc,
        Verdict::Accept,
        vec![dkim::arc_result(&arc, ctx.ip())],
    ));
    let verdict = dmarc::verdict(&dmarc, &spf, &p.settings.auth, ctx.ip());
    outcomes.push(outcome(Stage::Dmarc, verdict, vec![dmarc.auth_result()]));
    (outcomes, dkim_domains, spf)
}

fn spf_only(p: &Pipeline, ctx: &SessionCtx, spf: &SpfCheck) -> Verdict {
    spf::fail_verdict(p.settings.auth.spf_fail, spf, ctx.ip())
}

/// The single RFC 5322.From domain, lowercased; empty when absent or
/// when several From addresses name different domains.
fn from_domain(message: &AuthenticatedMessage<'_>) -> String {
    let mut domains = message
        .from
        .iter()
        .map(|a| spf::domain_of(a).to_ascii_lowercase());
    let first = domains.next().unwrap_or_default();
    if domains.all(|d| d == first) {
        first
    } else {
        String::new()
    }
}

fn outcome(stage: Stage, verdict: Verdict, auth_results: Vec<String>) -> StageOutcome {
    StageOutcome {
        stage,
        verdict,
        auth_results,
    }
}

/// Greylisting, unless disabled, exempt (relay network), or the message
/// is refused anyway (no clock starts for an attempt refused elsewhere).
async fn greylist_stage(
    p: &Pipeline,
    ctx: &SessionCtx,
    stages: &[StageOutcome],
    recipients: &[String],
    spf: &SpfCheck,
    dkim_domains: &[String],
) -> Option<StageOutcome> {
    let config = p.greylist.config();
    if !config.enabled || p.settings.is_relay(ctx.ip()) || !merge_outcomes(stages).is_deliverable()
    {
        return None;
    }
    let spf_domain = spf.authenticated_domain();
    let request = GreylistRequest {
        ip: ctx.ip(),
        sender: ctx.mail_from().unwrap_or(""),
        recipients,
        spf_domain: spf_domain.as_deref(),
        dkim_domains,
    };
    let verdict = match p.greylist.check(&request).await {
        Ok(decision) => {
            tracing::debug!(?decision, "greylisting");
            decision.verdict()
        }
        Err(err) => {
            tracing::error!(%err, "greylisting failed; message refused temporarily");
            Verdict::TempFail(Reply::new(
                451,
                EnhancedStatus(4, 3, 0),
                "Temporary local problem, please try again later",
            ))
        }
    };
    Some(outcome(Stage::Greylist, verdict, Vec::new()))
}

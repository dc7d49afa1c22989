//! The TXT-record checks of `postel dns check`: SPF (evaluation and
//! lookup count), DMARC (syntax, policy), DKIM (key against the private
//! key) and tagged records such as TLS-RPT.

use super::check::{Ctx, Finding, Status, verdict};
use super::spf_walk::{self, MAX_LOOKUPS, MAX_VOID_LOOKUPS, Node, SpfResult};
use super::{Data, Record, dmarc};
use crate::dns::LookupError;

pub(super) async fn spf(ctx: &Ctx<'_>, f: &mut Finding) -> Result<(), LookupError> {
    let tree = spf_walk::walk(ctx.resolver, ctx.input.domain).await;
    let record = match &tree.node {
        Node::Record(r) => r,
        Node::NoRecord | Node::NotFetched => return Err(LookupError::NotFound),
        Node::TempError(e) => return Err(LookupError::Temporary(e.clone())),
        Node::Multiple(texts) => {
            f.found = texts.clone();
            verdict(f, Status::Wrong, "several SPF records (receivers see none)");
            return Ok(());
        }
        Node::Syntax { text, error } => {
            f.found = vec![text.clone()];
            verdict(f, Status::Wrong, format!("does not parse: {error}"));
            return Ok(());
        }
    };
    f.found = vec![record.text.clone()];
    let mut problems = Vec::new();
    let (n, complete) = spf_walk::lookups(&tree);
    let count = if complete {
        n.to_string()
    } else {
        format!("more than {n}")
    };
    if n > MAX_LOOKUPS || !complete {
        problems.push(format!(
            "{count} DNS lookups (RFC 7208 allows {MAX_LOOKUPS})"
        ));
    }
    let voids = spf_walk::void_lookups(&tree);
    if voids > MAX_VOID_LOOKUPS {
        problems.push(format!(
            "{voids} lookups find nothing (RFC 7208 allows {MAX_VOID_LOOKUPS})"
        ));
    }
    for ip in &ctx.server_ips {
        let result = spf_walk::evaluate(&tree, *ip);
        if result != SpfResult::Pass {
            problems.push(format!("does not authorise {ip} (result: {result})"));
        }
    }
    if problems.is_empty() {
        let tested = if ctx.server_ips.is_empty() {
            "no server address known to test".to_string()
        } else {
            let ips: Vec<String> = ctx.server_ips.iter().map(ToString::to_string).collect();
            format!("authorises {}", ips.join(", "))
        };
        f.detail = format!("{tested}; {count} DNS lookups");
    } else {
        verdict(f, Status::Wrong, problems.join("; "));
    }
    Ok(())
}

pub(super) async fn dmarc_record(
    ctx: &Ctx<'_>,
    record: &Record,
    f: &mut Finding,
) -> Result<(), LookupError> {
    let texts: Vec<String> = ctx
        .resolver
        .txt(&record.name)
        .await?
        .into_iter()
        .filter(|t| t.trim_start().starts_with("v=DMARC"))
        .collect();
    f.found = texts.clone();
    match texts.as_slice() {
        [] => Err(LookupError::NotFound),
        [text] => {
            match dmarc::parse(text) {
                Err(e) => verdict(f, Status::Wrong, format!("does not parse: {e}")),
                Ok(d) if d.rua.is_empty() => {
                    verdict(f, Status::Warning, "no rua=: nobody receives reports");
                }
                Ok(d) if d.policy != ctx.input.dmarc => {
                    let detail = format!(
                        "parses; policy p={} (suggested p={})",
                        d.policy, ctx.input.dmarc
                    );
                    verdict(f, Status::Warning, detail);
                }
                Ok(d) => f.detail = format!("parses; policy p={}", d.policy),
            }
            Ok(())
        }
        _ => {
            verdict(
                f,
                Status::Wrong,
                "several DMARC records (receivers ignore them)",
            );
            Ok(())
        }
    }
}

/// The tags of a DKIM key record (RFC 6376 §3.6.1), names lowercased,
/// whitespace removed from values.
pub(super) fn dkim_tags(text: &str) -> Vec<(String, String)> {
    text.split(';')
        .filter_map(|t| t.split_once('='))
        .map(|(n, v)| {
            let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
            (n.trim().to_ascii_lowercase(), v)
        })
        .collect()
}

pub(super) async fn dkim(
    ctx: &Ctx<'_>,
    record: &Record,
    f: &mut Finding,
) -> Result<(), LookupError> {
    let Data::Txt(expected) = &record.data else {
        f.detail = format!(
            "{} has no active DKIM key in the database",
            ctx.input.domain
        );
        return Err(LookupError::NotFound);
    };
    f.found = ctx.resolver.txt(&record.name).await?;
    let want = dkim_tags(expected);
    let tag = |tags: &[(String, String)], name: &str| {
        tags.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    let (want_p, want_k) = (tag(&want, "p"), tag(&want, "k"));
    let mut problem = "no DKIM key record (v=DKIM1; …; p=…)".to_string();
    for text in &f.found {
        let tags = dkim_tags(text);
        let Some(p) = tag(&tags, "p") else { continue };
        let k = tag(&tags, "k").unwrap_or_else(|| "rsa".into());
        if p.is_empty() {
            problem = "the key is revoked (empty p=)".into();
        } else if Some(&p) != want_p.as_ref() {
            problem = "the published key (p=) is not the public half of the private key \
                       in the database"
                .into();
        } else if Some(&k) != want_k.as_ref() {
            problem = format!(
                "k={k}, but the key is {}",
                want_k.clone().unwrap_or_default()
            );
        } else {
            f.detail = "matches the private key in the database".into();
            return Ok(());
        }
    }
    verdict(f, Status::Wrong, problem);
    Ok(())
}

pub(super) async fn tagged(
    ctx: &Ctx<'_>,
    record: &Record,
    tag: &str,
    f: &mut Finding,
) -> Result<(), LookupError> {
    f.found = ctx.resolver.txt(&record.name).await?;
    let ours: Vec<&String> = f
        .found
        .iter()
        .filter(|t| t.trim_start().starts_with(tag))
        .collect();
    match ours.as_slice() {
        [] => Err(LookupError::NotFound),
        [one]
            if dkim_tags(one)
                .iter()
                .any(|(n, v)| n == "rua" && !v.is_empty()) =>
        {
            Ok(())
        }
        [_] => {
            verdict(f, Status::Wrong, "no rua= tag");
            Ok(())
        }
        _ => {
            verdict(f, Status::Wrong, format!("several {tag} records"));
            Ok(())
        }
    }
}

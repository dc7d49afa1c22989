//! Writing the record list: a zone-file fragment (every record preceded by
//! a `;` comment line saying why it is there) or JSON.
//!
//! Lines that cannot be pasted into the domain's zone are commented out
//! too: placeholders (values only the operator knows) and records owned by
//! another zone (the host name's A/AAAA when it is outside the domain, and
//! every PTR, which the owner of the address publishes).

use serde_json::{Value, json};

use super::check::{Finding, Status};
use super::{Data, Record, absolute};
use crate::dkim::DnsRecord;

/// Whether `name` belongs in the zone of `domain`.
pub fn in_zone(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    name == domain || name.ends_with(&format!(".{domain}"))
}

/// One zone-file line for a record (not commented out). TXT values are
/// split into 255-byte strings by [`DnsRecord`], as `postel dkim` does.
pub fn zone_line(record: &Record) -> String {
    let name = absolute(&record.name);
    match &record.data {
        Data::Txt(value) => DnsRecord {
            name,
            value: value.clone(),
        }
        .to_string(),
        data => format!("{name} IN {} {}", data.rtype(), data.value()),
    }
}

/// The records as a zone-file fragment for `domain`.
pub fn zone_file(domain: &str, hostname: &str, records: &[Record]) -> String {
    let mut out = format!(
        "; DNS records for {domain}, whose mail server is {hostname} (`postel dns {domain}`).\n\
         ; Lines starting with ';' are comments; commented-out records belong in another\n\
         ; zone or need a value only you know. Check with `postel dns check {domain}`.\n"
    );
    for r in records {
        let optional = if r.required { "" } else { "(optional) " };
        out.push_str(&format!("\n; {optional}{}\n", r.explanation));
        let line = zone_line(r);
        let placeholder = matches!(r.data, Data::Placeholder { .. });
        if placeholder || !in_zone(&r.name, domain) {
            out.push_str("; ");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The records as JSON: `{"domain", "hostname", "records": [{"name",
/// "type", "value", "explanation", "required", "placeholder", "in_zone"}]}`.
/// Names are absolute; `value` is presentation form, except TXT values,
/// which are the plain text (not split, not quoted).
pub fn json(domain: &str, hostname: &str, records: &[Record]) -> Value {
    let list: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "name": absolute(&r.name),
                "type": r.data.rtype(),
                "value": r.data.value(),
                "explanation": r.explanation,
                "required": r.required,
                "placeholder": matches!(r.data, Data::Placeholder { .. }),
                "in_zone": in_zone(&r.name, domain),
            })
        })
        .collect();
    json!({ "domain": domain, "hostname": hostname, "records": list })
}

/// The `dns check` report as text: one line per record (status, type,
/// name, comment), then expected and found values for anything not OK,
/// then a summary line.
pub fn check_text(domain: &str, findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let label = match (f.status, f.required) {
            (Status::Missing, false) => "MISSING (optional)".to_string(),
            (status, _) => status.label().to_string(),
        };
        out.push_str(&format!("{label:<8} {:<5} {}", f.rtype, absolute(&f.name)));
        if !f.detail.is_empty() {
            out.push_str(&format!("  ({})", f.detail));
        }
        out.push('\n');
        if f.status != Status::Ok {
            out.push_str(&format!("         expected: {}\n", f.expected));
            let found = if f.found.is_empty() {
                "nothing".to_string()
            } else {
                f.found.join(" | ")
            };
            out.push_str(&format!("         found:    {found}\n"));
        }
    }
    let problems = findings.iter().filter(|f| f.fails()).count();
    let ok = findings.iter().filter(|f| f.status == Status::Ok).count();
    out.push_str(&format!(
        "{domain}: {} records checked, {ok} OK, {problems} problem(s)\n",
        findings.len()
    ));
    out
}

/// The `dns check` report as JSON: `{"domain", "ok", "problems",
/// "findings": [{"name", "type", "status", "required", "fails",
/// "expected", "found", "detail"}]}`; `status` is lowercase.
pub fn check_json(domain: &str, findings: &[Finding]) -> Value {
    let list: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "name": absolute(&f.name),
                "type": f.rtype,
                "status": f.status.label().to_ascii_lowercase(),
                "required": f.required,
                "fails": f.fails(),
                "expected": f.expected,
                "found": f.found,
                "detail": f.detail,
            })
        })
        .collect();
    let problems = findings.iter().filter(|f| f.fails()).count();
    json!({ "domain": domain, "ok": problems == 0, "problems": problems, "findings": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_lines() {
        let long = Record::required("s._domainkey.example.org", Data::Txt("x".repeat(300)), "k");
        let line = zone_line(&long);
        assert!(
            line.starts_with("s._domainkey.example.org. IN TXT ( \"xxx"),
            "{line}"
        );
        assert_eq!(line.matches('"').count(), 4, "two strings: {line}");
        let srv = Record::optional(
            "_imap._tcp.example.org",
            Data::Srv {
                priority: 0,
                weight: 0,
                port: 0,
                target: String::new(),
            },
            "off",
        );
        assert_eq!(zone_line(&srv), "_imap._tcp.example.org. IN SRV 0 0 0 .");
    }

    #[test]
    fn foreign_and_placeholder_lines_are_commented() {
        let records = vec![
            Record::required(
                "example.org",
                Data::Mx {
                    preference: 10,
                    exchange: "mx.example.net".into(),
                },
                "mx",
            ),
            Record::required("mx.example.net", Data::A([192, 0, 2, 1].into()), "a"),
            Record::optional(
                "example.org",
                Data::Placeholder {
                    rtype: "AAAA",
                    text: "<v6>".into(),
                },
                "aaaa",
            ),
        ];
        let text = zone_file("example.org", "mx.example.net", &records);
        assert!(
            text.contains("\nexample.org. IN MX 10 mx.example.net.\n"),
            "{text}"
        );
        assert!(
            text.contains("\n; mx.example.net. IN A 192.0.2.1\n"),
            "{text}"
        );
        assert!(
            text.contains("\n; (optional) aaaa\n; example.org. IN AAAA <v6>\n"),
            "{text}"
        );
        let j = json("example.org", "mx.example.net", &records);
        assert_eq!(j["records"][1]["in_zone"], false);
        assert_eq!(j["records"][2]["placeholder"], true);
        assert_eq!(j["records"][0]["value"], "10 mx.example.net.");
        assert!(in_zone("A.Example.org.", "example.org"));
        assert!(!in_zone("badexample.org", "example.org"));
    }

    #[test]
    fn check_reports() {
        let finding = |name: &str, status, required, found: Vec<String>| Finding {
            name: name.into(),
            rtype: "TXT",
            required,
            status,
            expected: "v=x".into(),
            found,
            detail: String::new(),
        };
        let findings = vec![
            finding("a.example.org", Status::Ok, true, vec!["v=x".into()]),
            finding("b.example.org", Status::Missing, false, vec![]),
            finding(
                "c.example.org",
                Status::Wrong,
                true,
                vec!["v=y".into(), "v=z".into()],
            ),
        ];
        let text = check_text("example.org", &findings);
        assert!(
            text.starts_with("OK       TXT   a.example.org.\n"),
            "{text}"
        );
        assert!(
            text.contains("MISSING (optional) TXT   b.example.org.\n"),
            "{text}"
        );
        assert!(text.contains("         found:    nothing\n"), "{text}");
        assert!(text.contains("WRONG    TXT   c.example.org.\n"), "{text}");
        assert!(text.contains("         found:    v=y | v=z\n"), "{text}");
        assert!(text.ends_with("example.org: 3 records checked, 1 OK, 1 problem(s)\n"));
        let j = check_json("example.org", &findings);
        assert_eq!(j["ok"], false);
        assert_eq!(j["problems"], 1);
        assert_eq!(j["findings"][1]["status"], "missing");
        assert_eq!(j["findings"][1]["fails"], false);
        assert_eq!(j["findings"][2]["found"][1], "v=z");
    }
}

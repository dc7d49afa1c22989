//! `[queue]` and `[relay]`: values, defaults, and the problems reported.
use super::*;

#[test]
fn host_ports() {
    assert_eq!(
        host_port("smtp.example.net:587"),
        Ok(("smtp.example.net".into(), 587))
    );
    assert_eq!(
        host_port("smtp.example.net"),
        Ok(("smtp.example.net".into(), 25))
    );
    assert_eq!(host_port("192.0.2.1:2525"), Ok(("192.0.2.1".into(), 2525)));
    assert_eq!(
        host_port("[2001:db8::1]:465"),
        Ok(("2001:db8::1".into(), 465))
    );
    for bad in [
        "",
        "smtp.example.net:0",
        "smtp.example.net:x",
        "bad_host:25",
        "[::1",
    ] {
        assert!(host_port(bad).is_err(), "{bad}");
    }
}

fn problems(text: &str) -> Vec<(usize, String, String)> {
    match super::super::load::parse(std::path::Path::new("t.toml"), text) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .problems
            .into_iter()
            .map(|p| (p.line, p.key, p.message))
            .collect(),
    }
}

#[test]
fn queue_and_relay_keys() {
    let text = "[queue]\nretry = [\"1s\", \"2m\"]\nmax_age = \"3s\"\nwarn_after = \"0s\"\n\
                max_connections = 3\n[relay]\nhost = \"smtp.example.net:587\"\n\
                username = \"u\"\npassword = \"p\"\ntls = \"implicit\"\nmx_port = 2525\n";
    let c = super::super::load::parse(std::path::Path::new("t.toml"), text).expect("valid");
    assert_eq!(
        c.queue.retry,
        vec![HumanDuration::from_secs(1), HumanDuration::from_secs(120)]
    );
    assert_eq!(c.queue.max_age, HumanDuration::from_secs(3));
    assert!(c.queue.warn_after.get().is_zero());
    assert_eq!(c.queue.max_connections, 3);
    assert_eq!(c.relay.host, Some(("smtp.example.net".into(), 587)));
    assert_eq!(c.relay.tls, RelayTls::Implicit);
    assert_eq!(c.relay.mx_port, 2525);
    assert_eq!(c.relay.password.as_ref().map(Password::expose), Some("p"));
}

#[test]
fn bad_queue_and_relay_values_are_named() {
    let p = problems("[queue]\nretry = []\nmax_age = \"0s\"\nmax_connections = 0\n");
    let keys: Vec<&str> = p.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["queue.retry", "queue.max_age", "queue.max_connections"],
        "{p:?}"
    );
    assert_eq!(p[0].0, 2);
    let p = problems("[relay]\nusername = \"u\"\n");
    let keys: Vec<&str> = p.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(keys, ["relay.password", "relay.username"], "{p:?}");
    let p = problems(
        "[relay]\nhost = \"h.example:25\"\nusername = \"u\"\npassword = \"p\"\ntls = \"none\"\n",
    );
    assert!(
        p.iter()
            .any(|(l, k, m)| *l == 5 && k == "relay.tls" && m.contains("clear text")),
        "{p:?}"
    );
    let p = problems("[relay]\ntls = \"sometimes\"\n");
    assert!(
        p.iter()
            .any(|(_, k, m)| k == "relay.tls" && m.contains("starttls")),
        "{p:?}"
    );
}

#[test]
fn passwords_are_redacted() {
    assert_eq!(format!("{:?}", Password::new("hunter2")), "[REDACTED]");
}

//! The named replies the SMTP session sends, so that no code outside this
//! module formats a reply code by hand.
//!
//! Owns: the choice of code, enhanced status code (RFC 3463) and text for
//! each standard situation. Texts follow Postfix's smtpd where it has one,
//! so operators recognise them in logs. Every reply carries an enhanced
//! status code whose class equals the first digit of the code, except
//! those RFC 2034 §3 and Postfix leave without one: the greeting, the
//! HELO/EHLO replies, 354 and 334.
//!
//! Must not: put peer-controlled text anywhere without going through
//! [`Reply`]'s writer (which neutralises control characters).

use super::reply::{EnhancedStatus, Reply};

fn r(code: u16, class: u8, subject: u16, detail: u16, text: &str) -> Reply {
    Reply::new(
        code,
        Some(EnhancedStatus::new(class, subject, detail)),
        text,
    )
}

impl Reply {
    /// `220 <host> ESMTP Postel`: the connection greeting (no enhanced
    /// code, RFC 2034 §3).
    pub fn greeting(hostname: &str) -> Reply {
        Reply::new(220, None, format!("{hostname} ESMTP Postel"))
    }

    /// `250 <host>`: the reply to HELO (no enhanced code, RFC 2034 §3).
    pub fn helo(hostname: &str) -> Reply {
        Reply::new(250, None, hostname)
    }

    /// `250 2.0.0 Ok`: generic success (RSET, NOOP).
    pub fn ok() -> Reply {
        r(250, 2, 0, 0, "Ok")
    }

    /// `250 2.1.0 Ok`: MAIL accepted.
    pub fn mail_ok() -> Reply {
        r(250, 2, 1, 0, "Ok")
    }

    /// `250 2.1.5 Ok`: RCPT accepted.
    pub fn rcpt_ok() -> Reply {
        r(250, 2, 1, 5, "Ok")
    }

    /// `250 2.0.0 Ok: queued as <id>`: the message is stored durably.
    pub fn queued(id: &str) -> Reply {
        r(250, 2, 0, 0, &format!("Ok: queued as {id}"))
    }

    /// `250 2.0.0 Ok: <n> octets`: a non-LAST BDAT chunk was received.
    pub fn bdat_chunk(octets: u64) -> Reply {
        r(250, 2, 0, 0, &format!("Ok: {octets} octets"))
    }

    /// `221 2.0.0 Bye`: answer to QUIT; the session closes afterwards.
    pub fn quit() -> Reply {
        r(221, 2, 0, 0, "Bye")
    }

    /// `214 2.0.0`: answer to HELP.
    pub fn help() -> Reply {
        r(
            214,
            2,
            0,
            0,
            "See RFC 5321 for the commands this server speaks",
        )
    }

    /// `252 2.0.0`: answer to VRFY; never reveals whether a user exists.
    pub fn vrfy() -> Reply {
        r(
            252,
            2,
            0,
            0,
            "Cannot VRFY user; try RCPT to attempt delivery",
        )
    }

    /// `502 5.5.1`: answer to EXPN, which this server does not offer.
    pub fn expn_disabled() -> Reply {
        r(502, 5, 5, 1, "Error: EXPN command is disabled")
    }

    /// `354 End data with <CR><LF>.<CR><LF>`: go ahead with DATA.
    pub fn data_start() -> Reply {
        Reply::new(354, None, "End data with <CR><LF>.<CR><LF>")
    }

    /// `220 2.0.0 Ready to start TLS`: answer to STARTTLS.
    pub fn start_tls() -> Reply {
        r(220, 2, 0, 0, "Ready to start TLS")
    }

    /// `454 4.7.0`: STARTTLS advertised but TLS could not be set up now.
    pub fn tls_unavailable() -> Reply {
        r(454, 4, 7, 0, "TLS not available due to temporary reason")
    }

    /// `503 5.5.1`: STARTTLS on a connection that already uses TLS.
    pub fn tls_already_active() -> Reply {
        r(503, 5, 5, 1, "Error: TLS already active")
    }

    /// `530 5.7.0 Must issue a STARTTLS command first` (RFC 3207 §4).
    pub fn tls_required() -> Reply {
        r(530, 5, 7, 0, "Must issue a STARTTLS command first")
    }

    /// `500 5.5.2`: unknown command (or an empty line).
    pub fn syntax() -> Reply {
        r(500, 5, 5, 2, "Error: command not recognized")
    }

    /// `500 5.5.2`: a command line longer than the limit (RFC 5321
    /// §4.5.3.1.4); the rest of that line was discarded.
    pub fn line_too_long() -> Reply {
        r(500, 5, 5, 2, "Error: line too long")
    }

    /// `501 5.5.4`: bad syntax in the arguments of a command.
    pub fn param_syntax() -> Reply {
        r(501, 5, 5, 4, "Syntax error in parameters or arguments")
    }

    /// `501 5.5.4 Syntax: <usage>`: a command's arguments are malformed.
    pub fn usage(usage: &str) -> Reply {
        r(501, 5, 5, 4, &format!("Syntax: {usage}"))
    }

    /// `501 5.1.7`: the MAIL FROM address is malformed.
    pub fn bad_sender_syntax() -> Reply {
        r(501, 5, 1, 7, "Bad sender address syntax")
    }

    /// `501 5.1.3`: the RCPT TO address is malformed.
    pub fn bad_recipient_syntax() -> Reply {
        r(501, 5, 1, 3, "Bad recipient address syntax")
    }

    /// `502 5.5.1`: a known command this server does not offer here.
    pub fn not_implemented() -> Reply {
        r(502, 5, 5, 1, "Error: command not implemented")
    }

    /// `504 5.5.4`: a command parameter this server does not implement.
    pub fn param_not_implemented() -> Reply {
        r(504, 5, 5, 4, "Error: command parameter not implemented")
    }

    /// `555 5.5.4 Unsupported option: <kw>`: an unknown or unadvertised
    /// MAIL/RCPT parameter (RFC 5321 §4.1.1.11).
    pub fn unsupported_param(keyword: &str) -> Reply {
        r(555, 5, 5, 4, &format!("Unsupported option: {keyword}"))
    }

    /// `503 5.5.1`: a command out of order, in general.
    pub fn bad_sequence() -> Reply {
        r(503, 5, 5, 1, "Error: bad sequence of commands")
    }

    /// `503 5.5.1`: MAIL (or STARTTLS, AUTH) before HELO/EHLO.
    pub fn need_helo() -> Reply {
        r(503, 5, 5, 1, "Error: send HELO/EHLO first")
    }

    /// `503 5.5.1`: AUTH after HELO instead of EHLO.
    pub fn need_ehlo() -> Reply {
        r(503, 5, 5, 1, "Error: send EHLO first")
    }

    /// `503 5.5.1`: MAIL inside a transaction.
    pub fn nested_mail() -> Reply {
        r(503, 5, 5, 1, "Error: nested MAIL command")
    }

    /// `503 5.5.1`: RCPT, DATA or BDAT without MAIL.
    pub fn need_mail() -> Reply {
        r(503, 5, 5, 1, "Error: need MAIL command")
    }

    /// `503 5.5.1`: DATA or BDAT before any RCPT was attempted.
    pub fn need_rcpt() -> Reply {
        r(503, 5, 5, 1, "Error: need RCPT command")
    }

    /// `554 5.5.1`: DATA or BDAT after every RCPT was refused.
    pub fn no_valid_recipients() -> Reply {
        r(554, 5, 5, 1, "Error: no valid recipients")
    }

    /// `503 5.5.1`: DATA and BDAT mixed in one transaction, or DATA with
    /// `BODY=BINARYMIME` (RFC 3030 §2, §3).
    pub fn data_bdat_mixed() -> Reply {
        r(
            503,
            5,
            5,
            1,
            "Error: DATA and BDAT cannot be mixed; BINARYMIME requires BDAT",
        )
    }

    /// `503 5.5.1`: STARTTLS or AUTH during a mail transaction.
    pub fn transaction_in_progress() -> Reply {
        r(503, 5, 5, 1, "Error: MAIL transaction in progress")
    }

    /// `452 4.5.3`: the per-message recipient limit was reached.
    pub fn too_many_recipients() -> Reply {
        r(452, 4, 5, 3, "Error: too many recipients")
    }

    /// `552 5.3.4`: the message (or its SIZE declaration) is too big.
    pub fn message_too_big() -> Reply {
        r(552, 5, 3, 4, "Message size exceeds fixed limit")
    }

    /// `550 5.5.2`: the DATA contained a bare CR or LF; refused because
    /// such data is the vehicle of SMTP smuggling (CVE-2023-51764).
    pub fn bare_newline() -> Reply {
        r(
            550,
            5,
            5,
            2,
            "Error: bare <CR> or <LF> received; use <CR><LF> line endings",
        )
    }

    /// `554 5.6.0`: the DATA contained a line longer than 998 octets
    /// (RFC 5321 §4.5.3.1.6, RFC 5322 §2.1.1). 554 because 500 is not a
    /// valid answer to the end of data (RFC 5321 §4.3.2).
    pub fn data_line_too_long() -> Reply {
        r(
            554,
            5,
            6,
            0,
            "Error: message contains a line longer than 998 octets",
        )
    }

    /// `553 5.6.7`: a non-ASCII address without `SMTPUTF8` (RFC 6531
    /// §3.7.4.1).
    pub fn smtputf8_required() -> Reply {
        r(553, 5, 6, 7, "Error: non-ASCII address requires SMTPUTF8")
    }

    /// `550 5.1.1`: the recipient does not exist here.
    pub fn user_unknown() -> Reply {
        r(550, 5, 1, 1, "Recipient address rejected: User unknown")
    }

    /// `554 5.7.1`: the recipient is not ours and the client may not relay.
    pub fn relay_denied() -> Reply {
        r(554, 5, 7, 1, "Relay access denied")
    }

    /// `451 4.7.1`: greylisted; try again later.
    pub fn greylisted() -> Reply {
        r(451, 4, 7, 1, "Greylisted, please try again later")
    }

    /// `451 4.3.0`: a local failure (store, queue, database); details go
    /// to the log only.
    pub fn local_error() -> Reply {
        r(
            451,
            4,
            3,
            0,
            "Error: local error in processing; try again later",
        )
    }

    /// `334 <challenge>`: a SASL challenge, already base64 (RFC 4954 §4).
    pub fn auth_challenge(base64: &str) -> Reply {
        Reply::new(334, None, base64)
    }

    /// `235 2.7.0 Authentication successful` (RFC 4954 §6).
    pub fn auth_ok() -> Reply {
        r(235, 2, 7, 0, "Authentication successful")
    }

    /// `535 5.7.8`: bad credentials (RFC 4954 §6).
    pub fn auth_failed() -> Reply {
        r(535, 5, 7, 8, "Error: authentication failed")
    }

    /// `501 5.7.0`: the client cancelled the exchange with `*`.
    pub fn auth_cancelled() -> Reply {
        r(501, 5, 7, 0, "Authentication aborted")
    }

    /// `504 5.5.4`: a SASL mechanism this server does not offer.
    pub fn auth_mechanism_unsupported() -> Reply {
        r(504, 5, 5, 4, "Unsupported authentication mechanism")
    }

    /// `503 5.5.1`: AUTH when AUTH is not offered on this connection.
    pub fn auth_not_enabled() -> Reply {
        r(503, 5, 5, 1, "Error: authentication not enabled")
    }

    /// `503 5.5.1`: a second AUTH after a successful one (RFC 4954 §4).
    pub fn already_authenticated() -> Reply {
        r(503, 5, 5, 1, "Error: already authenticated")
    }

    /// `530 5.7.0 Authentication required`: submission without AUTH.
    pub fn auth_required() -> Reply {
        r(530, 5, 7, 0, "Authentication required")
    }

    /// `538 5.7.11`: the mechanism needs TLS first (RFC 4954 §6).
    pub fn encryption_required() -> Reply {
        r(
            538,
            5,
            7,
            11,
            "Encryption required for requested authentication mechanism",
        )
    }

    /// `421 4.7.0 <host> Error: too many errors`; the session closes.
    pub fn too_many_errors(hostname: &str) -> Reply {
        r(421, 4, 7, 0, &format!("{hostname} Error: too many errors"))
    }

    /// `421 4.4.2 <host> Error: timeout exceeded`; the session closes.
    pub fn timeout(hostname: &str) -> Reply {
        r(421, 4, 4, 2, &format!("{hostname} Error: timeout exceeded"))
    }

    /// `421 4.3.2 <host> Service shutting down`; the session closes.
    pub fn shutdown(hostname: &str) -> Reply {
        r(
            421,
            4,
            3,
            2,
            &format!("{hostname} Service shutting down, closing transmission channel"),
        )
    }

    /// `521 5.5.4 Syntax: BDAT count [LAST]`: a BDAT whose size cannot be
    /// read. The chunk length is unknown, so the session cannot find the
    /// next command and must close (as Postfix does).
    pub fn bdat_desync() -> Reply {
        r(521, 5, 5, 4, "Syntax: BDAT count [LAST]")
    }
}

-- Abuse protection (src/security), PostgreSQL flavour. Keep in step with
-- ../sqlite/0009_security.sql: same tables, columns and meanings.
-- Every node reads and writes these, so a ban made by one process is
-- honoured by all of them. Times are unix MILLISECONDS.

-- Failed logins (SMTP AUTH, IMAP, POP3) per client address in the
-- current window; the row is reset when the window has passed and
-- deleted on a successful login or when the address is banned.
CREATE TABLE auth_failures (
    address     TEXT PRIMARY KEY,          -- canonical IP, "192.0.2.7" or "2001:db8::1"
    failures    BIGINT NOT NULL,           -- failures since first_at
    first_at    BIGINT NOT NULL,           -- start of the window
    last_at     BIGINT NOT NULL            -- latest failure; stale rows are purged
);
CREATE INDEX auth_failures_last_at ON auth_failures(last_at);

-- Banned client addresses or networks: refused at connect, logins fail.
CREATE TABLE bans (
    address     TEXT PRIMARY KEY,          -- "192.0.2.7" or a network "192.0.2.0/24"
    reason      TEXT NOT NULL,             -- "10 failed logins in 15m", "manual: …"
    since       BIGINT NOT NULL,
    until       BIGINT                     -- NULL: until deleted with `postel ban del`
);
CREATE INDEX bans_until ON bans(until);

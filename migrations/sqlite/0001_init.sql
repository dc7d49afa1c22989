-- Postel schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql:
-- the same tables, columns and meanings; only the dialect differs.

CREATE TABLE domains (
    name        TEXT PRIMARY KEY,          -- lowercase ASCII (A-label)
    created_at  BIGINT NOT NULL            -- unix seconds
);

CREATE TABLE users (
    address       TEXT PRIMARY KEY,        -- canonical local@domain
    domain        TEXT NOT NULL REFERENCES domains(name) ON DELETE RESTRICT,
    password_hash TEXT NOT NULL,           -- argon2id PHC string
    quota_bytes   BIGINT NOT NULL DEFAULT 0,   -- 0 = unlimited
    enabled       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);
CREATE INDEX users_domain ON users(domain);

CREATE TABLE aliases (
    source      TEXT NOT NULL,             -- local@domain, or @domain for a catch-all
    target      TEXT NOT NULL,             -- any address, local or remote
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (source, target)
);
CREATE INDEX aliases_target ON aliases(target);

CREATE TABLE dkim_keys (
    domain      TEXT NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    selector    TEXT NOT NULL,
    algorithm   TEXT NOT NULL,             -- rsa-sha256 | ed25519-sha256
    private_key TEXT NOT NULL,             -- PKCS#8 PEM
    public_key  TEXT NOT NULL,             -- base64 for the p= tag
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (domain, selector)
);

-- The message index: one row per mailbox folder of an account ...
CREATE TABLE mailboxes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account        TEXT NOT NULL,          -- canonical address owning the Maildir
    name           TEXT NOT NULL,          -- "INBOX" or the folder path, '/'-separated, UTF-8
    uidvalidity    BIGINT NOT NULL,
    uidnext        BIGINT NOT NULL,
    highest_modseq BIGINT NOT NULL,
    UNIQUE (account, name)
);

-- ... and one per message in it.
CREATE TABLE messages (
    mailbox_id    BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           BIGINT NOT NULL,
    basename      TEXT NOT NULL,           -- Maildir unique name, before ":2,"
    flags         TEXT NOT NULL,           -- Maildir info letters (system flags), sorted
    keywords      TEXT NOT NULL,           -- space-separated IMAP keywords
    size          BIGINT NOT NULL,         -- RFC822.SIZE (CRLF octets)
    internal_date BIGINT NOT NULL,         -- unix seconds
    modseq        BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, uid),
    UNIQUE (mailbox_id, basename)
);

-- Greylisting state (src/pipeline/greylist), SQLite flavour. Keep in step
-- with ../postgres/0003_greylist.sql: same tables, columns and meanings.
-- All *_seen times are unix MILLISECONDS (delays of a few seconds must be
-- measurable exactly); created_at is unix seconds like every other table.

-- One row per (client, sender, recipient) triplet ever seen.
CREATE TABLE greylist_triplets (
    client      TEXT NOT NULL,             -- "192.0.2.0/24", "2001:db8::/64", or "spf:<domain>"
    sender      TEXT NOT NULL,             -- normalised envelope sender, "<>" when null
    recipient   TEXT NOT NULL,             -- lowercased envelope recipient
    first_seen  BIGINT NOT NULL,           -- first attempt (the delay counts from here)
    last_seen   BIGINT NOT NULL,           -- latest attempt; rows older than max_age expire
    passes      BIGINT NOT NULL DEFAULT 0, -- messages let through; 0 = still waiting
    PRIMARY KEY (client, sender, recipient)
);
CREATE INDEX greylist_triplets_last_seen ON greylist_triplets(last_seen);

-- Client networks that passed greylisting (auto_allow_after).
CREATE TABLE greylist_clients (
    network     TEXT PRIMARY KEY,          -- "192.0.2.0/24" or "2001:db8::/64"
    passes      BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX greylist_clients_last_seen ON greylist_clients(last_seen);

-- DKIM signing domains (aligned with From) whose mail passed greylisting.
CREATE TABLE greylist_domains (
    domain      TEXT PRIMARY KEY,          -- lowercase A-label
    passes      BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX greylist_domains_last_seen ON greylist_domains(last_seen);

-- Administrator's permanent exemptions (`postel greylist allow`).
CREATE TABLE greylist_allow (
    kind        TEXT NOT NULL,             -- 'network' | 'domain'
    value       TEXT NOT NULL,             -- CIDR ("192.0.2.0/24") or lowercase domain
    created_at  BIGINT NOT NULL,           -- unix seconds
    PRIMARY KEY (kind, value)
);

-- IMAP session state (src/imap), SQLite flavour. Keep in step with
-- ../postgres/0006_imap.sql: same tables, columns and meanings.
-- Folder names are the store's: UTF-8, '/'-separated, "INBOX" for the
-- INBOX. These rows are not tied to the store's mailbox rows on purpose:
-- a subscription may name a folder that does not exist (RFC 3501
-- §6.3.6), and the \Recent mark survives a folder being re-indexed.

-- SUBSCRIBE / UNSUBSCRIBE / LSUB (RFC 3501 §6.3.6-§6.3.9).
CREATE TABLE imap_subscriptions (
    account     TEXT NOT NULL,             -- canonical address
    name        TEXT NOT NULL,             -- folder name as subscribed
    PRIMARY KEY (account, name)
);

-- \Recent (RFC 3501 §2.3.2): a message is recent in exactly one session,
-- the first SELECT to see it. That session claims every UID up to
-- last_uid; a UIDVALIDITY change makes every message unclaimed again.
CREATE TABLE imap_recent (
    account     TEXT NOT NULL,             -- canonical address
    name        TEXT NOT NULL,             -- folder name
    uidvalidity BIGINT NOT NULL,           -- of the folder when last claimed
    last_uid    BIGINT NOT NULL,           -- highest UID claimed by some session
    PRIMARY KEY (account, name)
);

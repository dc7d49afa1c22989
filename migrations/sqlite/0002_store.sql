-- Message store additions, SQLite flavour. Keep in step with
-- ../postgres/0002_store.sql.

-- Per-account high-water mark of UIDVALIDITY values handed out, so a
-- folder deleted and recreated (even within the same second, even after
-- its row is gone) never gets a UIDVALIDITY it had before.
CREATE TABLE mailbox_uidvalidity (
    account          TEXT PRIMARY KEY,     -- canonical address
    last_uidvalidity BIGINT NOT NULL
);

-- Changes since a modseq: incremental index refresh, CONDSTORE/QRESYNC.
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);

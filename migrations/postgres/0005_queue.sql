-- The outbound queue (src/queue), PostgreSQL flavour. Keep in step with
-- ../sqlite/0005_queue.sql: same tables, columns and meanings.
-- All times are unix MILLISECONDS: retry schedules of a few seconds (tests)
-- and lease expiry must be exact.
--
-- A message is accepted for remote delivery only once its spool file
-- (data_dir/queue/<id>) is fsync'd AND these rows are committed. The rows
-- are the truth: a spool file without a row is debris from a crash before
-- the commit and is removed by the next start.

CREATE TABLE queue_messages (
    id          TEXT PRIMARY KEY,          -- the spool file's name
    sender      TEXT NOT NULL,             -- envelope sender; '' = null sender <> (bounces)
    size        BIGINT NOT NULL,           -- octets of the spool file
    smtputf8    BIGINT NOT NULL DEFAULT 0, -- 1: received with SMTPUTF8
    created_at  BIGINT NOT NULL,           -- acceptance (Arrival-Date; max_age counts from here)
    warned      BIGINT NOT NULL DEFAULT 0  -- 1: the delay notice was sent (at most once)
);

-- One row per (message, recipient): each recipient's fate is recorded as
-- soon as the remote answers, so a crash repeats nothing already done.
-- status: 'queued'    waiting for an attempt at next_attempt
--         'delivered' a remote MTA took responsibility (250 after DATA)
--         'failed'    permanent failure or expiry; the bounce is not sent yet
--         'bounced'   failed and the sender was notified (or had no address)
-- Work is claimed by setting lease_owner/lease_until; a lease that ran
-- out (a node died) may be claimed again.
CREATE TABLE queue_recipients (
    id            BIGSERIAL PRIMARY KEY,
    message_id    TEXT NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
    recipient     TEXT NOT NULL,             -- envelope recipient, canonical SMTP form
    original      TEXT NOT NULL DEFAULT '',  -- the RCPT TO that led here (forwarding), '' = same
    domain        TEXT NOT NULL,             -- lowercase recipient domain (grouping, limits)
    status        TEXT NOT NULL DEFAULT 'queued',
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_attempt  BIGINT NOT NULL,
    lease_owner   TEXT NOT NULL DEFAULT '',  -- '<node>:<random>' while claimed
    lease_until   BIGINT NOT NULL DEFAULT 0,
    status_code   TEXT NOT NULL DEFAULT '',  -- enhanced status of the last outcome, e.g. '4.4.1'
    diagnostic    TEXT NOT NULL DEFAULT '',  -- the remote's reply, e.g. '550 5.1.1 No such user'
    last_error    TEXT NOT NULL DEFAULT '',  -- what went wrong last, for people
    remote_mta    TEXT NOT NULL DEFAULT '',  -- host name of the MX last talked to
    updated_at    BIGINT NOT NULL,
    UNIQUE (message_id, recipient)
);
CREATE INDEX queue_recipients_due ON queue_recipients(status, next_attempt);
CREATE INDEX queue_recipients_domain ON queue_recipients(domain, status);
CREATE INDEX queue_recipients_message ON queue_recipients(message_id);

-- Per-domain and per-user overrides of [submission] sender_policy and
-- check_header_from. NULL = inherit: a user's value wins over its
-- domain's, which wins over the configuration file.
ALTER TABLE domains ADD COLUMN sender_policy TEXT;          -- owned | domain | any
ALTER TABLE domains ADD COLUMN check_header_from BIGINT;    -- 0 | 1
ALTER TABLE users ADD COLUMN sender_policy TEXT;
ALTER TABLE users ADD COLUMN check_header_from BIGINT;

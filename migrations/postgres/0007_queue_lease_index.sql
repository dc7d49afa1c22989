-- Workers release their leases when they finish (WHERE lease_owner = …);
-- without an index that scans every queued recipient while holding the
-- write lock, which showed up as slow statements with 10,000 queued.
CREATE INDEX queue_recipients_lease ON queue_recipients(lease_owner);

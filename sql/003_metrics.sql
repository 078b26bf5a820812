-- 003_metrics.sql: what GET /metrics reads at every scrape.
--
-- The failed items of the GitHub outbox are counted at each scrape.  They
-- are few and never change again, while sent items pile up for good: a
-- partial index keeps that count from reading the whole table.  (Pending
-- items have github_outbox_due_idx, queued and running runs their own
-- partial indexes already.)

CREATE INDEX github_outbox_failed_idx ON github_outbox (id)
    WHERE status = 'failed';

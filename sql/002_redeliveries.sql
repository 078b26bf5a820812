-- 002_redeliveries.sql: the deliveries the service asked GitHub to send
-- again.
--
-- GitHub does not retry a failed delivery by itself.  The reconciler
-- looks at the App's recent deliveries and asks for each failed one that
-- webhook_deliveries does not hold to be sent again; this table makes
-- that happen once per delivery (GitHub's guid, the X-GitHub-Delivery
-- header, which a redelivery keeps), whatever happens to the attempt.

CREATE TABLE webhook_redeliveries (
    guid		text PRIMARY KEY
			CHECK (char_length(guid) BETWEEN 1 AND 255),
    -- The id of the failed attempt that was asked to be sent again.
    hook_delivery_id	bigint NOT NULL CHECK (hook_delivery_id > 0),
    requested_at	timestamptz NOT NULL DEFAULT now()
);

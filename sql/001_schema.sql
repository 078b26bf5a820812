-- 001_schema.sql: the first schema.
--
-- Runs and their metrics, pauses, rate-limit overrides, webhook deliveries
-- and the outbox of work for GitHub.  The constraints follow the HTTP
-- contract (api.md) and the runner contract (runner.md) closely enough
-- that a state those contracts forbid cannot be stored, whatever code
-- writes it.  Core PostgreSQL 15 only: no extension is needed.
--
-- Errors the application may want to tell apart carry a constraint name
-- (PG_DIAG_CONSTRAINT_NAME): the CHECKs below are named, and the trigger
-- guarding runs raises check_violation (23514) naming runs_status_move,
-- runs_finished or runs_fixed_columns.
--
-- Applied by the migrator inside one transaction: no BEGIN or COMMIT here.

-- A repository's name as GitHub allows it: owner 1-39 of [A-Za-z0-9-], not
-- starting or ending with '-' and without '--'; name 1-100 of
-- [A-Za-z0-9._-], not '.' or '..', not ending in '.git' in any case.  One
-- function, so that every table holding a name checks the same rule.
CREATE FUNCTION gt_repo_name_ok(repo text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN repo ~ '^[A-Za-z0-9]+(-[A-Za-z0-9]+)*/[A-Za-z0-9._-]+$'
	AND char_length(split_part(repo, '/', 1)) <= 39
	AND char_length(split_part(repo, '/', 2)) <= 100
	AND split_part(repo, '/', 2) NOT IN ('.', '..')
	AND lower(repo) NOT LIKE '%.git';

-- A GitHub login as the contract accepts it: 1-39 of [A-Za-z0-9-].
CREATE FUNCTION gt_login_ok(login text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN login ~ '^[A-Za-z0-9-]{1,39}$';

-- One row per run: the work one instruction asks for.  A run moves
-- queued -> running -> succeeded | failed | cancelled, or queued ->
-- cancelled, and never changes once finished (the trigger below).
CREATE TABLE runs (
    id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),

    -- The name as given, kept for display; repo_key is what compares
    -- (GitHub's names are case-insensitive).
    repo		text NOT NULL
			CONSTRAINT runs_repo_name CHECK (gt_repo_name_ok(repo)),
    repo_key		text NOT NULL GENERATED ALWAYS AS (lower(repo)) STORED,

    target_type		text NOT NULL
			CONSTRAINT runs_target_type
			CHECK (target_type IN ('issue', 'pull_request')),
    target_number	integer NOT NULL
			CONSTRAINT runs_target_number
			CHECK (target_number BETWEEN 1 AND 2147483647),

    -- Stored trimmed by the application; counted in code points.  (text
    -- cannot hold a NUL, so none needs refusing here.)
    instruction		text NOT NULL
			CONSTRAINT runs_instruction_length
			CHECK (char_length(instruction) BETWEEN 1 AND 4000),

    status		text NOT NULL DEFAULT 'queued'
			CONSTRAINT runs_status CHECK (status IN ('queued',
			    'running', 'succeeded', 'failed', 'cancelled')),
    source		text NOT NULL
			CONSTRAINT runs_source
			CHECK (source IN ('api', 'webhook')),
    requested_by	text
			CONSTRAINT runs_requested_by
			CHECK (gt_login_ok(requested_by)),
    -- Who the per-requester rate limit counts: requested_by, the
    -- commenter's login, or the API caller's role ("role:operator"), so
    -- that the limits can be counted here when Redis is down.
    requester		text NOT NULL
			CONSTRAINT runs_requester
			CHECK (char_length(requester) BETWEEN 1 AND 64),

    created_at		timestamptz NOT NULL DEFAULT now(),
    started_at		timestamptz,
    finished_at		timestamptz,

    -- Refreshed by the dispatcher running the run; a stale one means the
    -- dispatcher died with it (runner.md).
    heartbeat_at	timestamptz,
    dispatcher_id	text,

    exit_code		integer,
    error_stage		text
			CONSTRAINT runs_error_stage_value
			CHECK (error_stage IN ('spawn', 'runner', 'timeout',
			    'interrupted', 'cancelled', 'internal')),
    error_message	text,

    -- What the runner reported in result.json, an object.
    result		jsonb
			CONSTRAINT runs_result_object
			CHECK (jsonb_typeof(result) = 'object'),

    -- Set when cancelling a running run: the dispatcher signals its
    -- process and records the run cancelled once it has ended.
    cancel_requested_at	timestamptz,

    -- Where a webhook run came from: the GitHub App installation, the
    -- triggering comment and the delivery.
    installation_id	bigint,
    comment_id		bigint,
    comment_kind	text
			CONSTRAINT runs_comment_kind
			CHECK (comment_kind IN ('issue_comment',
			    'pull_request_review_comment')),
    delivery_id		text,

    -- The Idempotency-Key of the request that created the run and a hash
    -- of that request's validated fields.  A key holds for 24 hours from
    -- created_at; the application checks the age, and releases an
    -- expired key by setting both columns to NULL.
    idempotency_key	text
			CONSTRAINT runs_idempotency_key
			CHECK (idempotency_key ~ '^[ -~]{1,255}$'),
    request_hash	text,

    -- A comment is known by its kind and id together: the two id spaces
    -- are GitHub's to share.
    CONSTRAINT runs_comment_pair
	CHECK ((comment_id IS NULL) = (comment_kind IS NULL)),
    CONSTRAINT runs_idempotency_pair
	CHECK ((idempotency_key IS NULL) = (request_hash IS NULL)),

    -- The timestamps each status implies.  A run that succeeded or
    -- failed was running first, so it has started; a cancelled one may
    -- never have.
    CONSTRAINT runs_queued_times CHECK (status <> 'queued' OR
	(started_at IS NULL AND finished_at IS NULL)),
    CONSTRAINT runs_running_times CHECK (status <> 'running' OR
	(started_at IS NOT NULL AND finished_at IS NULL)),
    CONSTRAINT runs_finished_times CHECK (status IN ('queued', 'running') OR
	finished_at IS NOT NULL),
    CONSTRAINT runs_started_times CHECK (status NOT IN ('succeeded', 'failed')
	OR started_at IS NOT NULL),
    CONSTRAINT runs_time_order CHECK (
	(started_at IS NULL OR started_at >= created_at) AND
	(finished_at IS NULL OR
	    finished_at >= coalesce(started_at, created_at))),

    -- The error: stage and message together or not at all; only a failed
    -- or cancelled run has one; a failed run always does, and a cancelled
    -- run's says "cancelled" (api.md, cancel).
    CONSTRAINT runs_error_pair
	CHECK ((error_stage IS NULL) = (error_message IS NULL)),
    CONSTRAINT runs_error_status CHECK (
	CASE status
	WHEN 'failed' THEN error_stage IS NOT NULL AND
	    error_stage <> 'cancelled'
	WHEN 'cancelled' THEN error_stage IS NOT DISTINCT FROM 'cancelled'
	ELSE error_stage IS NULL
	END),

    -- An exit status and a result come with a finished run only.
    CONSTRAINT runs_outcome_finished CHECK (status IN ('succeeded', 'failed',
	'cancelled') OR (exit_code IS NULL AND result IS NULL))
);

-- GET /api/runs: newest first, then by id, with or without a filter.
CREATE INDEX runs_list_idx ON runs (created_at DESC, id DESC);
CREATE INDEX runs_list_status_idx ON runs (status, created_at DESC, id DESC);
CREATE INDEX runs_list_repo_idx ON runs (repo_key, created_at DESC, id DESC);

-- Counting a requester's recent runs, when the limits come from here.
CREATE INDEX runs_requester_idx ON runs (requester, created_at);

-- The dispatcher: queued runs oldest first, running runs by heartbeat
-- (to find the stale ones), and the active run of a target (two runs on
-- one target never run at once; cancel from a comment finds it here).
CREATE INDEX runs_queued_idx ON runs (created_at, id)
    WHERE status = 'queued';
CREATE INDEX runs_running_heartbeat_idx ON runs (heartbeat_at)
    WHERE status = 'running';
CREATE INDEX runs_active_target_idx
    ON runs (repo_key, target_type, target_number)
    WHERE status IN ('queued', 'running');

-- Two runs on one target never run at once (runner.md): two agents
-- pushing to one branch would fight.  Two dispatchers claiming runs of
-- one target at the same moment cannot both succeed.
CREATE UNIQUE INDEX runs_one_running_per_target
    ON runs (repo_key, target_type, target_number)
    WHERE status = 'running';

-- GET /api/analytics over a window of created_at.  The included columns
-- let the counts, durations and per-repository totals come from the index
-- alone as the table grows into the millions.
CREATE INDEX runs_analytics_idx ON runs (created_at)
    INCLUDE (status, source, repo_key, started_at, finished_at);

-- One run per triggering comment, whichever hook delivers it.
CREATE UNIQUE INDEX runs_comment_key ON runs (comment_kind, comment_id)
    WHERE comment_id IS NOT NULL;

-- One run per idempotency key; concurrent requests with one key race on
-- this index and all but one lose.
CREATE UNIQUE INDEX runs_idempotency_key_key ON runs (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Guards every update of a run:
--   * a finished run never changes, except that an expired idempotency
--     key may be released (both columns set to NULL, nothing else);
--   * the status moves only as the contract allows; staying the same is
--     allowed for an unfinished run (a heartbeat, a cancel request);
--   * what the run was asked to do, where it came from, and when it was
--     created and started never change (the idempotency key may only be
--     released).
-- generated columns are not computed yet in a BEFORE trigger, so repo_key
-- is left out of the comparisons.
CREATE FUNCTION runs_guard_update() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('succeeded', 'failed', 'cancelled') THEN
	IF (to_jsonb(NEW) - 'repo_key' - 'idempotency_key' - 'request_hash')
	    IS DISTINCT FROM
	    (to_jsonb(OLD) - 'repo_key' - 'idempotency_key' - 'request_hash')
	    OR (NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
	    AND NEW.idempotency_key IS NOT NULL)
	    OR (NEW.request_hash IS DISTINCT FROM OLD.request_hash
	    AND NEW.request_hash IS NOT NULL) THEN
	    RAISE EXCEPTION 'run % has finished (%) and cannot change', OLD.id,
		OLD.status
		USING ERRCODE = 'check_violation',
		    CONSTRAINT = 'runs_finished';
	END IF;
	RETURN NEW;
    END IF;

    IF NEW.status <> OLD.status AND NOT (
	(OLD.status = 'queued' AND NEW.status IN ('running', 'cancelled')) OR
	(OLD.status = 'running' AND
	    NEW.status IN ('succeeded', 'failed', 'cancelled'))) THEN
	RAISE EXCEPTION 'run % cannot move from % to %', OLD.id, OLD.status,
	    NEW.status
	    USING ERRCODE = 'check_violation', CONSTRAINT = 'runs_status_move';
    END IF;

    IF NEW.id <> OLD.id OR NEW.repo <> OLD.repo
	OR NEW.target_type <> OLD.target_type
	OR NEW.target_number <> OLD.target_number
	OR NEW.instruction <> OLD.instruction OR NEW.source <> OLD.source
	OR NEW.requested_by IS DISTINCT FROM OLD.requested_by
	OR NEW.requester <> OLD.requester
	OR NEW.created_at <> OLD.created_at
	OR (OLD.started_at IS NOT NULL
	    AND NEW.started_at IS DISTINCT FROM OLD.started_at)
	OR NEW.installation_id IS DISTINCT FROM OLD.installation_id
	OR NEW.comment_id IS DISTINCT FROM OLD.comment_id
	OR NEW.comment_kind IS DISTINCT FROM OLD.comment_kind
	OR NEW.delivery_id IS DISTINCT FROM OLD.delivery_id
	OR (NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
	    AND NEW.idempotency_key IS NOT NULL)
	OR (NEW.request_hash IS DISTINCT FROM OLD.request_hash
	    AND NEW.request_hash IS NOT NULL) THEN
	RAISE EXCEPTION 'run % cannot change what it was asked to do', OLD.id
	    USING ERRCODE = 'check_violation',
		CONSTRAINT = 'runs_fixed_columns';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER runs_guard_update BEFORE UPDATE ON runs
    FOR EACH ROW EXECUTE FUNCTION runs_guard_update();

-- Wakes dispatchers (LISTEN runs_queued) when a run is queued; the payload
-- is the run's id.  The notification is sent when the transaction commits.
CREATE FUNCTION runs_notify_queued() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('runs_queued', NEW.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER runs_notify_queued AFTER INSERT ON runs
    FOR EACH ROW WHEN (NEW.status = 'queued')
    EXECUTE FUNCTION runs_notify_queued();

-- What a finished run cost, recorded by the dispatcher (runner.md).  The
-- runner's own figures (tokens, cost, files) are absent when it did not
-- report them.
CREATE TABLE run_metrics (
    run_id		uuid PRIMARY KEY REFERENCES runs ON DELETE CASCADE,
    duration_ms		bigint CHECK (duration_ms >= 0),
    queue_wait_ms	bigint CHECK (queue_wait_ms >= 0),
    exit_code		integer,
    tokens_in		bigint CHECK (tokens_in >= 0),
    tokens_out		bigint CHECK (tokens_out >= 0),
    cost_usd		numeric(12, 6) CHECK (cost_usd >= 0),
    files_changed	integer CHECK (files_changed >= 0),
    recorded_at		timestamptz NOT NULL DEFAULT now()
);

-- An admin's override of one repository's run-creation limit; without a
-- row, the configured default applies.  repo_key must be lower(repo), so
-- the two can never disagree.
CREATE TABLE rate_limits (
    repo_key		text PRIMARY KEY,
    repo		text NOT NULL CHECK (gt_repo_name_ok(repo)),
    "limit"		integer NOT NULL
			CHECK ("limit" BETWEEN 1 AND 1000000),
    window_seconds	integer NOT NULL
			CHECK (window_seconds BETWEEN 1 AND 2592000),
    updated_at		timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rate_limits_key_lower CHECK (repo_key = lower(repo))
);

-- Paused repositories: no new run, and queued runs wait.
CREATE TABLE paused_repos (
    repo_key		text PRIMARY KEY,
    repo		text NOT NULL CHECK (gt_repo_name_ok(repo)),
    reason		text,
    paused_at		timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT paused_repos_key_lower CHECK (repo_key = lower(repo))
);

-- Paused issues and pull requests, the same way.
CREATE TABLE paused_run_targets (
    repo_key		text NOT NULL,
    target_type		text NOT NULL
			CHECK (target_type IN ('issue', 'pull_request')),
    target_number	integer NOT NULL
			CHECK (target_number BETWEEN 1 AND 2147483647),
    repo		text NOT NULL CHECK (gt_repo_name_ok(repo)),
    reason		text,
    paused_at		timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repo_key, target_type, target_number),
    CONSTRAINT paused_run_targets_key_lower CHECK (repo_key = lower(repo))
);

-- Every webhook delivery handled, by GitHub's X-GitHub-Delivery id: a
-- delivery seen again is a duplicate, and the redelivery sweep asks for
-- the failed ones not found here.  outcome is the status the webhook
-- answered with (api.md), reason the reason of an "ignored" one.
CREATE TABLE webhook_deliveries (
    delivery_id		text PRIMARY KEY
			CHECK (char_length(delivery_id) BETWEEN 1 AND 255),
    event		text NOT NULL,
    action		text,
    received_at		timestamptz NOT NULL DEFAULT now(),
    outcome		text CHECK (outcome IN ('pong', 'duplicate', 'ignored',
			    'cancelled', 'accepted')),
    reason		text,
    run_id		uuid REFERENCES runs ON DELETE SET NULL
);

CREATE INDEX webhook_deliveries_run_idx ON webhook_deliveries (run_id)
    WHERE run_id IS NOT NULL;

-- Work for GitHub (a reaction, a reply, an outcome comment), queued in the
-- transaction that decides it and sent later with retries, never inside a
-- webhook request (api.md).  A row is sent once, or failed for good after
-- its last attempt.
CREATE TABLE github_outbox (
    id			bigserial PRIMARY KEY,
    kind		text NOT NULL
			CHECK (kind IN ('reaction', 'reply', 'outcome')),
    run_id		uuid REFERENCES runs ON DELETE CASCADE,
    repo		text NOT NULL CHECK (gt_repo_name_ok(repo)),
    installation_id	bigint,
    payload		jsonb NOT NULL
			CHECK (jsonb_typeof(payload) = 'object'),
    status		text NOT NULL DEFAULT 'pending'
			CHECK (status IN ('pending', 'sent', 'failed')),
    attempts		integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at	timestamptz NOT NULL DEFAULT now(),
    last_error		text,
    created_at		timestamptz NOT NULL DEFAULT now(),
    sent_at		timestamptz,
    CONSTRAINT github_outbox_sent
	CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- The sender's queue: pending work by when it is due.
CREATE INDEX github_outbox_due_idx ON github_outbox (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX github_outbox_run_idx ON github_outbox (run_id)
    WHERE run_id IS NOT NULL;

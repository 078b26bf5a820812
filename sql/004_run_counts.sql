-- 004_run_counts.sql: the totals of GET /api/runs without counting the
-- whole table at every request.
--
-- A finished run never changes (runs_guard_update), so the runs created
-- before some moment, once all of them have finished, can be counted once
-- and for good.  run_counts holds those counts per repository and status;
-- run_counts_mark says up to which created_at they go.  A total is then
-- the kept counts that match the filter plus a count of the runs created
-- since the mark, which the list indexes find by created_at.
--
-- run_counts_refresh() moves the mark forward: to the oldest unfinished
-- run, and never closer to now than five minutes, so that a run whose
-- transaction began before the mark but commits after the refresh (a
-- created_at is the time its transaction began) cannot be missed.  The
-- dispatcher calls it every minute; the list route calls it too when the
-- uncounted part has grown large.  Deleting runs, or inserting one dated
-- before the mark (an import; the service dates runs now()), resets the
-- counts, and the next refresh counts again from the start.

CREATE TABLE run_counts (
    repo_key	text NOT NULL,
    status	text NOT NULL
		CONSTRAINT run_counts_finished
		CHECK (status IN ('succeeded', 'failed', 'cancelled')),
    n		bigint NOT NULL CHECK (n >= 0),
    PRIMARY KEY (repo_key, status)
);

CREATE TABLE run_counts_mark (
    one		boolean PRIMARY KEY DEFAULT true CHECK (one),
    upto	timestamptz NOT NULL
);
INSERT INTO run_counts_mark (upto) VALUES ('-infinity');

-- Moves the mark as far as it may go and adds the runs it passes.  When
-- another session is refreshing, returns at once and leaves it to that
-- one.  Returns the mark.
CREATE FUNCTION run_counts_refresh() RETURNS timestamptz
    LANGUAGE plpgsql AS $$
DECLARE
    old_mark	timestamptz;
    new_mark	timestamptz;
BEGIN
    SELECT upto INTO old_mark FROM run_counts_mark FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
	RETURN NULL;
    END IF;

    -- least() ignores NULLs: with no unfinished run, only the margin
    -- holds the mark back.
    new_mark := least(now() - interval '5 minutes',
	(SELECT min(created_at) FROM runs WHERE status = 'queued'),
	(SELECT min(created_at) FROM runs WHERE status = 'running'));
    IF new_mark <= old_mark THEN
	RETURN old_mark;
    END IF;

    INSERT INTO run_counts AS c (repo_key, status, n)
	SELECT repo_key, status, count(*) FROM runs
	WHERE created_at >= old_mark AND created_at < new_mark
	GROUP BY repo_key, status
	ON CONFLICT (repo_key, status) DO UPDATE SET n = c.n + excluded.n;
    UPDATE run_counts_mark SET upto = new_mark;
    RETURN new_mark;
END
$$;

-- Any deletion of runs (a purge by hand) starts the counts again.
CREATE FUNCTION run_counts_reset() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_counts;
    UPDATE run_counts_mark SET upto = '-infinity';
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_delete_resets_counts AFTER DELETE ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION run_counts_reset();

-- So does a run inserted before the mark, which no refresh would count.
CREATE FUNCTION run_counts_check_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted
	WHERE created_at < (SELECT upto FROM run_counts_mark)) THEN
	DELETE FROM run_counts;
	UPDATE run_counts_mark SET upto = '-infinity';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER runs_insert_before_mark_resets_counts AFTER INSERT ON runs
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION run_counts_check_inserted();
CREATE TRIGGER runs_truncate_resets_counts AFTER TRUNCATE ON runs
    FOR EACH STATEMENT EXECUTE FUNCTION run_counts_reset();

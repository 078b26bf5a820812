-- 005_run_day_counts.sql: a page deep in GET /api/runs without stepping
-- over every run before it.
--
-- The list is newest first, and a page at offset K of it used to walk K
-- entries of an index (or, from the other end, the total less K).  The
-- runs created before the mark of run_counts (004) are now also counted
-- per UTC day and status.  A page among them is found by summing those
-- days newest first down to the day that holds its first run, and read
-- from the start of the next day on: it costs that day's runs and the
-- number of days, however deep it is.
--
-- The counts move with run_counts, in the same refresh and under the
-- same mark, and start again with them (a deletion, a truncation, or a
-- run inserted before the mark).  day is the number of days since
-- 1970-01-01 in UTC, whatever the session's time zone.
--
-- n is an integer where run_counts.n is a bigint: the list sums these
-- rows at every deep page, and a sum of integers is a bigint where a sum
-- of bigints is a numeric, which made the sum over two years of days
-- slower by a quarter.  One status would need over two thousand million
-- runs in a day to overflow it.  A row is made only for a day with runs
-- of its status, so n is never 0.

CREATE TABLE run_day_counts (
    day		bigint NOT NULL,
    status	text NOT NULL
		CONSTRAINT run_day_counts_finished
		CHECK (status IN ('succeeded', 'failed', 'cancelled')),
    n		integer NOT NULL CHECK (n > 0),
    PRIMARY KEY (day, status)
);

CREATE OR REPLACE FUNCTION run_counts_refresh() RETURNS timestamptz
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
    INSERT INTO run_day_counts AS c (day, status, n)
	SELECT floor(extract(epoch FROM created_at) / 86400)::bigint,
	    status, count(*) FROM runs
	WHERE created_at >= old_mark AND created_at < new_mark
	GROUP BY 1, 2
	ON CONFLICT (day, status) DO UPDATE SET n = c.n + excluded.n;
    UPDATE run_counts_mark SET upto = new_mark;
    RETURN new_mark;
END
$$;

CREATE OR REPLACE FUNCTION run_counts_reset() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_counts;
    DELETE FROM run_day_counts;
    UPDATE run_counts_mark SET upto = '-infinity';
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION run_counts_check_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted
	WHERE created_at < (SELECT upto FROM run_counts_mark)) THEN
	DELETE FROM run_counts;
	DELETE FROM run_day_counts;
	UPDATE run_counts_mark SET upto = '-infinity';
    END IF;
    RETURN NULL;
END
$$;

-- The counts start again, so that the next refresh fills both tables
-- over the same runs.
DELETE FROM run_counts;
UPDATE run_counts_mark SET upto = '-infinity';

-- 006_runs_vacuum.sql: autovacuum visits runs after a fiftieth of it has
-- changed, not a fifth.
--
-- GET /api/analytics and the count of the runs since the kept counts'
-- mark (004) read only an index of runs, as long as the table's pages
-- are marked all-visible; a page written since the last vacuum is not,
-- and each of its index entries is then checked against the table.  The
-- pages written last are the runs created last, which is exactly what
-- those two read.  With PostgreSQL's defaults autovacuum waits for a
-- fifth of the table to be new (inserts) or dead (each run is updated
-- when it starts, at each heartbeat and when it ends): some 200 000 rows
-- on a table of a million runs, weeks of a busy service, during which
-- the recent runs cost their index-only readers more (about a sixth more
-- for analytics over 30 000 of them, their pages in memory).
--
-- Here it comes after 1 % of the table is new rows (plus 1 000) or 2 %
-- is dead ones (plus 50): about 11 000 and 20 000 on a million runs.  A
-- vacuum of runs after inserts reads only the pages not yet all-visible
-- (the visibility map says which), so a visit costs what changed since
-- the last one, not the table.  t/bench/analytics.sh measures both ways
-- (doc/performance.md).

ALTER TABLE runs SET (
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_vacuum_scale_factor = 0.02
);

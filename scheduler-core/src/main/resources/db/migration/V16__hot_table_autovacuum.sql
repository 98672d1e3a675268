-- The hot tables churn: every job inserts and deletes outbox and queue-count rows, and updates its
-- jobs row four or five times. With the default thresholds (50 rows plus 20 % of the table) dead
-- rows pile up for minutes between vacuums, and the statistics of a table that grew from empty
-- stay those of the empty table (a backlog looks like no rows at all to the planner). Vacuum them
-- (and analyze all but the watermarks) after a fixed number of changes instead (jobs: 2,000 plus
-- 2 %), without the cost delay: they are small (outbox, deltas, watermarks) or indexed so that a
-- vacuum is cheap (jobs).
-- [jooq ignore start]
ALTER TABLE outbox SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,
  autovacuum_vacuum_cost_delay = 0);
ALTER TABLE queue_count_deltas SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 2000,
  autovacuum_vacuum_cost_delay = 0);
ALTER TABLE consumer_watermarks SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_cost_delay = 0);
ALTER TABLE jobs SET (
  autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 2000,
  autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 2000,
  autovacuum_vacuum_cost_delay = 0);
-- [jooq ignore stop]

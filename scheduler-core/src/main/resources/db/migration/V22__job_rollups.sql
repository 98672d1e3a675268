-- The dashboard's overview (throughput and latency over the last hour) without Prometheus: one
-- row per minute, folded from the jobs that ended in it once the minute is over, by the reaper's
-- leader. Idempotent (a minute folded again gets the same row); kept for 7 days.
CREATE TABLE job_rollups (
  minute       TIMESTAMP WITH TIME ZONE NOT NULL PRIMARY KEY,
  done         INTEGER NOT NULL,
  failed       INTEGER NOT NULL,
  cancelled    INTEGER NOT NULL,
  wait_p50_ms  DOUBLE PRECISION,
  wait_p95_ms  DOUBLE PRECISION,
  run_p50_ms   DOUBLE PRECISION,
  run_p95_ms   DOUBLE PRECISION
);

-- Retry by hand (POST /jobs/{id}/retry). Attempt numbers keep growing (they fence late messages);
-- the attempts that count against max_retries are those after budget_start_attempt.
ALTER TABLE jobs ADD COLUMN budget_start_attempt INTEGER NOT NULL DEFAULT 0;
-- The failed or cancelled job upstream that a cancelled job was cancelled for, so that retrying
-- that job with cascade=true brings back exactly the jobs it took down.
ALTER TABLE jobs ADD COLUMN cancelled_upstream VARCHAR(128);
CREATE INDEX jobs_cancelled_upstream_idx ON jobs (cancelled_upstream) WHERE cancelled_upstream IS NOT NULL;

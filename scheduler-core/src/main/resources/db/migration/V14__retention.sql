-- Retention: finished jobs are deleted after workron.scheduler.retention, with their attempts,
-- outputs and edges. Their ids are kept here (pruned-id-retention, longer than the submissions
-- topic's retention and the idempotency window) so that a redelivered submission, or a repeated
-- Idempotency-Key, of a pruned job never runs it again.
CREATE TABLE pruned_jobs (
  id        VARCHAR(128) NOT NULL PRIMARY KEY,
  pruned_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX pruned_jobs_pruned_at_idx ON pruned_jobs (pruned_at);
-- the pass reads only finished jobs, oldest first
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE status IN ('done', 'failed', 'cancelled');

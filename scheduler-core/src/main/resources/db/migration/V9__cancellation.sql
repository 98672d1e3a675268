-- Cancellation (POST /jobs/{id}/cancel, job.cancel.v1). A running job asked to stop keeps running
-- until its worker confirms the stop (or its loss is detected); until then these say that, and why.
ALTER TABLE jobs ADD COLUMN cancel_requested_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE jobs ADD COLUMN cancel_reason TEXT;

-- A cancel for a job id not stored yet (its submission may be keyed by another id and so overtaken
-- by the cancel): applied when the job arrives, pruned after the submissions topic's retention.
CREATE TABLE pending_cancels (
  job_id VARCHAR(128) PRIMARY KEY,
  reason TEXT,
  requested_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX pending_cancels_requested_at ON pending_cancels (requested_at);

-- The statuses of core/JobStatus, and only those: a write of anything else is a bug, refused here
-- rather than shown to users. Every status change goes through lifecycle/JobTransitions.
ALTER TABLE jobs ADD CONSTRAINT jobs_status_known CHECK (status IN (
  'blocked', 'pending', 'reserved', 'running', 'preempting', 'preempted',
  'done', 'failed', 'cancelled'));

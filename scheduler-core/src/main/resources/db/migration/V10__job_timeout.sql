-- The longest an attempt of the job may run (timeout_seconds of the submission, or its queue's
-- default when it was stored); null: no limit. The worker enforces it, the reaper backstops it.
ALTER TABLE jobs ADD COLUMN timeout_seconds INTEGER;

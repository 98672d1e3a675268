-- Why a pending job is not running when that needs saying (no registered worker could ever hold
-- it), and since when; a job unschedulable for longer than unschedulable-timeout fails.
ALTER TABLE jobs ADD COLUMN wait_reason TEXT;
ALTER TABLE jobs ADD COLUMN unschedulable_since TIMESTAMP WITH TIME ZONE;
CREATE INDEX jobs_unschedulable_idx ON jobs (unschedulable_since) WHERE unschedulable_since IS NOT NULL;
-- Blocked jobs by age, for the dependency-wait timeout.
CREATE INDEX jobs_blocked_idx ON jobs (created_at) WHERE status = 'blocked';

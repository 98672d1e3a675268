-- Recurring schedules (POST /schedules). Each fire creates one job whose id is the schedule's name
-- and the fire time, so a fire is never doubled: replicas take turns under advisory lock 5, and a
-- second insert of the same id is a no-op.
CREATE TABLE schedules (
  name             VARCHAR(64)  NOT NULL PRIMARY KEY,
  cron             VARCHAR(256) NOT NULL,
  time_zone        VARCHAR(64)  NOT NULL,
  -- the job each fire submits: job.submitted.v1's payload without id
  job              TEXT         NOT NULL,
  -- after downtime: skip the missed fires, or run the latest of them once
  missed           VARCHAR(16)  NOT NULL,
  -- while the previous fire's job has not finished: skip this fire, or fire anyway
  overlap          VARCHAR(16)  NOT NULL,
  next_fire_at     TIMESTAMP WITH TIME ZONE NOT NULL,
  paused_at        TIMESTAMP WITH TIME ZONE,
  created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
  last_fire_at     TIMESTAMP WITH TIME ZONE,
  last_job_id      VARCHAR(128),
  last_skipped_at  TIMESTAMP WITH TIME ZONE,
  last_skip_reason TEXT,
  CONSTRAINT schedules_missed_known CHECK (missed IN ('skip', 'run_once')),
  CONSTRAINT schedules_overlap_known CHECK (overlap IN ('skip', 'allow'))
);
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE paused_at IS NULL;

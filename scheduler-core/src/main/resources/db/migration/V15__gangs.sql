-- Gangs: N tasks that run all at once on N distinct workers, or not at all.

-- One row per gang; its tasks are jobs rows with gang_id and gang_index. What a task runs, and its
-- status, stay on the task; what the gang as a whole is waiting for, and its drain rounds, here.
CREATE TABLE gangs (
  id                  VARCHAR(128) NOT NULL PRIMARY KEY,
  size                INTEGER      NOT NULL,
  priority            INTEGER      NOT NULL DEFAULT 0,
  vram_mb             BIGINT       NOT NULL DEFAULT 0,
  memory_mb           BIGINT       NOT NULL DEFAULT 0,
  preemptible         BOOLEAN      NOT NULL DEFAULT FALSE,
  -- the current drain round; every preempt order, acknowledgement and checkpoint names it
  epoch               INTEGER      NOT NULL DEFAULT 0,
  created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
  run_at              TIMESTAMP WITH TIME ZONE NOT NULL,
  -- since when the gang waits for admission (reset when it is re-queued after a drain)
  waiting_since       TIMESTAMP WITH TIME ZONE,
  admitted_at         TIMESTAMP WITH TIME ZONE,
  admissions          INTEGER      NOT NULL DEFAULT 0,
  wait_reason         TEXT,
  unschedulable_since TIMESTAMP WITH TIME ZONE,
  finished_at         TIMESTAMP WITH TIME ZONE,
  -- when running work was preempted to make room for this gang: its workers are held for it
  preempted_for_at    TIMESTAMP WITH TIME ZONE
);
-- The admission loop reads only gangs not finished.
CREATE INDEX gangs_open_idx ON gangs (priority DESC, size DESC, created_at, id) WHERE finished_at IS NULL;

ALTER TABLE jobs ADD COLUMN gang_id VARCHAR(128);
ALTER TABLE jobs ADD COLUMN gang_index INTEGER;
-- the drain round the task's attempt belongs to (its gang's epoch when it was last moved)
ALTER TABLE jobs ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN reserved_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE jobs ADD COLUMN drain_started_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE jobs ADD COLUMN preemptible BOOLEAN NOT NULL DEFAULT FALSE;
-- whether a checkpoint is stored for the job, so a dispatch reads the checkpoints table only then
ALTER TABLE jobs ADD COLUMN has_checkpoint BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX jobs_gang_idx ON jobs (gang_id, gang_index) WHERE gang_id IS NOT NULL;
-- Capacity held by gang tasks that are not running: reserved (dispatched, not yet listed by their
-- worker) and preempting (ordered stopped, not yet acknowledged).
-- Running work that priority preemption may stop, by priority.
CREATE INDEX jobs_preemptible_idx ON jobs (priority) WHERE status = 'running' AND preemptible;
CREATE INDEX jobs_held_idx ON jobs (worker_id) WHERE status IN ('reserved', 'preempting');

-- A worker whose free capacity the admission loop keeps for the gang that has waited longest:
-- ordinary jobs are not placed on it meanwhile (see docs/decisions.md, gang admission).
ALTER TABLE workers ADD COLUMN held_for_gang VARCHAR(128);

-- Drain rounds: when a task of a running gang fails, times out or loses its worker, its siblings
-- are ordered stopped; the round ends when every live sibling has acknowledged.
CREATE TABLE gang_drains (
  gang_id        VARCHAR(128) NOT NULL,
  epoch          INTEGER      NOT NULL,
  trigger_job    VARCHAR(128),
  reason         TEXT         NOT NULL,
  started_at     TIMESTAMP WITH TIME ZONE NOT NULL,
  ended_at       TIMESTAMP WITH TIME ZONE,
  -- siblings ordered stopped, and how many acknowledged (the rest were drained at once or forced)
  ordered        INTEGER      NOT NULL,
  acks           INTEGER      NOT NULL DEFAULT 0,
  forced         INTEGER      NOT NULL DEFAULT 0,
  outcome        VARCHAR(16),
  PRIMARY KEY (gang_id, epoch)
);

-- The last checkpoint each job shipped, bound to the attempt and epoch it was written in.
CREATE TABLE checkpoints (
  job_id     VARCHAR(128) NOT NULL PRIMARY KEY,
  attempt    INTEGER      NOT NULL,
  epoch      INTEGER      NOT NULL,
  data       BYTEA        NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Why an attempt's checkpoint was not stored (too big), shown in its history.
ALTER TABLE job_attempts ADD COLUMN checkpoint_note TEXT;

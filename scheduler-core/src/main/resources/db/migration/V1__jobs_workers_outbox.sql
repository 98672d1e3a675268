-- Workron schema, version 1. Flyway owns it; jOOQ classes are generated from this file.

CREATE TABLE jobs (
  id                 VARCHAR(128) NOT NULL PRIMARY KEY,
  command            TEXT         NOT NULL,
  status             VARCHAR(16)  NOT NULL,
  priority           INTEGER      NOT NULL DEFAULT 0,
  queue_name         VARCHAR(128) NOT NULL DEFAULT 'default',
  max_retries        INTEGER      NOT NULL DEFAULT 3,
  attempt            INTEGER      NOT NULL DEFAULT 0,
  -- attempts that do not count against max_retries (interrupted by the worker, worker lost, ...)
  free_attempts      INTEGER      NOT NULL DEFAULT 0,
  vram_mb            BIGINT       NOT NULL DEFAULT 0,
  memory_mb          BIGINT       NOT NULL DEFAULT 0,
  idempotency_key    VARCHAR(256),
  worker_id          VARCHAR(128),
  worker_incarnation VARCHAR(64),
  created_at         TIMESTAMP WITH TIME ZONE NOT NULL,
  run_at             TIMESTAMP WITH TIME ZONE NOT NULL,
  dispatched_at      TIMESTAMP WITH TIME ZONE,
  started_at         TIMESTAMP WITH TIME ZONE,
  finished_at        TIMESTAMP WITH TIME ZONE,
  last_heartbeat_at  TIMESTAMP WITH TIME ZONE,
  exit_code          INTEGER,
  failure_reason     TEXT,
  CONSTRAINT jobs_idempotency_key_unique UNIQUE (idempotency_key)
);

-- The claim reads only pending rows, in this order.
CREATE INDEX jobs_pending_idx ON jobs (priority DESC, run_at, id) WHERE status = 'pending';
-- Capacity of a worker and the reaper read only running rows by worker.
CREATE INDEX jobs_running_idx ON jobs (worker_id) WHERE status = 'running';
-- Listing by status with a cursor on id.
CREATE INDEX jobs_status_id_idx ON jobs (status, id);

-- DAG edges, indexed both ways: unblocking is a join, not a scan of JSON arrays.
CREATE TABLE job_dependencies (
  job_id     VARCHAR(128) NOT NULL,
  depends_on VARCHAR(128) NOT NULL,
  PRIMARY KEY (job_id, depends_on)
);
CREATE INDEX job_dependencies_depends_on_idx ON job_dependencies (depends_on, job_id);

-- One row per attempt: the history shown by GET /jobs/{id}.
CREATE TABLE job_attempts (
  job_id        VARCHAR(128) NOT NULL,
  attempt       INTEGER      NOT NULL,
  worker_id     VARCHAR(128) NOT NULL,
  incarnation   VARCHAR(64)  NOT NULL,
  dispatched_at TIMESTAMP WITH TIME ZONE NOT NULL,
  started_at    TIMESTAMP WITH TIME ZONE,
  finished_at   TIMESTAMP WITH TIME ZONE,
  exit_code     INTEGER,
  outcome       VARCHAR(32),
  reason        TEXT,
  PRIMARY KEY (job_id, attempt)
);

-- Bounded tail of the last attempt's output, kept out of the hot jobs table.
CREATE TABLE job_outputs (
  job_id    VARCHAR(128) NOT NULL PRIMARY KEY,
  attempt   INTEGER      NOT NULL,
  output    TEXT         NOT NULL,
  truncated BOOLEAN      NOT NULL DEFAULT FALSE
);

CREATE TABLE workers (
  id                VARCHAR(128) NOT NULL PRIMARY KEY,
  incarnation       VARCHAR(64)  NOT NULL,
  slots             INTEGER      NOT NULL,
  vram_mb           BIGINT       NOT NULL DEFAULT 0,
  memory_mb         BIGINT       NOT NULL DEFAULT 0,
  tags              TEXT         NOT NULL DEFAULT '',
  exec_addr         VARCHAR(256) NOT NULL DEFAULT '',
  status            VARCHAR(16)  NOT NULL,
  registered_at     TIMESTAMP WITH TIME ZONE NOT NULL,
  last_heartbeat_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Messages written in the same transaction as the state change that caused them; the relay
-- publishes and deletes them.
CREATE TABLE outbox (
  id         BIGSERIAL    NOT NULL PRIMARY KEY,
  topic      VARCHAR(255) NOT NULL,
  msg_key    VARCHAR(255) NOT NULL,
  payload    BYTEA        NOT NULL,
  request_id VARCHAR(128),
  owner      VARCHAR(64)  NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX outbox_owner_idx ON outbox (owner, id);

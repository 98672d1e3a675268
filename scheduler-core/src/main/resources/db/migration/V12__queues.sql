-- Queues that mean something: limits and pause, set in configuration and changed at run time.
-- A row exists for every queue configured or touched through the API. While overridden_at is
-- null, configuration decides its limits; PUT /queues/{name} sets them here and from then on these
-- columns decide (null: no limit).
CREATE TABLE queues (
  name                VARCHAR(128) NOT NULL PRIMARY KEY,
  max_running         INTEGER,
  max_running_per_key INTEGER,
  overridden_at       TIMESTAMP WITH TIME ZONE,
  paused_at           TIMESTAMP WITH TIME ZONE,
  CONSTRAINT queues_limits_positive CHECK (
    (max_running IS NULL OR max_running >= 1) AND (max_running_per_key IS NULL OR max_running_per_key >= 1))
);

-- Per-key concurrency: at most max_running_per_key running jobs of a queue share a key.
ALTER TABLE jobs ADD COLUMN concurrency_key VARCHAR(256);
CREATE INDEX jobs_running_queue_idx ON jobs (queue_name, concurrency_key) WHERE status = 'running';

-- Jobs per queue and status, maintained rather than counted over history: every statement that
-- inserts, deletes or changes jobs appends its net change here (append-only, so writers never wait
-- for each other on a counter row); the reaper's leader folds them into queue_counts.
CREATE TABLE queue_count_deltas (
  id         BIGSERIAL PRIMARY KEY,
  queue_name VARCHAR(128) NOT NULL,
  status     VARCHAR(16)  NOT NULL,
  delta      BIGINT       NOT NULL
);
CREATE TABLE queue_counts (
  queue_name VARCHAR(128) NOT NULL,
  status     VARCHAR(16)  NOT NULL,
  n          BIGINT       NOT NULL,
  PRIMARY KEY (queue_name, status)
);

-- [jooq ignore start]
CREATE FUNCTION jobs_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_count_deltas (queue_name, status, delta)
    SELECT queue_name, status, count(*) FROM new_rows GROUP BY queue_name, status;
  RETURN NULL;
END $$;

CREATE FUNCTION jobs_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_count_deltas (queue_name, status, delta)
    SELECT queue_name, status, -count(*) FROM old_rows GROUP BY queue_name, status;
  RETURN NULL;
END $$;

CREATE FUNCTION jobs_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO queue_count_deltas (queue_name, status, delta)
    SELECT queue_name, status, sum(d) FROM (
      SELECT n.queue_name, n.status, 1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status OR o.queue_name IS DISTINCT FROM n.queue_name
      UNION ALL
      SELECT o.queue_name, o.status, -1 AS d FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE o.status IS DISTINCT FROM n.status OR o.queue_name IS DISTINCT FROM n.queue_name
    ) c GROUP BY queue_name, status HAVING sum(d) <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION jobs_count_inserted();
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION jobs_count_deleted();
CREATE TRIGGER jobs_count_update AFTER UPDATE ON jobs
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION jobs_count_updated();

-- what was there before this migration
INSERT INTO queue_counts (queue_name, status, n)
  SELECT queue_name, status, count(*) FROM jobs GROUP BY queue_name, status;
-- [jooq ignore stop]

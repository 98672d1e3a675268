-- Who changed what: one row per change made through the API (cancel, retry, gang cancel, queue
-- limits, pause and resume, schedule changes, worker drain), with the name of the gateway token
-- that asked (never the token) and the request id of the REST call. A job's rows, and those of its
-- gang, are shown in its history (GET /jobs/{id}, "audit"); retention deletes them with the job.
CREATE TABLE audit_events (
  id         BIGSERIAL    NOT NULL PRIMARY KEY,
  at         TIMESTAMPTZ  NOT NULL DEFAULT now(),
  actor      TEXT         NOT NULL,
  request_id TEXT,
  action     TEXT         NOT NULL,
  subject    TEXT         NOT NULL,
  job_id     TEXT,
  gang_id    TEXT
);
-- [jooq ignore start] (the code generator's parser cannot index TEXT)
CREATE INDEX audit_events_job_idx ON audit_events (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX audit_events_gang_idx ON audit_events (gang_id) WHERE gang_id IS NOT NULL;
CREATE INDEX audit_events_at_idx ON audit_events (at);
-- [jooq ignore stop]

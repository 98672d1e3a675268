-- Per partition of the heartbeats and results topics, the newest broker timestamp scheduler-core
-- has applied (heartbeats, results and the ticks it writes itself every second). Liveness is judged
-- against these watermarks, in broker time, never against when a heartbeat happened to be read: a
-- consumer that lags or a broker outage stops the watermark and so reaps nothing.
-- resumed_at is the first timestamp after the partition's last gap (a broker outage): silence is
-- counted from there, so workers get a full offline window to heartbeat again after an outage.
CREATE TABLE consumer_watermarks (
  topic_kind      VARCHAR(16) NOT NULL,
  kafka_partition INTEGER     NOT NULL,
  watermark       TIMESTAMP WITH TIME ZONE NOT NULL,
  resumed_at      TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (topic_kind, kafka_partition)
);
-- workers.last_heartbeat_at is from now on the broker timestamp of the worker's last heartbeat, on
-- this partition of the heartbeats topic; the worker's own clock at sending is kept beside it.
ALTER TABLE workers ADD COLUMN heartbeat_partition INTEGER;
ALTER TABLE workers ADD COLUMN last_heartbeat_sent_at TIMESTAMP WITH TIME ZONE;
-- When the dispatch of the current attempt was acknowledged by the broker (its broker timestamp):
-- the dispatch-ack clock starts here, not at claim.
ALTER TABLE jobs ADD COLUMN dispatch_published_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE outbox ADD COLUMN dispatch_job_id VARCHAR(128);
ALTER TABLE outbox ADD COLUMN dispatch_attempt INTEGER;
-- Attempts dispatched before this migration: their dispatch was published (or will be by the
-- sweep) around when it was claimed.
UPDATE jobs SET dispatch_published_at = dispatched_at WHERE status = 'running';

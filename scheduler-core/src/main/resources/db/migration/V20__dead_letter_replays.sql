-- Dead letters replayed by hand (POST /dead-letters/{topic}/{partition}/{offset}/replay): one row
-- per dead letter, so that the list shows which were sent back, when and by whom, and a second
-- replay has to be asked for (again=true). The dead letters themselves stay in their Kafka topics.
CREATE TABLE dead_letter_replays (
  dlq_topic        VARCHAR(249)  NOT NULL,
  dlq_partition    INTEGER       NOT NULL,
  dlq_offset       BIGINT        NOT NULL,
  replays          INTEGER       NOT NULL,
  last_at          TIMESTAMPTZ   NOT NULL,
  last_actor       TEXT          NOT NULL,
  last_request_id  TEXT,
  target_topic     VARCHAR(249)  NOT NULL,
  target_partition INTEGER       NOT NULL,
  target_offset    BIGINT        NOT NULL,
  PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);

-- A relay (the owner's or the sweep) claims rows with a lease before publishing them, so two relays
-- never publish the same row at the same time; a lease left by a relay that died expires.
ALTER TABLE outbox ADD COLUMN leased_by VARCHAR(64);
ALTER TABLE outbox ADD COLUMN leased_until TIMESTAMP WITH TIME ZONE;
-- Messages for one key of one topic go out in the order they were written, whoever wrote them:
-- a row is relayed only once no older row for the same topic and key is left.
CREATE INDEX outbox_topic_key_idx ON outbox (topic, msg_key, id);

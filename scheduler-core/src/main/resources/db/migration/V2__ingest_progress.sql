-- How far ingestion has got on each submissions partition: the offset after the last record it
-- handled (stored, ignored as a duplicate or dead-lettered). Written in the transaction that stores
-- the records, so "progress passed offset O" means "the record at O is in jobs, or was refused".
-- The gateway's wait for "stored" and its dependency check read it.
CREATE TABLE ingest_progress (
  kafka_partition INTEGER NOT NULL PRIMARY KEY,
  next_offset     BIGINT  NOT NULL
);

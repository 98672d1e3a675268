-- GET /jobs lists newest first (by creation time, then id: ids are not all time-ordered, a
-- schedule's are named after it), filtered by status, queue, worker or id prefix, a keyset page
-- at a time, and must stay fast with millions of rows (the dashboard's job list). One index per
-- filter serves its order; created_at, queue_name and id never change, so those cost an insert
-- only; status and worker_id change with each attempt, as jobs_status_id_idx already does.
CREATE INDEX jobs_created_idx ON jobs (created_at, id);
CREATE INDEX jobs_status_created_idx ON jobs (status, created_at, id);
CREATE INDEX jobs_queue_created_idx ON jobs (queue_name, created_at, id);
CREATE INDEX jobs_worker_created_idx ON jobs (worker_id, created_at, id) WHERE worker_id IS NOT NULL;
-- [jooq ignore start] (the code generator's parser does not know operator classes)
-- an id prefix (LIKE 'p%') is a range of this index whatever the database's collation; the
-- planner takes it when the prefix is rare and walks jobs_created_idx when it is common
CREATE INDEX jobs_id_pattern_idx ON jobs (id varchar_pattern_ops);
-- [jooq ignore stop]

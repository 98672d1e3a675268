-- GET /jobs filters by queue, by worker and by id prefix, newest or oldest first, a keyset page
-- at a time, and must stay fast with millions of rows (the dashboard's job list). The primary key
-- and jobs_status_id_idx serve the order alone and with a status; these serve the other filters.
-- queue_name and id never change, so the first and the last cost an insert only; worker_id changes
-- with each attempt, when status (already indexed) changes too.
CREATE INDEX jobs_queue_id_idx ON jobs (queue_name, id);
CREATE INDEX jobs_worker_id_idx ON jobs (worker_id, id) WHERE worker_id IS NOT NULL;
-- [jooq ignore start] (the code generator's parser does not know operator classes)
-- an id prefix (LIKE 'p%') is a range of this index whatever the database's collation; the
-- planner takes it when the prefix is rare and walks the primary key in order when it is common
CREATE INDEX jobs_id_pattern_idx ON jobs (id varchar_pattern_ops);
-- [jooq ignore stop]

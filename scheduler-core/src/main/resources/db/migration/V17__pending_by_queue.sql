-- Pending jobs by queue. With a queue closed (paused, or at max_running), the claim walks the open
-- queues' rows through this index and passes a closed queue's backlog in one index descent,
-- instead of reading it row by row in the global order: 100,000 pending jobs in a paused queue
-- made each claim take 119 ms, 0.9 ms with this index (docs/performance.md, "Step 3").
CREATE INDEX jobs_pending_queue_idx ON jobs (queue_name, priority DESC, run_at, id) WHERE status = 'pending';
-- The unschedulable check reads only pending jobs that ask for resources (marked ones have
-- jobs_unschedulable_idx since V3).
CREATE INDEX jobs_pending_resources_idx ON jobs (id) WHERE status = 'pending' AND (vram_mb > 0 OR memory_mb > 0);

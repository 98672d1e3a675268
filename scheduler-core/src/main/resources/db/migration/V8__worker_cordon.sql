-- An operator's drain of a worker (POST /workers/{id}/drain): no new dispatches while set; running
-- attempts finish. Kept across the worker's restarts (it is about the worker id), cleared by resume.
ALTER TABLE workers ADD COLUMN cordoned_at TIMESTAMP WITH TIME ZONE;

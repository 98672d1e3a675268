-- The job's trace (W3C traceparent of scheduler-core's ingest span), so that a dispatch minutes
-- or days later, a retry and every event about the job continue the trace its submission started.
-- Null for jobs stored before tracing, or with tracing off.
ALTER TABLE jobs ADD COLUMN traceparent VARCHAR(64);

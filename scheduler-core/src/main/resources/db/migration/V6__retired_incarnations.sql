-- Incarnations a newer one has replaced, per worker id. A heartbeat from one of them comes from a
-- process that has been superseded: it is ignored and told to stop. Order by broker arrival, not by
-- the processes' clocks, so a restart on a machine whose clock is behind is never mistaken for it.
CREATE TABLE retired_incarnations (
  worker_id   VARCHAR(128) NOT NULL,
  incarnation VARCHAR(64)  NOT NULL,
  retired_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (worker_id, incarnation)
);

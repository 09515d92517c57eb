-- 0011: cheaper deliveries (see the SQLite driver's 0011): listing by sink
-- uses (sink, id), which a delivery enters once, instead of (sink, state,
-- id), which it moved through twice; the dead ones get a small index of
-- their own. deliveries_head_idx stays: on PostgreSQL the claim's head check
-- probes it (relay.go). It can run again harmlessly.
DROP INDEX IF EXISTS deliveries_sink_state_idx;
CREATE INDEX IF NOT EXISTS deliveries_sink_idx ON deliveries (sink, id);
CREATE INDEX IF NOT EXISTS deliveries_dead_idx ON deliveries (sink, id) WHERE state = 'dead';

-- 0011: cheaper deliveries (see the SQLite driver's 0011): the claim's
-- head check walks events_order_idx instead of a random-key index written
-- on every append, and listing by sink uses (sink, id), which a delivery
-- enters once, instead of (sink, state, id), which it moved through twice.
-- It can run again harmlessly.
DROP INDEX IF EXISTS deliveries_head_idx;
DROP INDEX IF EXISTS deliveries_sink_state_idx;
CREATE INDEX IF NOT EXISTS deliveries_sink_idx ON deliveries (sink, id);
CREATE INDEX IF NOT EXISTS deliveries_dead_idx ON deliveries (sink, id) WHERE state = 'dead';

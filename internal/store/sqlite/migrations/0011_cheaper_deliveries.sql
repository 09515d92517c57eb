-- 0011: cheaper deliveries. Every event is appended in the intake's
-- transaction with a delivery per endpoint, so each index on deliveries is
-- paid by the callback path. Two of them were costly:
--   deliveries_head (sink, order_key, id) over open rows took a random key
--   (the order id) on every append: a page written per event, and an index
--   that grows without bound while an endpoint is down. The claim's head
--   check now walks events_order (order_id, id), which intake pays for
--   already, to the earlier deliveries of the same order. (PostgreSQL
--   keeps its head index: see its 0011.)
--   deliveries_sink_state (sink, state, id) moved twice per delivery
--   (pending → leased → delivered). Listing by sink needs only (sink, id),
--   which a delivery enters once, when appended; the dead ones, which the
--   dashboard and replays look for, get a small index of their own.
DROP INDEX IF EXISTS deliveries_head;
DROP INDEX IF EXISTS deliveries_sink_state;
CREATE INDEX IF NOT EXISTS deliveries_sink ON deliveries (sink, id);
CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries (sink, id) WHERE state = 'dead';

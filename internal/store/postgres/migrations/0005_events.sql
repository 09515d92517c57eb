-- 0005: the event log, the brands' webhook endpoints, and the deliveries
-- (outbox) the relay sends from (see the SQLite driver's 0005). Written to
-- run again harmlessly (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS events (
    id text PRIMARY KEY,
    type text NOT NULL,
    order_id text NOT NULL DEFAULT '',
    message_id text NOT NULL DEFAULT '',
    phone_number_id text NOT NULL DEFAULT '',
    occurred_at timestamptz NOT NULL,
    payload bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS events_order_idx ON events (order_id, id) WHERE order_id <> '';
CREATE INDEX IF NOT EXISTS events_occurred_idx ON events (occurred_at);

CREATE TABLE IF NOT EXISTS webhooks (
    id text PRIMARY KEY,
    url text NOT NULL,
    description text NOT NULL DEFAULT '',
    event_types text[] NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text NOT NULL DEFAULT '',
    secrets text[] NOT NULL DEFAULT '{}',
    failing_since timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per (event, sink). While leased, next_attempt_at is the lease's
-- end. Rows of one (sink, order_key) are inserted after the order row is
-- written or locked, so their ids follow commit order.
CREATE TABLE IF NOT EXISTS deliveries (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sink text NOT NULL,
    order_key text NOT NULL DEFAULT '',
    state text NOT NULL CHECK (state IN ('pending', 'leased', 'retry', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_owner text NOT NULL DEFAULT '',
    last_status integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    delivered_at timestamptz,
    UNIQUE (event_id, sink)
);
CREATE INDEX IF NOT EXISTS deliveries_due_idx ON deliveries (sink, next_attempt_at, id) WHERE state IN ('pending', 'leased', 'retry');
CREATE INDEX IF NOT EXISTS deliveries_head_idx ON deliveries (sink, order_key, id) WHERE state IN ('pending', 'leased', 'retry') AND order_key <> '';
CREATE INDEX IF NOT EXISTS deliveries_sink_state_idx ON deliveries (sink, state, id);

CREATE TABLE IF NOT EXISTS delivery_attempts (
    id bigserial PRIMARY KEY,
    delivery_id bigint,
    event_id text NOT NULL,
    sink text NOT NULL,
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    status integer NOT NULL DEFAULT 0,
    latency_us bigint NOT NULL DEFAULT 0,
    error text NOT NULL DEFAULT '',
    response bytea,
    result text NOT NULL DEFAULT '',
    manual boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS delivery_attempts_sink_idx ON delivery_attempts (sink, id);
CREATE INDEX IF NOT EXISTS delivery_attempts_event_idx ON delivery_attempts (event_id, id);

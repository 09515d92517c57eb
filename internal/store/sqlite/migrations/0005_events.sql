-- 0005: the event log, the brands' webhook endpoints, and the deliveries
-- (outbox) the relay sends from. Times are integer microseconds (UTC).
--
-- events: appended in the transaction of the change they describe; id is
-- 'evt_' + a time-ordered ULID, payload the exact bytes every sink sends.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    order_id TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    phone_number_id TEXT NOT NULL DEFAULT '',
    occurred_at INTEGER NOT NULL,
    payload BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_order ON events (order_id, id) WHERE order_id <> '';
CREATE INDEX events_occurred ON events (occurred_at);

-- webhooks: event_types and secrets are JSON arrays of strings.
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    event_types TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT NOT NULL DEFAULT '',
    secrets TEXT NOT NULL DEFAULT '[]',
    failing_since INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- deliveries: one row per (event, sink); sink is a webhook id or a static
-- sink's name ('nats'). While leased, next_attempt_at is the lease's end,
-- so one index finds both due and expired rows. order_key is the order id
-- ('' for events of no order): deliveries of one (sink, order_key) go out
-- in id order, the head first.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sink TEXT NOT NULL,
    order_key TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'retry', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT NOT NULL DEFAULT '',
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (event_id, sink)
);
CREATE INDEX deliveries_due ON deliveries (sink, next_attempt_at, id) WHERE state IN ('pending', 'leased', 'retry');
CREATE INDEX deliveries_head ON deliveries (sink, order_key, id) WHERE state IN ('pending', 'leased', 'retry') AND order_key <> '';
CREATE INDEX deliveries_sink_state ON deliveries (sink, state, id);

CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER,
    event_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    latency_us INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    response BLOB,
    result TEXT NOT NULL DEFAULT '',
    manual INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_sink ON delivery_attempts (sink, id);
CREATE INDEX delivery_attempts_event ON delivery_attempts (event_id, id);

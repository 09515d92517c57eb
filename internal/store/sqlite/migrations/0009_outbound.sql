-- 0009: outbound messages (issue 15). Every message waorders sends is a
-- row here: an intent created in the transaction of its cause (the order,
-- the status change, the staff request), claimed by the notifier with a
-- lease like deliveries (next_attempt_at is the lease's end while
-- sending), and joined to the status callbacks that echo its refs (ref2 =
-- id) or, once known, its wamid. intent_key ('<order id>/<status>', NULL
-- for staff messages) keeps one notification per order and status however
-- often the cause is written.
CREATE TABLE IF NOT EXISTS outbound (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    order_status    TEXT    NOT NULL,
    intent_key      TEXT    UNIQUE,
    phone_number_id TEXT    NOT NULL,
    to_wa_id        TEXT    NOT NULL,
    customer_key    TEXT    NOT NULL,
    reply_to        TEXT    NOT NULL,
    note            TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    template        TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    claimed_from    TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    resends         INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL,
    ambiguous_since INTEGER NOT NULL,
    sent_kind       TEXT    NOT NULL,
    request         BLOB,
    wamid           TEXT    NOT NULL,
    last_code       TEXT    NOT NULL,
    last_error      TEXT    NOT NULL,
    response        BLOB,
    delivery_state  TEXT    NOT NULL,
    delivery_error  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    accepted_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS outbound_due ON outbound (next_attempt_at, seq)
    WHERE state IN ('queued', 'retry', 'ambiguous', 'sending');
CREATE INDEX IF NOT EXISTS outbound_order ON outbound (order_id, seq);
CREATE INDEX IF NOT EXISTS outbound_customer ON outbound (customer_key, seq);
CREATE INDEX IF NOT EXISTS outbound_to ON outbound (to_wa_id, seq);
CREATE INDEX IF NOT EXISTS outbound_wamid ON outbound (wamid) WHERE wamid <> '';

-- Business numbers whose sends are paused (RBC001, E110, WAV2101, WA401):
-- claims skip their rows until paused_until (0: until resumed).
CREATE TABLE IF NOT EXISTS outbound_senders (
    phone_number_id TEXT    PRIMARY KEY,
    reason          TEXT    NOT NULL,
    paused_at       INTEGER NOT NULL,
    paused_until    INTEGER NOT NULL
) STRICT;

-- The notification settings set through PUT /v1/notifications (a JSON
-- document); absent, the config file's apply.
CREATE TABLE IF NOT EXISTS notify_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- 0001: the intake schema. Times are INTEGER unix microseconds UTC (0 = unset),
-- money is INTEGER minor units beside a TEXT ISO 4217 code, JSON is TEXT.
-- Deduplication happens only through the PRIMARY KEY / UNIQUE constraints
-- below, with INSERT ... ON CONFLICT DO NOTHING.

-- Every accepted request body, duplicates included (one row per request id).
CREATE TABLE callbacks (
    id          TEXT    NOT NULL PRIMARY KEY,
    envelope    TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    headers     TEXT
) STRICT;

-- Every stored inbound message, keyed by wamid.
CREATE TABLE messages (
    id                   TEXT    NOT NULL PRIMARY KEY,
    callback_id          TEXT    NOT NULL,
    type                 TEXT    NOT NULL,
    customer_wa_id       TEXT    NOT NULL,
    customer_name        TEXT    NOT NULL,
    phone_number_id      TEXT    NOT NULL,
    display_phone_number TEXT    NOT NULL,
    waba_id              TEXT    NOT NULL,
    ref                  TEXT    NOT NULL,
    ref1                 TEXT    NOT NULL,
    ref2                 TEXT    NOT NULL,
    reply_to             TEXT    NOT NULL,
    trace_id             TEXT    NOT NULL,
    context_message_id   TEXT    NOT NULL,
    summary              TEXT    NOT NULL,
    sent_at              INTEGER NOT NULL,
    received_at          INTEGER NOT NULL,
    raw                  TEXT,
    warnings             TEXT
) STRICT;

CREATE INDEX messages_sent ON messages (sent_at, id);
CREATE INDEX messages_customer ON messages (customer_wa_id, sent_at, id);

-- Orders, keyed by the wamid of the order message. search holds the
-- lower-cased customer name and order text for the free-text filter.
CREATE TABLE orders (
    id                   TEXT    NOT NULL PRIMARY KEY,
    status               TEXT    NOT NULL,
    version              INTEGER NOT NULL,
    catalog_id           TEXT    NOT NULL,
    text                 TEXT    NOT NULL,
    customer_wa_id       TEXT    NOT NULL,
    customer_name        TEXT    NOT NULL,
    phone_number_id      TEXT    NOT NULL,
    display_phone_number TEXT    NOT NULL,
    waba_id              TEXT    NOT NULL,
    ref                  TEXT    NOT NULL,
    ref1                 TEXT    NOT NULL,
    ref2                 TEXT    NOT NULL,
    reply_to             TEXT    NOT NULL,
    context_message_id   TEXT    NOT NULL,
    trace_id             TEXT    NOT NULL,
    search               TEXT    NOT NULL,
    ordered_at           INTEGER NOT NULL,
    received_at          INTEGER NOT NULL,
    units                INTEGER NOT NULL,
    warnings             TEXT
) STRICT;

CREATE INDEX orders_ordered ON orders (ordered_at, id);
CREATE INDEX orders_ref ON orders (ref, ordered_at, id);
CREATE INDEX orders_ref1 ON orders (ref1, ordered_at, id);
CREATE INDEX orders_ref2 ON orders (ref2, ordered_at, id);
CREATE INDEX orders_customer ON orders (customer_wa_id, ordered_at, id);
CREATE INDEX orders_phone ON orders (phone_number_id, ordered_at, id);
CREATE INDEX orders_status ON orders (status, ordered_at, id);

CREATE TABLE order_items (
    order_id            TEXT    NOT NULL REFERENCES orders (id),
    idx                 INTEGER NOT NULL,
    product_retailer_id TEXT    NOT NULL,
    quantity            INTEGER NOT NULL,
    currency            TEXT    NOT NULL,
    unit_minor          INTEGER NOT NULL,
    line_minor          INTEGER NOT NULL,
    PRIMARY KEY (order_id, idx)
) STRICT, WITHOUT ROWID;

CREATE INDEX order_items_product ON order_items (product_retailer_id, order_id);

-- One total per order and currency; idx keeps the order of first appearance.
CREATE TABLE order_totals (
    order_id     TEXT    NOT NULL REFERENCES orders (id),
    currency     TEXT    NOT NULL,
    idx          INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (order_id, currency)
) STRICT, WITHOUT ROWID;

-- seq is the order version the change produced (1 = creation).
CREATE TABLE order_history (
    order_id    TEXT    NOT NULL REFERENCES orders (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    from_status TEXT    NOT NULL,
    to_status   TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    PRIMARY KEY (order_id, seq)
) STRICT, WITHOUT ROWID;

-- Status updates of outbound messages, deduplicated on (message, status).
CREATE TABLE statuses (
    message_id   TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    rank         INTEGER NOT NULL,
    recipient_id TEXT    NOT NULL,
    callback_id  TEXT    NOT NULL,
    ts           INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    errors       TEXT,
    raw          TEXT,
    PRIMARY KEY (message_id, status)
) STRICT;

-- The forward-only state of each outbound message.
CREATE TABLE message_states (
    message_id TEXT    NOT NULL PRIMARY KEY,
    status     TEXT    NOT NULL,
    rank       INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    callback_id TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    envelope    TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    problems    TEXT,
    body        BLOB,
    headers     TEXT,
    received_at INTEGER NOT NULL,
    resolved_at INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A message is quarantined once; whole-body entries have no message id.
CREATE UNIQUE INDEX quarantine_message ON quarantine (message_id) WHERE message_id <> '';

-- Ping writes here so readiness means "writable".
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
) STRICT;

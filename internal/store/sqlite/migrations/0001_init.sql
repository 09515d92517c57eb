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

-- Every stored inbound message. The wamid is the dedup key; seq (the
-- rowid) grows with every insert and keys the order made from the message.
CREATE TABLE messages (
    seq                  INTEGER PRIMARY KEY,
    id                   TEXT    NOT NULL UNIQUE,
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
-- The only index by customer: customers arrive in random order, so each
-- insert into it dirties a page of its own, and one such index is enough.
-- A customer's orders are found through their order messages.
CREATE INDEX messages_customer ON messages (customer_wa_id, sent_at, id);

-- Orders. An order shares the seq of its message (so the message's UNIQUE
-- wamid is the order's dedup key and lookup key, and orders need no second
-- index on a random key); id repeats the wamid for sorting. The child
-- tables are keyed by seq, so their inserts append instead of landing on
-- random pages as a wamid key would. search
-- holds the lower-cased customer name and order text for the free-text
-- filter. currency and total_minor hold the first total of the order (an
-- order almost always has one currency); further ones are in order_totals.
CREATE TABLE orders (
    seq                  INTEGER PRIMARY KEY REFERENCES messages (seq),
    id                   TEXT    NOT NULL,
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
    currency             TEXT    NOT NULL,
    total_minor          INTEGER NOT NULL,
    warnings             TEXT
) STRICT;

-- Lists are newest first by (ordered_at, id); each filter that narrows a
-- list a lot gets an index ending in the same keys. The campaign indexes
-- also carry what the campaign report sums, so the report reads only them.
CREATE INDEX orders_ordered ON orders (ordered_at, id);
CREATE INDEX orders_ref ON orders (ref, ordered_at, id, units, currency, total_minor);
CREATE INDEX orders_ref1 ON orders (ref1, ordered_at, id, units, currency, total_minor);
CREATE INDEX orders_ref2 ON orders (ref2, ordered_at, id, units, currency, total_minor);
CREATE INDEX orders_status ON orders (status, ordered_at, id);

CREATE TABLE order_items (
    order_seq           INTEGER NOT NULL REFERENCES orders (seq),
    idx                 INTEGER NOT NULL,
    product_retailer_id TEXT    NOT NULL,
    quantity            INTEGER NOT NULL,
    currency            TEXT    NOT NULL,
    unit_minor          INTEGER NOT NULL,
    line_minor          INTEGER NOT NULL,
    PRIMARY KEY (order_seq, idx)
) STRICT, WITHOUT ROWID;

CREATE INDEX order_items_product ON order_items (product_retailer_id, order_seq);

-- The totals of an order beyond its first (orders.currency, total_minor),
-- one per further currency; idx (from 1) keeps the order of first appearance.
CREATE TABLE order_totals (
    order_seq    INTEGER NOT NULL REFERENCES orders (seq),
    idx          INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (order_seq, idx)
) STRICT, WITHOUT ROWID;

-- version is the order version the change produced (1 = creation).
CREATE TABLE order_history (
    order_seq   INTEGER NOT NULL REFERENCES orders (seq),
    version     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    from_status TEXT    NOT NULL,
    to_status   TEXT    NOT NULL,
    note        TEXT    NOT NULL,
    PRIMARY KEY (order_seq, version)
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

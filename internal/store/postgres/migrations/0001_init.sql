-- 0001: the whole store.
--
-- Raw request bodies and raw message/status JSON are kept in bytea, byte
-- for byte as received: jsonb would reorder keys, drop duplicates, rewrite
-- numbers (1.6e3 → 1600) and refuse \u0000, so a valid callback could be
-- refused forever. Structured data waorders itself produces (warnings,
-- problems, headers) is jsonb. Ids and campaign references sort in byte
-- order (COLLATE "C") whatever the database's collation, as in the SQLite
-- driver.

CREATE TABLE callbacks (
    id          text        PRIMARY KEY,
    envelope    text        NOT NULL,
    received_at timestamptz NOT NULL,
    body        bytea       NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}'
);

CREATE TABLE messages (
    id                   text        COLLATE "C" PRIMARY KEY,
    callback_id          text        NOT NULL,
    type                 text        NOT NULL,
    wa_id                text        NOT NULL,
    customer_name        text        NOT NULL,
    phone_number_id      text        NOT NULL,
    display_phone_number text        NOT NULL,
    waba_id              text        NOT NULL,
    ref                  text        NOT NULL,
    ref1                 text        NOT NULL,
    ref2                 text        NOT NULL,
    reply_to             text        NOT NULL,
    trace_id             text        NOT NULL,
    context_message_id   text        NOT NULL,
    summary              text        NOT NULL,
    sent_at              timestamptz NOT NULL,
    received_at          timestamptz NOT NULL,
    raw                  bytea       NOT NULL,
    warnings             jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX messages_sent_idx ON messages (sent_at DESC, id DESC);
CREATE INDEX messages_customer_sent_idx ON messages (wa_id, sent_at DESC, id DESC);

CREATE TABLE statuses (
    message_id   text        NOT NULL,
    status       text        NOT NULL,
    rank         integer     NOT NULL,
    recipient_id text        NOT NULL,
    callback_id  text        NOT NULL,
    ts           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    errors       bytea,
    raw          bytea       NOT NULL,
    PRIMARY KEY (message_id, status)
);

-- The forward-only delivery state of an outbound message: only ever
-- replaced by a status of a higher rank.
CREATE TABLE message_states (
    message_id text        PRIMARY KEY,
    status     text        NOT NULL,
    rank       integer     NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE orders (
    id                   text        COLLATE "C" PRIMARY KEY,
    status               text        NOT NULL CHECK (status IN
        ('pending', 'processing', 'partially_shipped', 'shipped', 'completed', 'canceled')),
    version              bigint      NOT NULL DEFAULT 1,
    catalog_id           text        NOT NULL,
    text                 text        NOT NULL,
    wa_id                text        NOT NULL,
    customer_name        text        NOT NULL,
    phone_number_id      text        NOT NULL,
    display_phone_number text        NOT NULL,
    waba_id              text        NOT NULL,
    ref                  text        COLLATE "C" NOT NULL,
    ref1                 text        COLLATE "C" NOT NULL,
    ref2                 text        COLLATE "C" NOT NULL,
    reply_to             text        NOT NULL,
    context_message_id   text        NOT NULL,
    trace_id             text        NOT NULL,
    -- Lower-cased customer name and text, for the free-text filter.
    search               text        NOT NULL,
    units                bigint      NOT NULL,
    -- The order's total when it is in one currency (nearly always), so the
    -- campaign report sums orders alone; NULL for several currencies, whose
    -- totals the report takes from order_totals.
    total_currency       text,
    total_minor          bigint,
    ordered_at           timestamptz NOT NULL,
    received_at          timestamptz NOT NULL,
    warnings             jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX orders_ordered_idx ON orders (ordered_at DESC, id DESC);
CREATE INDEX orders_status_idx ON orders (status, ordered_at DESC, id DESC);
CREATE INDEX orders_ref_idx ON orders (ref, ordered_at DESC, id DESC);
CREATE INDEX orders_ref1_idx ON orders (ref1, ordered_at DESC, id DESC);
CREATE INDEX orders_ref2_idx ON orders (ref2, ordered_at DESC, id DESC);
CREATE INDEX orders_customer_idx ON orders (wa_id, ordered_at DESC, id DESC);
CREATE INDEX orders_phone_idx ON orders (phone_number_id, ordered_at DESC, id DESC);
CREATE INDEX orders_multi_currency_idx ON orders (ordered_at) WHERE total_currency IS NULL;

-- The children of an order carry no foreign key: they are only ever
-- inserted by the statement that inserts their order (see write.go), and a
-- foreign-key check per row costs the group commit a third of its time.
CREATE TABLE order_items (
    order_id            text    COLLATE "C" NOT NULL,
    position            integer NOT NULL,
    product_retailer_id text    NOT NULL,
    quantity            bigint  NOT NULL CHECK (quantity > 0),
    currency            text    NOT NULL,
    unit_price_minor    bigint  NOT NULL,
    line_total_minor    bigint  NOT NULL,
    PRIMARY KEY (order_id, position)
);
CREATE INDEX order_items_product_idx ON order_items (product_retailer_id, order_id);

-- One row per currency: totals are never summed across currencies.
CREATE TABLE order_totals (
    order_id     text    COLLATE "C" NOT NULL,
    position     integer NOT NULL,
    currency     text    NOT NULL,
    amount_minor bigint  NOT NULL,
    PRIMARY KEY (order_id, currency)
);

-- Version n of an order is the state after history entry n; entry 1 is
-- the creation (from_status '').
CREATE TABLE order_history (
    order_id    text        COLLATE "C" NOT NULL,
    version     bigint      NOT NULL,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    from_status text        NOT NULL,
    to_status   text        NOT NULL,
    note        text        NOT NULL,
    PRIMARY KEY (order_id, version)
);

CREATE TABLE quarantine (
    id          bigserial   PRIMARY KEY,
    kind        text        NOT NULL,
    callback_id text        NOT NULL,
    message_id  text        NOT NULL DEFAULT '',
    envelope    text        NOT NULL,
    reason      text        NOT NULL,
    message     text        NOT NULL,
    problems    jsonb       NOT NULL DEFAULT '[]',
    body        bytea       NOT NULL,
    headers     jsonb       NOT NULL DEFAULT '{}',
    received_at timestamptz NOT NULL,
    resolved_at timestamptz,
    attempts    integer     NOT NULL DEFAULT 0
);
-- A message is quarantined once; whole bodies (message_id '') every time.
CREATE UNIQUE INDEX quarantine_message_idx ON quarantine (message_id) WHERE message_id <> '';
CREATE INDEX quarantine_received_idx ON quarantine (received_at DESC, id DESC);

-- One row that Ping rewrites to prove the database accepts writes.
CREATE TABLE heartbeat (
    id integer     PRIMARY KEY,
    at timestamptz NOT NULL
);

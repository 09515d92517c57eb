-- 0009: outbound messages (issue 15); written to run again, like 0005 on. Every message waorders sends is a
-- row here: an intent created in the transaction of its cause (the order,
-- the status change, the staff request), claimed by the notifier with a
-- lease like deliveries (next_attempt_at is the lease's end while
-- sending, FOR UPDATE SKIP LOCKED across instances), and joined to the
-- status callbacks that echo its refs (ref2 = id) or, once known, its
-- wamid. intent_key ('<order id>/<status>', NULL for staff messages) keeps
-- one notification per order and status however often the cause is
-- written.
CREATE TABLE IF NOT EXISTS outbound (
    seq             bigserial   PRIMARY KEY,
    id              text        NOT NULL UNIQUE,
    kind            text        NOT NULL,
    order_id        text        NOT NULL,
    order_status    text        NOT NULL,
    intent_key      text        UNIQUE,
    phone_number_id text        NOT NULL,
    to_wa_id        text        NOT NULL,
    customer_key    text        NOT NULL,
    reply_to        text        NOT NULL,
    note            text        NOT NULL,
    text            text        NOT NULL,
    template        text        NOT NULL,
    actor           text        NOT NULL,
    state           text        NOT NULL,
    reason          text        NOT NULL,
    claimed_from    text        NOT NULL,
    attempts        integer     NOT NULL,
    failures        integer     NOT NULL,
    resends         integer     NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text        NOT NULL,
    ambiguous_since timestamptz,
    sent_kind       text        NOT NULL,
    request         bytea,
    wamid           text        NOT NULL,
    last_code       text        NOT NULL,
    last_error      text        NOT NULL,
    response        bytea,
    delivery_state  text        NOT NULL,
    delivery_error  text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    accepted_at     timestamptz
);

CREATE INDEX IF NOT EXISTS outbound_due ON outbound (next_attempt_at, seq)
    WHERE state IN ('queued', 'retry', 'ambiguous', 'sending');
CREATE INDEX IF NOT EXISTS outbound_order ON outbound (order_id, seq);
CREATE INDEX IF NOT EXISTS outbound_customer ON outbound (customer_key, seq);
CREATE INDEX IF NOT EXISTS outbound_to ON outbound (to_wa_id, seq);
CREATE INDEX IF NOT EXISTS outbound_wamid ON outbound (wamid) WHERE wamid <> '';

-- Business numbers whose sends are paused (RBC001, E110, WAV2101, WA401):
-- claims skip their rows until paused_until (NULL: until resumed).
CREATE TABLE IF NOT EXISTS outbound_senders (
    phone_number_id text        PRIMARY KEY,
    reason          text        NOT NULL,
    paused_at       timestamptz NOT NULL,
    paused_until    timestamptz
);

-- The notification settings set through PUT /v1/notifications (a JSON
-- document); absent, the config file's apply.
CREATE TABLE IF NOT EXISTS notify_settings (
    id         integer     PRIMARY KEY CHECK (id = 1),
    body       text        NOT NULL,
    updated_at timestamptz NOT NULL
);

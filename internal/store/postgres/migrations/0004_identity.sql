-- 0004: customers without a phone number, messages with errors, group
-- receipts, and every other change (see the SQLite driver's 0004 for the
-- design). Messages and orders keep the identifiers they carried; each
-- message is filed under customer_key (the BSUID, else the phone-based id,
-- else the parent BSUID, else the username), which the customer index now
-- covers. Existing rows are filed under their wa_id, so every existing
-- wa_id stays a working key. Written to run again harmlessly (IF NOT EXISTS). A customer is the set of identifiers
-- connected through customer_links, resolved when read.
ALTER TABLE messages
    ADD COLUMN IF NOT EXISTS customer_key text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS customer_user_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS customer_parent_user_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS customer_username text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS direction text NOT NULL DEFAULT 'inbound',
    ADD COLUMN IF NOT EXISTS group_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS media_url text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS errors bytea,
    ADD COLUMN IF NOT EXISTS error_code bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS error_title text NOT NULL DEFAULT '';
UPDATE messages SET customer_key = wa_id WHERE customer_key = '';
DROP INDEX IF EXISTS messages_customer_sent_idx;
CREATE INDEX IF NOT EXISTS messages_customer_sent_idx ON messages (customer_key, sent_at DESC, id DESC);

ALTER TABLE orders
    ADD COLUMN IF NOT EXISTS customer_user_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS customer_parent_user_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS customer_username text NOT NULL DEFAULT '';

-- Pairs of identifiers seen together: append-only, deduplicated by the
-- key, inserted with ON CONFLICT DO NOTHING in key order. seen_at is when
-- the pair was first stored.
CREATE TABLE IF NOT EXISTS customer_links (
    a_value text        NOT NULL,
    a_kind  text        NOT NULL,
    b_value text        NOT NULL,
    b_kind  text        NOT NULL,
    seen_at timestamptz NOT NULL,
    PRIMARY KEY (a_value, a_kind, b_value, b_kind)
);
CREATE INDEX IF NOT EXISTS customer_links_b_idx ON customer_links (b_value);

-- Statuses are deduplicated on (message, participant, status): participant
-- is '' for a message sent to one customer (as before), the participant's
-- id for a group message.
ALTER TABLE statuses
    ADD COLUMN IF NOT EXISTS seq bigserial,
    ADD COLUMN IF NOT EXISTS participant text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS recipient_user_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS recipient_parent_user_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS recipient_key text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS group_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS conversation bytea,
    ADD COLUMN IF NOT EXISTS pricing bytea;
UPDATE statuses SET recipient_key = recipient_id WHERE recipient_key = '';
ALTER TABLE statuses DROP CONSTRAINT IF EXISTS statuses_pkey, ADD PRIMARY KEY (message_id, participant, status);
CREATE INDEX IF NOT EXISTS statuses_ts_idx ON statuses (ts DESC, seq DESC);

-- Every change that is not a message or a status. key deduplicates a
-- redelivered change; raw is a span of the callback's body or the JSON.
CREATE TABLE IF NOT EXISTS changes (
    id                      bigserial   PRIMARY KEY,
    key                     text        NOT NULL UNIQUE,
    callback_id             text        NOT NULL,
    field                   text        NOT NULL,
    kind                    text        NOT NULL,
    event                   text        NOT NULL,
    summary                 text        NOT NULL,
    customer_key            text        NOT NULL,
    customer_wa_id          text        NOT NULL,
    customer_user_id        text        NOT NULL,
    customer_parent_user_id text        NOT NULL,
    customer_username       text        NOT NULL,
    customer_name           text        NOT NULL,
    at                      timestamptz NOT NULL,
    received_at             timestamptz NOT NULL,
    raw                     bytea,
    raw_offset              integer,
    raw_length              integer,
    warnings                jsonb       NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS changes_at_idx ON changes (at DESC, id DESC);
CREATE INDEX IF NOT EXISTS changes_customer_idx ON changes (customer_key, at DESC, id DESC) WHERE customer_key <> '';

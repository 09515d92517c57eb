-- 0004: customers without a phone number, messages with errors, group
-- receipts, and every other change.
--
-- Identity. Since April 2026 Meta identifies a customer by a business-scoped
-- user id (BSUID), maybe a parent BSUID and a username, and may omit the
-- phone number. Messages and orders keep the identifiers they carried; each
-- is filed under one of them, customer_key (the BSUID, else the phone-based
-- id, else the parent BSUID, else the username), which the customer index
-- now covers instead of customer_wa_id. Existing rows are filed under their
-- wa_id, so every existing wa_id stays a working key. A customer is the set
-- of identifiers connected through customer_links, resolved when read.
ALTER TABLE messages ADD COLUMN customer_key TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN customer_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN customer_parent_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN customer_username TEXT NOT NULL DEFAULT '';
-- 'inbound', or 'outbound' for an echo of what the business sent.
ALTER TABLE messages ADD COLUMN direction TEXT NOT NULL DEFAULT 'inbound';
ALTER TABLE messages ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN media_url TEXT NOT NULL DEFAULT '';
-- The message's errors array, and its first error's code and title.
ALTER TABLE messages ADD COLUMN errors TEXT;
ALTER TABLE messages ADD COLUMN error_code INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN error_title TEXT NOT NULL DEFAULT '';
UPDATE messages SET customer_key = customer_wa_id;
DROP INDEX messages_customer;
CREATE INDEX messages_customer ON messages (customer_key, sent_at, id);

ALTER TABLE orders ADD COLUMN customer_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN customer_parent_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN customer_username TEXT NOT NULL DEFAULT '';

-- Pairs of identifiers seen together: append-only, deduplicated by the
-- key, inserted with ON CONFLICT DO NOTHING. Kinds: wa_id, user_id,
-- parent_user_id, username. seen_at is when the pair was first stored.
CREATE TABLE customer_links (
    a_value TEXT    NOT NULL,
    a_kind  TEXT    NOT NULL,
    b_value TEXT    NOT NULL,
    b_kind  TEXT    NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (a_value, a_kind, b_value, b_kind)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_links_b ON customer_links (b_value);

-- Statuses are deduplicated on (message, participant, status): participant
-- is '' for a message sent to one customer (so their deduplication is as
-- before), the participant's id for a group message. SQLite cannot change a
-- key in place: the table is rebuilt, its rows kept. seq orders the list.
CREATE TABLE statuses_new (
    seq                      INTEGER PRIMARY KEY,
    message_id               TEXT    NOT NULL,
    participant              TEXT    NOT NULL,
    status                   TEXT    NOT NULL,
    rank                     INTEGER NOT NULL,
    recipient_id             TEXT    NOT NULL,
    recipient_user_id        TEXT    NOT NULL,
    recipient_parent_user_id TEXT    NOT NULL,
    recipient_key            TEXT    NOT NULL,
    group_id                 TEXT    NOT NULL,
    callback_id              TEXT    NOT NULL,
    ts                       INTEGER NOT NULL,
    received_at              INTEGER NOT NULL,
    errors                   TEXT,
    conversation             TEXT,
    pricing                  TEXT,
    raw                      TEXT,
    raw_offset               INTEGER,
    raw_length               INTEGER,
    UNIQUE (message_id, participant, status)
) STRICT;
INSERT INTO statuses_new (message_id, participant, status, rank, recipient_id, recipient_user_id,
    recipient_parent_user_id, recipient_key, group_id, callback_id, ts, received_at, errors, raw, raw_offset, raw_length)
SELECT message_id, '', status, rank, recipient_id, '', '', recipient_id, '', callback_id, ts, received_at, errors,
    raw, raw_offset, raw_length
FROM statuses ORDER BY ts, message_id, status;
DROP TABLE statuses;
ALTER TABLE statuses_new RENAME TO statuses;
CREATE INDEX statuses_ts ON statuses (ts, seq);

-- Every change that is not a message or a status: calls, user preferences,
-- user id updates, business events, group, sync and unknown fields. key
-- deduplicates a redelivered change. raw is a span of the callback's body
-- (raw_offset, raw_length) or, when not found there, the JSON itself.
CREATE TABLE changes (
    id                      INTEGER PRIMARY KEY,
    key                     TEXT    NOT NULL UNIQUE,
    callback_id             TEXT    NOT NULL,
    field                   TEXT    NOT NULL,
    kind                    TEXT    NOT NULL,
    event                   TEXT    NOT NULL,
    summary                 TEXT    NOT NULL,
    customer_key            TEXT    NOT NULL,
    customer_wa_id          TEXT    NOT NULL,
    customer_user_id        TEXT    NOT NULL,
    customer_parent_user_id TEXT    NOT NULL,
    customer_username       TEXT    NOT NULL,
    customer_name           TEXT    NOT NULL,
    at                      INTEGER NOT NULL,
    received_at             INTEGER NOT NULL,
    raw                     TEXT,
    raw_offset              INTEGER,
    raw_length              INTEGER,
    warnings                TEXT
) STRICT;
CREATE INDEX changes_at ON changes (at, id);
CREATE INDEX changes_customer ON changes (customer_key, at, id) WHERE customer_key <> '';

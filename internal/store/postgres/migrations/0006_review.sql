-- 0006: orders that need review, refunds, honest revenue, repeated bodies
-- (see the SQLite driver's 0006). Written to run again harmlessly.
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('needs_review', 'pending', 'processing',
    'partially_shipped', 'shipped', 'completed', 'returned', 'refunded', 'canceled'));

-- An unusable line of an order in needs_review may have quantity 0; its
-- texts as received and its problems (NULL for a usable line) are kept.
ALTER TABLE order_items DROP CONSTRAINT IF EXISTS order_items_quantity_check;
ALTER TABLE order_items
    ADD COLUMN IF NOT EXISTS raw_quantity text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS raw_price text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS raw_currency text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS problems jsonb;

-- Money paid back, per order and currency.
CREATE TABLE IF NOT EXISTS order_refunds (
    order_id     text   COLLATE "C" NOT NULL,
    currency     text   NOT NULL,
    amount_minor bigint NOT NULL,
    PRIMARY KEY (order_id, currency)
);

-- A body that is not a usable callback is quarantined once per distinct
-- body (sha256, hex), counting the repeats.
ALTER TABLE quarantine
    ADD COLUMN IF NOT EXISTS body_hash text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS repeats integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_seen_at timestamptz;
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_body_idx ON quarantine (body_hash) WHERE body_hash <> '';

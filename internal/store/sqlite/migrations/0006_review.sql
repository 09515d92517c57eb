-- 0006: orders that need review, refunds, honest revenue, repeated bodies.
--
-- A line of an order in needs_review may be unusable: it keeps the texts
-- received (raw_quantity, raw_price, raw_currency) and its problems (JSON,
-- NULL for a usable line); quantity, prices and currency hold what could
-- be read (0 and '' otherwise). Lines read from a callback keep the raw
-- texts also once corrected, so the original value stays visible.
ALTER TABLE order_items ADD COLUMN raw_quantity TEXT NOT NULL DEFAULT '';
ALTER TABLE order_items ADD COLUMN raw_price TEXT NOT NULL DEFAULT '';
ALTER TABLE order_items ADD COLUMN raw_currency TEXT NOT NULL DEFAULT '';
ALTER TABLE order_items ADD COLUMN problems TEXT;

-- Money paid back, per order and currency (the sum of its refunds, never
-- more than the order's total in that currency).
CREATE TABLE order_refunds (
    order_seq    INTEGER NOT NULL REFERENCES orders (seq),
    currency     TEXT    NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (order_seq, currency)
) STRICT, WITHOUT ROWID;

-- A body that is not a usable callback is quarantined once per distinct
-- body (sha256, hex); repeats counts the further deliveries and
-- last_seen_at the latest. Entries stored before keep body_hash ''.
ALTER TABLE quarantine ADD COLUMN body_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE quarantine ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
ALTER TABLE quarantine ADD COLUMN last_seen_at INTEGER;
CREATE UNIQUE INDEX quarantine_body ON quarantine (body_hash) WHERE body_hash <> '';

-- 0005: orders that need review, refunds, honest revenue, repeated bodies
-- (see the SQLite driver's 0005). Written to run again harmlessly.
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

-- The rollup counts only orders that count in revenue (not canceled, not
-- needs_review); it counted canceled orders until now: rebuilt.
DELETE FROM campaign_days;
INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
SELECT g.grouping, g.campaign, date_trunc('day', o.ordered_at, 'UTC'), '', count(*), sum(o.units), 0,
    min(o.ordered_at), max(o.ordered_at)
FROM orders o CROSS JOIN LATERAL (VALUES ('ref', o.ref), ('ref1', o.ref1), ('ref2', o.ref2)) AS g(grouping, campaign)
WHERE o.status NOT IN ('canceled', 'needs_review')
GROUP BY 1, 2, 3
UNION ALL
SELECT g.grouping, g.campaign, date_trunc('day', o.ordered_at, 'UTC'), t.currency, 0, 0, sum(t.amount_minor),
    min(o.ordered_at), max(o.ordered_at)
FROM orders o JOIN order_totals t ON t.order_id = o.id
    CROSS JOIN LATERAL (VALUES ('ref', o.ref), ('ref1', o.ref1), ('ref2', o.ref2)) AS g(grouping, campaign)
WHERE o.status NOT IN ('canceled', 'needs_review')
GROUP BY 1, 2, 3, 4;

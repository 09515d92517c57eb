-- 0005: orders that need review, refunds, honest revenue, repeated bodies.
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

-- The rollup counts only orders that count in revenue: not canceled (nor
-- needs_review, which did not exist before). It counted canceled orders
-- until now, so it is rebuilt from the orders.
DELETE FROM campaign_days;

CREATE TEMP VIEW campaign_days_src AS
SELECT 'ref' AS grouping, ref AS campaign, seq, units, currency, total_minor, ordered_at FROM orders WHERE status NOT IN ('canceled', 'needs_review')
UNION ALL SELECT 'ref1', ref1, seq, units, currency, total_minor, ordered_at FROM orders WHERE status NOT IN ('canceled', 'needs_review')
UNION ALL SELECT 'ref2', ref2, seq, units, currency, total_minor, ordered_at FROM orders WHERE status NOT IN ('canceled', 'needs_review');

INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
SELECT grouping, campaign, d, '', count(*), sum(units), 0, min(ordered_at), max(ordered_at)
FROM (SELECT *, (ordered_at - ((ordered_at % 86400000000) + 86400000000) % 86400000000) AS d FROM campaign_days_src)
GROUP BY 1, 2, 3;

INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
SELECT grouping, campaign, d, cur, 0, 0, sum(amount), min(ordered_at), max(ordered_at)
FROM (
    SELECT grouping, campaign, (ordered_at - ((ordered_at % 86400000000) + 86400000000) % 86400000000) AS d,
        currency AS cur, total_minor AS amount, ordered_at FROM campaign_days_src WHERE currency <> ''
    UNION ALL
    SELECT s.grouping, s.campaign, (s.ordered_at - ((s.ordered_at % 86400000000) + 86400000000) % 86400000000),
        t.currency, t.amount_minor, s.ordered_at
    FROM campaign_days_src s JOIN order_totals t ON t.order_seq = s.seq
)
GROUP BY 1, 2, 3, 4;

DROP VIEW campaign_days_src;

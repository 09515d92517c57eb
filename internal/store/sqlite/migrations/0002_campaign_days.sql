-- The campaign rollup: per grouping ('ref', 'ref1', 'ref2'), campaign value
-- and UTC day (micros of its midnight), the row with currency '' holds the
-- order count, units and first and last order time, and one row per
-- currency the revenue in it (orders and units 0 there). WriteInbound
-- adds each new order to it in the same transaction, so a campaign report
-- over whole days reads this table instead of every order.
CREATE TABLE campaign_days (
    grouping      TEXT    NOT NULL,
    campaign      TEXT    NOT NULL,
    day           INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    orders        INTEGER NOT NULL,
    units         INTEGER NOT NULL,
    revenue_minor INTEGER NOT NULL,
    first_at      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    PRIMARY KEY (grouping, campaign, day, currency)
) STRICT, WITHOUT ROWID;

-- The orders already stored. Days are floored (also before 1970).
CREATE TEMP VIEW campaign_days_src AS
SELECT 'ref' AS grouping, ref AS campaign, seq, units, currency, total_minor, ordered_at FROM orders
UNION ALL SELECT 'ref1', ref1, seq, units, currency, total_minor, ordered_at FROM orders
UNION ALL SELECT 'ref2', ref2, seq, units, currency, total_minor, ordered_at FROM orders;

INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
SELECT grouping, campaign, d, '', count(*), sum(units), 0, min(ordered_at), max(ordered_at)
FROM (SELECT *, (ordered_at - ((ordered_at % 86400000000) + 86400000000) % 86400000000) AS d FROM campaign_days_src)
GROUP BY 1, 2, 3;

INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
SELECT grouping, campaign, d, cur, 0, 0, sum(amount), min(ordered_at), max(ordered_at)
FROM (
    SELECT grouping, campaign, (ordered_at - ((ordered_at % 86400000000) + 86400000000) % 86400000000) AS d,
        currency AS cur, total_minor AS amount, ordered_at FROM campaign_days_src
    UNION ALL
    SELECT s.grouping, s.campaign, (s.ordered_at - ((s.ordered_at % 86400000000) + 86400000000) % 86400000000),
        t.currency, t.amount_minor, s.ordered_at
    FROM campaign_days_src s JOIN order_totals t ON t.order_seq = s.seq
)
GROUP BY 1, 2, 3, 4;

DROP VIEW campaign_days_src;

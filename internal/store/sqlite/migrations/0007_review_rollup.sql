-- 0007: the campaign rollup counts what revenue counts. Kept apart from
-- 0006 so it can run again: it rebuilds campaign_days from the orders.
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

-- 0007: the campaign rollup counts what revenue counts. Kept apart from
-- 0006 so it can run again: it rebuilds campaign_days from the orders.
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

-- The campaign rollup: per grouping ('ref', 'ref1', 'ref2'), campaign value
-- and UTC day, the row with currency '' holds the order count, units and
-- first and last order time, and one row per currency the revenue in it
-- (orders and units 0 there). WriteInbound adds each new order to it in
-- the statement that inserts the order, so a campaign report over whole
-- days reads this table instead of every order.
CREATE TABLE campaign_days (
    grouping      text        NOT NULL,
    campaign      text        COLLATE "C" NOT NULL,
    day           timestamptz NOT NULL,
    currency      text        NOT NULL,
    orders        bigint      NOT NULL,
    units         bigint      NOT NULL,
    revenue_minor bigint      NOT NULL,
    first_at      timestamptz NOT NULL,
    last_at       timestamptz NOT NULL,
    PRIMARY KEY (grouping, day, campaign, currency)
);

-- The orders already stored.
INSERT INTO campaign_days (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
SELECT g.grouping, g.campaign, date_trunc('day', o.ordered_at, 'UTC'), '', count(*), sum(o.units), 0,
    min(o.ordered_at), max(o.ordered_at)
FROM orders o CROSS JOIN LATERAL (VALUES ('ref', o.ref), ('ref1', o.ref1), ('ref2', o.ref2)) AS g(grouping, campaign)
GROUP BY 1, 2, 3
UNION ALL
SELECT g.grouping, g.campaign, date_trunc('day', o.ordered_at, 'UTC'), t.currency, 0, 0, sum(t.amount_minor),
    min(o.ordered_at), max(o.ordered_at)
FROM orders o JOIN order_totals t ON t.order_id = o.id
    CROSS JOIN LATERAL (VALUES ('ref', o.ref), ('ref1', o.ref1), ('ref2', o.ref2)) AS g(grouping, campaign)
GROUP BY 1, 2, 3, 4;

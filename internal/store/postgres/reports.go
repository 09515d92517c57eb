package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// campaignColumns are the columns CampaignReportParams.GroupBy may name.
var campaignColumns = map[string]string{"ref": "o.ref", "ref1": "o.ref1", "ref2": "o.ref2"}

// CampaignReport groups orders by a campaign reference (and by UTC day
// when q.Interval is "day"): orders, units, revenue per currency (never
// summed across currencies, sorted by code) and first/last order time,
// sorted by bucket, then campaign (byte order). Orders without the
// reference form the row "". Whole UTC days of the window come from the
// campaign_days rollup; only the partial days at its edges (a since or
// until not at midnight UTC) are read from the orders.
func (s *Store) CampaignReport(ctx context.Context, q store.CampaignReportParams) ([]waorders.CampaignRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	col := campaignColumns[q.GroupBy]
	acc := store.NewCampaignAcc(q.Interval == "day")
	b := &pgx.Batch{}
	var reads []func(pgx.BatchResults) error
	from, to, whole := store.WholeDays(q.Since, q.Until)
	switch {
	case !whole:
		reads = append(reads, queueCampaignOrders(b, acc, col, q.Since, q.Until)...)
	default:
		if !q.Since.IsZero() && q.Since.Before(from) {
			reads = append(reads, queueCampaignOrders(b, acc, col, q.Since, from)...)
		}
		if !q.Until.IsZero() && to.Before(q.Until) {
			reads = append(reads, queueCampaignOrders(b, acc, col, to, q.Until)...)
		}
		reads = append(reads, queueCampaignRollup(b, acc, q.GroupBy, from, to))
	}

	ctx, cancel := s.bound(ctx)
	defer cancel()
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	for _, read := range reads {
		if err := read(br); err != nil {
			return nil, fmt.Errorf("campaign report: %w", interpretError(err))
		}
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}
	return acc.Rows(), nil
}

// queueCampaignRollup queues the read of the campaign_days rows of
// grouping for the days in [from, to) (zero: unbounded).
func queueCampaignRollup(b *pgx.Batch, acc *store.CampaignAcc, grouping string, from, to time.Time) func(pgx.BatchResults) error {
	c := &conds{}
	c.add("grouping = ?", grouping)
	if !from.IsZero() {
		c.add("day >= ?", from)
	}
	if !to.IsZero() {
		c.add("day < ?", to)
	}
	b.Queue(`SELECT campaign, day, currency, orders, units, revenue_minor, first_at, last_at FROM campaign_days`+c.sql(), c.args...)
	return func(br pgx.BatchResults) error {
		var (
			campaign, currency   string
			day, first, last     time.Time
			orders, units, minor int64
		)
		rows, _ := br.Query()
		_, err := pgx.ForEachRow(rows, []any{&campaign, &day, &currency, &orders, &units, &minor, &first, &last}, func() error {
			if currency == "" {
				acc.AddOrders(campaign, day, orders, units, first, last)
				return nil
			}
			return acc.AddRevenue(campaign, day, money.Amount{Currency: currency, Minor: minor})
		})
		return err
	}
}

// queueCampaignOrders queues the reads of the orders placed in
// [since, until) (zero: unbounded), through the ordered_at index.
func queueCampaignOrders(b *pgx.Batch, acc *store.CampaignAcc, col string, since, until time.Time) []func(pgx.BatchResults) error {
	c := &conds{}
	if !since.IsZero() {
		c.add("o.ordered_at >= ?", since.UTC())
	}
	if !until.IsZero() {
		c.add("o.ordered_at < ?", until.UTC())
	}
	const day = `date_trunc('day', o.ordered_at, 'UTC')`
	b.Queue(`SELECT `+col+`, `+day+`, count(*), sum(o.units)::bigint, min(o.ordered_at), max(o.ordered_at)
		FROM orders o`+c.sql()+` GROUP BY 1, 2`, c.args...)
	b.Queue(`SELECT `+col+`, `+day+`, t.currency, sum(t.amount_minor)::bigint
		FROM orders o JOIN order_totals t ON t.order_id = o.id`+c.sql()+` GROUP BY 1, 2, 3`, c.args...)
	var (
		campaign, currency  string
		bucket, first, last time.Time
		orders, units, sum  int64
	)
	return []func(pgx.BatchResults) error{
		func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			_, err := pgx.ForEachRow(rows, []any{&campaign, &bucket, &orders, &units, &first, &last}, func() error {
				acc.AddOrders(campaign, bucket, orders, units, first, last)
				return nil
			})
			return err
		},
		func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			_, err := pgx.ForEachRow(rows, []any{&campaign, &bucket, &currency, &sum}, func() error {
				return acc.AddRevenue(campaign, bucket, money.Amount{Currency: currency, Minor: sum})
			})
			return err
		},
	}
}

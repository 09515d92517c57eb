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
	acc := store.NewCampaignAccFor(q)
	statuses, _ := q.ReportStatuses()
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	b := &pgx.Batch{}
	var reads []func(pgx.BatchResults) error
	from, to, whole := store.WholeDays(q.Since, q.Until)
	switch {
	case !whole || !q.FromRollup():
		reads = append(reads, queueCampaignOrders(b, acc, col, names, q.Since, q.Until)...)
	default:
		if !q.Since.IsZero() && q.Since.Before(from) {
			reads = append(reads, queueCampaignOrders(b, acc, col, names, q.Since, from)...)
		}
		if !q.Until.IsZero() && to.Before(q.Until) {
			reads = append(reads, queueCampaignOrders(b, acc, col, names, to, q.Until)...)
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
// [since, until) (zero: unbounded) whose status is in statuses, one row per
// order (and per currency and refund), so the accumulator can bucket them
// by local day and status.
func queueCampaignOrders(b *pgx.Batch, acc *store.CampaignAcc, col string, statuses []string, since, until time.Time) []func(pgx.BatchResults) error {
	c := &conds{}
	c.add("o.status = ANY(?)", statuses)
	if !since.IsZero() {
		c.add("o.ordered_at >= ?", since.UTC())
	}
	if !until.IsZero() {
		c.add("o.ordered_at < ?", until.UTC())
	}
	b.Queue(`SELECT `+col+`, o.status, o.ordered_at, o.units FROM orders o`+c.sql(), c.args...)
	b.Queue(`SELECT `+col+`, o.status, o.ordered_at, t.currency, t.amount_minor
		FROM orders o JOIN order_totals t ON t.order_id = o.id`+c.sql()+`
		UNION ALL
		SELECT `+col+`, o.status, o.ordered_at, r.currency, -r.amount_minor
		FROM orders o JOIN order_refunds r ON r.order_id = o.id`+c.sql(), c.args...)
	var (
		campaign, status, currency string
		at                         time.Time
		units, sum                 int64
	)
	return []func(pgx.BatchResults) error{
		func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			_, err := pgx.ForEachRow(rows, []any{&campaign, &status, &at, &units}, func() error {
				acc.AddOrder(campaign, waorders.OrderStatus(status), at.UTC(), units)
				return nil
			})
			return err
		},
		func(br pgx.BatchResults) error {
			rows, _ := br.Query()
			_, err := pgx.ForEachRow(rows, []any{&campaign, &status, &at, &currency, &sum}, func() error {
				return acc.AddOrderRevenue(campaign, waorders.OrderStatus(status), at.UTC(), money.Amount{Currency: currency, Minor: sum})
			})
			return err
		},
	}
}

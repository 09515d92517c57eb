package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// GetCustomer summarises a customer's orders: the name of their latest
// order that carried one, first and last order times, the count, and the
// spend per currency (CodeNotFound when they have no order).
func (s *Store) GetCustomer(ctx context.Context, waID string) (*waorders.CustomerSummary, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	id := clean(waID)
	b := &pgx.Batch{}
	b.Queue(`SELECT count(*), min(ordered_at), max(ordered_at),
		coalesce((SELECT customer_name FROM orders WHERE wa_id = $1 AND customer_name <> ''
			ORDER BY ordered_at DESC, id DESC LIMIT 1), '')
		FROM orders WHERE wa_id = $1`, id)
	b.Queue(`SELECT t.currency, sum(t.amount_minor)::bigint
		FROM orders o JOIN order_totals t ON t.order_id = o.id
		WHERE o.wa_id = $1 GROUP BY t.currency ORDER BY t.currency`, id)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()

	c := waorders.CustomerSummary{WaID: waID}
	var first, last *time.Time
	if err := br.QueryRow().Scan(&c.OrderCount, &first, &last, &c.Name); err != nil {
		return nil, fmt.Errorf("get customer: %w", interpretError(err))
	}
	if c.OrderCount == 0 {
		return nil, waorders.Errorf(waorders.CodeNotFound, "customer %q has no orders", waID)
	}
	c.FirstOrderAt, c.LastOrderAt = first.UTC(), last.UTC()
	var a money.Amount
	rows, _ := br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&a.Currency, &a.Minor}, func() error {
		c.Spend = append(c.Spend, a)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("get customer: %w", interpretError(err))
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("get customer: %w", interpretError(err))
	}
	return &c, nil
}

// campaignColumns are the columns CampaignQuery.GroupBy may name.
var campaignColumns = map[string]string{"ref": "o.ref", "ref1": "o.ref1", "ref2": "o.ref2"}

// CampaignReport groups orders by a campaign reference (and by UTC day
// when q.Interval is "day"): orders, units, revenue per currency (never
// summed across currencies, sorted by code) and first/last order time,
// sorted by bucket, then campaign (byte order). Orders without the
// reference form the row "". Orders in one currency, nearly all of them,
// are summed from the orders table alone; only orders in several
// currencies are joined with their totals.
func (s *Store) CampaignReport(ctx context.Context, q store.CampaignQuery) ([]waorders.CampaignRow, error) {
	col, ok := campaignColumns[q.GroupBy]
	if !ok {
		return nil, waorders.Errorf(waorders.CodeInvalid, "cannot group campaigns by %q; use ref, ref1 or ref2", q.GroupBy)
	}
	bucket := `NULL::timestamptz`
	switch q.Interval {
	case "":
	case "day":
		bucket = `date_trunc('day', o.ordered_at, 'UTC')`
	default:
		return nil, waorders.Errorf(waorders.CodeInvalid, "unknown report interval %q; use day or leave it empty", q.Interval)
	}
	c := &conds{}
	if !q.Since.IsZero() {
		c.add("o.ordered_at >= ?", q.Since.UTC())
	}
	if !q.Until.IsZero() {
		c.add("o.ordered_at < ?", q.Until.UTC())
	}
	multi := &conds{where: append(slices.Clip(c.where), "o.total_currency IS NULL"), args: c.args}

	ctx, cancel := s.bound(ctx)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`SELECT `+col+`, `+bucket+`, o.total_currency, count(*), sum(o.units)::bigint,
		min(o.ordered_at), max(o.ordered_at), sum(o.total_minor)::bigint
		FROM orders o`+c.sql()+` GROUP BY 1, 2, 3`, c.args...)
	b.Queue(`SELECT `+col+`, `+bucket+`, t.currency, sum(t.amount_minor)::bigint
		FROM orders o JOIN order_totals t ON t.order_id = o.id`+multi.sql()+` GROUP BY 1, 2, 3`, multi.args...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()

	type key struct {
		campaign string
		bucket   time.Time
	}
	type acc struct {
		row     waorders.CampaignRow
		revenue money.Totals
	}
	byKey := map[key]*acc{}
	get := func(campaign string, bk *time.Time) *acc {
		k := key{campaign: campaign}
		if bk != nil {
			k.bucket = bk.UTC()
		}
		a := byKey[k]
		if a == nil {
			a = &acc{row: waorders.CampaignRow{Campaign: campaign, Bucket: k.bucket}}
			byKey[k] = a
		}
		return a
	}
	var (
		campaign    string
		bk          *time.Time
		currency    *string
		orders      int64
		units       int64
		first, last time.Time
		minor       *int64
	)
	rows, _ := br.Query()
	_, err := pgx.ForEachRow(rows, []any{&campaign, &bk, &currency, &orders, &units, &first, &last, &minor}, func() error {
		a := get(campaign, bk)
		a.row.Orders += orders
		a.row.Units += units
		if a.row.FirstOrderAt.IsZero() || first.Before(a.row.FirstOrderAt) {
			a.row.FirstOrderAt = first.UTC()
		}
		if last.After(a.row.LastOrderAt) {
			a.row.LastOrderAt = last.UTC()
		}
		if currency != nil && minor != nil {
			return a.revenue.Add(money.Amount{Currency: *currency, Minor: *minor})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}
	var cur string
	var sum int64
	rows, _ = br.Query()
	_, err = pgx.ForEachRow(rows, []any{&campaign, &bk, &cur, &sum}, func() error {
		return get(campaign, bk).revenue.Add(money.Amount{Currency: cur, Minor: sum})
	})
	if err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}

	out := make([]waorders.CampaignRow, 0, len(byKey))
	for _, a := range byKey {
		a.row.Revenue = slices.SortedFunc(slices.Values(a.revenue.List()), func(x, y money.Amount) int {
			return strings.Compare(x.Currency, y.Currency)
		})
		out = append(out, a.row)
	}
	slices.SortFunc(out, func(x, y waorders.CampaignRow) int {
		return cmp.Or(x.Bucket.Compare(y.Bucket), strings.Compare(x.Campaign, y.Campaign))
	})
	return out, nil
}

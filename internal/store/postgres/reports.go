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
// summed across currencies) and first/last order time, ordered by bucket,
// then campaign. Orders without the reference form the row "".
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
		return nil, waorders.Errorf(waorders.CodeInvalid, "unknown interval %q; use day or leave it out", q.Interval)
	}
	c := &conds{}
	if !q.Since.IsZero() {
		c.add("o.ordered_at >= ?", q.Since.UTC())
	}
	if !q.Until.IsZero() {
		c.add("o.ordered_at < ?", q.Until.UTC())
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`SELECT `+col+`, `+bucket+`, count(*), sum(o.units)::bigint, min(o.ordered_at), max(o.ordered_at)
		FROM orders o`+c.sql()+` GROUP BY 1, 2 ORDER BY 2, 1`, c.args...)
	b.Queue(`SELECT `+col+`, `+bucket+`, t.currency, sum(t.amount_minor)::bigint
		FROM orders o JOIN order_totals t ON t.order_id = o.id`+c.sql()+` GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`, c.args...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()

	type key struct {
		campaign string
		bucket   time.Time
	}
	var out []waorders.CampaignRow
	at := map[key]int{}
	var r waorders.CampaignRow
	var bk *time.Time
	rows, _ := br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&r.Campaign, &bk, &r.Orders, &r.Units, &r.FirstOrderAt, &r.LastOrderAt}, func() error {
		r.Bucket = time.Time{}
		if bk != nil {
			r.Bucket = bk.UTC()
		}
		r.FirstOrderAt, r.LastOrderAt = r.FirstOrderAt.UTC(), r.LastOrderAt.UTC()
		at[key{r.Campaign, r.Bucket}] = len(out)
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}
	var campaign string
	var a money.Amount
	rows, _ = br.Query()
	if _, err := pgx.ForEachRow(rows, []any{&campaign, &bk, &a.Currency, &a.Minor}, func() error {
		k := key{campaign: campaign}
		if bk != nil {
			k.bucket = bk.UTC()
		}
		if i, ok := at[k]; ok {
			out[i].Revenue = append(out[i].Revenue, a)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("campaign report: %w", interpretError(err))
	}
	return out, nil
}

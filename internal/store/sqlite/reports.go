package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// dayMicros is one UTC day in microseconds.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// GetCustomer summarises a customer's orders: the newest non-empty name,
// first and last order times, the order count and the spend per currency
// (sorted by code). A customer without orders is CodeNotFound.
func (s *Store) GetCustomer(ctx context.Context, waID string) (*waorders.CustomerSummary, error) {
	c := &waorders.CustomerSummary{WaID: waID}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		var first, last sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(ordered_at), max(ordered_at)
FROM orders WHERE customer_wa_id = ?`, waID).Scan(&c.OrderCount, &first, &last); err != nil {
			return interpretError(err)
		}
		if c.OrderCount == 0 {
			return waorders.Errorf(waorders.CodeNotFound, "customer %s has no orders", waID)
		}
		c.FirstOrderAt, c.LastOrderAt = nullMicros(first), nullMicros(last)
		err := tx.QueryRowContext(ctx, `SELECT customer_name FROM orders
WHERE customer_wa_id = ? AND customer_name <> '' ORDER BY ordered_at DESC, id DESC LIMIT 1`, waID).Scan(&c.Name)
		if err != nil && err != sql.ErrNoRows {
			return interpretError(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT t.currency, sum(t.amount_minor)
FROM order_totals t JOIN orders o ON o.id = t.order_id
WHERE o.customer_wa_id = ? GROUP BY t.currency ORDER BY t.currency`, waID)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		c.Spend = []money.Amount{}
		for rows.Next() {
			var a money.Amount
			if err := rows.Scan(&a.Currency, &a.Minor); err != nil {
				return interpretError(err)
			}
			c.Spend = append(c.Spend, a)
		}
		return interpretError(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("get customer: %w", err)
	}
	return c, nil
}

// campaignColumns are the columns a campaign report may group by.
var campaignColumns = map[string]string{"ref": "o.ref", "ref1": "o.ref1", "ref2": "o.ref2"}

// CampaignReport groups orders by q.GroupBy ("" is a campaign of its own),
// and by UTC day when q.Interval is "day". Rows are sorted by bucket, then
// campaign (byte order); revenue is per currency, sorted by code, never
// summed across currencies.
func (s *Store) CampaignReport(ctx context.Context, q store.CampaignQuery) ([]waorders.CampaignRow, error) {
	col, ok := campaignColumns[q.GroupBy]
	if !ok {
		return nil, waorders.Errorf(waorders.CodeInvalid, "cannot group campaigns by %q; use ref, ref1 or ref2", q.GroupBy)
	}
	bucket := "0"
	switch q.Interval {
	case "":
	case "day":
		bucket = fmt.Sprintf("(o.ordered_at / %d) * %d", dayMicros, dayMicros)
	default:
		return nil, waorders.Errorf(waorders.CodeInvalid, "unknown report interval %q; use day or leave it empty", q.Interval)
	}
	var (
		where []string
		args  []any
	)
	if !q.Since.IsZero() {
		where, args = append(where, "o.ordered_at >= ?"), append(args, q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		where, args = append(where, "o.ordered_at < ?"), append(args, q.Until.UnixMicro())
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}

	type key struct {
		campaign string
		bucket   int64
	}
	byKey := map[key]*waorders.CampaignRow{}
	var out []waorders.CampaignRow
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+col+`, `+bucket+`, count(*), sum(o.units), min(o.ordered_at), max(o.ordered_at)
FROM orders o`+cond+` GROUP BY 1, 2`, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k           key
				r           waorders.CampaignRow
				first, last int64
			)
			if err := rows.Scan(&k.campaign, &k.bucket, &r.Orders, &r.Units, &first, &last); err != nil {
				return interpretError(err)
			}
			r.Campaign, r.FirstOrderAt, r.LastOrderAt = k.campaign, fromMicros(first), fromMicros(last)
			if q.Interval != "" {
				r.Bucket = time.UnixMicro(k.bucket).UTC()
			}
			r.Revenue = []money.Amount{}
			byKey[k] = &r
		}
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		rows.Close()

		rows, err = tx.QueryContext(ctx, `SELECT `+col+`, `+bucket+`, t.currency, sum(t.amount_minor)
FROM order_totals t JOIN orders o ON o.id = t.order_id`+cond+` GROUP BY 1, 2, 3 ORDER BY 3`, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k key
				a money.Amount
			)
			if err := rows.Scan(&k.campaign, &k.bucket, &a.Currency, &a.Minor); err != nil {
				return interpretError(err)
			}
			if r := byKey[k]; r != nil {
				r.Revenue = append(r.Revenue, a)
			}
		}
		return interpretError(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("campaign report: %w", err)
	}
	out = make([]waorders.CampaignRow, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b waorders.CampaignRow) int {
		return cmp.Or(a.Bucket.Compare(b.Bucket), strings.Compare(a.Campaign, b.Campaign))
	})
	return out, nil
}

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
		if err := tx.QueryRowContext(ctx, `SELECT count(*), min(o.ordered_at), max(o.ordered_at)
FROM orders o WHERE `+customerOrders, waID, waID).Scan(&c.OrderCount, &first, &last); err != nil {
			return interpretError(err)
		}
		if c.OrderCount == 0 {
			return waorders.Errorf(waorders.CodeNotFound, "customer %s has no orders", waID)
		}
		c.FirstOrderAt, c.LastOrderAt = nullMicros(first), nullMicros(last)
		err := tx.QueryRowContext(ctx, `SELECT o.customer_name FROM orders o
WHERE `+customerOrders+` AND o.customer_name <> '' ORDER BY o.ordered_at DESC, o.id DESC LIMIT 1`, waID, waID).Scan(&c.Name)
		if err != nil && err != sql.ErrNoRows {
			return interpretError(err)
		}
		// An order's first total is in its row, further currencies in order_totals.
		rows, err := tx.QueryContext(ctx, `SELECT currency, sum(amount) FROM (
    SELECT o.currency AS currency, o.total_minor AS amount FROM orders o WHERE `+customerOrders+`
    UNION ALL
    SELECT t.currency, t.amount_minor FROM order_totals t JOIN orders o ON o.seq = t.order_seq WHERE `+customerOrders+`
) GROUP BY currency ORDER BY currency`, waID, waID, waID, waID)
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
	type acc struct {
		row     waorders.CampaignRow
		revenue money.Totals
	}
	byKey := map[key]*acc{}
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		// Every order once, under the currency of its first total.
		rows, err := tx.QueryContext(ctx, `SELECT `+col+`, `+bucket+`, o.currency, count(*), sum(o.units), sum(o.total_minor),
    min(o.ordered_at), max(o.ordered_at)
FROM orders o`+cond+` GROUP BY 1, 2, 3`, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k             key
				amount        money.Amount
				orders, units int64
				first, last   int64
			)
			if err := rows.Scan(&k.campaign, &k.bucket, &amount.Currency, &orders, &units, &amount.Minor, &first, &last); err != nil {
				return interpretError(err)
			}
			a := byKey[k]
			if a == nil {
				a = &acc{row: waorders.CampaignRow{Campaign: k.campaign, FirstOrderAt: fromMicros(first), LastOrderAt: fromMicros(last)}}
				if q.Interval != "" {
					a.row.Bucket = time.UnixMicro(k.bucket).UTC()
				}
				byKey[k] = a
			}
			a.row.Orders += orders
			a.row.Units += units
			a.row.FirstOrderAt = minTime(a.row.FirstOrderAt, fromMicros(first))
			a.row.LastOrderAt = maxTime(a.row.LastOrderAt, fromMicros(last))
			if err := a.revenue.Add(amount); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		rows.Close()

		// The rare further currencies of multi-currency orders.
		rows, err = tx.QueryContext(ctx, `SELECT `+col+`, `+bucket+`, t.currency, sum(t.amount_minor)
FROM order_totals t JOIN orders o ON o.seq = t.order_seq`+cond+` GROUP BY 1, 2, 3`, args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				k      key
				amount money.Amount
			)
			if err := rows.Scan(&k.campaign, &k.bucket, &amount.Currency, &amount.Minor); err != nil {
				return interpretError(err)
			}
			if a := byKey[k]; a != nil {
				if err := a.revenue.Add(amount); err != nil {
					return err
				}
			}
		}
		return interpretError(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("campaign report: %w", err)
	}
	out := make([]waorders.CampaignRow, 0, len(byKey))
	for _, a := range byKey {
		a.row.Revenue = slices.SortedFunc(slices.Values(a.revenue.List()), func(x, y money.Amount) int {
			return strings.Compare(x.Currency, y.Currency)
		})
		out = append(out, a.row)
	}
	slices.SortFunc(out, func(a, b waorders.CampaignRow) int {
		return cmp.Or(a.Bucket.Compare(b.Bucket), strings.Compare(a.Campaign, b.Campaign))
	})
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

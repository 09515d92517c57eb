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
	bucket, groupBy := "0", "1"
	switch q.Interval {
	case "":
	case "day":
		bucket, groupBy = fmt.Sprintf("(o.ordered_at / %d) * %d", dayMicros, dayMicros), "1, 2"
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
	cond := whereClause(where)

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
		// Every order once, counted with the first of its totals (the one
		// in its row). GROUP BY the campaign alone (and the day) lets
		// SQLite aggregate while it walks the covering index of the
		// campaign column, without sorting; a group whose orders are in
		// more than one currency is summed per currency afterwards.
		rows, err := tx.QueryContext(ctx, campaignSQL(col, bucket, groupBy, cond), args...)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		var mixed []key
		for rows.Next() {
			var (
				k              key
				a              acc
				first, last    int64
				minCur, maxCur string
				sum            int64
			)
			if err := rows.Scan(&k.campaign, &k.bucket, &a.row.Orders, &a.row.Units, &first, &last, &minCur, &maxCur, &sum); err != nil {
				return interpretError(err)
			}
			a.row.Campaign, a.row.FirstOrderAt, a.row.LastOrderAt = k.campaign, fromMicros(first), fromMicros(last)
			if q.Interval != "" {
				a.row.Bucket = time.UnixMicro(k.bucket).UTC()
			}
			if minCur == maxCur {
				if err := a.revenue.Add(money.Amount{Currency: minCur, Minor: sum}); err != nil {
					return err
				}
			} else {
				mixed = append(mixed, k)
			}
			byKey[k] = &a
		}
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		rows.Close()

		for _, k := range mixed {
			err := func() error {
				rows, err := tx.QueryContext(ctx, `SELECT o.currency, sum(o.total_minor) FROM orders o`+whereClause(append([]string{col + " = ?", bucket + " = ?"}, where...))+` GROUP BY 1`,
					append([]any{k.campaign, k.bucket}, args...)...)
				if err != nil {
					return interpretError(err)
				}
				defer rows.Close()
				for rows.Next() {
					var amount money.Amount
					if err := rows.Scan(&amount.Currency, &amount.Minor); err != nil {
						return interpretError(err)
					}
					if err := byKey[k].revenue.Add(amount); err != nil {
						return err
					}
				}
				return interpretError(rows.Err())
			}()
			if err != nil {
				return err
			}
		}

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

// whereClause returns " WHERE c1 AND c2 ..." or "" without conditions.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// campaignSQL is the main query of the campaign report: per campaign (and
// bucket) the order count, units, first and last order, and the sum of the
// first totals with the range of their currencies.
func campaignSQL(col, bucket, groupBy, cond string) string {
	return `SELECT ` + col + `, ` + bucket + `, count(*), sum(o.units), min(o.ordered_at), max(o.ordered_at),
    min(o.currency), max(o.currency), sum(o.total_minor)
FROM orders o` + cond + ` GROUP BY ` + groupBy
}

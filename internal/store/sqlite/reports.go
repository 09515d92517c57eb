package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// dayMicros is one UTC day in microseconds.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// campaignColumns are the columns a campaign report may group by.
var campaignColumns = map[string]string{"ref": "o.ref", "ref1": "o.ref1", "ref2": "o.ref2"}

// CampaignReport groups orders by q.GroupBy ("" is a campaign of its own),
// and by UTC day when q.Interval is "day". Rows are sorted by bucket, then
// campaign (byte order); revenue is per currency, sorted by code, never
// summed across currencies. Whole UTC days of the window come from the
// campaign_days rollup; only the partial days at its edges (a since or
// until not at midnight UTC) are read from the orders.
func (s *Store) CampaignReport(ctx context.Context, q store.CampaignReportParams) ([]waorders.CampaignRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	col := campaignColumns[q.GroupBy]
	acc := store.NewCampaignAcc(q.Interval == "day")
	from, to, whole := store.WholeDays(q.Since, q.Until)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if !whole {
			return campaignFromOrders(ctx, tx, acc, col, q.Since, q.Until)
		}
		if !q.Since.IsZero() && q.Since.Before(from) {
			if err := campaignFromOrders(ctx, tx, acc, col, q.Since, from); err != nil {
				return err
			}
		}
		if !q.Until.IsZero() && to.Before(q.Until) {
			if err := campaignFromOrders(ctx, tx, acc, col, to, q.Until); err != nil {
				return err
			}
		}
		return campaignFromRollup(ctx, tx, acc, q.GroupBy, from, to)
	})
	if err != nil {
		return nil, fmt.Errorf("campaign report: %w", err)
	}
	return acc.Rows(), nil
}

// campaignFromRollup adds the campaign_days rows of grouping for the days
// in [from, to) (zero: unbounded).
func campaignFromRollup(ctx context.Context, tx *sql.Tx, acc *store.CampaignAcc, grouping string, from, to time.Time) error {
	where, args := []string{"grouping = ?"}, []any{grouping}
	if !from.IsZero() {
		where, args = append(where, "day >= ?"), append(args, from.UnixMicro())
	}
	if !to.IsZero() {
		where, args = append(where, "day < ?"), append(args, to.UnixMicro())
	}
	rows, err := tx.QueryContext(ctx, `SELECT campaign, day, currency, orders, units, revenue_minor, first_at, last_at
FROM campaign_days`+whereClause(where), args...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	var (
		campaign, currency              string
		day, orders, units, minor, f, l int64
	)
	for rows.Next() {
		if err := rows.Scan(&campaign, &day, &currency, &orders, &units, &minor, &f, &l); err != nil {
			return interpretError(err)
		}
		at := time.UnixMicro(day)
		if currency == "" {
			acc.AddOrders(campaign, at, orders, units, time.UnixMicro(f), time.UnixMicro(l))
		} else if err := acc.AddRevenue(campaign, at, money.Amount{Currency: currency, Minor: minor}); err != nil {
			return err
		}
	}
	return interpretError(rows.Err())
}

// campaignFromOrders adds the orders placed in [since, until) (zero:
// unbounded), read through the ordered_at index.
func campaignFromOrders(ctx context.Context, tx *sql.Tx, acc *store.CampaignAcc, col string, since, until time.Time) error {
	var (
		where []string
		args  []any
	)
	if !since.IsZero() {
		where, args = append(where, "o.ordered_at >= ?"), append(args, since.UnixMicro())
	}
	if !until.IsZero() {
		where, args = append(where, "o.ordered_at < ?"), append(args, until.UnixMicro())
	}
	cond := whereClause(where)
	// Days are floored, also before 1970.
	day := fmt.Sprintf("(o.ordered_at - ((o.ordered_at %% %[1]d) + %[1]d) %% %[1]d)", dayMicros)
	rows, err := tx.QueryContext(ctx, `SELECT `+col+`, `+day+`, count(*), sum(o.units), min(o.ordered_at), max(o.ordered_at)
FROM orders o`+cond+` GROUP BY 1, 2`, args...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	var (
		campaign               string
		d, orders, units, f, l int64
	)
	for rows.Next() {
		if err := rows.Scan(&campaign, &d, &orders, &units, &f, &l); err != nil {
			return interpretError(err)
		}
		acc.AddOrders(campaign, time.UnixMicro(d), orders, units, time.UnixMicro(f), time.UnixMicro(l))
	}
	if err := rows.Err(); err != nil {
		return interpretError(err)
	}
	rows.Close()

	// An order's first total is in its row, further currencies in order_totals.
	args = append(args, args...)
	rows, err = tx.QueryContext(ctx, `SELECT c, d, currency, sum(amount) FROM (
    SELECT `+col+` AS c, `+day+` AS d, o.currency AS currency, o.total_minor AS amount FROM orders o`+cond+`
    UNION ALL
    SELECT `+col+`, `+day+`, t.currency, t.amount_minor FROM order_totals t JOIN orders o ON o.seq = t.order_seq`+cond+`
) GROUP BY 1, 2, 3`, args...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	var (
		currency string
		minor    int64
	)
	for rows.Next() {
		if err := rows.Scan(&campaign, &d, &currency, &minor); err != nil {
			return interpretError(err)
		}
		if err := acc.AddRevenue(campaign, time.UnixMicro(d), money.Amount{Currency: currency, Minor: minor}); err != nil {
			return err
		}
	}
	return interpretError(rows.Err())
}

// whereClause returns " WHERE c1 AND c2 ..." or "" without conditions.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

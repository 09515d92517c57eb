package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
// and by day (in q.Location) when q.Interval is "day". Rows are sorted by
// bucket, then campaign (byte order); revenue is per currency, sorted by
// code, never summed across currencies, refunds subtracted. Orders count
// when their status is in q.Statuses (default: all but canceled;
// needs_review never). For the default statuses, without figures per
// status and with UTC days, whole UTC days of the window come from the
// campaign_days rollup and only the partial days at its edges are read
// from the orders; any other report is read from the orders of the window.
func (s *Store) CampaignReport(ctx context.Context, q store.CampaignReportParams) ([]waorders.CampaignRow, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	col := campaignColumns[q.GroupBy]
	acc := store.NewCampaignAccFor(q)
	statuses, _ := q.ReportStatuses()
	from, to, whole := store.WholeDays(q.Since, q.Until)
	err := s.readTx(ctx, func(tx *sql.Tx) error {
		if !whole || !q.FromRollup() {
			return campaignFromOrders(ctx, tx, acc, col, statuses, q.Since, q.Until)
		}
		if !q.Since.IsZero() && q.Since.Before(from) {
			if err := campaignFromOrders(ctx, tx, acc, col, statuses, q.Since, from); err != nil {
				return err
			}
		}
		if !q.Until.IsZero() && to.Before(q.Until) {
			if err := campaignFromOrders(ctx, tx, acc, col, statuses, to, q.Until); err != nil {
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
// unbounded) whose status is in statuses, one row per order (and per
// currency and refund), so the accumulator can bucket them by local day
// and status.
func campaignFromOrders(ctx context.Context, tx *sql.Tx, acc *store.CampaignAcc, col string, statuses []waorders.OrderStatus,
	since, until time.Time) error {
	names := make([]string, len(statuses))
	for i, st := range statuses {
		names[i] = string(st)
	}
	set, err := json.Marshal(names)
	if err != nil {
		return err
	}
	where, args := []string{"o.status IN (SELECT value FROM json_each(?))"}, []any{string(set)}
	if !since.IsZero() {
		where, args = append(where, "o.ordered_at >= ?"), append(args, since.UnixMicro())
	}
	if !until.IsZero() {
		where, args = append(where, "o.ordered_at < ?"), append(args, until.UnixMicro())
	}
	cond := whereClause(where)
	rows, err := tx.QueryContext(ctx, `SELECT `+col+`, o.status, o.ordered_at, o.units FROM orders o`+cond, args...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	var (
		campaign, status string
		at, units        int64
	)
	for rows.Next() {
		if err := rows.Scan(&campaign, &status, &at, &units); err != nil {
			return interpretError(err)
		}
		acc.AddOrder(campaign, waorders.OrderStatus(status), fromMicros(at), units)
	}
	if err := rows.Err(); err != nil {
		return interpretError(err)
	}
	rows.Close()

	// An order's first total is in its row, further currencies in
	// order_totals; refunds subtract.
	all := append(append(append([]any{}, args...), args...), args...)
	rows, err = tx.QueryContext(ctx, `SELECT `+col+`, o.status, o.ordered_at, o.currency, o.total_minor FROM orders o`+cond+` AND o.currency <> ''
UNION ALL
SELECT `+col+`, o.status, o.ordered_at, t.currency, t.amount_minor FROM order_totals t JOIN orders o ON o.seq = t.order_seq`+cond+`
UNION ALL
SELECT `+col+`, o.status, o.ordered_at, r.currency, -r.amount_minor FROM order_refunds r JOIN orders o ON o.seq = r.order_seq`+cond, all...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	var (
		currency string
		minor    int64
	)
	for rows.Next() {
		if err := rows.Scan(&campaign, &status, &at, &currency, &minor); err != nil {
			return interpretError(err)
		}
		if err := acc.AddOrderRevenue(campaign, waorders.OrderStatus(status), fromMicros(at), money.Amount{Currency: currency, Minor: minor}); err != nil {
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

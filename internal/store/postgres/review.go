package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// applyRollup upserts the rollup changes of one order's review, refund or
// cancellation, in key order (as the intake does, so concurrent writers
// lock rows in one order), and drops the rows of a day and campaign left
// without orders.
func applyRollup(ctx context.Context, tx pgx.Tx, r store.Rollup) error {
	keys := make([]store.RollupKey, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b store.RollupKey) int {
		switch {
		case a.Grouping != b.Grouping:
			return compare(a.Grouping, b.Grouping)
		case !a.Day.Equal(b.Day):
			return a.Day.Compare(b.Day)
		case a.Campaign != b.Campaign:
			return compare(a.Campaign, b.Campaign)
		}
		return compare(a.Currency, b.Currency)
	})
	b := &pgx.Batch{}
	for _, k := range keys {
		d := r[k]
		b.Queue(`INSERT INTO campaign_days AS c (grouping, campaign, day, currency, orders, units, revenue_minor, first_at, last_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (grouping, day, campaign, currency) DO UPDATE SET orders = c.orders + excluded.orders,
				units = c.units + excluded.units, revenue_minor = c.revenue_minor + excluded.revenue_minor,
				first_at = least(c.first_at, excluded.first_at), last_at = greatest(c.last_at, excluded.last_at)`,
			k.Grouping, clean(k.Campaign), k.Day.UTC(), k.Currency, d.Orders, d.Units, d.Revenue, d.First.UTC(), d.Last.UTC())
	}
	for _, k := range keys {
		if k.Currency == "" && r[k].Orders < 0 {
			// An order left the row: its first and last order times are
			// those of the orders still counted (through the campaign index).
			col := campaignColumns[k.Grouping]
			b.Queue(`UPDATE campaign_days c SET first_at = coalesce(m.first, c.first_at), last_at = coalesce(m.last, c.last_at)
				FROM (SELECT min(o.ordered_at) AS first, max(o.ordered_at) AS last FROM orders o
					WHERE `+col+` = $2 AND o.ordered_at >= $3 AND o.ordered_at < $3 + interval '1 day'
					AND o.status NOT IN ('canceled', 'needs_review')) m
				WHERE c.grouping = $1 AND c.campaign = $2 AND c.day = $3 AND c.currency = ''`,
				k.Grouping, clean(k.Campaign), k.Day.UTC())
			// A currency no counted order of the row has any more leaves it.
			b.Queue(`DELETE FROM campaign_days c WHERE c.grouping = $1 AND c.campaign = $2 AND c.day = $3 AND c.currency <> ''
				AND NOT EXISTS (SELECT 1 FROM orders o JOIN order_totals t ON t.order_id = o.id
					WHERE `+col+` = $2 AND o.ordered_at >= $3 AND o.ordered_at < $3 + interval '1 day'
					AND o.status NOT IN ('canceled', 'needs_review') AND t.currency = c.currency)`,
				k.Grouping, clean(k.Campaign), k.Day.UTC())
			b.Queue(`DELETE FROM campaign_days WHERE grouping = $1 AND campaign = $2 AND day = $3
				AND (SELECT orders FROM campaign_days WHERE grouping = $1 AND campaign = $2 AND day = $3 AND currency = '') <= 0`,
				k.Grouping, clean(k.Campaign), k.Day.UTC())
		}
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("update campaign rollup: %w", interpretError(err))
	}
	return nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lockOrder reads order id for update in tx.
func lockOrder(ctx context.Context, tx pgx.Tx, id string) (*waorders.Order, error) {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM orders WHERE id = $1 FOR UPDATE`, clean(id)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "order %q not found", id)
	}
	if err != nil {
		return nil, interpretError(err)
	}
	return getOrder(ctx, tx, clean(id))
}

// inOwnTx runs fn in the transaction of t, or in one of its own when t is
// in autocommit mode.
func (t *tx) inOwnTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if t.pgTx != nil {
		return fn(t.pgTx)
	}
	return t.s.InTx(ctx, func(st store.Tx) error { return fn(st.(*tx).pgTx) })
}

func (t *tx) changeTime(at time.Time) (time.Time, error) {
	if at.IsZero() {
		at = t.s.nowUTC()
	}
	return at.UTC(), checkTime("order change time", at)
}

// changeOrder is a review or a refund of order id: with t still open and
// the params valid (invalid, their error), it locks and reads the order in
// the transaction and runs change at the time at (now when zero); it
// returns the order as it then is, or change's error prefixed with what.
func (t *tx) changeOrder(ctx context.Context, what, id string, invalid error, at time.Time,
	change func(tx pgx.Tx, o *waorders.Order, at time.Time) error) (*waorders.Order, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if invalid != nil {
		return nil, invalid
	}
	at, err := t.changeTime(at)
	if err != nil {
		return nil, err
	}
	var out *waorders.Order
	err = t.inOwnTx(ctx, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := change(tx, o, at); err != nil {
			return err
		}
		out, err = getOrder(ctx, tx, o.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// queueHistory queues the history entry h of an order as its version.
func queueHistory(b *pgx.Batch, id string, version int64, h waorders.StatusChange) {
	b.Queue(`INSERT INTO order_history (order_id, version, at, actor, from_status, to_status, note)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, version, h.At, clean(h.Actor), string(h.From), string(h.To), clean(h.Note))
}

// ReviewOrder resolves an order in needs_review (store.ApplyReview) with
// the order row locked: rewritten lines, status, version, units and
// totals, the history entry, and the rollup when it becomes pending.
func (t *tx) ReviewOrder(ctx context.Context, p store.ReviewOrderParams) (*waorders.Order, error) {
	return t.changeOrder(ctx, "review order", p.ID, p.Validate(), p.At, func(tx pgx.Tx, o *waorders.Order, at time.Time) error {
		res, err := store.ApplyReview(o, p, at)
		if err != nil {
			return err
		}
		n, id := res.Order, o.ID
		b := &pgx.Batch{}
		for _, i := range res.Changed {
			it := n.Items[i]
			b.Queue(`UPDATE order_items SET quantity = $3, currency = $4, unit_price_minor = $5, line_total_minor = $6,
				problems = NULL WHERE order_id = $1 AND position = $2`,
				id, int32(i), it.Quantity, it.UnitPrice.Currency, it.UnitPrice.Minor, it.LineTotal.Minor)
		}
		var sole *string
		var soleTotal *int64
		if len(n.Totals) == 1 {
			sole, soleTotal = &n.Totals[0].Currency, &n.Totals[0].Minor
		}
		b.Queue(`UPDATE orders SET status = $2, version = $3, units = $4, total_currency = $5, total_minor = $6 WHERE id = $1`,
			id, string(n.Status), n.Version, n.Units(), sole, soleTotal)
		b.Queue(`DELETE FROM order_totals WHERE order_id = $1`, id)
		for i, tot := range n.Totals {
			b.Queue(`INSERT INTO order_totals (order_id, position, currency, amount_minor) VALUES ($1, $2, $3, $4)`,
				id, int32(i), tot.Currency, tot.Minor)
		}
		queueHistory(b, id, n.Version, res.Change)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return interpretError(err)
		}
		if n.Status.Counted() {
			r := store.Rollup{}
			r.AddDelta(n, n.Totals, +1, true)
			if err := applyRollup(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// RefundOrder records a refund (store.ApplyRefund) with the order row
// locked: its refunded amounts, status refunded, the history entry, and
// the rollup's revenue less the amounts.
func (t *tx) RefundOrder(ctx context.Context, p store.RefundOrderParams) (*waorders.Order, error) {
	return t.changeOrder(ctx, "refund order", p.ID, p.Validate(), p.At, func(tx pgx.Tx, o *waorders.Order, at time.Time) error {
		res, err := store.ApplyRefund(o, p, at)
		if err != nil {
			return err
		}
		id := o.ID
		b := &pgx.Batch{}
		for _, a := range res.Refunded {
			b.Queue(`INSERT INTO order_refunds (order_id, currency, amount_minor) VALUES ($1, $2, $3)
				ON CONFLICT (order_id, currency) DO UPDATE SET amount_minor = excluded.amount_minor`, id, a.Currency, a.Minor)
		}
		b.Queue(`UPDATE orders SET status = $2, version = $3 WHERE id = $1`, id, string(waorders.OrderRefunded), o.Version+1)
		queueHistory(b, id, o.Version+1, res.Change)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return interpretError(err)
		}
		r := store.Rollup{}
		r.AddDelta(o, p.Amounts, -1, false)
		if err := applyRollup(ctx, tx, r); err != nil {
			return err
		}
		return nil
	})
}

// ReviewOrder implements store.Store. See tx.ReviewOrder.
func (s *Store) ReviewOrder(ctx context.Context, p store.ReviewOrderParams) (*waorders.Order, error) {
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) (*waorders.Order, error) { return tx.ReviewOrder(ctx, p) })
}

// RefundOrder implements store.Store. See tx.RefundOrder.
func (s *Store) RefundOrder(ctx context.Context, p store.RefundOrderParams) (*waorders.Order, error) {
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) (*waorders.Order, error) { return tx.RefundOrder(ctx, p) })
}

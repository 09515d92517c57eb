package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// UpdateOrderStatus moves an order to p.To in the transaction: it
// checks p.IfVersion (CodePrecondition, naming the current version), then
// the lifecycle (CodeConflict, naming the allowed states), bumps the version
// and appends the change to the history. p.At defaults to now.
func (t *tx) UpdateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	at := p.At
	if at.IsZero() {
		at = t.s.now()
	}
	err := func(tx *sql.Tx) error {
		var (
			seq     int64
			status  string
			version int64
		)
		err := tx.QueryRowContext(ctx, `SELECT seq, status, version FROM orders
WHERE seq = (SELECT seq FROM messages WHERE id = ?)`, p.ID).Scan(&seq, &status, &version)
		if err != nil {
			return notFound(err, "order %s not found", p.ID)
		}
		if p.IfVersion != nil && *p.IfVersion != version {
			return waorders.Errorf(waorders.CodePrecondition,
				"order %s is at version %d, not %d; fetch it again and retry with its current version", p.ID, version, *p.IfVersion)
		}
		from := waorders.OrderStatus(status)
		if err := from.CheckTransition(p.To); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `UPDATE orders SET status = ?, version = version + 1 WHERE seq = ? AND version = ?`,
			string(p.To), seq, version)
		if err != nil {
			return interpretError(err)
		}
		if n, _ := r.RowsAffected(); n != 1 {
			// Unreachable with one writer; kept so a future second writer
			// cannot silently lose an update.
			return waorders.Errorf(waorders.CodePrecondition, "order %s changed meanwhile; fetch it again and retry", p.ID)
		}
		if err := writeHistory(ctx, tx, seq, version+1, waorders.StatusChange{At: at, Actor: p.Actor, From: from, To: p.To, Note: p.Note}); err != nil {
			return err
		}
		if from.Counted() && !p.To.Counted() {
			// Canceled: the order leaves the revenue, in this transaction.
			o, err := getOrder(ctx, tx, p.ID)
			if err != nil {
				return err
			}
			r := store.Rollup{}
			r.AddDelta(o, o.Net(), -1, true)
			return applyRollup(ctx, tx, r)
		}
		return nil
	}(t.sqlTx)
	if err != nil {
		return nil, fmt.Errorf("update order status: %w", err)
	}
	// Read back in the transaction: the read pool cannot see the change
	// before the commit.
	o, err := getOrder(ctx, t.sqlTx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("get order: %w", err)
	}
	return o, nil
}

// orderSeq returns the seq of order id, or CodeNotFound.
func orderSeq(ctx context.Context, tx *sql.Tx, id string) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT o.seq FROM orders o WHERE o.seq = (SELECT seq FROM messages WHERE id = ?)`, id).Scan(&seq)
	if err != nil {
		return 0, notFound(err, "order %s not found", id)
	}
	return seq, nil
}

// applyRollup upserts the rollup changes of one order's review, refund or
// cancellation, and drops the rows of a day and campaign left without
// orders (their currency rows with them).
func applyRollup(ctx context.Context, tx *sql.Tx, r store.Rollup) error {
	for k, d := range r {
		if _, err := tx.ExecContext(ctx, sqlUpsertCampaignDays+sqlCampaignDayValues+sqlCampaignDaysConflict,
			k.Grouping, k.Campaign, micros(k.Day), k.Currency, d.Orders, d.Units, d.Revenue, micros(d.First), micros(d.Last)); err != nil {
			return fmt.Errorf("update campaign rollup: %w", interpretError(err))
		}
	}
	for k, d := range r {
		if k.Currency != "" || d.Orders >= 0 {
			continue
		}
		// An order left the row: its first and last order times are
		// those of the orders still counted (through the campaign index).
		col := campaignColumns[k.Grouping]
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_days SET
    first_at = coalesce((SELECT min(o.ordered_at) FROM orders o WHERE `+col+` = ?1 AND o.ordered_at >= ?2 AND o.ordered_at < ?2 + ?3
        AND o.status NOT IN ('canceled', 'needs_review')), first_at),
    last_at = coalesce((SELECT max(o.ordered_at) FROM orders o WHERE `+col+` = ?1 AND o.ordered_at >= ?2 AND o.ordered_at < ?2 + ?3
        AND o.status NOT IN ('canceled', 'needs_review')), last_at)
WHERE grouping = ?4 AND campaign = ?1 AND day = ?2 AND currency = ''`, k.Campaign, micros(k.Day), dayMicros, k.Grouping); err != nil {
			return fmt.Errorf("update campaign rollup: %w", interpretError(err))
		}
		// A currency no counted order of the row has any more leaves it.
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_days WHERE grouping = ?4 AND campaign = ?1 AND day = ?2
AND currency <> '' AND NOT EXISTS (SELECT 1 FROM orders o WHERE `+col+` = ?1 AND o.ordered_at >= ?2 AND o.ordered_at < ?2 + ?3
    AND o.status NOT IN ('canceled', 'needs_review') AND (o.currency = campaign_days.currency
        OR EXISTS (SELECT 1 FROM order_totals t WHERE t.order_seq = o.seq AND t.currency = campaign_days.currency)))`,
			k.Campaign, micros(k.Day), dayMicros, k.Grouping); err != nil {
			return fmt.Errorf("update campaign rollup: %w", interpretError(err))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_days WHERE grouping = ? AND campaign = ? AND day = ?
AND (SELECT orders FROM campaign_days WHERE grouping = ? AND campaign = ? AND day = ? AND currency = '') <= 0`,
			k.Grouping, k.Campaign, micros(k.Day), k.Grouping, k.Campaign, micros(k.Day)); err != nil {
			return fmt.Errorf("update campaign rollup: %w", interpretError(err))
		}
	}
	return nil
}

// writeHistory appends one entry to an order's history.
func writeHistory(ctx context.Context, tx *sql.Tx, seq, version int64, h waorders.StatusChange) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO order_history (order_seq, version, at, actor, from_status, to_status, note)
VALUES (?, ?, ?, ?, ?, ?, ?)`, seq, version, micros(h.At), h.Actor, string(h.From), string(h.To), h.Note)
	return interpretError(err)
}

// bumpOrder sets an order's status and next version, if it is still at
// version (one writer: always).
func bumpOrder(ctx context.Context, tx *sql.Tx, seq, version int64, status waorders.OrderStatus, id string) error {
	r, err := tx.ExecContext(ctx, `UPDATE orders SET status = ?, version = ? WHERE seq = ? AND version = ?`,
		string(status), version+1, seq, version)
	if err != nil {
		return interpretError(err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return waorders.Errorf(waorders.CodePrecondition, "order %s changed meanwhile; fetch it again and retry", id)
	}
	return nil
}

// ReviewOrder resolves an order in needs_review (store.ApplyReview) in the
// transaction: rewritten lines, status, version, units and totals, the
// history entry, and the rollup when the order becomes pending.
func (t *tx) ReviewOrder(ctx context.Context, p store.ReviewOrderParams) (*waorders.Order, error) {
	return t.changeOrder(ctx, "review order", p.ID, p.Validate(), p.At, func(tx *sql.Tx, o *waorders.Order, seq int64, at time.Time) error {
		res, err := store.ApplyReview(o, p, at)
		if err != nil {
			return err
		}
		n := res.Order
		for _, i := range res.Changed {
			it := n.Items[i]
			if _, err := tx.ExecContext(ctx, `UPDATE order_items SET quantity = ?, currency = ?, unit_minor = ?, line_minor = ?,
    problems = NULL WHERE order_seq = ? AND idx = ?`, it.Quantity, it.UnitPrice.Currency, it.UnitPrice.Minor, it.LineTotal.Minor,
				seq, i); err != nil {
				return interpretError(err)
			}
		}
		if err := bumpOrder(ctx, tx, seq, o.Version, n.Status, p.ID); err != nil {
			return err
		}
		var first money.Amount
		if len(n.Totals) > 0 {
			first = n.Totals[0]
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET units = ?, currency = ?, total_minor = ? WHERE seq = ?`,
			n.Units(), first.Currency, first.Minor, seq); err != nil {
			return interpretError(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM order_totals WHERE order_seq = ?`, seq); err != nil {
			return interpretError(err)
		}
		for i := 1; i < len(n.Totals); i++ {
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_totals (order_seq, idx, currency, amount_minor) VALUES (?, ?, ?, ?)`,
				seq, i, n.Totals[i].Currency, n.Totals[i].Minor); err != nil {
				return interpretError(err)
			}
		}
		if err := writeHistory(ctx, tx, seq, n.Version, res.Change); err != nil {
			return err
		}
		if n.Status.Counted() {
			r := store.Rollup{}
			r.AddDelta(n, n.Totals, +1, true)
			return applyRollup(ctx, tx, r)
		}
		return nil
	})
}

// RefundOrder records a refund (store.ApplyRefund) in the transaction:
// the order's refunded amounts, status refunded, the history entry, and
// the rollup's revenue less the amounts.
func (t *tx) RefundOrder(ctx context.Context, p store.RefundOrderParams) (*waorders.Order, error) {
	return t.changeOrder(ctx, "refund order", p.ID, p.Validate(), p.At, func(tx *sql.Tx, o *waorders.Order, seq int64, at time.Time) error {
		res, err := store.ApplyRefund(o, p, at)
		if err != nil {
			return err
		}
		for _, a := range res.Refunded {
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_refunds (order_seq, currency, amount_minor) VALUES (?, ?, ?)
ON CONFLICT (order_seq, currency) DO UPDATE SET amount_minor = excluded.amount_minor`, seq, a.Currency, a.Minor); err != nil {
				return interpretError(err)
			}
		}
		if err := bumpOrder(ctx, tx, seq, o.Version, waorders.OrderRefunded, p.ID); err != nil {
			return err
		}
		if err := writeHistory(ctx, tx, seq, o.Version+1, res.Change); err != nil {
			return err
		}
		r := store.Rollup{}
		r.AddDelta(o, p.Amounts, -1, false)
		return applyRollup(ctx, tx, r)
	})
}

// changeOrder is a review or a refund of order id in the transaction: with
// t still open and the params valid (invalid, their error), it reads the
// order and its seq and runs change at the time at (now when zero); it
// returns the order as it then is, or change's error prefixed with what.
func (t *tx) changeOrder(ctx context.Context, what, id string, invalid error, at time.Time,
	change func(tx *sql.Tx, o *waorders.Order, seq int64, at time.Time) error) (*waorders.Order, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if invalid != nil {
		return nil, invalid
	}
	if at.IsZero() {
		at = t.s.now()
	}
	tx := t.sqlTx
	err := func() error {
		o, err := getOrder(ctx, tx, id)
		if err != nil {
			return err
		}
		seq, err := orderSeq(ctx, tx, id)
		if err != nil {
			return err
		}
		return change(tx, o, seq, at)
	}()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return getOrder(ctx, tx, id)
}

// ReviewOrder implements store.Store. See tx.ReviewOrder.
func (s *Store) ReviewOrder(ctx context.Context, p store.ReviewOrderParams) (*waorders.Order, error) {
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) (*waorders.Order, error) { return tx.ReviewOrder(ctx, p) })
}

// RefundOrder implements store.Store. See tx.RefundOrder.
func (s *Store) RefundOrder(ctx context.Context, p store.RefundOrderParams) (*waorders.Order, error) {
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) (*waorders.Order, error) { return tx.RefundOrder(ctx, p) })
}

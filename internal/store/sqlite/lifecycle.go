package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO order_history (order_seq, version, at, actor, from_status, to_status, note)
VALUES (?, ?, ?, ?, ?, ?, ?)`, seq, version+1, micros(at), p.Actor,
			string(from), string(p.To), p.Note); err != nil {
			return interpretError(err)
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

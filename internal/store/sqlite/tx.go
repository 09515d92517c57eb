package sqlite

import (
	"context"
	"database/sql"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// tx is the store.Tx of SQLite: a transaction on the single writer
// connection. Every write method of Store is InTx around one method of tx.
type tx struct {
	s     *Store
	sqlTx *sql.Tx
	guard store.TxGuard
	// wroteInbound tells InTx to wake the checkpointer after the commit.
	wroteInbound bool
}

var _ store.Tx = (*tx)(nil)

// InTx runs fn in one write transaction on the writer connection (BEGIN
// IMMEDIATE: it waits for the write lock rather than failing halfway), and
// commits it when fn returns nil. See store.Store.InTx.
func (s *Store) InTx(ctx context.Context, fn func(store.Tx) error) error {
	t := &tx{s: s}
	err := s.writeTx(ctx, func(sqlTx *sql.Tx) error {
		t.sqlTx = sqlTx
		defer t.guard.Done() // before the commit, and on panic
		return fn(t)
	})
	if err == nil && t.wroteInbound {
		s.ckpt.notify()
	}
	return err
}

// WriteInbound implements store.Store. See tx.WriteInbound.
func (s *Store) WriteInbound(ctx context.Context, in []*store.Inbound) ([]store.InboundResult, error) {
	var res []store.InboundResult
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		res, err = tx.WriteInbound(ctx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// UpdateOrderStatus implements store.Store. See tx.UpdateOrderStatus.
func (s *Store) UpdateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	var o *waorders.Order
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		o, err = tx.UpdateOrderStatus(ctx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// MarkQuarantineAttempt implements store.Store. See tx.MarkQuarantineAttempt.
func (s *Store) MarkQuarantineAttempt(ctx context.Context, p store.MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error) {
	var e *waorders.QuarantineEntry
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		e, err = tx.MarkQuarantineAttempt(ctx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

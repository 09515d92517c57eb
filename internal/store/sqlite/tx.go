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
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) ([]store.InboundResult, error) { return tx.WriteInbound(ctx, in) })
}

// UpdateOrderStatus implements store.Store. See tx.UpdateOrderStatus.
func (s *Store) UpdateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) (*waorders.Order, error) { return tx.UpdateOrderStatus(ctx, p) })
}

// MarkQuarantineAttempt implements store.Store. See tx.MarkQuarantineAttempt.
func (s *Store) MarkQuarantineAttempt(ctx context.Context, p store.MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error) {
	return store.RunTx(ctx, s.InTx, func(tx store.Tx) (*waorders.QuarantineEntry, error) { return tx.MarkQuarantineAttempt(ctx, p) })
}

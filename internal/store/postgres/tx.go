package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// tx is the store.Tx of PostgreSQL. In InTx it holds one pgx.Tx that every
// call joins. The Store's own write methods use it in autocommit mode
// (pgTx nil), where each call is a transaction of its own exactly as
// before InTx existed: WriteInbound then stays one batch in one round trip
// that PostgreSQL runs and commits as an implicit transaction, with its
// own retries. Each method has one implementation for both modes; only
// where it sends its statements differs.
type tx struct {
	s     *Store
	pgTx  pgx.Tx // nil in autocommit mode
	guard store.TxGuard
}

var _ store.Tx = (*tx)(nil)

// InTx runs fn in one transaction (READ COMMITTED, like every write of the
// driver) and commits it when fn returns nil; the whole transaction is
// bounded by Options.QueryTimeout. A deadlock or serialization failure
// aborts the transaction; InTx then runs fn again, up to maxWriteAttempts
// times in all. See store.Store.InTx.
func (s *Store) InTx(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || attempt >= maxWriteAttempts || !retryable(err, false) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("retrying transaction", "attempt", attempt, "err", err)
	}
}

func (s *Store) inTx(ctx context.Context, fn func(store.Tx) error) error {
	bctx, cancel := s.bound(ctx)
	defer cancel()
	pgTx, err := s.pool.Begin(bctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", interpretError(err))
	}
	t := &tx{s: s, pgTx: pgTx}
	committed := false
	defer func() {
		t.guard.Done()
		if !committed { // fn failed or panicked
			_ = pgTx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := t.run(fn); err != nil {
		return err
	}
	if err := pgTx.Commit(bctx); err != nil {
		return fmt.Errorf("commit transaction: %w", interpretError(err))
	}
	committed = true
	return nil
}

// run calls fn with t and ends t's validity when fn returns.
func (t *tx) run(fn func(store.Tx) error) error {
	defer t.guard.Done()
	return fn(t)
}

// autocommit runs fn with a Tx in autocommit mode.
func (s *Store) autocommit(fn func(store.Tx) error) error {
	return (&tx{s: s}).run(fn)
}

// alone is autocommit in the shape of InTx, for store.RunTx: ctx bounds
// each statement, as there is no transaction to bound.
func (s *Store) alone(_ context.Context, fn func(store.Tx) error) error { return s.autocommit(fn) }

// q is where a call sends its statements: the transaction, or the pool.
func (t *tx) q() querier {
	if t.pgTx != nil {
		return t.pgTx
	}
	return t.s.pool
}

// WriteInbound implements store.Store. See tx.WriteInbound.
func (s *Store) WriteInbound(ctx context.Context, in []*store.Inbound) ([]store.InboundResult, error) {
	return store.RunTx(ctx, s.alone, func(tx store.Tx) ([]store.InboundResult, error) { return tx.WriteInbound(ctx, in) })
}

// UpdateOrderStatus implements store.Store. See tx.UpdateOrderStatus.
func (s *Store) UpdateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	return store.RunTx(ctx, s.alone, func(tx store.Tx) (*waorders.Order, error) { return tx.UpdateOrderStatus(ctx, p) })
}

// MarkQuarantineAttempt implements store.Store. See tx.MarkQuarantineAttempt.
func (s *Store) MarkQuarantineAttempt(ctx context.Context, p store.MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error) {
	return store.RunTx(ctx, s.alone, func(tx store.Tx) (*waorders.QuarantineEntry, error) { return tx.MarkQuarantineAttempt(ctx, p) })
}

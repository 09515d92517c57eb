// Package store is the storage contract of waorders: one interface that the
// SQLite and PostgreSQL drivers implement, and that the conformance suite in
// storetest checks. Everything above storage (intake, server, CLI) depends on
// this package only; only internal/cli picks a driver. Store.InTx runs the
// writes of several areas in one transaction (Tx).
//
// Errors: methods return *waorders.Error with CodeNotFound when a looked-up
// record does not exist, CodeConflict for an illegal order transition,
// CodePrecondition for a stale order version, CodeInvalid for a malformed
// filter or cursor. Any other error is an infrastructure failure.
package store

import (
	"context"
	"errors"
	"sync/atomic"
)

// Store is the whole storage contract: the interface of every area,
// composed. A consumer depends on the narrowest area interface it needs
// (intake on InboundWriter, the API's order handlers on Orders, ...), so a
// test fake implements only what its consumer calls. Each area is declared
// in its own file (inbound.go, messages.go, orders.go, reports.go,
// quarantine.go, customers.go, changes.go, users.go), with its parameters and results, and with its XxxTx: the
// writes of the area that can join a shared transaction (Tx).
type Store interface {
	InboundWriter
	Messages
	Orders
	Reports
	Quarantine
	Customers
	Changes
	Events
	Webhooks
	Relay
	Users

	// InTx runs fn in one write transaction and commits it when fn returns
	// nil; it rolls it back when fn returns an error (returned as is) or
	// panics (the panic goes on). The write methods of a Store are each
	// InTx with one call of the same method of the Tx, so a Tx method
	// behaves exactly like its Store method, except that its writes become
	// visible, all together, only when InTx commits.
	//
	// This is how a record must be written together with the change it
	// records: the coming event log appends its events through the Tx of
	// the change (an order's status change and its event commit together
	// or not at all), as River's InsertTx enqueues a job in the
	// transaction of the business write.
	//
	// The Tx is valid only until fn returns: a later call fails with
	// ErrTxDone. A driver may call fn again when the database aborted the
	// transaction in a way a new attempt avoids (a PostgreSQL deadlock or
	// serialization failure), so fn must not have effects outside tx that
	// a second run would repeat wrongly. On SQLite every write shares one
	// connection: fn must not call the Store's own write methods (that
	// would wait for itself), and should be short.
	InTx(ctx context.Context, fn func(tx Tx) error) error

	// Ping checks that storage answers and accepts writes (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store. It is safe to call more than once.
	Close() error
}

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Tx is one open write transaction: the write methods of every area,
// committed together or not at all (see Store.InTx).
type Tx interface {
	InboundTx
	OrdersTx
	QuarantineTx
	EventsTx
	UsersTx
}

// ErrTxDone is returned by a method of a Tx called after the function that
// InTx passed it to has returned.
var ErrTxDone = errors.New("store: transaction is done; use a Tx only inside the function InTx passed it to")

// TxGuard makes a driver's Tx refuse use after InTx's function returned.
// The zero value is open. It is safe for concurrent use.
type TxGuard struct{ done atomic.Bool }

// Check returns ErrTxDone once Done has been called, else nil.
func (g *TxGuard) Check() error {
	if g.done.Load() {
		return ErrTxDone
	}
	return nil
}

// Done marks the transaction finished.
func (g *TxGuard) Done() { g.done.Store(true) }

// RunTx is a driver's Store write method that is one method of its Tx: it
// runs write with the Tx that run gives (the driver's InTx, or its own way
// of running one Tx call) and returns write's result, or the zero value
// with the error.
func RunTx[T any](ctx context.Context, run func(context.Context, func(Tx) error) error, write func(Tx) (T, error)) (T, error) {
	var v T
	if err := run(ctx, func(tx Tx) (err error) {
		v, err = write(tx)
		return err
	}); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// Package store is the storage contract of waorders: one interface that the
// SQLite and PostgreSQL drivers implement, and that the conformance suite in
// storetest checks. Everything above storage (intake, server, CLI) depends on
// this package only; only internal/cli picks a driver.
//
// Errors: methods return *waorders.Error with CodeNotFound when a looked-up
// record does not exist, CodeConflict for an illegal order transition,
// CodePrecondition for a stale order version, CodeInvalid for a malformed
// filter or cursor. Any other error is an infrastructure failure.
package store

import (
	"context"
)

// Store is the whole storage contract: the interface of every area,
// composed. A consumer depends on the narrowest area interface it needs
// (intake on InboundWriter, the API's order handlers on Orders, ...), so a
// test fake implements only what its consumer calls. Each area is declared
// in its own file (inbound.go, messages.go, orders.go, reports.go,
// quarantine.go), with its parameters and results.
type Store interface {
	InboundWriter
	Messages
	Orders
	Reports
	Quarantine

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

package store

import "context"

// InboundWriter is the intake's area: it writes what accepted callbacks
// carry.
type InboundWriter interface {
	// WriteInbound writes every inbound callback in ONE transaction and
	// returns one result per callback, in order. Nothing is visible, and
	// nothing may be acknowledged, until it returns nil. Deduplication is
	// atomic, by UNIQUE keys: messages and orders by message id, statuses
	// by (message id, status), message quarantine entries by message id. A
	// duplicate within the same call is a duplicate too. The RawCallback row
	// of an Inbound whose RawCallback.ID already exists is skipped (a
	// quarantine retry re-runs one).
	WriteInbound(ctx context.Context, in []*Inbound) ([]InboundResult, error)
}

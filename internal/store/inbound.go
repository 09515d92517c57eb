package store

import (
	"context"
	"net/http"
	"time"

	"github.com/waorders/waorders"
)

// InboundWriter is the intake's area: it writes what accepted callbacks
// carry. An inbound is one accepted callback and the records decoded from
// it.
type InboundWriter interface {
	InboundTx
}

// InboundTx is the write of the inbound area; it can join a Tx.
type InboundTx interface {
	// WriteInbound writes every inbound callback in ONE transaction and
	// returns one result per callback, in order. Nothing is visible, and
	// nothing may be acknowledged, until it returns nil. Deduplication is
	// atomic, by UNIQUE keys: messages and orders by message id, statuses
	// by (message id, participant, status), changes by their Key, customer
	// links by the pair, message quarantine entries by message id. The
	// customer links of an Inbound are its Links and those InboundLinks
	// derives from its records (identifiers seen together). A
	// duplicate within the same call is a duplicate too. The RawCallback row
	// of an Inbound whose RawCallback.ID already exists is skipped (a
	// quarantine retry re-runs one).
	WriteInbound(ctx context.Context, in []*Inbound) ([]InboundResult, error)
}

// Inbound is everything one accepted callback writes: the raw callback and
// the records decoded from it.
type Inbound struct {
	Callback   RawCallback
	Messages   []MessageWrite
	Statuses   []StatusWrite
	Changes    []ChangeWrite
	Quarantine []*waorders.QuarantineEntry
	// Links are pairs of customer identifiers that the callback shows to
	// belong to one customer beyond those its records carry (a BSUID change:
	// the previous and the new BSUID).
	Links []CustomerLink
}

// ChangeWrite is one change (not a message or status) to store.
type ChangeWrite struct {
	Change *waorders.Change
	// RawOnly marks a change waorders keeps without typing it (group, sync,
	// unknown fields): its outcome is Kept rather than Stored.
	RawOnly bool
}

// RawCallback is the raw callback log row: every accepted request body is kept,
// duplicates included, so what the provider sent can always be shown.
type RawCallback struct {
	ID         string // request id, unique
	Envelope   string // "kaleyra", "meta"
	ReceivedAt time.Time
	Body       []byte
	Headers    http.Header // secrets already removed
}

// MessageWrite is one message to store, and the order created from it when
// it is an order message.
type MessageWrite struct {
	Message *waorders.Message
	Order   *waorders.Order // nil unless the message is a usable order
}

// StatusWrite is one status update to store. Rank orders statuses for the
// forward-only state: the state of a message only ever moves to a higher
// rank (see callback.StatusKind.Rank).
type StatusWrite struct {
	Update *waorders.StatusUpdate
	Rank   int
}

// Outcome is what happened to one record of an Inbound.
type Outcome string

// Outcomes.
const (
	Stored      Outcome = "stored"
	Duplicate   Outcome = "duplicate"
	Quarantined Outcome = "quarantined"
	// Kept is a change stored as its raw JSON only (a field waorders does
	// not type).
	Kept Outcome = "kept"
)

// InboundResult reports per record what WriteInbound did, parallel to the
// slices of the Inbound.
type InboundResult struct {
	Messages []Outcome
	Statuses []Outcome
	// Advanced is parallel to Statuses: true for a status that was Stored
	// and moved its message's forward-only state (its rank is above the
	// state the message had, taking the statuses before it in the same
	// call in order). A late "sent" after "read" is stored but did not
	// advance; it makes no message.status event.
	Advanced   []bool
	Changes    []Outcome
	Quarantine []QuarantineResult
}

// QuarantineResult is the outcome of one quarantine entry: its id, and
// whether it is new (Stored) or the message was already quarantined
// (Duplicate, ID of the existing entry).
type QuarantineResult struct {
	ID      int64
	Outcome Outcome
}

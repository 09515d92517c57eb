package store

import (
	"context"
	"time"
)

// Relay is the area of deliveries, the outbox of the event log: one row per
// (event, sink), created with the event, moved by the relay through
// pending → leased → delivered, or retry → … → dead. Claims and finishes
// are fenced, as River's: a claim leases rows in one statement (FOR UPDATE
// SKIP LOCKED on PostgreSQL, the single writer on SQLite), and a finish
// only lands if the row is still leased by the same owner for the same
// attempt.
type Relay interface {
	// ClaimDeliveries leases up to p.Limit due deliveries of p.Sink:
	// pending or retry rows whose next attempt is due, and leased rows
	// whose lease has expired (a crashed relay's). Only the head of each
	// (sink, order) is due: a delivery waits while an earlier one of the
	// same order for the same sink is not delivered or dead. Each claimed
	// row counts one more attempt and carries its event.
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]*Delivery, error)
	// HasDueDeliveries reports whether ClaimDeliveries of p.Sink would
	// find anything, without writing (so an idle relay does not take the
	// writer).
	HasDueDeliveries(ctx context.Context, sink string, now time.Time) (bool, error)
	// FinishDeliveries records the outcome of attempts in one
	// transaction: each finish lands only if its row is still leased by
	// its Owner at its Attempt (else Landed is false: the lease was lost
	// and someone else owns the row), with its attempt row. Finishes of a
	// webhook sink update the endpoint's failure streak unless Manual;
	// Disable disables it. It returns, per finish, whether it landed, and
	// the webhooks it disabled.
	FinishDeliveries(ctx context.Context, p FinishParams) (*FinishResult, error)
	// RecordAttempt stores an attempt that belongs to no delivery (a test
	// send).
	RecordAttempt(ctx context.Context, a *Attempt) error
	// Redeliver makes deliveries of the events selected by p pending again
	// (due now, attempts from zero), creating those that do not exist for
	// the sinks named; leased rows are left alone. It returns how many
	// deliveries it made pending.
	Redeliver(ctx context.Context, p RedeliverParams) (int, error)
	// ListDeliveries returns the deliveries of one event, or of one sink
	// in one state, newest first.
	ListDeliveries(ctx context.Context, p ListDeliveriesParams) ([]*Delivery, error)
	// DeliveryStats returns, per sink, the count of deliveries not yet
	// delivered or dead, and the creation time of the oldest of them.
	DeliveryStats(ctx context.Context) ([]SinkStats, error)
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryLeased    = "leased"
	DeliveryRetry     = "retry"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one event on its way to one sink.
type Delivery struct {
	ID       int64
	EventID  string
	Sink     string
	OrderKey string // the order id when deliveries of this sink must keep its order; "" unordered
	State    string
	Attempts int
	// NextAttemptAt is when the next attempt is due; while leased, when
	// the lease ends.
	NextAttemptAt time.Time
	LeaseOwner    string
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time
	// Event is set by ClaimDeliveries.
	Event *Event
}

// ClaimParams asks for a claim.
type ClaimParams struct {
	Sink  string
	Owner string // the relay instance
	Limit int
	Now   time.Time
	Lease time.Duration
}

// FinishParams are outcomes to record.
type FinishParams struct {
	Now time.Time
	// DisableAfter is how long a webhook may fail without a success
	// before it is disabled (0: never).
	DisableAfter time.Duration
	Finishes     []Finish
}

// Finish is the outcome of one attempt of a claimed delivery.
type Finish struct {
	ID      int64
	Owner   string
	Attempt int // the Attempts the claim returned
	// State is the next state: delivered, retry (at NextAttemptAt) or dead.
	State         string
	NextAttemptAt time.Time
	// Refund gives the attempt back (a paused sink: not the delivery's fault).
	Refund bool
	// Health: "ok" clears the webhook's failure streak, "fail" extends it
	// (disabling it after DisableAfter), "gone" disables it; "" leaves it.
	Health string
	// Record is the attempt row (its ids are filled from the delivery).
	Record Attempt
}

// FinishResult says which finishes landed and which webhooks got disabled.
type FinishResult struct {
	Landed   []bool
	Disabled []string
}

// Health values of a Finish.
const (
	HealthOK   = "ok"
	HealthFail = "fail"
	HealthGone = "gone"
)

// Disabled reasons set by waorders.
const (
	DisabledGone    = "gone"
	DisabledFailing = "failing"
)

// RedeliverParams selects deliveries to send again. Either EventID (one
// event) or a Sink with filters.
type RedeliverParams struct {
	EventID string
	// Sinks are the sinks to redeliver to; with EventID, empty means every
	// sink the event has a delivery for.
	Sinks []string
	// State limits to deliveries in this state ("dead", "delivered"); ""
	// takes every delivered or dead one and creates missing ones for the
	// events in [Since, Until) of the types the sink's webhook receives.
	State string
	Since time.Time
	Until time.Time // exclusive; zero: no end
	Now   time.Time
	Limit int // at most this many (0: 10,000)
}

// ListDeliveriesParams selects deliveries.
type ListDeliveriesParams struct {
	EventID string
	Sink    string
	State   string
	Limit   int
}

// SinkStats is the backlog of one sink.
type SinkStats struct {
	Sink         string
	Open         int64 // pending, leased or retry
	Dead         int64
	OldestOpenAt time.Time // zero when Open is 0
}

// RelayTx is the relay's bookkeeping inside a transaction someone else
// commits: on SQLite, the intake's group commit, so that one commit (one
// fsync on the one writer) covers a batch of callbacks, their events, the
// outcomes of the previous attempts and the next claims. A driver's Tx
// implements it where that pays (SQLite); the relay then rides along.
type RelayTx interface {
	// RelayWork records p.Finish, then makes p.Claims, as
	// FinishDeliveries and ClaimDeliveries would, within the transaction
	// and behind a savepoint: if it fails, the transaction is left as it
	// was and the error is returned. Claimed rows carry their events
	// (read within the transaction: they may be appended by it).
	RelayWork(ctx context.Context, p RelayWorkParams) (*RelayWorkResult, error)
}

// RelayWorkParams are the finishes and claims of one RelayWork.
type RelayWorkParams struct {
	Finish FinishParams // no Finishes: nothing to record
	Claims []ClaimParams
}

// RelayWorkResult is what RelayWork did: Finish (nil with no finishes) and,
// per claim, the deliveries it leased.
type RelayWorkResult struct {
	Finish  *FinishResult
	Claimed [][]*Delivery
}

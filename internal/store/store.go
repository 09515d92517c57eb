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
	"net/http"
	"time"

	"github.com/waorders/waorders"
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

// Inbound is everything one accepted callback writes: the raw delivery and
// the records decoded from it.
type Inbound struct {
	Callback   RawCallback
	Messages   []MessageWrite
	Statuses   []StatusWrite
	Quarantine []*waorders.QuarantineEntry
}

// RawCallback is the raw delivery log row: every accepted request body is kept,
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

// Outcome is what happened to one record of a delivery.
type Outcome string

// Outcomes.
const (
	Stored      Outcome = "stored"
	Duplicate   Outcome = "duplicate"
	Quarantined Outcome = "quarantined"
)

// InboundResult reports per record what WriteInbound did, parallel to the
// slices of the Inbound.
type InboundResult struct {
	Messages   []Outcome
	Statuses   []Outcome
	Quarantine []QuarantineResult
}

// QuarantineResult is the outcome of one quarantine entry: its id, and
// whether it is new (Stored) or the message was already quarantined
// (Duplicate, ID of the existing entry).
type QuarantineResult struct {
	ID      int64
	Outcome Outcome
}

// DefaultLimit and MaxLimit bound page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ListMessagesParams selects messages. Zero fields do not filter.
type ListMessagesParams struct {
	Type     string
	Customer string // wa_id
	Since    time.Time
	Until    time.Time // exclusive
	Cursor   string
	Limit    int
}

// MessagePage is a page of messages; NextCursor is empty on the last page.
type MessagePage struct {
	Messages   []*waorders.Message
	NextCursor string
}

// ListOrdersParams selects orders. Zero fields do not filter.
type ListOrdersParams struct {
	Status        waorders.OrderStatus
	Ref           string
	Ref1          string
	Ref2          string
	Customer      string // wa_id
	PhoneNumberID string
	CatalogID     string
	Product       string // product_retailer_id of any item
	Since         time.Time
	Until         time.Time // exclusive
	Q             string    // free text over customer name and order text
	Cursor        string
	Limit         int
}

// OrderPage is a page of orders; NextCursor is empty on the last page.
type OrderPage struct {
	Orders     []*waorders.Order
	NextCursor string
}

// UpdateOrderStatusParams asks for one status change.
type UpdateOrderStatusParams struct {
	ID        string
	To        waorders.OrderStatus
	Note      string
	Actor     string
	At        time.Time
	IfVersion *int64 // nil: no version check
}

// CampaignReportParams asks for campaign revenue.
type CampaignReportParams struct {
	GroupBy  string // "ref", "ref1" or "ref2"
	Since    time.Time
	Until    time.Time // exclusive
	Interval string    // "" or "day"
}

// Validate reports a CodeInvalid error for a grouping or interval the
// report does not know; drivers check a query with it before reading.
func (q CampaignReportParams) Validate() error {
	switch q.GroupBy {
	case "ref", "ref1", "ref2":
	default:
		return waorders.Errorf(waorders.CodeInvalid, "cannot group campaigns by %q; use ref, ref1 or ref2", q.GroupBy)
	}
	switch q.Interval {
	case "", "day":
	default:
		return waorders.Errorf(waorders.CodeInvalid, "unknown report interval %q; use day or leave it empty", q.Interval)
	}
	return nil
}

// ListQuarantineParams pages the quarantine.
type ListQuarantineParams struct {
	Unresolved bool
	Cursor     string
	Limit      int
}

// QuarantinePage is a page of quarantine entries.
type QuarantinePage struct {
	Entries    []*waorders.QuarantineEntry
	NextCursor string
}

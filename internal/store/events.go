package store

import (
	"context"
	"time"

	"github.com/waorders/waorders"
)

// Event types: the public names of what the event log records.
const (
	EventOrderCreated       = "order.created"
	EventOrderStatusChanged = "order.status_changed"
	EventMessageReceived    = "message.received"
	EventMessageStatus      = "message.status"
	EventQuarantineAdded    = "quarantine.added"
	// An outbound message was accepted by Kaleyra, or failed (given up, or
	// its delivery failed): internal/notify (issue 15).
	EventNotificationSent   = "notification.sent"
	EventNotificationFailed = "notification.failed"
)

// EventTypes lists every event type, for validating filters.
var EventTypes = []string{EventOrderCreated, EventOrderStatusChanged, EventMessageReceived, EventMessageStatus, EventQuarantineAdded,
	EventNotificationSent, EventNotificationFailed}

// KnownEventType reports whether t is one of EventTypes.
func KnownEventType(t string) bool {
	for _, k := range EventTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Events is the event log: every change worth telling a receiver about,
// appended in the transaction of the change (EventsTx, through Store.InTx),
// so an event exists exactly when its change does.
type Events interface {
	// GetEvent returns one event (CodeNotFound if it does not exist).
	GetEvent(ctx context.Context, id string) (*Event, error)
	// ListEvents returns events newest first (by id, which is time-ordered).
	ListEvents(ctx context.Context, p ListEventsParams) (*EventPage, error)
	// PruneEvents deletes, at most limit at a time, events that occurred
	// before `before` and whose deliveries are all delivered (an event
	// with an undelivered or dead delivery is kept), with their deliveries
	// and attempts. It returns how many events it deleted.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)

	EventsTx
}

// EventsTx is the write of the events area; it joins the Tx of the change
// the events describe.
type EventsTx interface {
	// AppendEvents stores the events and, in the same transaction, one
	// pending delivery per event and sink: every enabled webhook whose
	// event types match (an empty list matches all) and every name in
	// p.Sinks (sinks configured for every event, such as "nats"). An
	// event whose id exists already is an error.
	AppendEvents(ctx context.Context, p AppendEventsParams) error
}

// Event is one entry of the event log.
type Event struct {
	// ID is "evt_" and a time-ordered ULID: the webhook-id of every delivery.
	ID            string
	Type          string
	OrderID       string // the order the event concerns, if any
	MessageID     string // the message it concerns, if any
	PhoneNumberID string
	OccurredAt    time.Time
	// Payload is the exact body sinks send: the Standard Webhooks envelope
	// {"type","timestamp","data"}.
	Payload []byte
}

// AppendEventsParams are events to append and the static sinks they go to.
type AppendEventsParams struct {
	Events []*Event
	// Sinks are sink names that receive every event besides the webhooks.
	Sinks []string
	// Now stamps the deliveries (created_at, next_attempt_at); zero: the
	// store's clock.
	Now time.Time
}

// ListEventsParams selects events. Zero fields do not filter.
type ListEventsParams struct {
	Type    string
	OrderID string
	Since   time.Time
	Until   time.Time // exclusive
	Cursor  string
	Limit   int
}

// EventPage is a page of events; NextCursor is empty on the last page.
type EventPage struct {
	Events     []*Event
	NextCursor string
}

// Validate checks the filter.
func (p ListEventsParams) Validate() error {
	if p.Type != "" && !KnownEventType(p.Type) {
		return waorders.Errorf(waorders.CodeInvalid, "type %q is not an event type", p.Type)
	}
	_, err := DecodeCursor(p.Cursor)
	return err
}

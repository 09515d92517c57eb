// Package sink is the contract between the relay, which owns the event log's
// delivery state (claim, lease, retry schedule, dead letters), and the
// places events go: a brand's webhook endpoint (package sink/webhook), a NATS
// JetStream stream (package sink/nats), and later the Kaleyra sender.
//
// A sink only delivers and classifies. It never schedules: the relay alone
// decides, from the Result, when the next attempt is and whether a delivery
// is dead. A sink never re-encodes the payload: the bytes it sends (and
// signs) are exactly Delivery.Payload, the same on every attempt.
package sink

import (
	"context"
	"time"
)

// Delivery is one attempt to hand one event to one sink.
type Delivery struct {
	// EventID is the event's id ("evt_…", time-ordered, no '.'): the
	// webhook-id header and the Nats-Msg-Id, the same on every attempt, the
	// receiver's idempotency key.
	EventID string
	// Type is the event type, e.g. "order.created".
	Type string
	// OrderID and MessageID say what the event concerns (either may be empty).
	OrderID   string
	MessageID string
	// PhoneNumberID is the business number the event belongs to (digits only).
	PhoneNumberID string
	// Attempt counts attempts of this delivery, from 1.
	Attempt int
	// OccurredAt is the event's time.
	OccurredAt time.Time
	// Payload is the exact body: the Standard Webhooks envelope
	// {"type","timestamp","data"}. Never re-marshal it.
	Payload []byte
}

// Outcome is what an attempt came to, as the sink sees it.
type Outcome int

// Outcomes.
const (
	// Delivered: the receiver accepted the event (a 2xx; a JetStream ack,
	// including one for a duplicate).
	Delivered Outcome = iota + 1
	// Retry: a failure worth retrying on the schedule (5xx, 429, timeout,
	// connection refused, 3xx).
	Retry
	// Dead: retrying cannot help (the payload is refused as such); the
	// delivery is dead at once.
	Dead
	// Gone: the endpoint says it no longer exists (HTTP 410): the relay
	// disables the endpoint and its deliveries wait, dead, for a replay.
	Gone
	// PauseSink: the sink is misconfigured (NATS permission or stream
	// error, a refused credential): the relay pauses the sink without
	// spending this delivery's attempts.
	PauseSink
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Dead:
		return "dead"
	case Gone:
		return "gone"
	case PauseSink:
		return "pause_sink"
	}
	return "unknown"
}

// Result is the sink's account of one attempt.
type Result struct {
	Outcome Outcome
	// RetryAfter is the receiver's hint (HTTP Retry-After), 0 when none.
	RetryAfter time.Duration
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	// Error says what went wrong, for people (no secrets, no payload).
	Error string
	// Excerpt is the first bytes of the receiver's answer (at most 1 KiB).
	Excerpt []byte
	// Latency is how long the attempt took.
	Latency time.Duration
	// RemoteRef is the receiver's reference when it gives one (the
	// JetStream stream sequence).
	RemoteRef string
}

// Sink delivers events somewhere. Deliver must return within ctx's deadline
// and be safe for concurrent use.
type Sink interface {
	Deliver(ctx context.Context, d Delivery) Result
}

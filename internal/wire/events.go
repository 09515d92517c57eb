package wire

import (
	"encoding/json"
	"time"
)

// Event is an entry of the event log: GET /v1/events/{id} (with its
// deliveries) and an element of GET /v1/events.
type Event struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	OrderID       string          `json:"order_id,omitempty"`
	MessageID     string          `json:"message_id,omitempty"`
	PhoneNumberID string          `json:"phone_number_id,omitempty"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Payload       json.RawMessage `json:"payload"`
	Deliveries    []Delivery      `json:"deliveries,omitempty"`
}

// EventList is the answer of GET /v1/events.
type EventList struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Delivery is an event's delivery to one sink (a webhook id, or "nats").
type Delivery struct {
	Sink          string     `json:"sink"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// Webhook is an endpoint. Secrets shows only a prefix of each secret;
// Secret is the whole new secret, in the answer that created it only.
type Webhook struct {
	ID             string     `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	EventTypes     []string   `json:"event_types"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	Secrets        []string   `json:"secrets"`
	Secret         string     `json:"secret,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// WebhookList is the answer of GET /v1/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// Attempt is one try to deliver an event: GET /v1/webhooks/{id}/attempts.
type Attempt struct {
	EventID   string    `json:"event_id"`
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"`
	Status    int       `json:"status"`
	LatencyMS float64   `json:"latency_ms"`
	Result    string    `json:"result"`
	Error     string    `json:"error,omitempty"`
	Response  string    `json:"response,omitempty"`
	Manual    bool      `json:"manual,omitempty"`
}

// AttemptList is the answer of GET /v1/webhooks/{id}/attempts.
type AttemptList struct {
	Attempts   []Attempt `json:"attempts"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// Redelivered is the answer of a redeliver or a replay.
type Redelivered struct {
	Redelivered int `json:"redelivered"`
}

package store

import (
	"context"
	"time"
)

// Webhooks is the area of the brands' webhook endpoints and of what was
// sent to them (attempts).
type Webhooks interface {
	// CreateWebhook stores a new endpoint; w.ID, URL and at least one
	// secret are set by the caller; CreatedAt and UpdatedAt are stamped.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook returns one endpoint (CodeNotFound if none).
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks returns every endpoint, oldest first.
	ListWebhooks(ctx context.Context) ([]*Webhook, error)
	// UpdateWebhook changes the fields p sets and returns the endpoint.
	// Enabling an endpoint clears its disabled reason and failure streak.
	UpdateWebhook(ctx context.Context, p UpdateWebhookParams) (*Webhook, error)
	// DeleteWebhook deletes an endpoint with its deliveries and attempts.
	DeleteWebhook(ctx context.Context, id string) error
	// ListAttempts returns the attempts of one sink (a webhook id), newest
	// first.
	ListAttempts(ctx context.Context, p ListAttemptsParams) (*AttemptPage, error)
}

// Webhook is a brand's endpoint. Its id is also the name of its sink in
// deliveries.
type Webhook struct {
	ID          string
	URL         string
	Description string
	// EventTypes are the event types it receives; empty: all.
	EventTypes []string
	Enabled    bool
	// DisabledReason says why it was disabled by waorders ("gone": the
	// receiver answered 410; "failing": 5 days of failures) or by a person.
	DisabledReason string
	// Secrets sign every delivery, each one a "v1," entry ("whsec_…").
	Secrets []string
	// FailingSince is the first failure of the current streak (zero when
	// the last attempt succeeded).
	FailingSince time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Matches reports whether the endpoint receives events of type t.
func (w *Webhook) Matches(t string) bool {
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, et := range w.EventTypes {
		if et == t {
			return true
		}
	}
	return false
}

// UpdateWebhookParams changes an endpoint; nil fields are left alone.
type UpdateWebhookParams struct {
	ID             string
	URL            *string
	Description    *string
	EventTypes     *[]string
	Enabled        *bool
	DisabledReason *string // with Enabled false: why
	Secrets        *[]string
	Now            time.Time
}

// Attempt is one try to deliver one event to one sink.
type Attempt struct {
	ID         int64
	DeliveryID int64
	EventID    string
	Sink       string
	Attempt    int
	At         time.Time
	Status     int // HTTP status, 0 when there was no answer
	Latency    time.Duration
	Error      string
	Response   []byte // first 1 KiB of the answer
	Result     string // the sink's outcome: delivered, retry, dead, gone, pause_sink
	Manual     bool   // a test send, not counted for the endpoint's health
}

// ListAttemptsParams selects attempts.
type ListAttemptsParams struct {
	Sink    string
	EventID string
	Cursor  string
	Limit   int
}

// AttemptPage is a page of attempts.
type AttemptPage struct {
	Attempts   []*Attempt
	NextCursor string
}

// ApplyWebhookUpdate sets what p changes on w, for the drivers: enabling
// clears the disabled reason and the failure streak.
func ApplyWebhookUpdate(w *Webhook, p UpdateWebhookParams, now time.Time) {
	if p.URL != nil {
		w.URL = *p.URL
	}
	if p.Description != nil {
		w.Description = *p.Description
	}
	if p.EventTypes != nil {
		w.EventTypes = *p.EventTypes
	}
	if p.Secrets != nil {
		w.Secrets = *p.Secrets
	}
	if p.Enabled != nil {
		switch {
		case *p.Enabled && !w.Enabled:
			w.Enabled, w.DisabledReason, w.FailingSince = true, "", time.Time{}
		case !*p.Enabled:
			w.Enabled = false
			if p.DisabledReason != nil {
				w.DisabledReason = *p.DisabledReason
			}
		}
	}
	w.UpdatedAt = now.UTC().Truncate(time.Microsecond)
}

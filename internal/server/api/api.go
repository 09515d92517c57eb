// Package api holds the handlers of the /v1 API, one file per resource
// (messages, orders with their status change and export, customers,
// reports, quarantine), each with its query helpers. internal/server/routes.go
// mounts them behind the API token; errors go to the server's one error
// writer (internal/server/httpx), answers are the shapes of internal/wire.
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/store"
)

// Handler serves the /v1 API. Each handler method has the signature
// func(http.ResponseWriter, *http.Request) error, for httpx.ErrorWriter.Handle.
type Handler struct {
	Messages   store.Messages
	Orders     store.Orders
	Reports    store.Reports
	Customers  store.Customers
	Changes    store.Changes
	Quarantine store.Quarantine
	// Retry re-runs a quarantined body through the intake (intake.Intake.Retry).
	Retry func(ctx context.Context, id int64) (*intake.RetryResult, error)
	// EventLog serves /v1/events and /v1/webhooks and appends the events of
	// status changes; nil turns them off.
	EventLog *EventsAPI
	// Notify serves /v1/notifications, /v1/outbound and the customer's
	// messages and conversation, and adds notification intents to status
	// changes; nil turns them off.
	Notify *NotifyAPI

	Log *slog.Logger
	// Location is the business time zone: the day boundaries of reports
	// and of date-only since/until values. Nil is UTC.
	Location *time.Location
	// WriteTimeout is the server's write timeout; a long export moves its
	// deadline on by this much after every flush.
	WriteTimeout time.Duration
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/relay"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// EventsAPI is what the event and webhook resources need; nil in Handler
// turns them (and the events of status changes) off.
type EventsAPI struct {
	Events   store.Events
	Webhooks store.Webhooks
	Relay    store.Relay
	// Tx runs a status change and its event in one transaction.
	Tx interface {
		InTx(context.Context, func(store.Tx) error) error
	}
	Builder *events.Builder
	// Sinks are the static sinks every event goes to ("nats").
	Sinks []string
	// URLs says which endpoint URLs are accepted.
	URLs relay.URLPolicy
	// NewSink builds an endpoint's sink, for POST /v1/webhooks/{id}/test.
	NewSink func(w *store.Webhook) (sink.Sink, error)
	// Wake tells the relay there is work (may be nil).
	Wake func()
	Now  func() time.Time
}

func (e *EventsAPI) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e *EventsAPI) wake() {
	if e.Wake != nil {
		e.Wake()
	}
}

// updateOrderStatus changes an order's status (see changeOrder); the
// change's note goes into the customer's notification (a tracking note).
func (h *Handler) updateOrderStatus(ctx context.Context, p store.UpdateOrderStatusParams) (*waorders.Order, error) {
	return h.changeOrder(ctx, p.Note, p.Actor, func(ctx context.Context, tx store.OrdersTx) (*waorders.Order, error) {
		return tx.UpdateOrderStatus(ctx, p)
	})
}

// changeOrder runs a change of an order's status (a status change, a
// review, a refund) and, in the same transaction, what follows from it:
// the notification intent of the status it reached (issue 15; at most one
// per order and status, so a change that keeps the status adds none) with
// note for its text, and, with the event log on, its order.status_changed
// event.
func (h *Handler) changeOrder(ctx context.Context, note, actor string, change func(context.Context, store.OrdersTx) (*waorders.Order, error)) (*waorders.Order, error) {
	ev := h.EventLog
	if ev == nil || ev.Tx == nil {
		if h.Notify == nil || h.Notify.Tx == nil {
			return change(ctx, h.Orders)
		}
	}
	var o *waorders.Order
	var intent bool
	txs := h.Notify.txOr(ev)
	err := txs.InTx(ctx, func(tx store.Tx) error {
		var err error
		if o, err = change(ctx, tx); err != nil {
			return err
		}
		if intent, err = h.intent(ctx, tx, o, note, actor); err != nil {
			return err
		}
		if ev == nil || ev.Tx == nil {
			return nil
		}
		e, err := ev.Builder.StatusChanged(o)
		if err != nil {
			return err
		}
		return tx.AppendEvents(ctx, store.AppendEventsParams{Events: []*store.Event{e}, Sinks: ev.Sinks})
	})
	if err != nil {
		return nil, err
	}
	if ev != nil {
		ev.wake()
	}
	if intent {
		h.Notify.wake()
	}
	return o, nil
}

func newWebhook(w *store.Webhook) wire.Webhook {
	v := wire.Webhook{ID: w.ID, URL: w.URL, Description: w.Description, EventTypes: w.EventTypes, Enabled: w.Enabled,
		DisabledReason: w.DisabledReason, Secrets: make([]string, len(w.Secrets)), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if v.EventTypes == nil {
		v.EventTypes = []string{}
	}
	for i, s := range w.Secrets {
		v.Secrets[i] = relay.ShowSecret(s)
	}
	if !w.FailingSince.IsZero() {
		t := w.FailingSince
		v.FailingSince = &t
	}
	return v
}

// webhookRequest is the body of POST and PATCH /v1/webhooks.
type webhookRequest struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Enabled     *bool     `json:"enabled"`
	Secret      *string   `json:"secret"`
	Secrets     *[]string `json:"secrets"`
	// RotateSecret adds a new generated secret in front of the others.
	RotateSecret bool `json:"rotate_secret"`
}

func readJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	if r.Header.Get("Content-Type") != "" {
		if err := httpx.CheckJSON(r); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) && allowEmpty {
			return nil
		}
		return waorders.Wrap(waorders.CodeInvalid, err, "the body is not valid JSON of the documented form: "+jsonProblem(err))
	}
	if dec.More() {
		return waorders.Errorf(waorders.CodeInvalid, "the body holds more than one JSON value; send one object")
	}
	return nil
}

func (h *Handler) checkWebhook(req *webhookRequest) error {
	if req.URL != nil {
		if err := h.EventLog.URLs.Check(*req.URL); err != nil {
			return err
		}
	}
	if req.Description != nil && utf8.RuneCountInString(*req.Description) > 500 {
		return waorders.Errorf(waorders.CodeInvalid, "description is longer than 500 characters")
	}
	if req.EventTypes != nil {
		for _, t := range *req.EventTypes {
			if !store.KnownEventType(t) {
				return waorders.Errorf(waorders.CodeInvalid, "event type %q is not one of %v", httpx.Clip(t, 40), store.EventTypes)
			}
		}
	}
	if req.Secret != nil && req.Secrets != nil {
		return waorders.Errorf(waorders.CodeInvalid, "give secret or secrets, not both")
	}
	if req.Secret != nil {
		if err := relay.CheckSecret(*req.Secret); err != nil {
			return err
		}
	}
	if req.Secrets != nil {
		if len(*req.Secrets) == 0 || len(*req.Secrets) > 5 {
			return waorders.Errorf(waorders.CodeInvalid, "secrets holds 1 to 5 secrets")
		}
		for _, s := range *req.Secrets {
			if err := relay.CheckSecret(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// WebhookCreate serves POST /v1/webhooks: 201 with the endpoint and, this
// once, its whole secret.
func (h *Handler) WebhookCreate(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	if err := readJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.URL == nil {
		return waorders.Errorf(waorders.CodeInvalid, "url is required")
	}
	if err := h.checkWebhook(&req); err != nil {
		return err
	}
	hook := &store.Webhook{ID: "wh_" + events.Default.New()[len("evt_"):], URL: *req.URL, Enabled: true}
	if req.Description != nil {
		hook.Description = *req.Description
	}
	if req.EventTypes != nil {
		hook.EventTypes = *req.EventTypes
	}
	if req.Enabled != nil {
		hook.Enabled = *req.Enabled
	}
	switch {
	case req.Secrets != nil:
		hook.Secrets = *req.Secrets
	case req.Secret != nil:
		hook.Secrets = []string{*req.Secret}
	default:
		hook.Secrets = []string{relay.NewSecret()}
	}
	hook.CreatedAt = h.EventLog.now().UTC().Truncate(time.Microsecond)
	if err := h.EventLog.Webhooks.CreateWebhook(r.Context(), hook); err != nil {
		return err
	}
	v := newWebhook(hook)
	v.Secret = hook.Secrets[0]
	w.Header().Set("Location", "/v1/webhooks/"+hook.ID)
	httpx.WriteJSON(w, http.StatusCreated, v)
	h.EventLog.wake()
	return nil
}

// WebhookList serves GET /v1/webhooks.
func (h *Handler) WebhookList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only()
	if err := q.Err(); err != nil {
		return err
	}
	hooks, err := h.EventLog.Webhooks.ListWebhooks(r.Context())
	if err != nil {
		return err
	}
	out := wire.WebhookList{Webhooks: make([]wire.Webhook, len(hooks))}
	for i, hk := range hooks {
		out.Webhooks[i] = newWebhook(hk)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// WebhookGet serves GET /v1/webhooks/{id}.
func (h *Handler) WebhookGet(w http.ResponseWriter, r *http.Request) error {
	hook, err := h.EventLog.Webhooks.GetWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newWebhook(hook))
	return nil
}

// WebhookUpdate serves PATCH /v1/webhooks/{id}.
func (h *Handler) WebhookUpdate(w http.ResponseWriter, r *http.Request) error {
	var req webhookRequest
	if err := readJSON(w, r, &req, false); err != nil {
		return err
	}
	if err := h.checkWebhook(&req); err != nil {
		return err
	}
	p := store.UpdateWebhookParams{ID: r.PathValue("id"), URL: req.URL, Description: req.Description,
		EventTypes: req.EventTypes, Enabled: req.Enabled, Secrets: req.Secrets, Now: h.EventLog.now()}
	if req.Enabled != nil && !*req.Enabled {
		reason := "disabled by request"
		p.DisabledReason = &reason
	}
	var fresh string
	if req.Secret != nil || req.RotateSecret {
		cur, err := h.EventLog.Webhooks.GetWebhook(r.Context(), p.ID)
		if err != nil {
			return err
		}
		fresh = relay.NewSecret()
		if req.Secret != nil {
			fresh = *req.Secret
		}
		secrets := append([]string{fresh}, cur.Secrets...)
		if len(secrets) > 5 {
			secrets = secrets[:5]
		}
		p.Secrets = &secrets
	}
	hook, err := h.EventLog.Webhooks.UpdateWebhook(r.Context(), p)
	if err != nil {
		return err
	}
	v := newWebhook(hook)
	if req.RotateSecret {
		v.Secret = fresh
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	h.EventLog.wake()
	return nil
}

// WebhookDelete serves DELETE /v1/webhooks/{id}.
func (h *Handler) WebhookDelete(w http.ResponseWriter, r *http.Request) error {
	if err := h.EventLog.Webhooks.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// WebhookTest serves POST /v1/webhooks/{id}/test: one signed webhook.test
// event sent now, not stored in the log; the attempt is recorded (manual).
func (h *Handler) WebhookTest(w http.ResponseWriter, r *http.Request) error {
	hook, err := h.EventLog.Webhooks.GetWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if h.EventLog.NewSink == nil {
		return waorders.Errorf(waorders.CodeUnavailable, "webhook delivery is not configured on this server")
	}
	s, err := h.EventLog.NewSink(hook)
	if err != nil {
		return err
	}
	now := h.EventLog.now().UTC().Truncate(time.Second)
	id := events.Default.New()
	payload, err := events.Payload("webhook.test", now, map[string]string{"webhook_id": hook.ID})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	res := s.Deliver(ctx, sink.Delivery{EventID: id, Type: "webhook.test", Attempt: 1, OccurredAt: now, Payload: payload})
	a := &store.Attempt{EventID: id, Sink: hook.ID, Attempt: 1, At: now, Status: res.Status, Latency: res.Latency,
		Error: res.Error, Response: res.Excerpt, Result: res.Outcome.String(), Manual: true}
	if err := h.EventLog.Relay.RecordAttempt(r.Context(), a); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, newAttempt(a))
	return nil
}

func newAttempt(a *store.Attempt) wire.Attempt {
	return wire.Attempt{EventID: a.EventID, Attempt: a.Attempt, At: a.At.UTC(), Status: a.Status,
		LatencyMS: float64(a.Latency.Microseconds()) / 1000, Result: a.Result, Error: a.Error,
		Response: string(a.Response), Manual: a.Manual}
}

// WebhookAttempts serves GET /v1/webhooks/{id}/attempts.
func (h *Handler) WebhookAttempts(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("event_id", "cursor", "limit")
	p := store.ListAttemptsParams{Sink: r.PathValue("id"), EventID: q.Text("event_id", 64), Cursor: q.Str("cursor"), Limit: limit(q)}
	if err := q.Err(); err != nil {
		return err
	}
	if _, err := h.EventLog.Webhooks.GetWebhook(r.Context(), p.Sink); err != nil {
		return err
	}
	page, err := h.EventLog.Webhooks.ListAttempts(r.Context(), p)
	if err != nil {
		return err
	}
	out := wire.AttemptList{Attempts: make([]wire.Attempt, len(page.Attempts)), NextCursor: page.NextCursor}
	for i, a := range page.Attempts {
		out.Attempts[i] = newAttempt(a)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// replayRequest is the body of POST /v1/webhooks/{id}/replay.
type replayRequest struct {
	Since  *time.Time `json:"since"`
	Until  *time.Time `json:"until"`
	Status string     `json:"status"`
}

// WebhookReplay serves POST /v1/webhooks/{id}/replay: the endpoint's dead
// deliveries (status "dead"), or every event of a time range, sent again.
func (h *Handler) WebhookReplay(w http.ResponseWriter, r *http.Request) error {
	var req replayRequest
	if err := readJSON(w, r, &req, true); err != nil {
		return err
	}
	if req.Status != "" && req.Status != store.DeliveryDead {
		return waorders.Errorf(waorders.CodeInvalid, `status may only be "dead"`)
	}
	if req.Status == "" && req.Since == nil {
		return waorders.Errorf(waorders.CodeInvalid, `give "status": "dead", or a time range with "since" (and "until")`)
	}
	id := r.PathValue("id")
	if _, err := h.EventLog.Webhooks.GetWebhook(r.Context(), id); err != nil {
		return err
	}
	p := store.RedeliverParams{Sinks: []string{id}, State: req.Status, Now: h.EventLog.now()}
	if req.Since != nil {
		p.Since = *req.Since
	}
	if req.Until != nil {
		p.Until = *req.Until
	}
	n, err := h.EventLog.Relay.Redeliver(r.Context(), p)
	if err != nil {
		return err
	}
	h.EventLog.wake()
	httpx.WriteJSON(w, http.StatusAccepted, wire.Redelivered{Redelivered: n})
	return nil
}

package api

import (
	"encoding/json"
	"net/http"

	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

func newEvent(e *store.Event) wire.Event {
	return wire.Event{ID: e.ID, Type: e.Type, OrderID: e.OrderID, MessageID: e.MessageID, PhoneNumberID: e.PhoneNumberID,
		OccurredAt: e.OccurredAt.UTC(), Payload: json.RawMessage(e.Payload)}
}

// EventList serves GET /v1/events: newest first, by type, order and time.
func (h *Handler) EventList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("type", "order_id", "since", "until", "cursor", "limit")
	p := store.ListEventsParams{Type: q.Text("type", 64), OrderID: q.Text("order_id", maxFilterLen),
		Since: q.Time("since"), Until: q.Time("until"), Cursor: q.Str("cursor"), Limit: limit(q)}
	q.CheckRange(p.Since, p.Until)
	if err := q.Err(); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	page, err := h.EventLog.Events.ListEvents(r.Context(), p)
	if err != nil {
		return err
	}
	out := wire.EventList{Events: make([]wire.Event, len(page.Events)), NextCursor: page.NextCursor}
	for i, e := range page.Events {
		out.Events[i] = newEvent(e)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// EventGet serves GET /v1/events/{id}: the event with its deliveries.
func (h *Handler) EventGet(w http.ResponseWriter, r *http.Request) error {
	e, err := h.EventLog.Events.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	ds, err := h.EventLog.Relay.ListDeliveries(r.Context(), store.ListDeliveriesParams{EventID: e.ID, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	v := newEvent(e)
	for _, d := range ds {
		wd := wire.Delivery{Sink: d.Sink, State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError,
			CreatedAt: d.CreatedAt}
		if d.State != store.DeliveryDelivered && d.State != store.DeliveryDead {
			t := d.NextAttemptAt
			wd.NextAttemptAt = &t
		}
		if !d.DeliveredAt.IsZero() {
			t := d.DeliveredAt
			wd.DeliveredAt = &t
		}
		v.Deliveries = append(v.Deliveries, wd)
	}
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

// redeliverRequest is the optional body of POST /v1/events/{id}/redeliver.
type redeliverRequest struct {
	WebhookID string `json:"webhook_id"`
}

// EventRedeliver serves POST /v1/events/{id}/redeliver: the event's
// deliveries (or its delivery to one webhook, created if missing) sent
// again from attempt 1.
func (h *Handler) EventRedeliver(w http.ResponseWriter, r *http.Request) error {
	var req redeliverRequest
	if err := readJSON(w, r, &req, true); err != nil {
		return err
	}
	e, err := h.EventLog.Events.GetEvent(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	p := store.RedeliverParams{EventID: e.ID, Now: h.EventLog.now()}
	if req.WebhookID != "" {
		if _, err := h.EventLog.Webhooks.GetWebhook(r.Context(), req.WebhookID); err != nil {
			return err
		}
		p.Sinks = []string{req.WebhookID}
	}
	n, err := h.EventLog.Relay.Redeliver(r.Context(), p)
	if err != nil {
		return err
	}
	h.EventLog.wake()
	httpx.WriteJSON(w, http.StatusAccepted, wire.Redelivered{Redelivered: n})
	return nil
}

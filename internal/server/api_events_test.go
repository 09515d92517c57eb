package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/relay"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

// withEvents turns the event log on, as serve does.
func withEvents() option { return func(c *config) { c.events = true } }

// acceptAll is the test sink of POST /v1/webhooks/{id}/test: it accepts.
type acceptAll struct{}

func (acceptAll) Deliver(context.Context, sink.Delivery) sink.Result {
	return sink.Result{Outcome: sink.Delivered, Status: 204, Latency: time.Millisecond}
}

func eventLog(st store.Store, now func() time.Time) (*api.EventsAPI, *intake.EventLog) {
	ev := &api.EventsAPI{Events: st, Webhooks: st, Relay: st, Tx: st, Builder: &events.Builder{},
		URLs: relay.URLPolicy{AllowHTTPHosts: []string{"receiver.test"}}, Now: now,
		NewSink: func(*store.Webhook) (sink.Sink, error) { return acceptAll{}, nil }}
	return ev, &intake.EventLog{Store: st, Builder: ev.Builder}
}

func TestEventsOfAnOrderMatchTheOrderAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, withEvents())
	var hook wire.Webhook
	r := b.api(t, http.MethodPost, "/v1/webhooks", map[string]any{"url": "http://receiver.test/hook", "event_types": []string{"order.created", "order.status_changed"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create webhook: %s", r)
	}
	if err := json.Unmarshal(r.body, &hook); err != nil {
		t.Fatal(err)
	}
	if err := relay.CheckSecret(hook.Secret); err != nil || hook.Secrets[0] == hook.Secret {
		t.Fatalf("created webhook: secret %q (shown %q): %v", hook.Secret, hook.Secrets[0], err)
	}
	var again wire.Webhook
	b.get(t, "/v1/webhooks/"+hook.ID, http.StatusOK, &again)
	if again.Secret != "" || again.Secrets[0] != relay.ShowSecret(hook.Secret) {
		t.Errorf("GET shows the secret: %+v", again)
	}
	if r := b.api(t, http.MethodPost, "/v1/webhooks", map[string]any{"url": "http://10.0.0.1/x"}); r.status != http.StatusBadRequest {
		t.Errorf("plain http to a private address: %s", r)
	}

	body := testkit.Kaleyra(testkit.Order("wamid.EVT1"))
	b.post(t, body)
	b.kaleyra(t, body.Bytes()) // a duplicate: no event
	if r := b.api(t, http.MethodPost, "/v1/orders/wamid.EVT1/status", map[string]string{"status": "processing"}, "X-Actor", "asha"); r.status != http.StatusOK {
		t.Fatalf("status change: %s", r)
	}
	var list wire.EventList
	b.get(t, "/v1/events?order_id=wamid.EVT1", http.StatusOK, &list)
	if len(list.Events) != 2 || list.Events[0].Type != "order.status_changed" || list.Events[1].Type != "order.created" {
		t.Fatalf("events of the order: %+v", list.Events)
	}
	var env struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	var current json.RawMessage
	b.get(t, "/v1/orders/wamid.EVT1", http.StatusOK, &current)
	if err := json.Unmarshal(list.Events[0].Payload, &env); err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, env.Data, current) {
		t.Errorf("order.status_changed data\n%s\nis not GET /v1/orders/{id}\n%s", env.Data, current)
	}
	var created wire.Order
	if err := json.Unmarshal(list.Events[1].Payload, &env); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env.Data, &created); err != nil || created.Version != 1 || created.Status != "pending" || len(created.History) != 1 {
		t.Errorf("order.created data: %+v, %v", created, err)
	}
	var ev wire.Event
	b.get(t, "/v1/events/"+list.Events[0].ID, http.StatusOK, &ev)
	if len(ev.Deliveries) != 1 || ev.Deliveries[0].Sink != hook.ID || ev.Deliveries[0].State != "pending" {
		t.Errorf("deliveries: %+v", ev.Deliveries)
	}
	var all wire.EventList
	b.get(t, "/v1/events", http.StatusOK, &all)
	if len(all.Events) != 2 {
		t.Errorf("events in all: %d, want 2 (the duplicate made none; an order is not message.received)", len(all.Events))
	}
	if r := b.api(t, http.MethodGet, "/v1/events?type=nope", nil); r.status != http.StatusBadRequest {
		t.Errorf("unknown type: %s", r)
	}
	var red wire.Redelivered
	r = b.api(t, http.MethodPost, "/v1/events/"+list.Events[1].ID+"/redeliver", nil)
	if r.status != http.StatusAccepted || json.Unmarshal(r.body, &red) != nil || red.Redelivered != 1 {
		t.Errorf("redeliver: %s", r)
	}
	if r := b.api(t, http.MethodPatch, "/v1/webhooks/"+hook.ID, map[string]any{"enabled": false}); r.status != http.StatusOK {
		t.Errorf("disable: %s", r)
	}
	if r := b.api(t, http.MethodDelete, "/v1/webhooks/"+hook.ID, nil); r.status != http.StatusNoContent {
		t.Errorf("delete: %s", r)
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

package server_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/waorders/waorders/internal/wire"
)

// exerciseEvents answers every /v1/events and /v1/webhooks operation, 2xx
// and the documented errors, for TestOpenAPI to check against the
// document.
func exerciseEvents(t *testing.T, a *apiRecorder) {
	t.Helper()
	var hook wire.Webhook
	r := a.call(t, 201, "POST", "/v1/webhooks", map[string]any{"url": "https://receiver.test/hooks", "description": "shop",
		"event_types": []string{"order.created", "order.status_changed"}})
	if err := json.Unmarshal(r.body, &hook); err != nil {
		t.Fatal(err)
	}
	a.call(t, 400, "POST", "/v1/webhooks", map[string]any{"url": "ftp://receiver.test/"})
	a.call(t, 400, "POST", "/v1/webhooks", map[string]any{"url": "https://receiver.test/", "event_types": []string{"order.nope"}})
	a.call(t, 200, "GET", "/v1/webhooks", nil)
	a.call(t, 200, "GET", "/v1/webhooks/"+hook.ID, nil)
	a.call(t, 404, "GET", "/v1/webhooks/wh_missing", nil)
	a.call(t, 200, "PATCH", "/v1/webhooks/"+hook.ID, map[string]any{"description": "shop (rotated)", "rotate_secret": true})
	a.call(t, 200, "PATCH", "/v1/webhooks/"+hook.ID, map[string]any{"enabled": false})
	a.call(t, 200, "PATCH", "/v1/webhooks/"+hook.ID, map[string]any{"enabled": true})
	a.call(t, 400, "PATCH", "/v1/webhooks/"+hook.ID, map[string]any{"colour": "red"})
	a.call(t, 404, "PATCH", "/v1/webhooks/wh_missing", map[string]any{"enabled": true})
	a.call(t, 200, "POST", "/v1/webhooks/"+hook.ID+"/test", nil)
	a.call(t, 404, "POST", "/v1/webhooks/wh_missing/test", nil)
	a.call(t, 200, "GET", "/v1/webhooks/"+hook.ID+"/attempts", nil)
	a.call(t, 200, "GET", "/v1/webhooks/"+hook.ID+"/attempts?limit=1", nil)
	a.call(t, 400, "GET", "/v1/webhooks/"+hook.ID+"/attempts?limit=0", nil)
	a.call(t, 202, "POST", "/v1/webhooks/"+hook.ID+"/replay", map[string]any{"status": "dead"})
	a.call(t, 202, "POST", "/v1/webhooks/"+hook.ID+"/replay", map[string]any{"since": "2020-01-01T00:00:00Z", "until": "2030-01-01T00:00:00Z"})
	a.call(t, 400, "POST", "/v1/webhooks/"+hook.ID+"/replay", map[string]any{})
	a.call(t, 404, "POST", "/v1/webhooks/wh_missing/replay", map[string]any{"status": "dead"})

	var list wire.EventList
	if err := json.Unmarshal(a.call(t, 200, "GET", "/v1/events", nil).body, &list); err != nil || len(list.Events) == 0 {
		t.Fatalf("GET /v1/events: %v, %d events", err, len(list.Events))
	}
	a.call(t, 200, "GET", "/v1/events?type=order.created&limit=2", nil)
	a.call(t, 200, "GET", "/v1/events?"+url.Values{"order_id": {list.Events[0].OrderID}}.Encode(), nil)
	a.call(t, 400, "GET", "/v1/events?type=order.nope", nil)
	id := list.Events[0].ID
	a.call(t, 200, "GET", "/v1/events/"+id, nil)
	a.call(t, 404, "GET", "/v1/events/evt_missing", nil)
	a.call(t, 202, "POST", "/v1/events/"+id+"/redeliver", nil)
	a.call(t, 202, "POST", "/v1/events/"+id+"/redeliver", map[string]any{"webhook_id": hook.ID})
	a.call(t, 404, "POST", "/v1/events/evt_missing/redeliver", nil)
	a.call(t, 204, "DELETE", "/v1/webhooks/"+hook.ID, nil)
	a.call(t, 404, "DELETE", "/v1/webhooks/"+hook.ID, nil)
}

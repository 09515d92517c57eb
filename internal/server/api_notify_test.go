package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/notify"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
	"github.com/waorders/waorders/kaleyra"
)

// notifyParts are the notification parts of a bundle: setup builds the
// API and intake's hook; start runs a notifier against a local Kaleyra
// whose status callbacks come back to the bundle.
type notifyParts struct {
	settings *notify.SettingsSource
	intents  *notify.Intents
	st       notify.Store
	events   *events.Builder
	n        atomic.Pointer[notify.Notifier]
}

func withNotify(p *notifyParts) option { return func(c *config) { c.notify = p } }

func (p *notifyParts) build(st store.Store, ev *api.EventsAPI) (*api.NotifyAPI, *intake.OutboundHook) {
	p.st = st
	p.settings = notify.NewSettingsSource(notify.FromStatuses([]string{"pending"}), st)
	p.intents = &notify.Intents{Settings: p.settings}
	wake := func() {
		if n := p.n.Load(); n != nil {
			n.Wake()
		}
	}
	var b *events.Builder
	if ev != nil {
		b = ev.Builder
	}
	p.events = b
	return &api.NotifyAPI{Outbound: st, Settings: p.settings, Intents: p.intents, Tx: st, Wake: wake,
			Numbers: []wire.NotifyNumber{{SID: "HXTEST", Sender: "+919800000001", BaseURL: "http://sandbox", APIKey: "set"}}},
		&intake.OutboundHook{Store: st, Apply: p.intents.InboundHook(b, nil), Notify: wake}
}

// start runs a notifier sending to a new sandbox that posts its status
// callbacks to the bundle (which must listen).
func (p *notifyParts) start(t *testing.T, b *bundle) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.New(sandbox.Config{SID: "HXTEST", APIKey: "k", Sender: "+919800000001", CallbackURL: b.base + kaleyraPath,
		CallbackAuth: sandbox.CallbackAuth{Header: testkit.CallbackSecretHeader, Secret: testkit.CallbackSecret}, StatusDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	cl, err := kaleyra.New(kaleyra.Config{BaseURL: sb.URL(), SID: "HXTEST", APIKey: "k", Sender: "+919800000001"})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.New(notify.Config{Store: p.st, Senders: []notify.Sender{{Client: cl}}, Settings: p.settings, Poll: 20 * time.Millisecond, Events: p.events})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.n.Store(n)
	t.Cleanup(func() {
		_ = n.Stop(context.Background())
		sb.Close()
	})
	return sb
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The sandbox loop through the real router: an order in, its confirmation
// out, the statuses back on the order; a status change with a tracking
// note; a staff message; the conversation.
func TestNotificationsLoop(t *testing.T) {
	t.Parallel()
	p := &notifyParts{}
	b := setup(t, listen(), withEvents(), withNotify(p))
	sb := p.start(t, b)
	secret := []string{"Authorization", "", testkit.CallbackSecretHeader, testkit.CallbackSecret}
	now := time.Now().UTC()
	b.api(t, "POST", kaleyraPath, testkit.Kaleyra(testkit.Order("wamid.LOOP1").At(now.Add(-time.Minute))).Bytes(), secret...)

	var o wire.Order
	waitFor(t, "the confirmation read", func() bool {
		b.get(t, "/v1/orders/wamid.LOOP1", 200, &o)
		return len(o.Notifications) == 1 && o.Notifications[0].DeliveryState == "read"
	})
	if n := o.Notifications[0]; n.Status != "pending" || n.State != "accepted" || n.WAMID == "" {
		t.Fatalf("notification %+v", n)
	}

	// Turn shipped on with a text; the status change's note goes in it.
	r := b.api(t, "PUT", "/v1/notifications", map[string]any{"statuses": map[string]any{
		"pending": map[string]any{"enabled": true},
		"shipped": map[string]any{"enabled": true, "text": "{{.Short}} is on its way. {{.Note}}"},
	}})
	if r.status != 200 || !strings.Contains(string(r.body), "on its way") {
		t.Fatalf("PUT: %s", r)
	}
	if r := b.api(t, "PUT", "/v1/notifications", map[string]any{"statuses": map[string]any{"lost": map[string]any{"enabled": true}}}); r.status != 400 {
		t.Fatalf("bad status: %s", r)
	}
	for _, st := range []string{"processing", "shipped"} {
		if r := b.api(t, "POST", "/v1/orders/wamid.LOOP1/status", map[string]any{"status": st, "note": "Tracking AWB 42"}); r.status != 200 {
			t.Fatalf("status %s: %s", st, r)
		}
	}
	waitFor(t, "the shipped notification", func() bool {
		b.get(t, "/v1/orders/wamid.LOOP1", 200, &o)
		return len(o.Notifications) == 2 && o.Notifications[1].State == "accepted"
	})
	// The dashboard's order page shows both, with their states (issue 16);
	// through the handler, where the login's redirect is not followed.
	hb := *b
	hb.base = ""
	page := string(uiGet(t, &hb, uiLogin(t, &hb, "viewer1", "viewer"), "/ui/orders/wamid.LOOP1", http.StatusOK).body)
	table := page[strings.Index(page, `data-testid="notifications"`):]
	table = table[:strings.Index(table, "</table>")]
	if strings.Count(table, "<tr>") != 3 || strings.Count(table, "accepted") != 2 || !strings.Contains(table, "shipped") {
		t.Errorf("order page notifications:\n%s", table)
	}
	// The customer's page has them in the conversation, after the order.
	page = string(uiGet(t, &hb, uiLogin(t, &hb, "viewer2", "viewer"), "/ui/customers/"+testkit.WaID, http.StatusOK).body)
	thread := page[strings.Index(page, `class="conversation"`):]
	thread = thread[:strings.Index(thread, "</ol>")]
	if strings.Count(thread, `class="outbound"`) != 2 || strings.Index(thread, `class="inbound"`) > strings.Index(thread, `class="outbound"`) ||
		!strings.Contains(thread, "notification: order shipped") {
		t.Errorf("customer conversation:\n%s", thread)
	}
	last := sb.Sends()[len(sb.Sends())-1]
	if !strings.Contains(string(last.Body), notify.ShortID("wamid.LOOP1")+" is on its way. Tracking AWB 42") || last.ReplyTo != "wamid.LOOP1" {
		t.Fatalf("shipped body %s", last.Body)
	}

	// A staff message, then the conversation.
	r = b.api(t, "POST", "/v1/customers/"+testkit.WaID+"/messages", map[string]any{"text": "Your parcel leaves today."}, "X-Actor", "asha")
	if r.status != 202 {
		t.Fatalf("staff: %s", r)
	}
	var out wire.Outbound
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the staff message delivered", func() bool {
		b.get(t, "/v1/outbound/"+out.ID, 200, &out)
		return out.State == "accepted" && out.DeliveryState == "read"
	})
	if out.Refs.Ref1 != "staff" || out.Actor != "asha" {
		t.Fatalf("staff outbound %+v", out)
	}
	var list wire.OutboundList
	b.get(t, "/v1/outbound?customer="+testkit.WaID, 200, &list)
	if len(list.Outbound) != 3 {
		t.Fatalf("outbound list %+v", list)
	}
	b.get(t, "/v1/outbound?state=bogus", 400, nil)
	var conv wire.Conversation
	b.get(t, "/v1/customers/"+testkit.WaID+"/conversation", 200, &conv)
	if len(conv.Messages) != 4 || conv.Messages[0].Direction != "inbound" || conv.Messages[3].Summary != "Your parcel leaves today." {
		t.Fatalf("conversation %+v", conv)
	}
	for i := 1; i < len(conv.Messages); i++ {
		if conv.Messages[i].At.Before(conv.Messages[i-1].At) {
			t.Fatalf("not in time order: %+v", conv.Messages)
		}
	}
	// notification.sent went to the event log (webhooks and NATS deliver it).
	var evs struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	b.get(t, "/v1/events?type=notification.sent", 200, &evs)
	if len(evs.Events) < 3 {
		t.Fatalf("notification.sent events: %+v", evs)
	}
	if r := b.api(t, "POST", "/v1/customers/nobody/messages", map[string]any{"text": "x"}); r.status != http.StatusNotFound {
		t.Fatalf("unknown customer: %s", r)
	}
}

// An order that arrives needing review notifies nobody; the review that
// makes it pending sends the customer the pending notification (without
// the team's review note), a rejection the canceled one when that is on,
// and a refund the refunded one. Without the event log, the intent still
// commits with the change.
func TestReviewAndRefundNotify(t *testing.T) {
	t.Parallel()
	for _, withLog := range []bool{false, true} {
		name := "NoEventLog"
		if withLog {
			name = "EventLog"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &notifyParts{}
			opts := []option{listen(), withNotify(p)}
			if withLog {
				opts = append(opts, withEvents())
			}
			b := setup(t, opts...)
			sb := p.start(t, b)
			if r := b.api(t, "PUT", "/v1/notifications", map[string]any{"statuses": map[string]any{
				"pending":  map[string]any{"enabled": true, "text": "{{.Short}} confirmed.{{.Note}}"},
				"canceled": map[string]any{"enabled": true, "text": "{{.Short}} canceled."},
				"refunded": map[string]any{"enabled": true, "text": "{{.Short}} refunded."},
			}}); r.status != http.StatusOK {
				t.Fatalf("PUT: %s", r)
			}
			secret := []string{"Authorization", "", testkit.CallbackSecretHeader, testkit.CallbackSecret}
			now := time.Now().UTC()
			for _, id := range []string{"wamid.REVIEW1", "wamid.REVIEW2"} {
				cart := testkit.Kaleyra(testkit.Order(id).At(now.Add(-time.Minute)).RawItem(`"tea"`, "0", "500", `"INR"`))
				if r := b.api(t, "POST", kaleyraPath, cart.Bytes(), secret...); r.status != http.StatusOK {
					t.Fatalf("post %s: %s", id, r)
				}
			}
			var o wire.Order
			b.get(t, "/v1/orders/wamid.REVIEW1", http.StatusOK, &o)
			if o.Status != "needs_review" || len(o.Notifications) != 0 {
				t.Fatalf("order in review: status %s, notifications %+v", o.Status, o.Notifications)
			}

			review := func(id, body string) {
				t.Helper()
				if r := b.api(t, "POST", "/v1/orders/"+id+"/review", body, "X-Actor", "asha"); r.status != http.StatusOK {
					t.Fatalf("review %s: %s", id, r)
				}
			}
			review("wamid.REVIEW1", `{"action": "correct", "lines": [{"index": 0, "quantity": 2, "price": "500.00"}], "note": "INTERNAL phoned the customer"}`)
			review("wamid.REVIEW2", `{"action": "reject", "note": "no stock"}`)
			want := map[string]string{"wamid.REVIEW1": "pending", "wamid.REVIEW2": "canceled"}
			for id, status := range want {
				waitFor(t, "the "+status+" notification of "+id, func() bool {
					b.get(t, "/v1/orders/"+id, http.StatusOK, &o)
					return len(o.Notifications) == 1 && o.Notifications[0].State == "accepted"
				})
				var out wire.Outbound
				b.get(t, "/v1/outbound/"+o.Notifications[0].ID, http.StatusOK, &out)
				if n := o.Notifications[0]; n.Status != status || out.Actor != "asha" {
					t.Errorf("%s: notification %+v by %q, want %s by asha", id, n, out.Actor, status)
				}
			}

			// The corrected order completes and is refunded: one refunded
			// notification, and a second refund adds none.
			if r := b.api(t, "POST", "/v1/orders/wamid.REVIEW1/status", map[string]any{"status": "completed"}); r.status != http.StatusOK {
				t.Fatalf("status completed: %s", r)
			}
			for range 2 {
				if r := b.api(t, "POST", "/v1/orders/wamid.REVIEW1/refunds", map[string]any{"amounts": []map[string]string{{"currency": "INR", "amount": "1.00"}}, "reason": "INTERNAL"}); r.status != http.StatusOK {
					t.Fatalf("refund: %s", r)
				}
			}
			waitFor(t, "the refunded notification", func() bool {
				b.get(t, "/v1/orders/wamid.REVIEW1", http.StatusOK, &o)
				return len(o.Notifications) == 2 && o.Notifications[1].State == "accepted"
			})
			if o.Status != "refunded" || o.Notifications[1].Status != "refunded" {
				t.Errorf("after the refunds: status %s, notifications %+v", o.Status, o.Notifications)
			}

			bodies := map[string]string{}
			for _, s := range sb.Sends() {
				bodies[s.ReplyTo] += string(s.Body) + "\n"
			}
			if n := len(sb.Sends()); n != 3 {
				t.Errorf("%d sends, want 3 (pending, canceled, refunded):\n%v", n, bodies)
			}
			if b := bodies["wamid.REVIEW1"]; !strings.Contains(b, notify.ShortID("wamid.REVIEW1")+" confirmed.") || strings.Contains(b, "INTERNAL") ||
				!strings.Contains(b, " refunded.") {
				t.Errorf("sends to wamid.REVIEW1:\n%s", b)
			}
			if b := bodies["wamid.REVIEW2"]; !strings.Contains(b, notify.ShortID("wamid.REVIEW2")+" canceled.") {
				t.Errorf("sends to wamid.REVIEW2:\n%s", b)
			}
		})
	}
}

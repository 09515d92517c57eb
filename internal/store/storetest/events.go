package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// RunEvents checks the event log, the webhooks and the deliveries the relay
// claims and finishes.
func RunEvents(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"AppendFansOutToMatchingEnabledSinks", testAppendFanOut},
		{"AppendRollsBackWithTheChange", testAppendRollsBack},
		{"ListEventsFiltersAndPages", testListEvents},
		{"ClaimIsFencedAndRecordsAttempts", testClaimFence},
		{"HeadOfEachOrderOnly", testPerOrderHead},
		{"HeadOfEachOrderOneEventPerCommit", testPerOrderHeadOneByOne},
		{"ExpiredLeaseIsClaimedAgain", testLeaseExpiry},
		{"ConcurrentClaimsLeaseOnce", testConcurrentClaims},
		{"RedeliverDeadAndMissing", testRedeliver},
		{"GoneAndFailingDisable", testHealth},
		{"PruneKeepsUndelivered", testPrune},
		{"WebhookCRUD", testWebhookCRUD},
		{"StatusAdvancedOnlyWhenTheStateMoved", testStatusAdvanced},
	})
}

// testStatusAdvanced checks InboundResult.Advanced, which decides the
// message.status events: true only for a new status that moved the
// message's forward-only state, in call order.
func testStatusAdvanced(t *testing.T, s store.Store) {
	adv := func(res []store.InboundResult) [][]bool {
		var out [][]bool
		for _, r := range res {
			out = append(out, r.Advanced)
		}
		return out
	}
	// One call: sent then delivered both move the state; a late sent in
	// the same callback is a duplicate; read then delivered: only read.
	res := mustWrite(t, s,
		NewStatusInbound(NewStatus("wamid.adv1", "sent", RankSent, Base), NewStatus("wamid.adv1", "delivered", RankDelivered, Base.Add(time.Second))),
		NewStatusInbound(NewStatus("wamid.adv1", "sent", RankSent, Base)),
		NewStatusInbound(NewStatus("wamid.adv2", "read", RankRead, Base), NewStatus("wamid.adv2", "delivered", RankDelivered, Base.Add(-time.Second))))
	diff(t, "advanced in one call", [][]bool{{true, true}, {false}, {true, false}}, adv(res))
	// Later calls: a late delivered after read is stored, not advanced; a
	// duplicate neither; a higher rank is.
	res = mustWrite(t, s, NewStatusInbound(NewStatus("wamid.adv1", "sent", RankSent, Base)))
	diff(t, "a duplicate", [][]bool{{false}}, adv(res))
	res = mustWrite(t, s, NewStatusInbound(NewStatus("wamid.adv3", "read", RankRead, Base)))
	diff(t, "first status of a message", [][]bool{{true}}, adv(res))
	res = mustWrite(t, s, NewStatusInbound(NewStatus("wamid.adv3", "delivered", RankDelivered, Base)))
	if res[0].Statuses[0] != store.Stored {
		t.Errorf("late delivered: %s, want stored", res[0].Statuses[0])
	}
	diff(t, "late delivered after read", [][]bool{{false}}, adv(res))
	res = mustWrite(t, s, NewStatusInbound(NewStatus("wamid.adv1", "read", RankRead, Base.Add(time.Minute))))
	diff(t, "read after delivered", [][]bool{{true}}, adv(res))
}

var evT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testEvent(n int, typ, order string) *store.Event {
	return &store.Event{ID: fmt.Sprintf("evt_%026d", n), Type: typ, OrderID: order, MessageID: order,
		PhoneNumberID: "100000000000001", OccurredAt: evT0.Add(time.Duration(n) * time.Second),
		Payload: []byte(fmt.Sprintf(`{"type":%q,"timestamp":"2026-01-01T00:00:00Z","data":{"n":%d}}`, typ, n))}
}

func mustHook(t *testing.T, s store.Store, id string, enabled bool, types ...string) {
	t.Helper()
	w := &store.Webhook{ID: id, URL: "https://example.com/" + id, EventTypes: types, Enabled: enabled,
		Secrets: []string{"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, CreatedAt: evT0}
	if err := s.CreateWebhook(t.Context(), w); err != nil {
		t.Fatalf("CreateWebhook: %v", err)
	}
}

func mustAppend(t *testing.T, s store.Store, sinks []string, evs ...*store.Event) {
	t.Helper()
	if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: evs, Sinks: sinks, Now: evT0}); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
}

func deliverySinks(t *testing.T, s store.Store, eventID string) map[string]string {
	t.Helper()
	ds, err := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: eventID})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	out := map[string]string{}
	for _, d := range ds {
		out[d.Sink] = d.State
	}
	return out
}

func claim(t *testing.T, s store.Store, sink, owner string, limit int, now time.Time) []*store.Delivery {
	t.Helper()
	ds, err := s.ClaimDeliveries(t.Context(), store.ClaimParams{Sink: sink, Owner: owner, Limit: limit, Now: now, Lease: time.Minute})
	if err != nil {
		t.Fatalf("ClaimDeliveries: %v", err)
	}
	return ds
}

func finish(t *testing.T, s store.Store, now time.Time, fs ...store.Finish) *store.FinishResult {
	t.Helper()
	for i := range fs {
		if fs[i].Record.At.IsZero() {
			fs[i].Record.At = now
		}
	}
	res, err := s.FinishDeliveries(t.Context(), store.FinishParams{Now: now, DisableAfter: 5 * 24 * time.Hour, Finishes: fs})
	if err != nil {
		t.Fatalf("FinishDeliveries: %v", err)
	}
	return res
}

func delivered(d *store.Delivery, owner string) store.Finish {
	return store.Finish{ID: d.ID, Owner: owner, Attempt: d.Attempts, State: store.DeliveryDelivered, Health: store.HealthOK,
		Record: store.Attempt{Status: 200, Result: "delivered"}}
}

func testAppendFanOut(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_all", true)
	mustHook(t, s, "wh_status", true, store.EventOrderStatusChanged)
	mustHook(t, s, "wh_off", false)
	e1 := testEvent(1, store.EventOrderCreated, "wamid.O1")
	e2 := testEvent(2, store.EventOrderStatusChanged, "wamid.O1")
	mustAppend(t, s, []string{"nats"}, e1, e2)
	diff(t, "deliveries of order.created", map[string]string{"wh_all": "pending", "nats": "pending"}, deliverySinks(t, s, e1.ID))
	diff(t, "deliveries of order.status_changed", map[string]string{"wh_all": "pending", "wh_status": "pending", "nats": "pending"},
		deliverySinks(t, s, e2.ID))
	got, err := s.GetEvent(t.Context(), e1.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "event", e1, got)
	if _, err := s.GetEvent(t.Context(), "evt_nope"); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Errorf("GetEvent(unknown) = %v, want not found", err)
	}
	if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*store.Event{e1}}); err == nil {
		t.Error("appending an existing event id succeeded")
	}
}

func testAppendRollsBack(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_all", true)
	o := NewOrder("wamid.RB1", evT0)
	boom := fmt.Errorf("boom")
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		if _, err := tx.WriteInbound(t.Context(), NewOrderInbounds(o)); err != nil {
			return err
		}
		if err := tx.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*store.Event{testEvent(1, store.EventOrderCreated, o.ID)}}); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("InTx = %v, want boom", err)
	}
	page, err := s.ListEvents(t.Context(), store.ListEventsParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 0 {
		t.Errorf("events after a rolled back change: %d", len(page.Events))
	}
	if ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{Sink: "wh_all"}); len(ds) != 0 {
		t.Errorf("deliveries after a rolled back change: %d", len(ds))
	}
}

func testListEvents(t *testing.T, s store.Store) {
	var evs []*store.Event
	for i := 1; i <= 5; i++ {
		typ := store.EventOrderCreated
		if i%2 == 0 {
			typ = store.EventMessageReceived
		}
		evs = append(evs, testEvent(i, typ, fmt.Sprintf("wamid.L%d", i%2)))
	}
	mustAppend(t, s, nil, evs...)
	page, err := s.ListEvents(t.Context(), store.ListEventsParams{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.Events[0].ID != evs[4].ID || page.NextCursor == "" {
		t.Fatalf("first page: %d events, first %v, cursor %q", len(page.Events), page.Events[0].ID, page.NextCursor)
	}
	var all []string
	for cur := ""; ; {
		p, err := s.ListEvents(t.Context(), store.ListEventsParams{Limit: 2, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			all = append(all, e.ID)
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	diff(t, "paged ids", []string{evs[4].ID, evs[3].ID, evs[2].ID, evs[1].ID, evs[0].ID}, all)
	p, err := s.ListEvents(t.Context(), store.ListEventsParams{Type: store.EventMessageReceived})
	if err != nil || len(p.Events) != 2 {
		t.Errorf("by type: %d events, err %v; want 2", len(p.Events), err)
	}
	p, err = s.ListEvents(t.Context(), store.ListEventsParams{OrderID: "wamid.L1", Since: evs[1].OccurredAt, Until: evs[4].OccurredAt})
	if err != nil || len(p.Events) != 1 || p.Events[0].ID != evs[2].ID {
		t.Errorf("by order and time: %v, err %v; want [%s]", p, err, evs[2].ID)
	}
	if _, err := s.ListEvents(t.Context(), store.ListEventsParams{Type: "nope"}); waorders.ErrorCode(err) != waorders.CodeInvalid {
		t.Errorf("unknown type: %v, want invalid", err)
	}
}

func testClaimFence(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	e := testEvent(1, store.EventMessageReceived, "")
	mustAppend(t, s, nil, e)
	now := evT0.Add(time.Second)
	ds := claim(t, s, "wh_a", "relay-1", 10, now)
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].State != store.DeliveryLeased || ds[0].Event == nil ||
		!bytes.Equal(ds[0].Event.Payload, e.Payload) {
		t.Fatalf("claim = %+v", ds)
	}
	if again := claim(t, s, "wh_a", "relay-2", 10, now); len(again) != 0 {
		t.Fatalf("a leased delivery was claimed again: %+v", again)
	}
	if due, _ := s.HasDueDeliveries(t.Context(), "wh_a", now); due {
		t.Error("HasDueDeliveries while leased = true")
	}
	wrong := delivered(ds[0], "relay-2")
	if res := finish(t, s, now, wrong); res.Landed[0] {
		t.Error("a finish by another owner landed")
	}
	stale := delivered(ds[0], "relay-1")
	stale.Attempt = 7
	if res := finish(t, s, now, stale); res.Landed[0] {
		t.Error("a finish of another attempt landed")
	}
	if res := finish(t, s, now, delivered(ds[0], "relay-1")); !res.Landed[0] {
		t.Fatal("the owner's finish did not land")
	}
	diff(t, "state", map[string]string{"wh_a": "delivered"}, deliverySinks(t, s, e.ID))
	page, err := s.ListAttempts(t.Context(), store.ListAttemptsParams{Sink: "wh_a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Attempts) != 1 || page.Attempts[0].EventID != e.ID || page.Attempts[0].Status != 200 || page.Attempts[0].Attempt != 1 {
		t.Errorf("attempts = %+v, want one of %s with 200", page.Attempts, e.ID)
	}
}

func testPerOrderHead(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	v1 := testEvent(1, store.EventOrderCreated, "wamid.P1")
	v2 := testEvent(2, store.EventOrderStatusChanged, "wamid.P1")
	v3 := testEvent(3, store.EventOrderStatusChanged, "wamid.P1")
	other := testEvent(4, store.EventOrderCreated, "wamid.P2")
	free := testEvent(5, store.EventMessageReceived, "")
	free.OrderID = ""
	mustAppend(t, s, nil, v1, v2, v3, other, free)
	now := evT0.Add(time.Second)
	ids := func(ds []*store.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.EventID)
		}
		return out
	}
	ds := claim(t, s, "wh_a", "r", 10, now)
	diff(t, "first claim", []string{v1.ID, other.ID, free.ID}, ids(ds))
	finish(t, s, now, delivered(ds[1], "r"), delivered(ds[2], "r"))
	// v1 fails and waits: v2 must wait too.
	f := store.Finish{ID: ds[0].ID, Owner: "r", Attempt: 1, State: store.DeliveryRetry, NextAttemptAt: now.Add(time.Minute), Health: store.HealthFail}
	finish(t, s, now, f)
	if got := claim(t, s, "wh_a", "r", 10, now.Add(30*time.Second)); len(got) != 0 {
		t.Fatalf("claimed behind a waiting head: %v", ids(got))
	}
	ds = claim(t, s, "wh_a", "r", 10, now.Add(time.Minute))
	diff(t, "retry of the head", []string{v1.ID}, ids(ds))
	finish(t, s, now, delivered(ds[0], "r"))
	ds = claim(t, s, "wh_a", "r", 10, now.Add(time.Minute))
	diff(t, "after the head", []string{v2.ID}, ids(ds))
	finish(t, s, now, store.Finish{ID: ds[0].ID, Owner: "r", Attempt: 1, State: store.DeliveryDead})
	ds = claim(t, s, "wh_a", "r", 10, now.Add(time.Minute))
	diff(t, "after a dead head", []string{v3.ID}, ids(ds))
}

// testPerOrderHeadOneByOne appends an order's events one per transaction,
// as the intake's commits of one callback do (SQLite writes a lone
// delivery with a statement of its own).
func testPerOrderHeadOneByOne(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	v1 := testEvent(1, store.EventOrderCreated, "wamid.Q1")
	v2 := testEvent(2, store.EventOrderStatusChanged, "wamid.Q1")
	other := testEvent(3, store.EventOrderCreated, "wamid.Q2")
	for _, e := range []*store.Event{v1, v2, other} {
		mustAppend(t, s, []string{"nats"}, e)
	}
	now := evT0.Add(time.Second)
	for _, sink := range []string{"wh_a", "nats"} {
		ds := claim(t, s, sink, "r", 10, now)
		got := map[string]string{}
		for _, d := range ds {
			got[d.EventID] = d.OrderKey
		}
		diff(t, sink+": first claim, event id to order key", map[string]string{v1.ID: v1.OrderID, other.ID: other.OrderID}, got)
		for _, d := range ds {
			finish(t, s, now, delivered(d, "r"))
		}
		ds = claim(t, s, sink, "r", 10, now)
		if len(ds) != 1 || ds[0].EventID != v2.ID || ds[0].OrderKey != v2.OrderID {
			t.Errorf("%s: after the head, claimed %+v, want only %s of order %s", sink, ds, v2.ID, v2.OrderID)
		}
	}
}

func testLeaseExpiry(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	mustAppend(t, s, nil, testEvent(1, store.EventMessageReceived, ""))
	now := evT0.Add(time.Second)
	first := claim(t, s, "wh_a", "crashed", 10, now)
	if len(first) != 1 {
		t.Fatalf("claim: %d", len(first))
	}
	later := now.Add(2 * time.Minute)
	if due, _ := s.HasDueDeliveries(t.Context(), "wh_a", later); !due {
		t.Error("an expired lease is not due")
	}
	second := claim(t, s, "wh_a", "rescuer", 10, later)
	if len(second) != 1 || second[0].Attempts != 2 || second[0].LeaseOwner != "rescuer" {
		t.Fatalf("reclaim = %+v", second)
	}
	if res := finish(t, s, later, delivered(first[0], "crashed")); res.Landed[0] {
		t.Error("the crashed relay's finish landed after its lease was taken")
	}
	if res := finish(t, s, later, delivered(second[0], "rescuer")); !res.Landed[0] {
		t.Error("the rescuer's finish did not land")
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	const n = 300
	var evs []*store.Event
	for i := range n {
		evs = append(evs, testEvent(i+1, store.EventMessageReceived, ""))
	}
	mustAppend(t, s, nil, evs...)
	now := evT0.Add(time.Second)
	var (
		mu    sync.Mutex
		seen  = map[int64]int{}
		wg    sync.WaitGroup
		fails []error
	)
	for w := range 6 {
		wg.Go(func() {
			owner := fmt.Sprintf("relay-%d", w)
			for {
				ds, err := s.ClaimDeliveries(t.Context(), store.ClaimParams{Sink: "wh_a", Owner: owner, Limit: 7, Now: now, Lease: time.Minute})
				if err != nil {
					mu.Lock()
					fails = append(fails, err)
					mu.Unlock()
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(fails) > 0 {
		t.Fatalf("claims failed: %v", fails[0])
	}
	if len(seen) != n {
		t.Errorf("claimed %d deliveries, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("delivery %d leased %d times", id, k)
		}
	}
}

func testRedeliver(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	e1 := testEvent(1, store.EventMessageReceived, "")
	mustAppend(t, s, nil, e1)
	now := evT0.Add(time.Second)
	ds := claim(t, s, "wh_a", "r", 10, now)
	finish(t, s, now, store.Finish{ID: ds[0].ID, Owner: "r", Attempt: 1, State: store.DeliveryDead})
	// An endpoint added later has no delivery of e1.
	mustHook(t, s, "wh_late", true)
	n, err := s.Redeliver(t.Context(), store.RedeliverParams{Sinks: []string{"wh_a"}, State: store.DeliveryDead, Now: now})
	if err != nil || n != 1 {
		t.Fatalf("Redeliver dead = %d, %v; want 1", n, err)
	}
	ds = claim(t, s, "wh_a", "r", 10, now)
	if len(ds) != 1 || ds[0].Attempts != 1 {
		t.Fatalf("claim after redeliver = %+v", ds)
	}
	n, err = s.Redeliver(t.Context(), store.RedeliverParams{EventID: e1.ID, Sinks: []string{"wh_late"}, Now: now})
	if err != nil || n != 1 {
		t.Fatalf("Redeliver to a new endpoint = %d, %v; want 1", n, err)
	}
	n, err = s.Redeliver(t.Context(), store.RedeliverParams{Sinks: []string{"wh_late"}, Since: evT0, Now: now})
	if err != nil || n != 1 {
		t.Fatalf("Redeliver by time = %d, %v; want 1 (the pending one again)", n, err)
	}
	diff(t, "deliveries", map[string]string{"wh_a": "leased", "wh_late": "pending"}, deliverySinks(t, s, e1.ID))
}

func testHealth(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_gone", true)
	mustHook(t, s, "wh_fail", true)
	mustAppend(t, s, nil, testEvent(1, store.EventMessageReceived, ""))
	now := evT0.Add(time.Second)
	g := claim(t, s, "wh_gone", "r", 1, now)[0]
	res := finish(t, s, now, store.Finish{ID: g.ID, Owner: "r", Attempt: 1, State: store.DeliveryDead, Health: store.HealthGone})
	diff(t, "disabled", []string{"wh_gone"}, res.Disabled)
	w, _ := s.GetWebhook(t.Context(), "wh_gone")
	if w.Enabled || w.DisabledReason != store.DisabledGone {
		t.Errorf("after 410: enabled %v reason %q", w.Enabled, w.DisabledReason)
	}
	f := claim(t, s, "wh_fail", "r", 1, now)[0]
	finish(t, s, now, store.Finish{ID: f.ID, Owner: "r", Attempt: 1, State: store.DeliveryRetry, NextAttemptAt: now, Health: store.HealthFail})
	f = claim(t, s, "wh_fail", "r", 1, now.Add(4*24*time.Hour))[0]
	res = finish(t, s, now.Add(4*24*time.Hour), store.Finish{ID: f.ID, Owner: "r", Attempt: 2, State: store.DeliveryRetry, NextAttemptAt: now, Health: store.HealthFail})
	if len(res.Disabled) != 0 {
		t.Fatalf("disabled after 4 days: %v", res.Disabled)
	}
	late := now.Add(5*24*time.Hour + time.Second)
	f = claim(t, s, "wh_fail", "r", 1, late)[0]
	res = finish(t, s, late, store.Finish{ID: f.ID, Owner: "r", Attempt: 3, State: store.DeliveryRetry, NextAttemptAt: late, Health: store.HealthFail})
	diff(t, "disabled after 5 days", []string{"wh_fail"}, res.Disabled)
	on := true
	w, err := s.UpdateWebhook(t.Context(), store.UpdateWebhookParams{ID: "wh_fail", Enabled: &on, Now: late})
	if err != nil || !w.Enabled || w.DisabledReason != "" || !w.FailingSince.IsZero() {
		t.Errorf("re-enabled: %+v, %v", w, err)
	}
}

func testPrune(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true)
	old := testEvent(1, store.EventMessageReceived, "")
	stuck := testEvent(2, store.EventMessageReceived, "")
	none := testEvent(3, store.EventMessageReceived, "")
	mustAppend(t, s, nil, old, stuck)
	mustAppend(t, s, nil)
	if err := s.InTx(t.Context(), func(tx store.Tx) error {
		return tx.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*store.Event{none}, Now: evT0})
	}); err != nil {
		t.Fatal(err)
	}
	now := evT0.Add(time.Hour)
	ds := claim(t, s, "wh_a", "r", 10, now)
	// none has a delivery too (wh_a takes all); deliver old and none, kill stuck.
	for _, d := range ds {
		f := delivered(d, "r")
		if d.EventID == stuck.ID {
			f.State = store.DeliveryDead
		}
		finish(t, s, now, f)
	}
	n, err := s.PruneEvents(t.Context(), evT0.Add(time.Minute), 100)
	if err != nil || n != 2 {
		t.Fatalf("PruneEvents = %d, %v; want 2", n, err)
	}
	if _, err := s.GetEvent(t.Context(), stuck.ID); err != nil {
		t.Errorf("a dead event was pruned: %v", err)
	}
	if _, err := s.GetEvent(t.Context(), old.ID); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Errorf("a delivered event was kept: %v", err)
	}
}

func testWebhookCRUD(t *testing.T, s store.Store) {
	mustHook(t, s, "wh_a", true, store.EventOrderCreated)
	mustHook(t, s, "wh_b", true)
	url, desc := "https://example.org/x", "shop"
	types := []string{store.EventOrderCreated, store.EventOrderStatusChanged}
	secrets := []string{"whsec_new", "whsec_old"}
	w, err := s.UpdateWebhook(t.Context(), store.UpdateWebhookParams{ID: "wh_a", URL: &url, Description: &desc, EventTypes: &types, Secrets: &secrets, Now: evT0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetWebhook(t.Context(), "wh_a")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "webhook", w, got)
	if got.URL != url || len(got.Secrets) != 2 || len(got.EventTypes) != 2 || !got.UpdatedAt.Equal(evT0.Add(time.Hour)) {
		t.Errorf("updated webhook = %+v", got)
	}
	list, err := s.ListWebhooks(t.Context())
	if err != nil || len(list) != 2 || list[0].ID != "wh_a" {
		t.Fatalf("ListWebhooks = %v, %v", list, err)
	}
	mustAppend(t, s, nil, testEvent(1, store.EventOrderCreated, "wamid.W"))
	if err := s.DeleteWebhook(t.Context(), "wh_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebhook(t.Context(), "wh_a"); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Errorf("deleted webhook: %v", err)
	}
	if ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{Sink: "wh_a"}); len(ds) != 0 {
		t.Errorf("deliveries of a deleted webhook: %d", len(ds))
	}
	if err := s.DeleteWebhook(t.Context(), "wh_a"); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Errorf("delete twice: %v", err)
	}
}

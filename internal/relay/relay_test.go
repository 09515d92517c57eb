package relay_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/relay"
	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
)

// clock is a test clock the test moves.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// receiver is a strict stand-in sink: it records what arrives per order and
// answers with the outcomes the test scripts per event.
type receiver struct {
	mu       sync.Mutex
	seen     map[string]int      // event id -> attempts
	byOrder  map[string][]string // order -> event ids in arrival order
	script   func(d sink.Delivery) sink.Result
	inflight map[string]bool // orders with an attempt in flight
	overlap  int
	finished int // attempts whose answer has been given
}

func newReceiver(script func(sink.Delivery) sink.Result) *receiver {
	return &receiver{seen: map[string]int{}, byOrder: map[string][]string{}, inflight: map[string]bool{}, script: script}
}

func (r *receiver) Deliver(ctx context.Context, d sink.Delivery) sink.Result {
	r.mu.Lock()
	if d.OrderID != "" {
		if r.inflight[d.OrderID] {
			r.overlap++
		}
		r.inflight[d.OrderID] = true
	}
	r.seen[d.EventID]++
	r.mu.Unlock()
	res := sink.Result{Outcome: sink.Delivered, Status: 200}
	if r.script != nil {
		res = r.script(d)
	}
	r.mu.Lock()
	delete(r.inflight, d.OrderID)
	r.finished++
	if res.Outcome == sink.Delivered && d.OrderID != "" {
		r.byOrder[d.OrderID] = append(r.byOrder[d.OrderID], d.EventID)
	}
	r.mu.Unlock()
	return res
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), t.TempDir()+"/w.db", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startRelay(t *testing.T, s store.Store, c *clock, rcv *receiver) *relay.Relay {
	t.Helper()
	r := relay.New(relay.Config{
		Store:   s,
		NewSink: func(*store.Webhook) (sink.Sink, error) { return rcv, nil },
		Poll:    10 * time.Millisecond, Now: c.Now, Rand: func() float64 { return 0.5 }, Owner: "test",
	})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return r
}

func hook(t *testing.T, s store.Store, id string) {
	t.Helper()
	if err := s.CreateWebhook(t.Context(), &store.Webhook{ID: id, URL: "https://example.com", Enabled: true, Secrets: []string{"whsec_x"}}); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling, not waiting for an effect
	}
}

func TestDeliversEveryEventOnceInOrderPerOrder(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	const orders, perOrder = 40, 4
	want := map[string][]string{}
	n := 0
	for v := range perOrder {
		var evs []*store.Event
		for o := range orders {
			n++
			order := fmt.Sprintf("wamid.O%02d", o)
			typ := store.EventOrderStatusChanged
			if v == 0 {
				typ = store.EventOrderCreated
			}
			e := &store.Event{ID: fmt.Sprintf("evt_%026d", n), Type: typ, OrderID: order, OccurredAt: c.Now(), Payload: []byte(`{}`)}
			want[order] = append(want[order], e.ID)
			evs = append(evs, e)
		}
		if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: evs, Now: c.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	rcv := newReceiver(func(d sink.Delivery) sink.Result {
		time.Sleep(time.Millisecond) // a receiver that takes a little time, so attempts overlap
		return sink.Result{Outcome: sink.Delivered, Status: 200}
	})
	r := startRelay(t, s, c, rcv)
	r.Wake()
	// Wait for every answer, not every start: the last attempts are still
	// in the receiver's sleep when their event is first seen.
	waitFor(t, "every event", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return len(rcv.seen) == n && rcv.finished >= n
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for id, k := range rcv.seen {
		if k != 1 {
			t.Errorf("%s delivered %d times", id, k)
		}
	}
	for order, ids := range want {
		if fmt.Sprint(rcv.byOrder[order]) != fmt.Sprint(ids) {
			t.Errorf("order %s arrived as %v, want %v", order, rcv.byOrder[order], ids)
		}
	}
	if rcv.overlap != 0 {
		t.Errorf("%d attempts overlapped another of the same order", rcv.overlap)
	}
}

func TestRetriesOnTheScheduleThenDelivers(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	var calls atomic.Int32
	rcv := newReceiver(func(d sink.Delivery) sink.Result {
		switch calls.Add(1) {
		case 1:
			return sink.Result{Outcome: sink.Retry, Status: 429, RetryAfter: 42 * time.Second}
		case 2:
			return sink.Result{Outcome: sink.Retry, Status: 503, RetryAfter: time.Second, Error: "HTTP 503"}
		}
		return sink.Result{Outcome: sink.Delivered, Status: 200}
	})
	e := &store.Event{ID: "evt_01", Type: store.EventOrderCreated, OrderID: "wamid.X", OccurredAt: c.Now(), Payload: []byte(`{}`)}
	if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*store.Event{e}, Now: c.Now()}); err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, s, c, rcv)
	r.Wake()
	waitFor(t, "the first attempt", func() bool { return attempts(t, s) == 1 })
	ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: e.ID})
	if ds[0].State != store.DeliveryRetry || ds[0].NextAttemptAt.Sub(c.Now()) != 42*time.Second {
		t.Fatalf("after a 429 with Retry-After 42: %s due in %v, want retry in 42s (later than the schedule's 5s)", ds[0].State, ds[0].NextAttemptAt.Sub(c.Now()))
	}
	c.Add(42 * time.Second)
	r.Wake()
	waitFor(t, "the second attempt", func() bool { return attempts(t, s) == 2 })
	ds, _ = s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: e.ID})
	if got := ds[0].NextAttemptAt.Sub(c.Now()); got != 5*time.Minute {
		t.Fatalf("after a 503 with Retry-After 1: due in %v, want the schedule's 5m (Retry-After never hastens)", got)
	}
	c.Add(5 * time.Minute)
	r.Wake()
	waitFor(t, "delivery", func() bool {
		ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: e.ID})
		return ds[0].State == store.DeliveryDelivered
	})
	if k := rcv.seen[e.ID]; k != 3 {
		t.Errorf("attempts seen by the receiver = %d, want 3 with one id", k)
	}
}

func attempts(t *testing.T, s store.Store) int {
	p, err := s.ListAttempts(t.Context(), store.ListAttemptsParams{Sink: "wh_1"})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Attempts)
}

func TestGoneDisablesAndDeadIsReplayable(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	var gone atomic.Bool
	gone.Store(true)
	rcv := newReceiver(func(d sink.Delivery) sink.Result {
		if gone.Load() {
			return sink.Result{Outcome: sink.Gone, Status: 410}
		}
		return sink.Result{Outcome: sink.Delivered, Status: 200}
	})
	e := &store.Event{ID: "evt_01", Type: store.EventMessageReceived, OccurredAt: c.Now(), Payload: []byte(`{}`)}
	if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*store.Event{e}, Now: c.Now()}); err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, s, c, rcv)
	r.Wake()
	waitFor(t, "the endpoint disabled", func() bool {
		w, _ := s.GetWebhook(t.Context(), "wh_1")
		return !w.Enabled && w.DisabledReason == store.DisabledGone
	})
	gone.Store(false)
	on := true
	if _, err := s.UpdateWebhook(t.Context(), store.UpdateWebhookParams{ID: "wh_1", Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Redeliver(t.Context(), store.RedeliverParams{Sinks: []string{"wh_1"}, State: store.DeliveryDead, Now: c.Now()}); err != nil || n != 1 {
		t.Fatalf("replay dead = %d, %v", n, err)
	}
	r.Wake()
	waitFor(t, "the replayed delivery", func() bool {
		ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: e.ID})
		return ds[0].State == store.DeliveryDelivered
	})
}

func TestPolicy(t *testing.T) {
	now := time.Unix(0, 0)
	p := relay.Policy{Schedule: relay.WebhookSchedule, Rand: func() float64 { return 0 }}
	for i, want := range relay.WebhookSchedule {
		f := p.Next(i+1, sink.Result{Outcome: sink.Retry}, now)
		if f.State != store.DeliveryRetry || f.NextAttemptAt.Sub(now) != time.Duration(float64(want)*0.8) {
			t.Errorf("attempt %d: %s in %v, want retry in %v", i+1, f.State, f.NextAttemptAt.Sub(now), time.Duration(float64(want)*0.8))
		}
	}
	if f := p.Next(10, sink.Result{Outcome: sink.Retry}, now); f.State != store.DeliveryDead {
		t.Errorf("attempt 10 failing: %s, want dead", f.State)
	}
	if f := p.Next(1, sink.Result{Outcome: sink.Gone}, now); f.State != store.DeliveryDead || f.Health != store.HealthGone {
		t.Errorf("410: %+v", f)
	}
	if f := p.Next(3, sink.Result{Outcome: sink.PauseSink}, now); !f.Refund || f.State != store.DeliveryRetry {
		t.Errorf("pause: %+v", f)
	}
	if f := p.Next(1, sink.Result{Outcome: sink.Retry, RetryAfter: 7 * 24 * time.Hour}, now); f.NextAttemptAt.Sub(now) != relay.MaxRetryAfter {
		t.Errorf("Retry-After of a week: in %v, want the cap %v", f.NextAttemptAt.Sub(now), relay.MaxRetryAfter)
	}
	if f := p.Next(4, sink.Result{Outcome: sink.Retry, RetryAfter: time.Second}, now); f.NextAttemptAt.Sub(now) != 96*time.Minute {
		t.Errorf("Retry-After of 1s at attempt 4: in %v, want the schedule's 96m (2h, jitter at its low end)", f.NextAttemptAt.Sub(now))
	}
	if f := p.Next(2, sink.Result{Outcome: sink.PauseSink, RetryAfter: time.Hour}, now); !f.Refund || f.NextAttemptAt.Sub(now) != relay.PauseFor {
		t.Errorf("pause spends no attempt and waits PauseFor: %+v", f)
	}
	hi := relay.Policy{Schedule: relay.WebhookSchedule, Rand: func() float64 { return 0.999999 }}
	if d := hi.Next(1, sink.Result{Outcome: sink.Retry}, now).NextAttemptAt.Sub(now); d > 6*time.Second || d < 5990*time.Millisecond {
		t.Errorf("upper jitter: %v, want about 6s", d)
	}
}

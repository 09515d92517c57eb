package relay_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

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

// distinct is how many different events have arrived.
func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
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

func startRelay(t *testing.T, s store.Store, c *clock, rcv *receiver, opts ...func(*relay.Config)) *relay.Relay {
	t.Helper()
	cfg := relay.Config{
		Store:   s,
		NewSink: func(*store.Webhook) (sink.Sink, error) { return rcv, nil },
		Poll:    10 * time.Millisecond, Now: c.Now, Rand: func() float64 { return 0.5 }, Owner: "test",
	}
	for _, o := range opts {
		o(&cfg)
	}
	r := relay.New(cfg)
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

func TestBreakerStopsClaimingADeadEndpointThenProbes(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	var evs []*store.Event
	for i := range 10 {
		evs = append(evs, &store.Event{ID: fmt.Sprintf("evt_%02d", i), Type: store.EventOrderCreated,
			OrderID: fmt.Sprintf("wamid.B%02d", i), OccurredAt: c.Now(), Payload: []byte(`{}`)})
	}
	if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: evs, Now: c.Now()}); err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	down.Store(true)
	rcv := newReceiver(func(d sink.Delivery) sink.Result {
		if down.Load() {
			return sink.Result{Outcome: sink.Retry, Error: "connection refused"}
		}
		return sink.Result{Outcome: sink.Delivered, Status: 200}
	})
	m := relay.NewMetrics(nil)
	r := startRelay(t, s, c, rcv, func(cfg *relay.Config) {
		cfg.Concurrency, cfg.Prefetch, cfg.Metrics = 1, 2, m
	})
	answered := func() int {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.finished
	}
	stays := func(what string, want int) {
		t.Helper()
		for range 20 {
			r.Wake()
			time.Sleep(10 * time.Millisecond) // the relay is given time to (wrongly) claim
		}
		if got := answered(); got != want {
			t.Fatalf("%s: %d attempts reached the endpoint, want %d", what, got, want)
		}
	}
	r.Wake()
	waitFor(t, "5 failures", func() bool { return answered() >= 5 })
	stays("breaker open", 5)
	if g := testutil.ToFloat64(m.BreakerOpen.WithLabelValues("wh_1")); g != 1 {
		t.Fatalf("breaker gauge = %v, want 1", g)
	}
	// The deliveries claimed ahead were given back without spending an attempt.
	ds, err := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{Sink: "wh_1", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	spent := 0
	for _, d := range ds {
		if d.State != store.DeliveryRetry && d.State != store.DeliveryPending {
			t.Fatalf("delivery %d is %s while the breaker is open", d.ID, d.State)
		}
		spent += d.Attempts
	}
	if spent != 5 {
		t.Fatalf("attempts spent = %d, want 5 (released ones refunded)", spent)
	}

	c.Add(31 * time.Second) // cooled down: one probe, which fails
	r.Wake()
	waitFor(t, "the probe", func() bool { return answered() >= 6 })
	stays("probe failed", 6)

	c.Add(31 * time.Second) // the next probe gets an answer: the breaker closes
	down.Store(false)
	r.Wake()
	waitFor(t, "every event", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		n := 0
		for _, ids := range rcv.byOrder {
			n += len(ids)
		}
		return n == len(evs)
	})
	if g := testutil.ToFloat64(m.BreakerOpen.WithLabelValues("wh_1")); g != 0 {
		t.Fatalf("breaker gauge = %v after a success, want 0", g)
	}
}

// rideAppend appends evs in a transaction the relay rides, as the intake's
// group commit does, failing it with fail.
func rideAppend(t *testing.T, s store.Store, r *relay.Relay, now time.Time, fail error, evs ...*store.Event) {
	t.Helper()
	var after func(bool)
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		if err := tx.AppendEvents(t.Context(), store.AppendEventsParams{Events: evs, Now: now}); err != nil {
			return err
		}
		after = r.Ride(t.Context(), tx, len(evs))
		return fail
	})
	if after == nil {
		t.Fatal("the SQLite transaction was not ridden")
	}
	after(err == nil)
	if err != fail {
		t.Fatalf("InTx: %v", err)
	}
}

func TestRidingTheIntakesCommitsDeliversOnceInOrder(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	rcv := newReceiver(func(d sink.Delivery) sink.Result {
		time.Sleep(time.Millisecond)
		return sink.Result{Outcome: sink.Delivered, Status: 200}
	})
	// No polling: what goes out is claimed by the rides (or the wake-ups
	// their outcomes cause once the "intake" goes quiet).
	r := startRelay(t, s, c, rcv, func(cfg *relay.Config) { cfg.Poll = time.Hour })
	want := map[string][]string{}
	n := 0
	for round := range 30 {
		var evs []*store.Event
		for o := range 5 {
			n++
			order := fmt.Sprintf("wamid.R%d", (round+o)%7)
			e := &store.Event{ID: fmt.Sprintf("evt_%026d", n), Type: store.EventOrderCreated, OrderID: order, OccurredAt: c.Now(), Payload: []byte(`{}`)}
			want[order] = append(want[order], e.ID)
			evs = append(evs, e)
		}
		rideAppend(t, s, r, c.Now(), nil, evs...)
	}
	waitFor(t, "every event", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return len(rcv.seen) == n && rcv.finished >= n
	})
	waitFor(t, "every outcome recorded", func() bool {
		ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{Sink: "wh_1", State: store.DeliveryDelivered, Limit: 1000})
		return len(ds) == n
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

func TestARideInAFailedTransactionSendsNothing(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	rcv := newReceiver(nil)
	r := startRelay(t, s, c, rcv, func(cfg *relay.Config) { cfg.Poll = time.Hour })
	time.Sleep(50 * time.Millisecond) // the loop's first (empty) claim
	e := &store.Event{ID: "evt_01", Type: store.EventOrderCreated, OrderID: "wamid.F", OccurredAt: c.Now(), Payload: []byte(`{}`)}
	if err := s.AppendEvents(t.Context(), store.AppendEventsParams{Events: []*store.Event{e}, Now: c.Now()}); err != nil {
		t.Fatal(err)
	}
	// The ride claims evt_01 (committed before), but its transaction fails.
	rideAppend(t, s, r, c.Now(), fmt.Errorf("boom"),
		&store.Event{ID: "evt_02", Type: store.EventOrderCreated, OrderID: "wamid.G", OccurredAt: c.Now(), Payload: []byte(`{}`)})
	time.Sleep(50 * time.Millisecond) // a wrong send would happen now
	if seen := rcv.distinct(); seen != 0 {
		t.Fatalf("%d events sent from a rolled-back claim", seen)
	}
	ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: e.ID})
	if len(ds) != 1 || ds[0].State != store.DeliveryPending || ds[0].Attempts != 0 {
		t.Fatalf("after the failed ride: %+v, want pending with no attempt", ds[0])
	}
	r.Wake()
	waitFor(t, "delivery", func() bool {
		ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{EventID: e.ID})
		return ds[0].State == store.DeliveryDelivered
	})
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.seen["evt_01"] != 1 || rcv.seen["evt_02"] != 0 {
		t.Fatalf("seen %v, want evt_01 once and never evt_02", rcv.seen)
	}
}

// orderEvents returns n order.created events, one per order (prefix and a
// number), with ids in order.
func orderEvents(c *clock, prefix string, n int) []*store.Event {
	var evs []*store.Event
	for i := range n {
		evs = append(evs, &store.Event{ID: fmt.Sprintf("evt_%026d", i+1), Type: store.EventOrderCreated,
			OrderID: fmt.Sprintf("%s%d", prefix, i), OccurredAt: c.Now(), Payload: []byte(`{}`)})
	}
	return evs
}

// rideLoad rides an empty transaction that reports a group commit of
// callbacks callbacks, as the intake's does.
func rideLoad(t *testing.T, s store.Store, r *relay.Relay, callbacks int) {
	t.Helper()
	var after func(bool)
	if err := s.InTx(t.Context(), func(tx store.Tx) error {
		after = r.Ride(t.Context(), tx, callbacks)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if after != nil {
		after(true)
	}
}

func TestASaturatedIntakeSlowsForwardingUntilTheLoadFalls(t *testing.T) {
	s := openStore(t)
	c := newClock() // frozen: the intake stays saturated until its commits shrink
	hook(t, s, "wh_1")
	rcv := newReceiver(nil)
	r := startRelay(t, s, c, rcv, func(cfg *relay.Config) {
		cfg.Poll = time.Hour
		cfg.Concurrency = 4 // saturated, a sink claims 4 at once
		cfg.BusyBatch, cfg.BusyShare = 10, 0.1
	})
	time.Sleep(50 * time.Millisecond) // the loop's first refresh: the relay knows wh_1
	evs := orderEvents(c, "wamid.S", 40)
	settled := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d deliveries recorded", n), func() bool {
			ds, _ := s.ListDeliveries(t.Context(), store.ListDeliveriesParams{Sink: "wh_1", State: store.DeliveryDelivered, Limit: 100})
			return len(ds) >= n
		})
		time.Sleep(100 * time.Millisecond) // the wake-ups their outcomes cause claim nothing more
		if got := rcv.distinct(); got != n {
			t.Fatalf("%d events sent, want %d", got, n)
		}
	}
	// A commit of 40 callbacks (≥ 10) earns 4 (10 %): one claim of 4.
	rideAppend(t, s, r, c.Now(), nil, evs...)
	settled(4)
	// Commits of 12 earn 1.2 each: nothing until a claim's worth (4).
	rideLoad(t, s, r, 12)
	rideLoad(t, s, r, 12)
	rideLoad(t, s, r, 12)
	settled(4)
	rideLoad(t, s, r, 12) // 4.8
	settled(8)
	// Commits of 3 bring the average (each weighs 1/8: 40, then 36.5,
	// 33.4, 30.7, 28.4) under 10 after 10 of them: the intake keeps up
	// again and the backlog goes out.
	for range 10 {
		rideLoad(t, s, r, 3)
	}
	waitFor(t, "every event", func() bool { return rcv.distinct() == len(evs) })
}

func TestTheSaturationEndsASecondAfterTheLastSaturatedCommit(t *testing.T) {
	s := openStore(t)
	c := newClock()
	hook(t, s, "wh_1")
	rcv := newReceiver(nil)
	r := startRelay(t, s, c, rcv, func(cfg *relay.Config) { cfg.Poll = time.Hour; cfg.BusyBatch, cfg.BusyShare = 10, 0.01 })
	time.Sleep(50 * time.Millisecond) // the loop's first refresh: the relay knows wh_1
	rideLoad(t, s, r, 100)            // saturated: 1 earned, less than a claim
	evs := orderEvents(c, "wamid.T", 20)
	rideAppend(t, s, r, c.Now(), nil, evs...) // 20 callbacks: 0.2 more
	time.Sleep(100 * time.Millisecond)        // a wrong claim would happen now
	if n := rcv.distinct(); n != 0 {
		t.Fatalf("%d sent while the intake was saturated and the credit under a claim", n)
	}
	c.Add(time.Second) // no commit since: the intake is idle, not saturated
	r.Wake()
	waitFor(t, "every event", func() bool { return rcv.distinct() == len(evs) })
}

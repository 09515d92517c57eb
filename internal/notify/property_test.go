package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/notify"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/kaleyra"
)

// openPostgresPair opens two stores (two "instances") on one fresh schema.
func openPostgresPair(t *testing.T) (store.Store, store.Store) {
	url := testkit.PostgresURL(t)
	schema := fmt.Sprintf("notify_prop_%d", time.Now().UnixNano())
	ctx := context.Background()
	var out []store.Store
	for range 2 {
		st, err := postgres.Open(ctx, url, postgres.Options{Schema: schema, MaxConns: 12})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	t.Cleanup(func() {
		for _, st := range out {
			st.Close()
		}
		if c, err := pgx.Connect(ctx, url); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	return out[0], out[1]
}

// faults is the Kaleyra in front of the sandbox: about 20 % of sends get
// a fault — WA500, a hang past the client's timeout (accepted or not), or
// a reset (before or after Kaleyra accepted).
type faults struct {
	next http.Handler
	mu   sync.Mutex
	rng  *rand.Rand
	n    map[string]*atomic.Int64
}

func (f *faults) roll() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64()
}

func (f *faults) count(k string) { f.n[k].Add(1) }

func reset(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch x := f.roll(); {
	case x < 0.05:
		f.count("wa500")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"code":"WA500","message":"Internal Server Error."}`)
	case x < 0.075:
		f.count("hang_unaccepted")
		time.Sleep(600 * time.Millisecond)
		reset(w)
	case x < 0.10:
		f.count("hang_accepted")
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		time.Sleep(600 * time.Millisecond)
		reset(w)
	case x < 0.15:
		f.count("reset_before")
		reset(w)
	case x < 0.20:
		f.count("reset_after")
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		reset(w)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// TestPropertyAtMostOnce: 1,000 orders, each order callback delivered twice;
// two instances (two stores and notifiers on one PostgreSQL schema) with
// crash rounds (a notifier abandoned mid-send via its context, its leases
// left to expire); 20 % of sends faulted; every status callback delivered
// twice, to either instance. The sandbox's record of accepted sends is the
// judge: at most one per (order, status), and every intent final.
func TestPropertyAtMostOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("the property test takes a minute")
	}
	const orders = 1000
	stA, stB := openPostgresPair(t)
	ctx := context.Background()
	settings := notify.FromStatuses([]string{"pending"})
	type inst struct {
		st  store.Store
		in  *intake.Intake
		set *notify.SettingsSource
	}
	var insts []*inst
	for _, st := range []store.Store{stA, stB} {
		set := notify.NewSettingsSource(settings, st)
		ints := &notify.Intents{Settings: set}
		in := intake.New(st, intake.Config{Outbound: &intake.OutboundHook{Store: st, Apply: ints.InboundHook(&events.Builder{}, nil)}})
		in.Start()
		t.Cleanup(func() { _ = in.Stop(context.Background()) })
		insts = append(insts, &inst{st: st, in: in, set: set})
	}
	rng := rand.New(rand.NewPCG(15, 2026))
	var rmu sync.Mutex
	pick := func(n int) int { rmu.Lock(); defer rmu.Unlock(); return rng.IntN(n) }

	var dupCallbacks atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		for range 2 { // every callback twice, to either instance
			dupCallbacks.Add(1)
			in := insts[pick(2)].in
			if _, err := in.Process(r.Context(), intake.Request{ID: events.Default.New(), Endpoint: "kaleyra", Body: b}); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
	}))
	t.Cleanup(receiver.Close)
	sb, err := sandbox.New(sandbox.Config{SID: sid, APIKey: apiKey, Sender: sender, CallbackURL: receiver.URL,
		Statuses: []string{"sent", "read"}, StatusDelay: 5 * time.Millisecond, CallbackRetryDelay: 50 * time.Millisecond, CallbackAttempts: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	f := &faults{next: sb.Handler(), rng: rand.New(rand.NewPCG(1, 20)), n: map[string]*atomic.Int64{}}
	for _, k := range []string{"wa500", "hang_unaccepted", "hang_accepted", "reset_before", "reset_after"} {
		f.n[k] = new(atomic.Int64)
	}
	kal := httptest.NewServer(f)
	t.Cleanup(kal.Close)

	// Orders in, each callback twice, alternating instances.
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := testkit.Kaleyra(testkit.Order(fmt.Sprintf("wamid.PROP%05d", i)).At(time.Now())).Bytes()
				for k := range 2 {
					if _, err := insts[(i+k)%2].in.Process(ctx, intake.Request{ID: events.Default.New(), Endpoint: "kaleyra", Body: body}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}

	// Two instances' notifiers, with crash rounds.
	var crashes atomic.Int64
	var stats []*notify.Notifier
	var smu sync.Mutex
	stop := make(chan struct{})
	var nwg sync.WaitGroup
	for i, in := range insts {
		nwg.Add(1)
		go func() {
			defer nwg.Done()
			for round := 0; ; round++ {
				cl, err := kaleyra.New(kaleyra.Config{BaseURL: kal.URL, SID: sid, APIKey: apiKey, Sender: sender, Timeout: 300 * time.Millisecond})
				if err != nil {
					t.Error(err)
					return
				}
				n := notify.New(notify.Config{Store: in.st, Senders: []notify.Sender{{Client: cl}}, Settings: in.set,
					Owner: fmt.Sprintf("inst%d-round%d", i, round), Concurrency: 8, Lease: 1500 * time.Millisecond,
					Reconcile: 3 * time.Second, WA500: []time.Duration{30 * time.Millisecond, 60 * time.Millisecond, 90 * time.Millisecond},
					NotSent: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 160 * time.Millisecond, 320 * time.Millisecond},
					Poll:    50 * time.Millisecond, Events: &events.Builder{}})
				smu.Lock()
				stats = append(stats, n)
				smu.Unlock()
				rctx, cancel := context.WithCancel(context.Background())
				if err := n.Start(rctx); err != nil {
					t.Error(err)
				}
				crash := round < 8
				select {
				case <-stop:
					_ = n.Stop(context.Background())
					cancel()
					return
				case <-time.After(time.Duration(300+pick(500)) * time.Millisecond):
				}
				if crash {
					crashes.Add(1)
					cancel() // abandon sends in flight, as a kill would
					_ = n.Stop(context.Background())
					continue
				}
				select {
				case <-stop:
				case <-time.After(time.Hour):
				}
				_ = n.Stop(context.Background())
				cancel()
				return
			}
		}()
	}
	for i := range orders {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	// Every intent ends final.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		open := 0
		for _, s := range []string{store.OutboundQueued, store.OutboundSending, store.OutboundRetry, store.OutboundAmbiguous} {
			p, err := stA.ListOutbound(ctx, store.ListOutboundParams{State: s, Limit: store.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			open += len(p.Messages)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d intents not final", open)
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	nwg.Wait()

	var all []*store.OutboundMessage
	cursor := ""
	for {
		p, err := stA.ListOutbound(ctx, store.ListOutboundParams{Cursor: cursor, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Messages...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) != orders {
		t.Fatalf("%d intents for %d orders", len(all), orders)
	}
	counts, reasons := map[string]int{}, map[string]int{}
	resentAccepted, seen := 0, map[string]bool{}
	for _, m := range all {
		if seen[m.OrderID] {
			t.Fatalf("two intents for %s", m.OrderID)
		}
		seen[m.OrderID] = true
		r := store.OutboundRefs(m)
		acc := sb.Accepted(r.Ref, r.Ref1, r.Ref2)
		if acc > 1 {
			t.Errorf("%s (%s): %d accepted sends", m.ID, m.OrderID, acc)
		}
		if m.State == store.OutboundAccepted && acc != 1 {
			t.Errorf("%s accepted here but %d accepted by Kaleyra", m.ID, acc)
		}
		if !store.OutboundFinal(m.State) {
			t.Errorf("%s not final: %s", m.ID, m.State)
		}
		counts[m.State]++
		reasons[m.State+":"+m.Reason]++
		if m.State == store.OutboundAccepted && m.Resends > 0 {
			resentAccepted++
		}
	}
	var fs []string
	for k, v := range f.n {
		fs = append(fs, fmt.Sprintf("%s=%d", k, v.Load()))
	}
	var leaseLost, ambiguous, retried int64
	for _, n := range stats {
		leaseLost += n.Stats.LeaseLost.Load()
		ambiguous += n.Stats.Ambiguous.Load()
		retried += n.Stats.Retried.Load()
	}
	t.Logf("orders=%d requests=%d faults{%s} crash_rounds=%d callbacks_processed=%d", orders, sb.Requests()+int(f.n["wa500"].Load()+f.n["hang_unaccepted"].Load()+f.n["reset_before"].Load()),
		strings.Join(fs, " "), crashes.Load(), dupCallbacks.Load())
	t.Logf("RESULT sent=%d resent_after_ambiguity=%d given_up=%d (by reason: %v) ambiguous_events=%d retries=%d lease_lost=%d",
		counts[store.OutboundAccepted], resentAccepted, counts[store.OutboundFailed], reasons, ambiguous, retried, leaseLost)
}

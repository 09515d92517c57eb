package intake

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
)

// newTestIntake returns a started intake on a real SQLite store in a temp dir.
func newTestIntake(t *testing.T, st Store, cfg Config) *Intake {
	t.Helper()
	if st == nil {
		st = openSQLite(t)
	}
	in := New(st, cfg)
	in.Start()
	t.Cleanup(func() { _ = in.Stop(context.Background()) })
	return in
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func seedBody(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../callback/testdata/kaleyra_seed.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// orderBody is a Kaleyra order callback with one one-line order message
// per id; quantity and price are JSON number texts.
func orderBody(ids []string, quantity, price string) []byte {
	var msgs []*testkit.Message
	for _, id := range ids {
		msgs = append(msgs, orderMsg(id, quantity, price))
	}
	return testkit.Kaleyra(msgs...).Refs("r", "campaign-a", "").Bytes()
}

func orderMsg(id, quantity, price string) *testkit.Message {
	return testkit.Order(id).Name("Buyer").RawItem(`"sku"`, quantity, price, `"INR"`)
}

func process(t *testing.T, in *Intake, id string, body []byte) (*Result, error) {
	t.Helper()
	return in.Process(context.Background(), Request{ID: id, Endpoint: "kaleyra", Body: body})
}

func TestProcessSeedStoresOrder(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	res, err := process(t, in, "req-1", seedBody(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 || res.Messages[0].Result != store.Stored {
		t.Fatalf("messages = %+v, want one stored", res.Messages)
	}
	if len(res.Messages[0].Warnings) != 1 || res.Messages[0].Warnings[0].Code != callback.CodeInvalidTimestamp {
		t.Errorf("warnings = %+v, want one invalid_timestamp", res.Messages[0].Warnings)
	}
	o, err := st.GetOrder(context.Background(), res.Messages[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Totals) != 1 || o.Totals[0].Minor != 360000 || o.Totals[0].Currency != "INR" {
		t.Errorf("totals = %+v, want 360000 INR", o.Totals)
	}
	if o.Campaign.Ref1 != "shoes campaign" || o.Campaign.Ref2 != "summer sale campaign" {
		t.Errorf("campaign = %+v", o.Campaign)
	}
	if o.Status != waorders.OrderPending || o.Version != 1 {
		t.Errorf("status %s version %d, want pending 1", o.Status, o.Version)
	}
	// The timestamp was unparseable: the order falls back to the time of receipt.
	if !o.OrderedAt.Equal(o.ReceivedAt) {
		t.Errorf("ordered_at %v, want received_at %v", o.OrderedAt, o.ReceivedAt)
	}
}

func TestDuplicateCallbackCreatesNothing(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	body := orderBody([]string{"wamid.A"}, "1", "10")
	for i, want := range []store.Outcome{store.Stored, store.Duplicate, store.Duplicate} {
		res, err := process(t, in, fmt.Sprintf("req-%d", i), body)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Messages[0].Result; got != want {
			t.Fatalf("delivery %d: %s, want %s", i, got, want)
		}
	}
	page, err := st.ListOrders(context.Background(), store.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 1 {
		t.Errorf("%d orders, want 1", len(page.Orders))
	}
}

func TestConcurrentCallbacksCreateOneOrder(t *testing.T) {
	t.Parallel()
	for _, writers := range []int{1, 4} {
		t.Run(fmt.Sprintf("Writers%d", writers), func(t *testing.T) { t.Parallel(); testConcurrentCallbacks(t, writers) })
	}
}

func testConcurrentCallbacks(t *testing.T, writers int) {
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{Writers: writers})
	body := orderBody([]string{"wamid.SAME"}, "2", "1600")
	var wg sync.WaitGroup
	results := make([]store.Outcome, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			res, err := process(t, in, fmt.Sprintf("req-%d", i), body)
			errs[i] = err
			if err == nil {
				results[i] = res.Messages[0].Result
			}
		})
	}
	wg.Wait()
	stored := 0
	for i := range 10 {
		if errs[i] != nil {
			t.Fatalf("delivery %d: %v", i, errs[i])
		}
		if results[i] == store.Stored {
			stored++
		} else if results[i] != store.Duplicate {
			t.Errorf("delivery %d: %s", i, results[i])
		}
	}
	if stored != 1 {
		t.Errorf("%d deliveries stored, want exactly 1", stored)
	}
	page, err := st.ListOrders(context.Background(), store.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 1 || page.Orders[0].Totals[0].Minor != 320000 {
		t.Errorf("orders = %d, want 1 of 3200.00 INR", len(page.Orders))
	}
}

func TestUndecodableBodyIsQuarantined(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	for _, tc := range []struct {
		name, body, code string
	}{
		{"NotJSON", `{"meta_object": `, callback.CodeInvalidJSON},
		{"UnknownEnvelope", `{"hello": "world"}`, callback.CodeUnknownEnvelope},
		{"Empty", ``, callback.CodeEmptyBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := process(t, in, "req-"+tc.name, []byte(tc.body))
			var rej *RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("err = %v, want *RejectedError", err)
			}
			if rej.Decode.Code != tc.code || rej.QuarantineID == 0 {
				t.Fatalf("code %q quarantine %d, want %q and an id", rej.Decode.Code, rej.QuarantineID, tc.code)
			}
			q, err := st.GetQuarantine(context.Background(), rej.QuarantineID)
			if err != nil {
				t.Fatal(err)
			}
			if string(q.Body) != tc.body || q.Kind != waorders.QuarantineBody || q.Reason != tc.code {
				t.Errorf("quarantine = kind %s reason %s body %q", q.Kind, q.Reason, q.Body)
			}
		})
	}
}

func TestUnusableMessageQuarantinedOthersStored(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	// Two messages: one good order, one order without lines (a line with
	// problems would make an order that needs review instead).
	body := testkit.Kaleyra(orderMsg("wamid.GOOD", "1", "10"), testkit.Order("wamid.BAD").RawItems()).Bytes()
	res, err := process(t, in, "req-1", body)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 2 {
		t.Fatalf("got %d message results, want 2", len(res.Messages))
	}
	if res.Messages[0].Result != store.Stored {
		t.Errorf("good message: %s", res.Messages[0].Result)
	}
	bad := res.Messages[1]
	if bad.Result != store.Quarantined || bad.QuarantineID == 0 || len(bad.Errors) == 0 || bad.Errors[0].Code != callback.CodeNoItems {
		t.Fatalf("bad message = %+v, want quarantined with no_items", bad)
	}
	if _, err := st.GetOrder(context.Background(), "wamid.BAD"); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Errorf("bad order stored: err = %v", err)
	}
	// A redelivery quarantines nothing new.
	res2, err := process(t, in, "req-2", body)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Messages[1].QuarantineID != bad.QuarantineID || res2.Messages[0].Result != store.Duplicate {
		t.Errorf("redelivery = %+v", res2.Messages)
	}
	// Retrying with the same decoder keeps it quarantined and counts the attempt.
	rr, err := in.Retry(context.Background(), bad.QuarantineID)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Resolved || rr.Entry.Attempts != 1 {
		t.Errorf("retry: resolved %v attempts %d, want false 1", rr.Resolved, rr.Entry.Attempts)
	}
}

func TestRetryResolvesWhatNowDecodes(t *testing.T) {
	t.Parallel()
	// A message quarantined by an older decoder: here, an entry whose body
	// decodes fine today. Retry stores it and resolves the entry.
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	body := orderBody([]string{"wamid.LATE"}, "3", "5")
	res, err := st.WriteInbound(context.Background(), []*store.Inbound{{
		Quarantine: []*waorders.QuarantineEntry{{
			Kind: waorders.QuarantineMessage, CallbackID: "old-req", MessageID: "wamid.LATE", Envelope: "kaleyra",
			Reason: "unknown_currency", Message: "old decoder", Body: body, ReceivedAt: in.Now(),
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := res[0].Quarantine[0].ID
	rr, err := in.Retry(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Resolved || rr.Entry.ResolvedAt.IsZero() {
		t.Fatalf("retry: resolved %v, entry %+v", rr.Resolved, rr.Entry)
	}
	o, err := st.GetOrder(context.Background(), "wamid.LATE")
	if err != nil {
		t.Fatal(err)
	}
	if o.Totals[0].Minor != 1500 {
		t.Errorf("total %d, want 1500", o.Totals[0].Minor)
	}
}

func TestStorageFailureAcknowledgesNothing(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := process(t, in, "req-1", orderBody([]string{"wamid.X"}, "1", "1"))
	if waorders.ErrorCode(err) != waorders.CodeUnavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
}

func TestStopWritesQueuedThenRefuses(t *testing.T) {
	t.Parallel()
	for _, writers := range []int{1, 3} {
		t.Run(fmt.Sprintf("Writers%d", writers), func(t *testing.T) { t.Parallel(); testStop(t, writers) })
	}
}

func testStop(t *testing.T, writers int) {
	st := openSQLite(t)
	in := New(st, Config{Writers: writers})
	in.Start()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			_, errs[i] = process(t, in, fmt.Sprintf("req-%d", i), orderBody([]string{fmt.Sprintf("wamid.%d", i)}, "1", "1"))
		})
	}
	wg.Wait()
	if err := in.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
	}
	if _, err := process(t, in, "late", orderBody([]string{"wamid.late"}, "1", "1")); !errors.Is(err, ErrStopped) {
		t.Errorf("after Stop: err = %v, want ErrStopped", err)
	}
	page, err := st.ListOrders(context.Background(), store.ListOrdersParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 20 {
		t.Errorf("%d orders stored, want 20", len(page.Orders))
	}
}

// gatedStore wraps the real store, as the narrow Store the intake takes,
// to hold the first commit until released, so the test can see what queues
// up behind it.
type gatedStore struct {
	Store
	gate  chan struct{}
	mu    sync.Mutex
	sizes []int
}

func (g *gatedStore) WriteInbound(ctx context.Context, ds []*store.Inbound) ([]store.InboundResult, error) {
	g.mu.Lock()
	first := len(g.sizes) == 0
	g.sizes = append(g.sizes, len(ds))
	g.mu.Unlock()
	if first {
		<-g.gate
	}
	return g.Store.WriteInbound(ctx, ds)
}

func TestGroupCommitBatchesQueuedCallbacks(t *testing.T) {
	t.Parallel()
	g := &gatedStore{Store: openSQLite(t), gate: make(chan struct{})}
	in := newTestIntake(t, g, Config{MaxBatch: 32})
	const n = 41 // 1 held + 32 + 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	wg.Go(func() { _, errs[0] = process(t, in, "req-0", orderBody([]string{"wamid.0"}, "1", "1")) })
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.sizes) == 1 })
	for i := 1; i < n; i++ {
		wg.Go(func() {
			_, errs[i] = process(t, in, fmt.Sprintf("req-%d", i), orderBody([]string{fmt.Sprintf("wamid.%d", i)}, "1", "1"))
		})
	}
	waitFor(t, func() bool { return len(in.queue) == n-1 })
	close(g.gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if fmt.Sprint(g.sizes) != "[1 32 8]" {
		t.Errorf("commit batch sizes = %v, want [1 32 8]", g.sizes)
	}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStoreRejectionIsQuarantinedNotRetried(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	in := newTestIntake(t, st, Config{})
	// A decoder bug would hand the store an order whose totals are not the
	// sum of its lines; the store refuses it as invalid.
	req := &Request{ID: "req-bad-totals", Body: orderBody([]string{"wamid.T"}, "1", "10"), ReceivedAt: in.Now()}
	cb, err := callback.Decode(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := build(req, cb)
	d.Messages[0].Order.Totals[0].Minor++
	_, err = in.write(context.Background(), d)
	var rej *RejectedError
	if !errors.As(err, &rej) || rej.Decode.Code != CodeRejectedByStore || rej.QuarantineID == 0 {
		t.Fatalf("err = %v, want a rejection with a quarantine id", err)
	}
	q, err := st.GetQuarantine(context.Background(), rej.QuarantineID)
	if err != nil {
		t.Fatal(err)
	}
	if string(q.Body) != string(req.Body) || q.Reason != CodeRejectedByStore {
		t.Errorf("quarantine = reason %s body %q", q.Reason, q.Body)
	}
}

// An order with unusable lines is stored in needs_review with each problem
// on its line, not quarantined; a lower-case currency is read as the code
// with a warning.
func TestOrderWithBadLinesNeedsReview(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	m := metrics.New()
	in := newTestIntake(t, st, Config{Metrics: m})
	body := testkit.Kaleyra(
		testkit.Order("wamid.CART").RawItem(`"shirt"`, "2", "1600", `"INR"`).RawItem(`"pant"`, "0", "2000", `"INR"`),
		testkit.Order("wamid.YEN").RawItem(`"tea"`, "1", "1500.50", `"JPY"`).RawItem(`"cup"`, "1", "300", `"JPY"`),
		testkit.Order("wamid.LOWER").RawItem(`"shirt"`, "1", "10", `"inr"`),
	).Bytes()
	res, err := process(t, in, "req-1", body)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Messages {
		if m.Result != store.Stored || m.QuarantineID != 0 {
			t.Errorf("%s: %s (quarantine %d), want stored", m.ID, m.Result, m.QuarantineID)
		}
	}
	cart, err := st.GetOrder(context.Background(), "wamid.CART")
	if err != nil {
		t.Fatal(err)
	}
	if cart.Status != waorders.OrderNeedsReview || cart.Items[0].Problems != nil || len(cart.Items[1].Problems) != 1 ||
		cart.Items[1].Problems[0].Code != callback.CodeInvalidQuantity || cart.Items[1].RawQuantity != "0" {
		t.Errorf("cart = %s %+v", cart.Status, cart.Items)
	}
	if len(cart.Totals) != 1 || cart.Totals[0].Minor != 320000 {
		t.Errorf("cart totals %v, want the shirt line's INR 3200.00", cart.Totals)
	}
	yen, err := st.GetOrder(context.Background(), "wamid.YEN")
	if err != nil {
		t.Fatal(err)
	}
	if yen.Status != waorders.OrderNeedsReview || yen.Items[0].Problems[0].Code != callback.CodeTooPrecise || yen.Items[0].RawPrice != "1500.50" {
		t.Errorf("yen = %s %+v", yen.Status, yen.Items)
	}
	lower, err := st.GetOrder(context.Background(), "wamid.LOWER")
	if err != nil {
		t.Fatal(err)
	}
	if lower.Status != waorders.OrderPending || lower.Totals[0].Currency != "INR" || lower.Items[0].RawCurrency != "inr" ||
		len(lower.Warnings) != 1 || lower.Warnings[0].Code != callback.CodeCurrencyCase {
		t.Errorf("lower = %s %v %+v warnings %+v", lower.Status, lower.Totals, lower.Items, lower.Warnings)
	}
	page, err := st.ListQuarantine(context.Background(), store.ListQuarantineParams{})
	if err != nil || len(page.Entries) != 0 {
		t.Errorf("quarantine = %+v, %v; want empty", page, err)
	}
	// Two orders wait for review; a redelivery of the callback adds none.
	if _, err := process(t, in, "req-2", body); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.NeedsReview); got != 2 {
		t.Errorf("waorders_orders_needs_review_total = %v after the callback and its redelivery, want 2", got)
	}
}

// fakeRider records its rides and what their transactions came to.
type fakeRider struct {
	mu        sync.Mutex
	rides     int
	batches   []int
	committed []bool
}

func (r *fakeRider) Ride(ctx context.Context, tx store.Tx, batch int) func(bool) {
	r.mu.Lock()
	r.rides++
	r.batches = append(r.batches, batch)
	r.mu.Unlock()
	return func(ok bool) {
		r.mu.Lock()
		r.committed = append(r.committed, ok)
		r.mu.Unlock()
	}
}

func TestRiderRidesEachGroupCommitAndLearnsItsOutcome(t *testing.T) {
	t.Parallel()
	st := openSQLite(t)
	rd := &fakeRider{}
	in := newTestIntake(t, st, Config{Events: &EventLog{Store: st, Builder: &events.Builder{}, Rider: rd}})
	if _, err := process(t, in, "req-1", orderBody([]string{"wamid.RIDE1"}, "1", "10")); err != nil {
		t.Fatal(err)
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.rides != 1 || fmt.Sprint(rd.committed) != "[true]" || fmt.Sprint(rd.batches) != "[1]" {
		t.Fatalf("rides %d of batches %v, outcomes %v; want 1 ride of 1 callback told it committed", rd.rides, rd.batches, rd.committed)
	}
}

package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/notify"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/kaleyra"
)

const (
	sid    = "HXNOTIFYTEST01IN"
	apiKey = "notify-test-key"
	sender = "+919800000001"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one instance: a store, its intake (with the notification hook,
// fed the sandbox's callbacks), a sandbox and a notifier.
type env struct {
	t     *testing.T
	st    store.Store
	in    *intake.Intake
	sb    *sandbox.Sandbox
	n     *notify.Notifier
	clk   *clock
	set   *notify.SettingsSource
	ints  *notify.Intents
	cbSrv *httptest.Server

	resultsMu sync.Mutex
	results   map[string]int // what OnResult was told
}

// result is how many times OnResult was told r.
func (e *env) result(r string) int {
	e.resultsMu.Lock()
	defer e.resultsMu.Unlock()
	return e.results[r]
}

type opts struct {
	settings  notify.Settings
	callbacks bool
	timeout   time.Duration
	reconcile time.Duration
	store     store.Store
}

func openSQLite(t *testing.T) store.Store { return openSQLiteTB(t) }

func openSQLiteTB(t testing.TB) store.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEnv(t *testing.T, o opts) *env {
	t.Helper()
	e := &env{t: t, clk: &clock{t: time.Now().UTC().Truncate(time.Second)}}
	e.st = o.store
	if e.st == nil {
		e.st = openSQLite(t)
	}
	if o.settings.Statuses == nil {
		o.settings = notify.FromStatuses([]string{"pending", "shipped"})
	}
	e.set = notify.NewSettingsSource(o.settings, e.st)
	e.ints = &notify.Intents{Settings: e.set, Now: e.clk.Now}
	e.in = intake.New(e.st, intake.Config{Outbound: &intake.OutboundHook{Store: e.st, Apply: e.ints.InboundHook(&events.Builder{}, nil)}})
	e.in.Start()
	t.Cleanup(func() { _ = e.in.Stop(context.Background()) })
	cfg := sandbox.Config{SID: sid, APIKey: apiKey, Sender: sender, StatusDelay: 10 * time.Millisecond, CallbackRetryDelay: 20 * time.Millisecond}
	if o.callbacks {
		e.cbSrv = httptest.NewServer(http.HandlerFunc(e.callback))
		t.Cleanup(e.cbSrv.Close)
		cfg.CallbackURL = e.cbSrv.URL
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	e.sb = sb
	if o.timeout == 0 {
		o.timeout = 2 * time.Second
	}
	if o.reconcile == 0 {
		o.reconcile = 10 * time.Minute
	}
	cl, err := kaleyra.New(kaleyra.Config{BaseURL: sb.URL(), SID: sid, APIKey: apiKey, Sender: sender, Timeout: o.timeout})
	if err != nil {
		t.Fatal(err)
	}
	e.n = notify.New(notify.Config{Store: e.st, Senders: []notify.Sender{{Client: cl}}, Settings: e.set, Owner: "test",
		Reconcile: o.reconcile, Now: e.clk.Now, Rand: func() float64 { return 0.5 }, Lease: time.Minute,
		OnResult: func(r string) {
			e.resultsMu.Lock()
			defer e.resultsMu.Unlock()
			if e.results == nil {
				e.results = map[string]int{}
			}
			e.results[r]++
		}})
	return e
}

// callback feeds a status callback to the intake, as POST
// /v1/callbacks/kaleyra does.
func (e *env) callback(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if _, err := e.in.Process(r.Context(), intake.Request{ID: events.Default.New(), Endpoint: "kaleyra", Body: b}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(200)
}

// order posts an order callback whose message is at `at`.
func (e *env) order(id string, at time.Time) {
	e.t.Helper()
	body := testkit.Kaleyra(testkit.Order(id).At(at)).Bytes()
	if _, err := e.in.Process(context.Background(), intake.Request{ID: events.Default.New(), Endpoint: "kaleyra", Body: body}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) run() int {
	e.t.Helper()
	n, err := e.n.RunOnce(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) only(orderID string) *store.OutboundMessage {
	e.t.Helper()
	p, err := e.st.ListOutbound(context.Background(), store.ListOutboundParams{OrderID: orderID})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(p.Messages) != 1 {
		e.t.Fatalf("%d outbound messages for %s, want 1", len(p.Messages), orderID)
	}
	return p.Messages[0]
}

func (e *env) accepted(m *store.OutboundMessage) int {
	r := store.OutboundRefs(m)
	return e.sb.Accepted(r.Ref, r.Ref1, r.Ref2)
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTextReplyInWindowAndDeliveryStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{callbacks: true})
	e.clk.t = time.Now().UTC()
	e.order("wamid.ORDER1", e.clk.Now().Add(-time.Minute))
	e.order("wamid.ORDER1", e.clk.Now().Add(-time.Minute)) // redelivered: still one intent
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d", n)
	}
	m := e.only("wamid.ORDER1")
	if m.State != store.OutboundAccepted || m.WAMID == "" || m.SentKind != "text" {
		t.Fatalf("after send: %+v", m)
	}
	sends := e.sb.Sends()
	if len(sends) != 1 || sends[0].ReplyTo != "wamid.ORDER1" || sends[0].Ref2 != m.ID || sends[0].Ref != "waorders" || sends[0].Ref1 != "notify" {
		t.Fatalf("sends: %+v", sends)
	}
	var body struct {
		MO struct {
			Text struct{ Body string } `json:"text"`
		} `json:"messaging_object"`
	}
	_ = json.Unmarshal(sends[0].Body, &body)
	if !strings.Contains(body.MO.Text.Body, notify.ShortID("wamid.ORDER1")) || !strings.Contains(body.MO.Text.Body, "₹") {
		t.Fatalf("text %q", body.MO.Text.Body)
	}
	eventually(t, "read", func() bool {
		m, _ := e.st.GetOutbound(context.Background(), m.ID)
		return m.DeliveryState == "read"
	})
}

func TestWindowRule(t *testing.T) {
	t.Parallel()
	tpl := notify.Settings{Statuses: map[waorders.OrderStatus]notify.StatusSetting{
		"pending": {Enabled: true, Template: &notify.TemplateSetting{Name: "order_received", Language: "en", Params: []string{"{{.Short}}", "{{.Total}}"}}},
	}}
	for _, tc := range []struct {
		name     string
		settings notify.Settings
		age      time.Duration
		state    string
		kind     string
	}{
		{"open", notify.Settings{}, 23 * time.Hour, store.OutboundAccepted, "text"},
		{"margin", notify.Settings{}, 24*time.Hour - 4*time.Minute, store.OutboundSkipped, ""},
		{"closed without template", notify.Settings{}, 25 * time.Hour, store.OutboundSkipped, ""},
		{"closed with template", tpl, 25 * time.Hour, store.OutboundAccepted, "template"},
		{"open with template sends text", tpl, time.Hour, store.OutboundAccepted, "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, opts{settings: tc.settings})
			e.order("wamid.W", e.clk.Now().Add(-tc.age))
			e.run()
			m := e.only("wamid.W")
			if m.State != tc.state || m.SentKind != tc.kind {
				t.Fatalf("state %s kind %q reason %q", m.State, m.SentKind, m.Reason)
			}
			if tc.state == store.OutboundSkipped && (m.Reason != notify.SkipWindowClosed || e.sb.Requests() != 0) {
				t.Fatalf("skipped: reason %q, %d requests", m.Reason, e.sb.Requests())
			}
			if tc.kind == "template" && !strings.Contains(string(e.sb.Sends()[0].Body), `"order_received"`) {
				t.Fatalf("template body %s", e.sb.Sends()[0].Body)
			}
		})
	}
}

// A later inbound message reopens the window.
func TestWindowFromLastInboundMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{})
	e.order("wamid.W", e.clk.Now().Add(-48*time.Hour))
	body := testkit.Kaleyra(testkit.Text("wamid.HI", "hello?").At(e.clk.Now().Add(-time.Hour))).Bytes()
	if _, err := e.in.Process(context.Background(), intake.Request{ID: "r1", Endpoint: "kaleyra", Body: body}); err != nil {
		t.Fatal(err)
	}
	e.run()
	if m := e.only("wamid.W"); m.State != store.OutboundAccepted {
		t.Fatalf("%+v", m)
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	for _, ci := range kaleyra.Codes() {
		t.Run(ci.Code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, opts{})
			e.order("wamid.E", e.clk.Now())
			e.sb.FailNext(ci.Code, 1)
			e.run()
			m := e.only("wamid.E")
			ctx := context.Background()
			paused, _ := e.st.PausedSenders(ctx, e.clk.Now())
			switch ci.Action {
			case kaleyra.Pause:
				if m.State != store.OutboundQueued || m.Attempts != 0 || len(paused) != 1 || paused[0].Reason != ci.Code {
					t.Fatalf("pause: %+v %+v", m, paused)
				}
				if got := e.result("paused"); got != 1 {
					t.Errorf("OnResult told paused %d times, want 1 (waorders_notifications_total feeds alerts on it)", got)
				}
				if ci.Code == kaleyra.CodeDailyLimit && !paused[0].Until.Equal(e.clk.Now().Truncate(24*time.Hour).Add(24*time.Hour)) {
					t.Fatalf("WAV2101 until %v", paused[0].Until)
				}
				// Paused: nothing is claimed, no attempt burnt.
				if n := e.run(); n != 0 {
					t.Fatalf("claimed %d while paused", n)
				}
				if err := e.st.ResumeSender(ctx, m.PhoneNumberID); err != nil {
					t.Fatal(err)
				}
				e.run()
				if m := e.only("wamid.E"); m.State != store.OutboundAccepted || m.Attempts != 1 {
					t.Fatalf("after resume: %+v", m)
				}
				if got := e.result("accepted"); got != 1 {
					t.Errorf("OnResult told accepted %d times, want 1", got)
				}
			case kaleyra.Retry:
				if m.State != store.OutboundRetry || m.Failures != 1 || !m.NextAttemptAt.Equal(e.clk.Now().Add(5*time.Minute)) {
					t.Fatalf("retry: %+v", m)
				}
			case kaleyra.GiveUp:
				if m.State != store.OutboundFailed || m.Reason != ci.Code || len(paused) != 0 {
					t.Fatalf("give up: %+v", m)
				}
			}
		})
	}
}

// WA500: Kaleyra's advice, retries 5, 10 and 15 minutes apart, then give up.
func TestWA500AdviceThenGiveUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{})
	e.order("wamid.E", e.clk.Now())
	e.sb.FailNext("WA500", 4)
	e.run()
	for i, d := range []time.Duration{5 * time.Minute, 10 * time.Minute, 15 * time.Minute} {
		m := e.only("wamid.E")
		if m.State != store.OutboundRetry || !m.NextAttemptAt.Equal(e.clk.Now().Add(d)) {
			t.Fatalf("retry %d: %+v", i, m)
		}
		e.clk.Add(d - time.Second)
		if n := e.run(); n != 0 {
			t.Fatal("retried early")
		}
		e.clk.Add(time.Second)
		e.run()
	}
	m := e.only("wamid.E")
	if m.State != store.OutboundFailed || m.Reason != "WA500" || m.Failures != 4 || e.sb.Requests() != 4 {
		t.Fatalf("%+v, %d requests", m, e.sb.Requests())
	}
}

// The request was written and the connection dropped: the status callback
// carrying the refs settles it, no second send.
func TestAmbiguousSettledByCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{callbacks: true})
	e.order("wamid.A", e.clk.Now())
	e.sb.DropAfterWrite(1)
	e.run()
	id := e.only("wamid.A").ID
	eventually(t, "accepted by the callback", func() bool {
		m, _ := e.st.GetOutbound(context.Background(), id)
		return m.State == store.OutboundAccepted && m.WAMID != ""
	})
	e.clk.Add(time.Hour)
	e.run()
	if m := e.only("wamid.A"); e.accepted(m) != 1 || m.Resends != 0 {
		t.Fatalf("accepted %d, resends %d", e.accepted(m), m.Resends)
	}
}

// A hang past the client's timeout is ambiguous too.
func TestHangSettledByCallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{callbacks: true, timeout: 200 * time.Millisecond})
	e.order("wamid.H", e.clk.Now())
	e.sb.Delay(time.Second)
	e.run()
	m := e.only("wamid.H")
	if m.State != store.OutboundAmbiguous && m.State != store.OutboundAccepted {
		t.Fatalf("%+v", m)
	}
	e.sb.Delay(0)
	eventually(t, "accepted", func() bool {
		m, _ := e.st.GetOutbound(context.Background(), m.ID)
		return m.State == store.OutboundAccepted
	})
	if e.accepted(m) != 1 {
		t.Fatal("sent twice")
	}
}

// No callback within the reconcile window: exactly one resend, same refs.
func TestAmbiguousNoCallbackResendsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{})
	e.order("wamid.A", e.clk.Now())
	e.sb.DropAfterWrite(2)
	e.run()
	m := e.only("wamid.A")
	if m.State != store.OutboundAmbiguous || !m.NextAttemptAt.Equal(e.clk.Now().Add(10*time.Minute)) {
		t.Fatalf("%+v", m)
	}
	e.clk.Add(10 * time.Minute)
	e.run() // the resend, ambiguous again
	m = e.only("wamid.A")
	if m.State != store.OutboundAmbiguous || m.Resends != 1 {
		t.Fatalf("after resend: %+v", m)
	}
	e.clk.Add(10 * time.Minute)
	e.run()
	m = e.only("wamid.A")
	if m.State != store.OutboundFailed || m.Reason != "no_callback" || e.sb.Requests() != 2 {
		t.Fatalf("give up: %+v, %d requests", m, e.sb.Requests())
	}
	sends := e.sb.Sends()
	if sends[0].Ref2 != sends[1].Ref2 || sends[0].Ref2 != m.ID {
		t.Fatalf("refs differ: %+v", sends)
	}
}

// A notifier abandoned mid-send (a crash): the lease expires, the row is
// ambiguous, and the callback settles it.
func TestCrashMidSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{callbacks: true})
	e.order("wamid.C", e.clk.Now())
	e.sb.Delay(5 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _, _ = e.n.RunOnce(ctx); close(done) }()
	eventually(t, "the send", func() bool { return len(e.sb.Sends()) == 1 })
	cancel()
	<-done
	e.sb.Delay(0)
	m := e.only("wamid.C")
	if m.State != store.OutboundSending && m.State != store.OutboundAccepted {
		t.Fatalf("after the crash: %+v", m)
	}
	e.clk.Add(2 * time.Minute) // the lease expires
	e.run()
	eventually(t, "accepted", func() bool {
		m, _ := e.st.GetOutbound(context.Background(), m.ID)
		return m.State == store.OutboundAccepted
	})
	e.clk.Add(time.Hour)
	e.run()
	if e.accepted(m) != 1 {
		t.Fatalf("accepted %d", e.accepted(m))
	}
}

func TestStatusChangeIntentAndNote(t *testing.T) {
	t.Parallel()
	e := newEnv(t, opts{settings: notify.Settings{Statuses: map[waorders.OrderStatus]notify.StatusSetting{
		"shipped": {Enabled: true, Text: "{{.Short}} shipped: {{range .Items}}{{.Quantity}}×{{.Product}} {{end}}— {{.Note}}"},
	}}})
	e.order("wamid.S", e.clk.Now())
	ctx := context.Background()
	for _, to := range []waorders.OrderStatus{"processing", "shipped"} {
		err := e.st.InTx(ctx, func(tx store.Tx) error {
			o, err := tx.UpdateOrderStatus(ctx, store.UpdateOrderStatusParams{ID: "wamid.S", To: to, Note: "AWB 123", Actor: "staff"})
			if err != nil {
				return err
			}
			if m := e.ints.ForOrder(o, "AWB 123", "staff"); m != nil {
				_, err = tx.CreateOutbound(ctx, m)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.run()
	m := e.only("wamid.S") // pending and processing are off
	if m.OrderStatus != "shipped" || m.State != store.OutboundAccepted {
		t.Fatalf("%+v", m)
	}
	want := fmt.Sprintf("%s shipped: 2×SKU-SHIRT-M 1×SKU-PANT-32 — AWB 123", notify.ShortID("wamid.S"))
	if !strings.Contains(string(e.sb.Sends()[0].Body), want) {
		t.Fatalf("body %s, want %q", e.sb.Sends()[0].Body, want)
	}
}

// Meta fails a text sent inside the window as stored with 131047 (the
// window had closed: a message waorders never saw, clocks): the status is
// sent again as its template, once, however often the failure arrives;
// without a template the failure is recorded and nothing more is sent.
func TestWindowClosedByMetaResendsTemplate(t *testing.T) {
	t.Parallel()
	tpl := notify.Settings{Statuses: map[waorders.OrderStatus]notify.StatusSetting{
		"pending": {Enabled: true, Template: &notify.TemplateSetting{Name: "order_received", Language: "en", Params: []string{"{{.Short}}"}}},
	}}
	for _, tc := range []struct {
		name     string
		settings notify.Settings
		code     int
		resend   bool
	}{
		{"template", tpl, notify.CodeWindowClosed, true},
		{"no template", notify.FromStatuses([]string{"pending"}), notify.CodeWindowClosed, false},
		{"another error", tpl, 131026, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, opts{settings: tc.settings, callbacks: true})
			e.clk.t = time.Now().UTC()
			e.sb.FailDelivery(tc.code, 1)
			e.order("wamid.LATE", e.clk.Now().Add(-time.Hour))
			e.run()
			first := e.only("wamid.LATE")
			// The row's SentKind can stay empty (the status callback may
			// accept the row before the finish lands): the sandbox says.
			if sends := e.sb.Sends(); len(sends) != 1 || !strings.Contains(string(sends[0].Body), `"type":"text"`) {
				t.Fatalf("first send: %+v", sends)
			}
			eventually(t, "the failed delivery", func() bool {
				m, _ := e.st.GetOutbound(context.Background(), first.ID)
				return m.DeliveryState == store.DeliveryStateFailed
			})
			// The same failure again (a provider's redelivery).
			failed := testkit.Kaleyra().Statuses(testkit.Failed(first.WAMID, int64(tc.code), "Re-engagement message", "24 hours passed")).Bytes()
			if _, err := e.in.Process(context.Background(), intake.Request{ID: events.Default.New(), Endpoint: "kaleyra", Body: failed}); err != nil {
				t.Fatal(err)
			}
			e.run()
			p, err := e.st.ListOutbound(context.Background(), store.ListOutboundParams{OrderID: "wamid.LATE"})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.resend {
				if len(p.Messages) != 1 || len(e.sb.Sends()) != 1 {
					t.Fatalf("%d messages, %d sends; want the failed text only", len(p.Messages), len(e.sb.Sends()))
				}
				return
			}
			if len(p.Messages) != 2 {
				t.Fatalf("%d outbound messages, want the text and one template resend", len(p.Messages))
			}
			var again *store.OutboundMessage
			for _, m := range p.Messages {
				if m.ID != first.ID {
					again = m
				}
			}
			if again.State != store.OutboundAccepted || again.SentKind != "template" || again.IntentKey != first.IntentKey+"/template" || again.OrderStatus != "pending" {
				t.Fatalf("resend: %+v", again)
			}
			sends := e.sb.Sends()
			if len(sends) != 2 || !strings.Contains(string(sends[1].Body), `"order_received"`) || sends[1].Ref2 != again.ID {
				t.Fatalf("sends: %d, last %s", len(sends), sends[len(sends)-1].Body)
			}
		})
	}
}

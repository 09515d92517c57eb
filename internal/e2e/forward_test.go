package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waorders/waorders/internal/loadgen"
	"github.com/waorders/waorders/internal/simulate"
	"github.com/waorders/waorders/internal/sink/webhook"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

var (
	flagForwardRounds = flag.Int("forward-rounds", 2, "TestForwardCrashKill9: kill -9 rounds per setup (the long form: 5)")
	flagForwardRate   = flag.Float64("forward-rate", 150, "TestForwardCrashKill9: callbacks per second of the load")
)

// hookReceiver is a brand's receiving server: it verifies every request
// with webhook.NewVerifier, counts webhook-ids (raw, and first arrivals),
// and records per order the versions of its order events in the order
// they first arrived. Its answer comes from script (nil: 204 at once).
type hookReceiver struct {
	srv      *httptest.Server
	verifier atomic.Pointer[webhook.Verifier]
	script   atomic.Pointer[func(ev receivedEvent, n int) (int, http.Header, time.Duration)]

	mu        sync.Mutex
	requests  map[string]int // webhook-id → requests (any answer)
	accepted  map[string]int // webhook-id → 2xx answers (raw deliveries)
	arrivals  map[string][]time.Time
	stamps    map[string][]string // webhook-id → webhook-timestamp per request
	versions  map[string][]int    // order id → versions, first arrivals only
	badSig    int
	badOrder  []string
	typesSeen map[string]int
}

// receivedEvent is what a test script sees of a request.
type receivedEvent struct {
	ID, Type string
	OrderID  string
	Version  int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{requests: map[string]int{}, accepted: map[string]int{}, arrivals: map[string][]time.Time{},
		stamps: map[string][]string{}, versions: map[string][]int{}, typesSeen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	v := r.verifier.Load()
	if v == nil || v.Verify(req.Header, body) != nil {
		r.mu.Lock()
		r.badSig++
		r.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var env struct {
		Type string `json:"type"`
		Data struct {
			ID      string `json:"id"`
			Version int    `json:"version"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	ev := receivedEvent{ID: req.Header.Get("webhook-id"), Type: env.Type}
	if strings.HasPrefix(env.Type, "order.") {
		ev.OrderID, ev.Version = env.Data.ID, env.Data.Version
	}
	r.mu.Lock()
	r.requests[ev.ID]++
	n := r.requests[ev.ID]
	r.arrivals[ev.ID] = append(r.arrivals[ev.ID], time.Now())
	r.stamps[ev.ID] = append(r.stamps[ev.ID], req.Header.Get("webhook-timestamp"))
	r.mu.Unlock()
	code, h, delay := http.StatusNoContent, http.Header(nil), time.Duration(0)
	if s := r.script.Load(); s != nil {
		code, h, delay = (*s)(ev, n)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	if code/100 == 2 {
		r.mu.Lock()
		r.accepted[ev.ID]++
		if r.accepted[ev.ID] == 1 {
			r.typesSeen[ev.Type]++
			if ev.OrderID != "" {
				vs := r.versions[ev.OrderID]
				if len(vs) > 0 && ev.Version <= vs[len(vs)-1] {
					r.badOrder = append(r.badOrder, fmt.Sprintf("order %s: version %d after %v", ev.OrderID, ev.Version, vs))
				}
				r.versions[ev.OrderID] = append(vs, ev.Version)
			}
		}
		r.mu.Unlock()
	}
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.WriteHeader(code)
}

func (r *hookReceiver) setScript(f func(ev receivedEvent, n int) (int, http.Header, time.Duration)) {
	r.script.Store(&f)
}

// unique returns the number of distinct accepted ids and the raw number
// of accepted requests.
func (r *hookReceiver) counts() (unique, raw int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.accepted {
		unique++
		raw += n
	}
	return unique, raw
}

// api sends a request to the server's /v1 API with the test token and
// decodes a 2xx JSON answer into out.
func (s *server) api(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, nil
}

// addHook creates an endpoint for the receiver and arms its verifier with
// the secret the creation returned.
func addHook(t *testing.T, s *server, r *hookReceiver, types ...string) string {
	t.Helper()
	var w wire.Webhook
	body := map[string]any{"url": r.srv.URL + "/hooks", "description": "e2e"}
	if len(types) > 0 {
		body["event_types"] = types
	}
	if _, err := s.api(http.MethodPost, "/v1/webhooks", body, &w); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.Secret, "whsec_") {
		t.Fatalf("created webhook without its secret: %+v", w)
	}
	v, err := webhook.NewVerifier(w.Secret)
	if err != nil {
		t.Fatal(err)
	}
	r.verifier.Store(v)
	return w.ID
}

// allEvents reads the whole event log through GET /v1/events.
func allEvents(t *testing.T, s *server) []wire.Event {
	t.Helper()
	var out []wire.Event
	cursor := ""
	for {
		q := url.Values{"limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page wire.EventList
		if _, err := s.api(http.MethodGet, "/v1/events?"+q.Encode(), nil, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Events...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// cli runs the waorders binary as a client command against s.
func cli(t *testing.T, s *server, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, append(args, "--url", s.url, "--api-token", testToken)...)
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("waorders %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func postOrder(t *testing.T, s *server, wamid string) {
	t.Helper()
	b := testkit.Kaleyra(testkit.Order(wamid).At(time.Now().UTC()).Item("SKU-TEA", 1, "500", "INR")).Bytes()
	ans, err := postCallback(context.Background(), s.client, s.url, b)
	if err != nil || ans.code != http.StatusOK {
		t.Fatalf("post order %s: %v %d %s", wamid, err, ans.code, ans.body)
	}
}

var forwardFlags = []string{"--webhook-allow-private", "--webhook-allow-http-hosts", "127.0.0.1", "--webhook-timeout", "1s"}

// TestForwardWebhookFaults runs serve (SQLite) with an endpoint whose
// receiver fails in each way the relay must survive: 500, 429 with
// Retry-After, a hang beyond the timeout, then 410; the endpoint is
// disabled and enabled again and its dead events replayed with the CLI.
// Every event arrives, with one webhook-id across its attempts, a fresh
// webhook-timestamp and a valid signature on each.
func TestForwardWebhookFaults(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t)
	s := startServe(t, append([]string{"--database-url", t.TempDir() + "/w.db"}, forwardFlags...)...)
	id := addHook(t, s, rcv, "order.created")
	gone := atomic.Bool{}
	rcv.setScript(func(ev receivedEvent, n int) (int, http.Header, time.Duration) {
		if gone.Load() && ev.OrderID == "wamid.GONE" {
			return http.StatusGone, nil, 0
		}
		if n > 1 {
			return http.StatusOK, nil, 0
		}
		switch ev.OrderID {
		case "wamid.F500":
			return http.StatusInternalServerError, nil, 0
		case "wamid.F429":
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"8"}}, 0
		case "wamid.HANG":
			return http.StatusOK, nil, 3 * time.Second // beyond --webhook-timeout 1s
		}
		return http.StatusOK, nil, 0
	})
	for _, w := range []string{"wamid.F500", "wamid.F429", "wamid.HANG", "wamid.OK"} {
		postOrder(t, s, w)
	}
	pollUntil(t, 30*time.Second, "4 events delivered", func() (bool, string) {
		u, raw := rcv.counts()
		return u == 4, fmt.Sprintf("%d delivered (%d raw)", u, raw)
	})
	rcv.mu.Lock()
	for evID, n := range rcv.requests {
		stamps, at := rcv.stamps[evID], rcv.arrivals[evID]
		switch {
		case n == 1:
		case n == 2:
			gap := at[1].Sub(at[0])
			ts0, _ := strconv.ParseInt(stamps[0], 10, 64)
			ts1, _ := strconv.ParseInt(stamps[1], 10, 64)
			if ts1 <= ts0 {
				t.Errorf("%s: webhook-timestamp %s then %s, want a fresh one per attempt", evID, stamps[0], stamps[1])
			}
			t.Logf("event %s: retried after %v", evID, gap.Round(time.Millisecond))
			if gap < 3*time.Second {
				t.Errorf("%s: retried after %v, before the schedule's first delay (5 s ± 20 %%)", evID, gap)
			}
		default:
			t.Errorf("%s: %d requests, want 1 or 2", evID, n)
		}
	}
	retried, slowest := 0, time.Duration(0)
	for _, at := range rcv.arrivals {
		if len(at) == 2 {
			retried++
			slowest = max(slowest, at[1].Sub(at[0]))
		}
	}
	if rcv.badSig != 0 {
		t.Errorf("%d requests failed verification", rcv.badSig)
	}
	rcv.mu.Unlock()
	if retried != 3 {
		t.Errorf("%d events retried, want 3 (500, 429, hang)", retried)
	}
	if slowest < 8*time.Second {
		t.Errorf("slowest retry after %v: the 429's Retry-After: 8 was not honoured", slowest)
	}

	// 410 disables the endpoint; what comes meanwhile waits in the log.
	gone.Store(true)
	postOrder(t, s, "wamid.GONE")
	pollUntil(t, 20*time.Second, "the endpoint disabled by 410", func() (bool, string) {
		var w wire.Webhook
		_, err := s.api(http.MethodGet, "/v1/webhooks/"+id, nil, &w)
		return err == nil && !w.Enabled && w.DisabledReason == "gone", fmt.Sprintf("%+v %v", w, err)
	})
	postOrder(t, s, "wamid.WHILEOFF")
	time.Sleep(1500 * time.Millisecond) // nothing may arrive while disabled
	if u, _ := rcv.counts(); u != 4 {
		t.Errorf("%d delivered while the endpoint was disabled, want still 4", u)
	}
	gone.Store(false)
	out := cli(t, s, "webhooks", "enable", id)
	t.Logf("%s", out)
	out = cli(t, s, "webhooks", "replay", id, "--status", "dead")
	if !strings.Contains(out, "1 deliveries") {
		t.Errorf("replay --status dead: %s, want 1 (the 410's)", out)
	}
	out = cli(t, s, "webhooks", "replay", id, "--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	t.Logf("replay --since: %s", strings.TrimSpace(out))
	pollUntil(t, 30*time.Second, "all 6 events delivered", func() (bool, string) {
		u, raw := rcv.counts()
		return u == 6, fmt.Sprintf("%d delivered (%d raw)", u, raw)
	})
	out = cli(t, s, "webhooks", "show", id)
	if !strings.Contains(out, "gone") || !strings.Contains(out, "delivered") {
		t.Errorf("webhooks show lacks the 410 and the deliveries:\n%s", out)
	}
}

// forwardSetup is one crash test's servers and sinks.
type forwardSetup struct {
	servers []*server
	rcv     *hookReceiver
	stream  string // the NATS stream, "" without NATS
	natsURL string
	subject string
}

// TestForwardCrashKill9 kills waorders with SIGKILL while it forwards
// under load (orders, statuses and status changes through the API), and
// restarts it, -forward-rounds times: on SQLite, and on PostgreSQL with
// two instances (one killed per round, in turn). Afterwards every event
// of the log (GET /v1/events) must have reached the webhook receiver at
// least once, its first arrivals per order in version order, and, with
// NATS on, the stream must hold each event exactly once.
func TestForwardCrashKill9(t *testing.T) {
	seed := testSeed(t)
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		runForwardCrash(t, seed, func(extra []string) []*server {
			return []*server{startServe(t, append([]string{"--database-url", t.TempDir() + "/w.db"}, extra...)...)}
		})
	})
	t.Run("PostgreSQLTwoInstances", func(t *testing.T) {
		t.Parallel()
		url := newPGDatabase(t)
		runForwardCrash(t, seed, func(extra []string) []*server {
			a := startServe(t, append([]string{"--database-url", url, "--migrate"}, extra...)...)
			b := startServe(t, append([]string{"--database-url", url}, extra...)...)
			return []*server{a, b}
		})
	})
}

func runForwardCrash(t *testing.T, seed uint64, start func(extra []string) []*server) {
	natsURL := testkit.NATSURL(t)
	tag := randomHex(4)
	fs := &forwardSetup{rcv: newHookReceiver(t), stream: "E2E_" + strings.ToUpper(tag), subject: "e2e" + tag, natsURL: natsURL}
	extra := append(append([]string{}, forwardFlags...), "--nats-url", natsURL, "--nats-stream", fs.stream, "--nats-subject-prefix", fs.subject)
	t.Cleanup(func() { deleteStream(fs) })
	fs.servers = start(extra)
	first := fs.servers[0]
	addHook(t, first, fs.rcv)

	rng := rand.New(rand.NewPCG(seed, 0xf0a4d))
	var lds []*load
	for _, s := range fs.servers {
		lds = append(lds, startLoad(t, loadgen.Config{
			URL: s.url, Auth: loadgen.Auth{Secret: testSecret}, Concurrency: 4, DuplicateShare: 0.1,
			Mix: map[simulate.Kind]float64{simulate.KindOrder: 60, simulate.KindStatus: 40}, Rate: *flagForwardRate / float64(len(fs.servers)),
			Seed: seed + uint64(len(lds)), Timeout: 10 * time.Second,
		}))
	}
	// Status changes through the API make order.status_changed chains.
	stopChanges := make(chan struct{})
	changesDone := make(chan int)
	go func() {
		n := 0
		defer func() { changesDone <- n }()
		c := &http.Client{Timeout: 5 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-stopChanges:
				return
			case <-time.After(20 * time.Millisecond):
			}
			s := fs.servers[i%len(fs.servers)]
			var page struct {
				Orders []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"orders"`
			}
			req, _ := http.NewRequest(http.MethodGet, s.url+"/v1/orders?limit=20", nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := c.Do(req)
			if err != nil {
				continue
			}
			_ = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			for _, o := range page.Orders {
				next := map[string]string{"pending": "processing", "processing": "shipped", "shipped": "completed"}[o.Status]
				if next == "" {
					continue
				}
				b, _ := json.Marshal(map[string]string{"status": next})
				req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/orders/"+url.PathEscape(o.ID)+"/status", bytes.NewReader(b))
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				if resp, err := c.Do(req); err == nil {
					if resp.StatusCode == http.StatusOK {
						n++
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}()

	rounds := *flagForwardRounds
	for round := 1; round <= rounds; round++ {
		waitWhileLoading(t, lds[0], randomMoment(rng)+500*time.Millisecond)
		s := fs.servers[(round-1)%len(fs.servers)]
		pid := s.pid()
		s.kill9()
		s.start()
		t.Logf("round %d: %s pid %d killed while forwarding; restarted as pid %d", round, s.name, pid, s.pid())
	}
	waitWhileLoading(t, lds[0], time.Second)
	close(stopChanges)
	changes := <-changesDone
	for _, ld := range lds {
		ld.stop(t)
	}

	// Requests the load abandoned (its client timed out or was stopped)
	// may still commit: a server finishes them on SIGTERM before it exits.
	// So each server stops cleanly and starts again; from then on the log
	// is final (a check read before such a late commit counted its event
	// as extra in the stream). Every event in it must reach the receiver
	// (a killed relay's leases expire after 30 s; then everything goes out).
	for _, s := range fs.servers {
		if err := s.sigterm(); err != nil {
			t.Fatalf("%s: SIGTERM after the load: %v", s.name, err)
		}
		s.start()
	}
	var evs []wire.Event
	pollUntil(t, 120*time.Second, "every logged event at the receiver", func() (bool, string) {
		evs = allEvents(t, first)
		fs.rcv.mu.Lock()
		defer fs.rcv.mu.Unlock()
		missing := 0
		for _, e := range evs {
			if fs.rcv.accepted[e.ID] == 0 {
				missing++
			}
		}
		return missing == 0 && len(fs.rcv.accepted) == len(evs), fmt.Sprintf("%d of %d events not delivered, %d delivered", missing, len(evs), len(fs.rcv.accepted))
	})
	want := map[string]wire.Event{}
	types := map[string]int{}
	for _, e := range evs {
		want[e.ID] = e
		types[e.Type]++
	}
	unique, raw := fs.rcv.counts()
	fs.rcv.mu.Lock()
	missing, unknown := 0, 0
	for id := range want {
		if fs.rcv.accepted[id] == 0 {
			missing++
		}
	}
	for id := range fs.rcv.accepted {
		if _, ok := want[id]; !ok {
			unknown++
		}
	}
	badOrder, badSig, orders := fs.rcv.badOrder, fs.rcv.badSig, len(fs.rcv.versions)
	chained := 0
	for _, vs := range fs.rcv.versions {
		if len(vs) > 1 {
			chained++
		}
	}
	fs.rcv.mu.Unlock()
	t.Logf("FORWARD %s: rounds %d, events %d %v, status changes %d, receiver: unique %d, raw %d, duplicates %d, missing %d, unknown %d, orders %d (with status changes %d), out of order %d, bad signatures %d",
		t.Name(), rounds, len(want), types, changes, unique, raw, raw-unique, missing, unknown, orders, chained, len(badOrder), badSig)
	if missing != 0 || unknown != 0 {
		t.Errorf("missing %d, unknown %d", missing, unknown)
	}
	if len(badOrder) > 0 {
		t.Errorf("per-order order broken: %v", badOrder[:min(len(badOrder), 5)])
	}
	if badSig != 0 {
		t.Errorf("%d requests failed verification", badSig)
	}
	if types["order.created"] == 0 || types["order.status_changed"] == 0 || types["message.status"] == 0 {
		t.Errorf("event types %v: the load did not exercise orders, status changes and statuses", types)
	}
	checkStream(t, fs, want)
}

// checkStream reads the whole NATS stream: each event of the log must be
// there exactly once (by Nats-Msg-Id), and nothing else.
func checkStream(t *testing.T, fs *forwardSetup, want map[string]wire.Event) {
	t.Helper()
	nc, err := nats.Connect(fs.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		count map[string]int
		last  string
	)
	pollUntil(t, 60*time.Second, "every event in the stream", func() (bool, string) {
		st, err := js.Stream(ctx, fs.stream)
		if err != nil {
			return false, err.Error()
		}
		info, err := st.Info(ctx)
		if err != nil {
			return false, err.Error()
		}
		if int(info.State.Msgs) < len(want) {
			return false, fmt.Sprintf("%d messages, want %d", info.State.Msgs, len(want))
		}
		count = map[string]int{}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				return false, fmt.Sprintf("get %d: %v", seq, err)
			}
			count[m.Header.Get("Nats-Msg-Id")]++
			if !strings.HasPrefix(m.Subject, fs.subject+".") {
				last = m.Subject
			}
		}
		return true, ""
	})
	dup, missing, extra := 0, 0, 0
	for id, n := range count {
		if n > 1 {
			dup += n - 1
		}
		if _, ok := want[id]; !ok {
			extra++
			t.Logf("in the stream, not in the log: Nats-Msg-Id %q (%d times)", id, n)
		}
	}
	for id := range want {
		if count[id] == 0 {
			missing++
		}
	}
	keys := make([]string, 0, 3)
	for id := range count {
		keys = append(keys, id)
	}
	sort.Strings(keys)
	t.Logf("FORWARD %s nats: stream %s holds %d messages for %d events: duplicates %d, missing %d, extra %d",
		t.Name(), fs.stream, len(keys)+dup, len(want), dup, missing, extra)
	if dup != 0 || missing != 0 || extra != 0 || last != "" {
		t.Errorf("stream: duplicates %d, missing %d, extra %d, foreign subject %q; want each event exactly once", dup, missing, extra, last)
	}
}

func deleteStream(fs *forwardSetup) {
	nc, err := nats.Connect(fs.natsURL)
	if err != nil {
		return
	}
	defer nc.Close()
	if js, err := jetstream.New(nc); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, fs.stream)
	}
}

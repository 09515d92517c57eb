package opstest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/server/ops"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
)

// failingStore is a real store whose writes and reads fail as storage that
// is out of space or unreachable fails, while its Ping still succeeds (on a
// full disk SQLite's heartbeat UPDATE can still fit in the WAL).
type failingStore struct {
	store.Store
	down atomic.Bool
}

var errDown = waorders.Wrap(waorders.CodeUnavailable, errors.New("database or disk is full (13)"), "Storage is unavailable; retry later.")

func (f *failingStore) WriteInbound(ctx context.Context, ds []*store.Inbound) ([]store.InboundResult, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.WriteInbound(ctx, ds)
}

func (f *failingStore) ListOrders(ctx context.Context, p store.ListOrdersParams) (*store.OrderPage, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.ListOrders(ctx, p)
}

func (f *failingStore) GetOrder(ctx context.Context, id string) (*waorders.Order, error) {
	if f.down.Load() {
		return nil, errDown
	}
	return f.Store.GetOrder(ctx, id)
}

// tracked reports commit outcomes to Writes, as `waorders serve` does.
type tracked struct {
	intake.Store
	w *ops.Writes
}

func (t tracked) WriteInbound(ctx context.Context, ds []*store.Inbound) ([]store.InboundResult, error) {
	r, err := t.Store.WriteInbound(ctx, ds)
	t.w.Observe(err)
	return r, err
}

// startInProcess runs a server on st with the testkit credentials.
func startInProcess(t *testing.T, st store.Store, adminAddr string) *server.Server {
	t.Helper()
	authn, err := callbackauth.New(callbackauth.Config{Secrets: []string{testkit.CallbackSecret}})
	if err != nil {
		t.Fatal(err)
	}
	met := metrics.New()
	writes := &ops.Writes{Writable: met.StorageWritable}
	in := intake.New(tracked{Store: st, w: writes}, intake.Config{Metrics: met})
	in.Start()
	srv, err := server.New(server.Config{
		Addr: "127.0.0.1:0", AdminAddr: adminAddr, AdminProfiler: adminAddr != "", Writes: writes,
		Store: st, Intake: in, Auth: authn, APITokens: []string{testkit.APIToken}, Metrics: met,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Close(context.Background())
		_ = in.Stop(context.Background())
	})
	return srv
}

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func retryAfter(t *testing.T, what, url, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s during the outage: %d, Retry-After %q; want 503 with Retry-After", what, resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestStorageOutage: while storage cannot take writes, callbacks and API
// reads answer 503 with Retry-After and /readyz is not ready although Ping
// succeeds; once a commit succeeds again, everything is back.
func TestStorageOutage(t *testing.T) {
	fs := &failingStore{Store: openSQLite(t)}
	srv := startInProcess(t, fs, "")
	body := func(id string) []byte { return testkit.Kaleyra(testkit.Order(id)).Bytes() }

	if code, b, _ := postCallback(srv.URL(), testkit.CallbackSecret, body("wamid.before"), nil); code != 200 {
		t.Fatalf("before: %d %s", code, b)
	}
	fs.down.Store(true)
	if code, _, _ := get(srv.URL()+"/readyz", ""); code != 200 {
		t.Fatalf("/readyz before any failed commit: %d", code)
	}
	code, b, _ := postCallback(srv.URL(), testkit.CallbackSecret, body("wamid.during"), nil)
	if code != 503 {
		t.Errorf("callback during the outage: %d %s", code, b)
	}
	retryAfter(t, "/readyz", srv.URL()+"/readyz", "")
	retryAfter(t, "GET /v1/orders", srv.URL()+"/v1/orders", testkit.APIToken)
	retryAfter(t, "GET /v1/orders/{id}", srv.URL()+"/v1/orders/wamid.before", testkit.APIToken)

	fs.down.Store(false)
	if code, b, _ := postCallback(srv.URL(), testkit.CallbackSecret, body("wamid.during"), nil); code != 200 {
		t.Fatalf("after: %d %s", code, b)
	}
	if code, b, _ := get(srv.URL()+"/readyz", ""); code != 200 {
		t.Errorf("/readyz after a commit succeeded: %d %s", code, b)
	}
	if code, _, _ := get(srv.URL()+"/v1/orders/wamid.before", testkit.APIToken); code != 200 {
		t.Errorf("the order acknowledged before the outage: %d", code)
	}
}

// TestAdminListener: with --admin-addr the public listener serves only the
// callbacks and the health checks; the admin one the rest.
func TestAdminListener(t *testing.T) {
	srv := startInProcess(t, openSQLite(t), "127.0.0.1:0")
	pub, adm := srv.URL(), srv.AdminURL()
	if code, b, _ := postCallback(pub, testkit.CallbackSecret, testkit.Kaleyra(testkit.Order("wamid.a")).Bytes(), nil); code != 200 {
		t.Errorf("callback on the public listener: %d %s", code, b)
	}
	if code, _, _ := postCallback(adm, testkit.CallbackSecret, testkit.Kaleyra(testkit.Order("wamid.b")).Bytes(), nil); code != 404 {
		t.Errorf("callback on the admin listener: %d, want 404", code)
	}
	for _, c := range []struct {
		base, path string
		want       int
	}{
		{pub, "/healthz", 200}, {pub, "/readyz", 200}, {pub, "/v1/orders", 404}, {pub, "/metrics", 404},
		{pub, "/v1/openapi.json", 404}, {pub, "/debug/pprof/", 404},
		{adm, "/healthz", 200}, {adm, "/readyz", 200}, {adm, "/v1/orders", 200}, {adm, "/metrics", 200},
		{adm, "/v1/openapi.json", 200}, {adm, "/debug/pprof/", 200},
	} {
		code, b, err := get(c.base+c.path, testkit.APIToken)
		if code != c.want {
			t.Errorf("%s%s: %d %v, want %d", c.base, c.path, code, err, c.want)
		}
		if code == 404 && !strings.Contains(string(b), "is served on") {
			t.Errorf("%s%s: the 404 does not say where: %s", c.base, c.path, b)
		}
	}
}

// TestPostgresUnreachableReads: API reads on PostgreSQL answer 503 with
// Retry-After, not 500, while the database cannot be reached (the
// connections to it are cut by a TCP proxy that then refuses new ones).
func TestPostgresUnreachableReads(t *testing.T) {
	pgURL := testkit.PostgresURL(t)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	px := newTCPProxy(t, u.Host)
	u.Host = px.addr
	ctx := context.Background()
	st, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := startInProcess(t, st, "")
	if code, b, _ := get(srv.URL()+"/v1/orders", testkit.APIToken); code != 200 {
		t.Fatalf("before: %d %s", code, b)
	}
	px.cut()
	retryAfter(t, "GET /v1/orders", srv.URL()+"/v1/orders", testkit.APIToken)
	retryAfter(t, "GET /v1/orders/{id}", srv.URL()+"/v1/orders/wamid.none", testkit.APIToken)
	retryAfter(t, "GET /v1/messages", srv.URL()+"/v1/messages", testkit.APIToken)
	retryAfter(t, "GET /v1/quarantine", srv.URL()+"/v1/quarantine", testkit.APIToken)
	retryAfter(t, "/readyz", srv.URL()+"/readyz", "")
}

// tcpProxy forwards connections to a target until cut: then it closes
// every connection and refuses new ones.
type tcpProxy struct {
	addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{addr: ln.Addr().String(), ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.down {
				c.Close()
				up.Close()
				p.mu.Unlock()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}

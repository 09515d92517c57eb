package server_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
	"github.com/waorders/waorders/money"
)

// The one harness of the server tests (River's setup(t) pattern): setup
// builds a real SQLite store in a temp dir, a started intake over it and
// a server over both, with the credentials of testkit, and tears them down
// in order (server, intake, store) when the test ends. Requests go through
// the server's handler, or over TCP to 127.0.0.1 with the listen option
// (for tests of timeouts, peers, streaming and connection handling).

const (
	kaleyraPath = "/v1/callbacks/kaleyra"
	metaPath    = "/v1/callbacks/meta"
	tokenPath   = "/v1/callbacks/token"
)

// bundle is one test's stack.
type bundle struct {
	store   *sqlite.Store
	intake  *intake.Intake
	srv     *server.Server
	metrics *metrics.Metrics
	handler http.Handler
	db      *sql.DB // a read-only view of the database file
	base    string  // "http://127.0.0.1:port" with listen, else ""
	client  *http.Client
	cfg     server.Config // what the server was built with (restart builds another)
}

// config is what setup builds; options change it.
type config struct {
	dir    string // where the database goes; "" is tb.TempDir()
	now    func() time.Time
	auth   callbackauth.Config
	server server.Config
	listen bool
	events bool         // the event log on (api_events_test.go)
	notify *notifyParts // notifications on (api_notify_test.go)
}

// option changes what setup builds.
type option func(*config)

// listen serves on 127.0.0.1:0; requests go over TCP.
func listen() option { return func(c *config) { c.listen = true } }

// insecure turns callback authentication off (InsecureNoAuth, no Meta
// app secrets); the API keeps its token.
func insecure() option {
	return func(c *config) { c.server.InsecureNoAuth, c.server.MetaAppSecrets = true, nil }
}

// withAuth adjusts the callback authentication.
func withAuth(f func(*callbackauth.Config)) option { return func(c *config) { f(&c.auth) } }

// withServer adjusts the server's configuration.
func withServer(f func(*server.Config)) option { return func(c *config) { f(&c.server) } }

// bodyLimit sets the server's MaxBodyBytes.
func bodyLimit(n int64) option { return func(c *config) { c.server.MaxBodyBytes = n } }

// clock fixes the clock of store and intake.
func clock(now func() time.Time) option { return func(c *config) { c.now = now } }

// inDir puts the database in dir (the fuzz targets use memory-backed
// /dev/shm).
func inDir(dir string) option { return func(c *config) { c.dir = dir } }

// setup builds the stack. By default callbacks accept testkit's callback
// secret, Basic credentials and token client, Meta bodies signed with its
// app secret; the API takes testkit.APIToken.
func setup(tb testing.TB, opts ...option) *bundle {
	tb.Helper()
	c := config{
		auth: callbackauth.Config{
			Secrets:      []string{testkit.CallbackSecret},
			BasicUsers:   []callbackauth.BasicUser{{Username: testkit.BasicUser, Password: testkit.BasicPassword}},
			TokenClients: []callbackauth.TokenClient{{ID: testkit.TokenClientID, Secret: testkit.TokenClientSecret}},
		},
		server: server.Config{
			Addr:            "127.0.0.1:0",
			Metrics:         metrics.New(),
			APITokens:       []string{testkit.APIToken},
			MetaAppSecrets:  []string{testkit.MetaAppSecret},
			MetaVerifyToken: testkit.MetaVerifyToken,
		},
	}
	for _, o := range opts {
		o(&c)
	}
	dir := c.dir
	if dir == "" {
		dir = tb.TempDir()
	}
	dbPath := filepath.Join(dir, "waorders.db")
	st, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{NowFunc: c.now})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	b := &bundle{store: st, metrics: c.server.Metrics}
	// The commit timeout is a production guard, not something these tests
	// check: under -race on a busy machine the hostile corpus's callback of
	// 10,000 messages took over the default 30 s and answered 503.
	icfg := intake.Config{NowFunc: c.now, Metrics: c.server.Metrics, CommitTimeout: 5 * time.Minute}
	if c.events {
		c.server.EventLog, icfg.Events = eventLog(st, c.now)
	}
	if c.notify != nil {
		c.server.Notify, icfg.Outbound = c.notify.build(st, c.server.EventLog)
	}
	b.intake = intake.New(st, icfg)
	b.intake.Start()
	cfg := c.server
	cfg.Store, cfg.Intake = st, b.intake
	if !cfg.InsecureNoAuth {
		if cfg.Auth, err = callbackauth.New(c.auth); err != nil {
			tb.Fatalf("auth: %v", err)
		}
	}
	if b.srv, err = server.New(cfg); err != nil {
		tb.Fatalf("new server: %v", err)
	}
	b.cfg = cfg
	b.handler = b.srv.Handler()
	if b.db, err = sql.Open("sqlite", "file:"+dbPath+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)"); err != nil {
		tb.Fatalf("open inspector: %v", err)
	}
	if c.listen {
		if err := b.srv.Open(); err != nil {
			tb.Fatalf("open server: %v", err)
		}
		b.base = b.srv.URL()
		b.client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{}}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if c.listen {
			b.client.CloseIdleConnections()
			if err := b.srv.Close(ctx); err != nil {
				tb.Errorf("close server: %v", err)
			}
			if err := <-b.srv.Done(); err != nil {
				tb.Errorf("serve: %v", err)
			}
		}
		if err := b.intake.Stop(ctx); err != nil {
			tb.Errorf("stop intake: %v", err)
		}
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
		_ = b.db.Close()
	})
	return b
}

// request is one request to send.
type request struct {
	method  string
	path    string // with the query
	body    []byte
	chunked bool     // send without Content-Length
	header  []string // name, value pairs, added in order; an empty value removes the header
}

// reply is an answer as received.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// String shows the status and the body, cut after 600 bytes (hostile bodies
// are large).
func (r reply) String() string {
	b := r.body
	if len(b) > 600 {
		b = append(b[:600:600], "…"...)
	}
	return fmt.Sprintf("%d %s", r.status, b)
}

// do sends req over TCP when the server listens, else through the handler
// (with a request built by hand: httptest.NewRequest panics on targets it
// cannot parse, and hostile tests send those).
func (b *bundle) do(tb testing.TB, req request) reply {
	tb.Helper()
	var rd io.Reader
	if req.body != nil {
		rd = bytes.NewReader(req.body)
		if req.chunked {
			rd = io.MultiReader(rd) // hides the length: Transfer-Encoding: chunked
		}
	}
	var r *http.Request
	if b.base == "" {
		r = newRecorderRequest(req.method, req.path, rd)
	} else {
		var err error
		if r, err = http.NewRequest(req.method, b.base+req.path, rd); err != nil {
			tb.Fatalf("new request: %v", err)
		}
	}
	for i := 0; i+1 < len(req.header); i += 2 {
		if req.header[i+1] == "" {
			r.Header.Del(req.header[i])
		} else {
			r.Header.Add(req.header[i], req.header[i+1])
		}
	}
	if b.base == "" {
		rec := httptest.NewRecorder()
		b.handler.ServeHTTP(rec, r)
		return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}
	resp, err := b.client.Do(r)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read answer: %v", req.method, req.path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}
}

// newRecorderRequest builds a server-side request without
// httptest.NewRequest, which panics on targets it cannot parse.
func newRecorderRequest(method, target string, body io.Reader) *http.Request {
	u := &url.URL{Path: target}
	if p, err := url.ParseRequestURI(target); err == nil {
		u = p
	}
	r := &http.Request{
		Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "waorders.test", RemoteAddr: "192.0.2.1:1234",
	}
	r = r.WithContext(context.Background())
	if body != nil {
		r.Body = io.NopCloser(body)
		if br, ok := body.(*bytes.Reader); ok {
			r.ContentLength = int64(br.Len())
		} else {
			r.ContentLength = -1
		}
	} else {
		r.Body = http.NoBody
	}
	return r
}

// withDefaults returns the default header pairs def followed by extra,
// without the defaults that extra names: the caller's pairs win.
func withDefaults(def []string, extra ...string) []string {
	out := make([]string, 0, len(def)+len(extra))
	for i := 0; i+1 < len(def); i += 2 {
		named := false
		for j := 0; j+1 < len(extra); j += 2 {
			if http.CanonicalHeaderKey(extra[j]) == http.CanonicalHeaderKey(def[i]) {
				named = true
				break
			}
		}
		if !named {
			out = append(out, def[i], def[i+1])
		}
	}
	return append(out, extra...)
}

// send sends a request without credentials. A body goes as
// application/json unless hdr says otherwise.
func (b *bundle) send(tb testing.TB, method, path string, body []byte, hdr ...string) reply {
	tb.Helper()
	var def []string
	if body != nil {
		def = []string{"Content-Type", "application/json"}
	}
	return b.do(tb, request{method: method, path: path, body: body, header: withDefaults(def, hdr...)})
}

// kaleyraRequest is a POST of body to the Kaleyra endpoint with what
// Kaleyra sends: Content-Type application/json and the callback secret,
// then the extra header pairs (which replace the defaults they name).
func kaleyraRequest(body []byte, hdr ...string) request {
	return request{method: http.MethodPost, path: kaleyraPath, body: body, header: withDefaults(
		[]string{"Content-Type", "application/json", testkit.CallbackSecretHeader, testkit.CallbackSecret}, hdr...)}
}

// metaRequest is a POST of body to the Meta endpoint, signed with
// testkit.MetaAppSecret, then the extra header pairs.
func metaRequest(body []byte, hdr ...string) request {
	return request{method: http.MethodPost, path: metaPath, body: body, header: withDefaults(
		[]string{"Content-Type", "application/json", testkit.SignatureHeader, testkit.SignMeta(body)}, hdr...)}
}

// kaleyra posts body to the Kaleyra endpoint with the callback secret.
func (b *bundle) kaleyra(tb testing.TB, body []byte, hdr ...string) reply {
	tb.Helper()
	return b.do(tb, kaleyraRequest(body, hdr...))
}

// meta posts body to the Meta endpoint, signed.
func (b *bundle) meta(tb testing.TB, body []byte, hdr ...string) reply {
	tb.Helper()
	return b.do(tb, metaRequest(body, hdr...))
}

// api sends an API request with the API token. body is nil, a string,
// []byte or a value to encode as JSON; with a body the Content-Type is
// application/json. Header pairs replace the defaults they name.
func (b *bundle) api(tb testing.TB, method, path string, body any, hdr ...string) reply {
	tb.Helper()
	def := []string{"Authorization", "Bearer " + testkit.APIToken}
	var raw []byte
	switch v := body.(type) {
	case nil:
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			tb.Fatalf("marshal body: %v", err)
		}
	}
	if raw != nil {
		def = append(def, "Content-Type", "application/json")
	}
	return b.do(tb, request{method: method, path: path, body: raw, header: withDefaults(def, hdr...)})
}

// get GETs an API path that must answer want, decoding the JSON into out
// (a wire type, mostly) unless out is nil.
func (b *bundle) get(tb testing.TB, path string, want int, out any) reply {
	tb.Helper()
	return b.call(tb, http.MethodGet, path, want, out)
}

// call is get for any method, without a body.
func (b *bundle) call(tb testing.TB, method, path string, want int, out any) reply {
	tb.Helper()
	r := b.api(tb, method, path, nil)
	if r.status != want {
		tb.Fatalf("%s %s: %s, want %d", method, path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, r, err)
		}
	}
	return r
}

// post delivers each body as its own Kaleyra callback and fails the test
// unless every message of every one is stored.
func (b *bundle) post(tb testing.TB, bodies ...*testkit.Body) {
	tb.Helper()
	for _, body := range bodies {
		a := wantAnswer(tb, b.kaleyra(tb, body.Bytes()))
		for _, m := range a.Messages {
			if m.Result != "stored" {
				tb.Fatalf("message %s: result %s, want stored: %+v", m.ID, m.Result, a)
			}
		}
	}
}

// rows counts the rows of a table, read straight from the database file.
func (b *bundle) rows(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := b.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", table, err)
	}
	return n
}

// storedTables are every table a callback can add rows to.
var storedTables = []string{"callbacks", "quarantine", "messages", "orders", "order_items", "statuses"}

// storedRows counts the rows of every table in storedTables.
func (b *bundle) storedRows(tb testing.TB) map[string]int {
	tb.Helper()
	out := make(map[string]int, len(storedTables))
	for _, table := range storedTables {
		out[table] = b.rows(tb, table)
	}
	return out
}

// metric returns the value of the sample of name whose labels include
// labels ("k=v" each), summed over the matching samples.
func (b *bundle) metric(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	r := b.send(tb, http.MethodGet, "/metrics", nil)
	if r.status != http.StatusOK {
		tb.Fatalf("GET /metrics: %s", r)
	}
	return sampleValue(tb, r.body, name, labels...)
}

func sampleValue(tb testing.TB, exposition []byte, name string, labels ...string) float64 {
	tb.Helper()
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(exposition))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		metricName, labelText, _ := strings.Cut(series, "{")
		if metricName != name {
			continue
		}
		have := map[string]string{}
		for p := range strings.SplitSeq(strings.TrimSuffix(labelText, "}"), ",") {
			if k, v, ok := strings.Cut(p, "="); ok {
				have[k] = strings.Trim(v, `"`)
			}
		}
		match := true
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			if have[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			tb.Fatalf("metric line %q: %v", line, err)
		}
		sum += f
	}
	return sum
}

// cbAnswer is the 200 body of a callback.
type cbAnswer struct {
	RequestID string     `json:"request_id"`
	Envelope  string     `json:"envelope"`
	Messages  []cbItem   `json:"messages"`
	Statuses  []cbItem   `json:"statuses"`
	Changes   []cbChange `json:"changes"`
}

type cbChange struct {
	Field    string             `json:"field"`
	Kind     string             `json:"kind"`
	Result   string             `json:"result"`
	Summary  string             `json:"summary"`
	Warnings []callback.Problem `json:"warnings"`
}

type cbItem struct {
	ID           string             `json:"id"`
	Type         string             `json:"type"`
	Status       string             `json:"status"`
	Result       string             `json:"result"`
	QuarantineID int64              `json:"quarantine_id"`
	Errors       []waorders.Problem `json:"errors"`
	Warnings     []waorders.Problem `json:"warnings"`
}

func codes(ps []waorders.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

// wantAnswer checks a 200 callback answer, with its request_id equal to
// X-Request-ID, and decodes it.
func wantAnswer(tb testing.TB, r reply) cbAnswer {
	tb.Helper()
	if r.status != http.StatusOK {
		tb.Fatalf("callback: %s, want 200", r)
	}
	var a cbAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		tb.Fatalf("callback answer %s: %v", r, err)
	}
	if a.RequestID == "" || a.RequestID != r.header.Get("X-Request-ID") {
		tb.Errorf("request_id %q, X-Request-ID %q: want equal and set", a.RequestID, r.header.Get("X-Request-ID"))
	}
	return a
}

// wantError is the one check of an error answer: the status, a JSON body
// {"error": {...}} with the code (any code when code is "") and a message
// that contains every one of msg, and a request id equal to X-Request-ID.
func wantError(tb testing.TB, r reply, status int, code string, msg ...string) wire.ErrorDetail {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status %s, want %d %s", r, status, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Errorf("Content-Type %q, want JSON", ct)
	}
	var e wire.Error
	if err := json.Unmarshal(r.body, &e); err != nil {
		tb.Fatalf("error body %s: %v", r, err)
	}
	if e.Error.Code == "" || (code != "" && e.Error.Code != code) || e.Error.Message == "" {
		tb.Errorf("error %s: want code %q and a message", r, code)
	}
	for _, m := range msg {
		if !strings.Contains(e.Error.Message, m) {
			tb.Errorf("message %q does not mention %q", e.Error.Message, m)
		}
	}
	if e.Error.RequestID == "" || e.Error.RequestID != r.header.Get("X-Request-ID") {
		tb.Errorf("request_id %q, X-Request-ID %q: want equal and set", e.Error.RequestID, r.header.Get("X-Request-ID"))
	}
	return e.Error
}

// readTestdata reads a body of callback/testdata.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "callback", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// amountText shows an amount as "INR 1600.00 160000".
func amountText(a money.Amount) string {
	return a.Currency + " " + a.Decimal() + " " + strconv.FormatInt(a.Minor, 10)
}

// order is a Kaleyra callback with one default order (two items, 5200 INR).
func order(id string) []byte { return testkit.Kaleyra(testkit.Order(id)).Bytes() }

// basicAuth is the Authorization value of Basic credentials.
func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

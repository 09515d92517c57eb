package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store/sqlite"
)

// Credentials of the test servers.
const (
	testAPIToken       = "test-api-token-0123456789"
	testCallbackSecret = "test-callback-secret-0123456789"
	testMetaSecret     = "test-meta-app-secret-0123456789"
	testVerifyToken    = "test-verify-token"
	testClientID       = "kaleyra-client"
	testClientSecret   = "test-client-secret-0123456789"
)

// orderBundle is a real router over a real SQLite store and intake.
type orderBundle struct {
	store   *sqlite.Store
	handler http.Handler
}

// fixedNow is the receipt time of every callback in tests that need
// deterministic output (golden files).
var fixedNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// newOrderBundle starts a server on a fresh database in t.TempDir. A
// non-nil now fixes the clock of intake and store.
func newOrderBundle(t *testing.T, now func() time.Time) *orderBundle {
	t.Helper()
	s := newStack(t, stackConfig{
		now: now,
		auth: &callbackauth.Config{
			Secrets:      []string{testCallbackSecret},
			TokenClients: []callbackauth.TokenClient{{ID: testClientID, Secret: testClientSecret}},
		},
		server: server.Config{
			APITokens:       []string{testAPIToken},
			MetaAppSecrets:  []string{testMetaSecret},
			MetaVerifyToken: testVerifyToken,
		},
	})
	return &orderBundle{store: s.store, handler: s.srv.Handler()}
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends a request through the router. Header pairs follow the body;
// the API token is added unless an Authorization pair is given.
func (b *orderBundle) do(t *testing.T, method, target string, body any, header ...string) *response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	return &response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// get is do for GET that must answer want, decoding the JSON into out.
func (b *orderBundle) getJSON(t *testing.T, target string, want int, out any) *response {
	t.Helper()
	r := b.do(t, http.MethodGet, target, nil)
	if r.status != want {
		t.Fatalf("GET %s: status %d, want %d: %s", target, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("GET %s: decode %s: %v", target, r.body, err)
		}
	}
	return r
}

// testItem is one product line of a test order; Price is the JSON number
// as Kaleyra sends it.
type testItem struct {
	Product  string
	Qty      int
	Price    string
	Currency string
}

// testOrder describes an order message to post as a Kaleyra callback.
type testOrder struct {
	ID              string
	At              time.Time
	WaID, Name      string
	PhoneNumberID   string
	CatalogID       string
	Text            string
	Ref, Ref1, Ref2 string
	Items           []testItem
}

// withDefaults fills what a test did not set.
func (o testOrder) withDefaults() testOrder {
	if o.WaID == "" {
		o.WaID = "919900000001"
	}
	if o.PhoneNumberID == "" {
		o.PhoneNumberID = "100000000000001"
	}
	if o.CatalogID == "" {
		o.CatalogID = "1234567890123456"
	}
	if len(o.Items) == 0 {
		o.Items = []testItem{{"SKU-SHIRT-M", 2, "1600", "INR"}, {"SKU-PANT-32", 1, "2000", "INR"}}
	}
	return o
}

// kaleyraBody renders orders as one Kaleyra V2 callback (extra_info from
// the first order).
func kaleyraBody(orders ...testOrder) []byte {
	var msgs []string
	var contacts []string
	for _, o := range orders {
		o = o.withDefaults()
		var items []string
		for _, it := range o.Items {
			items = append(items, fmt.Sprintf(`{"product_retailer_id":%s,"quantity":%d,"item_price":%s,"currency":%q}`,
				jsonString(it.Product), it.Qty, it.Price, it.Currency))
		}
		text := ""
		if o.Text != "" {
			text = `"text":` + jsonString(o.Text) + `,`
		}
		msgs = append(msgs, fmt.Sprintf(`{"from":%q,"id":%s,"timestamp":"%d","type":"order","order":{"catalog_id":%q,%s"product_items":[%s]}}`,
			o.WaID, jsonString(o.ID), o.At.Unix(), o.CatalogID, text, strings.Join(items, ",")))
		contacts = append(contacts, fmt.Sprintf(`{"profile":{"name":%s},"wa_id":%q}`, jsonString(o.Name), o.WaID))
	}
	first := orders[0].withDefaults()
	return []byte(fmt.Sprintf(`{"meta_object":{"value":{"messaging_product":"whatsapp",`+
		`"metadata":{"display_phone_number":"919800000001","phone_number_id":%q},"contacts":[%s],"messages":[%s]},"field":"messages"},`+
		`"extra_info":{"media_url":"","ref":%s,"ref1":%s,"ref2":%s,"reply_to":"","trace_id":"trace-%s","waba_id":"200000000000001"}}`,
		first.PhoneNumberID, strings.Join(contacts, ","), strings.Join(msgs, ","),
		jsonString(first.Ref), jsonString(first.Ref1), jsonString(first.Ref2), strings.TrimPrefix(first.ID, "wamid.")))
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// post delivers orders (each as its own callback, so each keeps its own
// campaign) and fails the test unless every one is stored.
func (b *orderBundle) post(t *testing.T, orders ...testOrder) {
	t.Helper()
	for _, o := range orders {
		b.postCallback(t, kaleyraBody(o))
	}
}

// postCallback posts a Kaleyra body and checks that every message in it
// was stored.
func (b *orderBundle) postCallback(t *testing.T, body []byte) {
	t.Helper()
	r := b.do(t, http.MethodPost, "/v1/callbacks/kaleyra", body, "Authorization", "", "X-Callback-Secret", testCallbackSecret)
	if r.status != http.StatusOK {
		t.Fatalf("post callback: %s", r)
	}
	var res struct {
		Messages []struct {
			ID     string `json:"id"`
			Result string `json:"result"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil {
		t.Fatalf("callback answer %s: %v", r.body, err)
	}
	for _, m := range res.Messages {
		if m.Result != "stored" {
			t.Fatalf("message %s: result %s, want stored: %s", m.ID, m.Result, r.body)
		}
	}
}

// orderIDs returns the ids of a list answer.
func orderIDs(t *testing.T, body []byte) ([]string, string) {
	t.Helper()
	var page struct {
		Orders []struct {
			ID string `json:"id"`
		} `json:"orders"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("decode order list %s: %v", body, err)
	}
	ids := make([]string, len(page.Orders))
	for i, o := range page.Orders {
		ids[i] = o.ID
	}
	next := ""
	if page.NextCursor != nil {
		if *page.NextCursor == "" {
			t.Fatalf("next_cursor is present but empty: %s", body)
		}
		next = *page.NextCursor
	}
	return ids, next
}

// errorAnswer decodes an error body and checks its shape.
func errorAnswer(t *testing.T, r *response) (code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			RequestID string `json:"request_id"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || e.Error.RequestID == "" {
		t.Fatalf("not an error body (%v): %s", err, r)
	}
	return e.Error.Code, e.Error.Message
}

// stack is what every server test runs on: a real SQLite store, a real
// intake writing to it and a real server over both, torn down in order
// (server, intake, store) when the test ends.
type stack struct {
	dbPath  string
	store   *sqlite.Store
	intake  *intake.Intake
	srv     *server.Server
	inspect *sql.DB // a read-only view of the database file
}

// stackConfig says how to build a stack.
type stackConfig struct {
	dir    string               // where the database goes; "" is tb.TempDir()
	now    func() time.Time     // the clock of store and intake; nil is time.Now
	auth   *callbackauth.Config // callback authentication; nil is none
	server server.Config        // Store, Intake and Auth are filled in
	listen bool                 // open the server on its address (else use srv.Handler())
}

func newStack(tb testing.TB, c stackConfig) *stack {
	tb.Helper()
	dir := c.dir
	if dir == "" {
		dir = tb.TempDir()
	}
	s := &stack{dbPath: filepath.Join(dir, "waorders.db")}
	st, err := sqlite.Open(context.Background(), s.dbPath, sqlite.Options{NowFunc: c.now})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	s.store = st
	s.intake = intake.New(st, intake.Config{NowFunc: c.now, Metrics: c.server.Metrics})
	s.intake.Start()
	cfg := c.server
	cfg.Store, cfg.Intake = st, s.intake
	if c.auth != nil {
		if cfg.Auth, err = callbackauth.New(*c.auth); err != nil {
			tb.Fatalf("auth: %v", err)
		}
	}
	if s.srv, err = server.New(cfg); err != nil {
		tb.Fatalf("new server: %v", err)
	}
	if s.inspect, err = sql.Open("sqlite", "file:"+s.dbPath+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)"); err != nil {
		tb.Fatalf("open inspector: %v", err)
	}
	if c.listen {
		if err := s.srv.Open(); err != nil {
			tb.Fatalf("open server: %v", err)
		}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if c.listen {
			if err := s.srv.Close(ctx); err != nil {
				tb.Errorf("close server: %v", err)
			}
			if err := <-s.srv.Done(); err != nil {
				tb.Errorf("serve: %v", err)
			}
		}
		if err := s.intake.Stop(ctx); err != nil {
			tb.Errorf("stop intake: %v", err)
		}
		if err := st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
		_ = s.inspect.Close()
	})
	return s
}

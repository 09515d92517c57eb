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
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
)

// Credentials of the servers started by startServer. Every secret is at
// least callbackauth.MinSecretLen bytes.
const (
	srvSecretOld    = "callback-secret-old-0123456789"
	srvSecretNew    = "callback-secret-new-9876543210"
	srvBasicUser    = "kaleyra"
	srvBasicPass    = "basic-password-0123456789"
	srvClientID     = "kaleyra-client"
	srvClientSecret = "client-secret-0123456789abcdef"
	srvMetaSecret   = "meta-app-secret-0123456789"
	srvVerifyToken  = "meta-verify-token-0123"
	srvAPIToken     = "api-token-0123456789abcdef"
	srvAPITokenNext = "api-token-next-0123456789ab"
)

// srvSecrets are every configured secret: none may ever appear in an answer.
var srvSecrets = []string{srvSecretOld, srvSecretNew, srvBasicPass, srvClientSecret, srvMetaSecret, srvAPIToken, srvAPITokenNext}

// testServer is a real server on 127.0.0.1 with a real SQLite store, a
// real intake and a real authenticator.
type testServer struct {
	t       *testing.T
	dbPath  string
	store   *sqlite.Store
	intake  *intake.Intake
	metrics *metrics.Metrics
	srv     *server.Server
	base    string
	client  *http.Client
	inspect *sql.DB
}

// serverOption changes the configuration startServer builds.
type serverOption func(*server.Config, *callbackauth.Config)

// startServer opens a server on a fresh database; everything is closed in
// t.Cleanup.
func startServer(t *testing.T, opts ...serverOption) *testServer {
	t.Helper()
	m := metrics.New()
	ac := callbackauth.Config{
		Secrets:      []string{srvSecretOld, srvSecretNew},
		BasicUsers:   []callbackauth.BasicUser{{Username: srvBasicUser, Password: srvBasicPass}},
		TokenClients: []callbackauth.TokenClient{{ID: srvClientID, Secret: srvClientSecret}},
	}
	cfg := server.Config{
		Addr: "127.0.0.1:0", Metrics: m,
		APITokens:       []string{srvAPIToken, srvAPITokenNext},
		MetaAppSecrets:  []string{srvMetaSecret},
		MetaVerifyToken: srvVerifyToken,
		MaxBodyBytes:    64 << 10,
	}
	for _, o := range opts {
		o(&cfg, &ac)
	}
	sc := stackConfig{server: cfg, listen: true}
	if !cfg.InsecureNoAuth {
		sc.auth = &ac
	}
	s := newStack(t, sc)
	ts := &testServer{
		t: t, dbPath: s.dbPath, store: s.store, intake: s.intake, metrics: m, srv: s.srv, base: s.srv.URL(),
		client: &http.Client{Timeout: 30 * time.Second}, inspect: s.inspect,
	}
	t.Cleanup(ts.client.CloseIdleConnections) // runs before the stack's teardown
	return ts
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

// send sends a request. hdr holds name, value pairs; an empty value removes
// the header. A body is sent as application/json unless hdr says otherwise.
func (ts *testServer) send(method, path string, body []byte, hdr ...string) reply {
	ts.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.base+path, rd)
	if err != nil {
		ts.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// kaleyra posts body to the Kaleyra endpoint with the current secret.
func (ts *testServer) kaleyra(body []byte, hdr ...string) reply {
	ts.t.Helper()
	return ts.send(http.MethodPost, "/v1/callbacks/kaleyra", body, append([]string{"X-Callback-Secret", srvSecretNew}, hdr...)...)
}

// meta posts body to the Meta endpoint, signed with the app secret.
func (ts *testServer) meta(body []byte) reply {
	ts.t.Helper()
	return ts.send(http.MethodPost, "/v1/callbacks/meta", body, callback.SignatureHeader, callback.Sign(body, srvMetaSecret))
}

// api sends an API request with the API token.
func (ts *testServer) api(method, path string) reply {
	ts.t.Helper()
	return ts.send(method, path, nil, "Authorization", "Bearer "+srvAPIToken)
}

// apiJSON sends an API request that must answer want and decodes it into out.
func (ts *testServer) apiJSON(method, path string, want int, out any) reply {
	ts.t.Helper()
	r := ts.api(method, path)
	if r.status != want {
		ts.t.Fatalf("%s %s: %s, want %d", method, path, r, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			ts.t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// rows counts the rows of a table, read straight from the database file.
func (ts *testServer) rows(table string) int {
	ts.t.Helper()
	var n int
	if err := ts.inspect.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		ts.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// storedRows counts every row a callback can create.
func (ts *testServer) storedRows() map[string]int {
	ts.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"callbacks", "messages", "orders", "statuses", "quarantine"} {
		out[table] = ts.rows(table)
	}
	return out
}

// metric returns the value of the sample of name whose labels include
// labels ("k=v" each), summed over the matching samples.
func (ts *testServer) metric(name string, labels ...string) float64 {
	ts.t.Helper()
	r := ts.send(http.MethodGet, "/metrics", nil)
	if r.status != http.StatusOK {
		ts.t.Fatalf("GET /metrics: %s", r)
	}
	return sampleValue(ts.t, r.body, name, labels...)
}

func sampleValue(t *testing.T, exposition []byte, name string, labels ...string) float64 {
	t.Helper()
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
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += f
	}
	return sum
}

// cbAnswer is the 200 body of a callback.
type cbAnswer struct {
	RequestID string   `json:"request_id"`
	Envelope  string   `json:"envelope"`
	Messages  []cbItem `json:"messages"`
	Statuses  []cbItem `json:"statuses"`
}

type cbItem struct {
	ID           string       `json:"id"`
	Type         string       `json:"type"`
	Status       string       `json:"status"`
	Result       string       `json:"result"`
	QuarantineID int64        `json:"quarantine_id"`
	Errors       []apiProblem `json:"errors"`
	Warnings     []apiProblem `json:"warnings"`
}

type apiProblem struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Path     string `json:"path"`
	Message  string `json:"message"`
}

func codes(ps []apiProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

// mustAnswer checks a 200 callback answer and decodes it.
func mustAnswer(t *testing.T, r reply) cbAnswer {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("callback: %s, want 200", r)
	}
	var a cbAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("callback answer %s: %v", r.body, err)
	}
	if a.RequestID == "" || a.RequestID != r.header.Get("X-Request-ID") {
		t.Errorf("request_id %q, X-Request-ID %q: want equal and set", a.RequestID, r.header.Get("X-Request-ID"))
	}
	return a
}

// apiError is the body of every error answer.
type apiError struct {
	Error struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		RequestID    string `json:"request_id"`
		Path         string `json:"path"`
		QuarantineID int64  `json:"quarantine_id"`
	} `json:"error"`
}

// mustError checks that r is a JSON error answer with status and code.
func mustError(t *testing.T, r reply, status int, code string) apiError {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %s, want %d", r, status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("error %s: want code %q and a message", r.body, code)
	}
	if e.Error.RequestID == "" || e.Error.RequestID != r.header.Get("X-Request-ID") {
		t.Errorf("request_id %q, X-Request-ID %q: want equal and set", e.Error.RequestID, r.header.Get("X-Request-ID"))
	}
	return e
}

// noSecrets fails if any configured secret, or the Basic credentials as
// encoded in a header, appears in b.
func noSecrets(t *testing.T, what string, b []byte) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(srvBasicUser + ":" + srvBasicPass))
	for _, s := range append(srvSecrets, basic) {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s contains the secret %q: %s", what, s, b)
		}
	}
}

// lineItem is one product line; quantity and price are JSON number texts.
type lineItem struct {
	Product  string      `json:"product_retailer_id"`
	Quantity json.Number `json:"quantity"`
	Price    json.Number `json:"item_price"`
	Currency string      `json:"currency"`
}

// orderMsg is an order message of a Kaleyra callback.
type orderMsg struct {
	ID, WaID, Name, Text string
	Items                []lineItem
}

// kaleyraOrders renders order messages as one Kaleyra V2 callback with
// campaign reference ref.
func kaleyraOrders(ref string, msgs ...orderMsg) []byte {
	var messages, contacts []any
	for _, m := range msgs {
		if m.WaID == "" {
			m.WaID = "919900000001"
		}
		if len(m.Items) == 0 {
			m.Items = []lineItem{{"SKU-SHIRT-M", "2", "1600", "INR"}, {"SKU-PANT-32", "1", "2000", "INR"}}
		}
		order := map[string]any{"catalog_id": "1234567890123456", "product_items": m.Items}
		if m.Text != "" {
			order["text"] = m.Text
		}
		messages = append(messages, map[string]any{
			"from": m.WaID, "id": m.ID, "timestamp": "1767225600", "type": "order", "order": order,
		})
		contacts = append(contacts, map[string]any{"profile": map[string]any{"name": m.Name}, "wa_id": m.WaID})
	}
	b, err := json.Marshal(map[string]any{
		"meta_object": map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": "919800000001", "phone_number_id": "100000000000001"},
				"contacts":          contacts,
				"messages":          messages,
			},
		},
		"extra_info": map[string]any{
			"media_url": "", "ref": ref, "ref1": ref + "-1", "ref2": ref + "-2",
			"reply_to": "00000000-0000-4000-8000-000000000001", "trace_id": "trace-" + ref, "waba_id": "200000000000001",
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// oneOrder is a callback with one two-item order message.
func oneOrder(id string) []byte {
	return kaleyraOrders("ref-"+id, orderMsg{ID: id, Name: "Buyer"})
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "callback", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantRecord is one expected entry of a callback answer.
type wantRecord struct {
	id, kind, result string // kind: the message type or the status
}

// example is a body of callback/testdata and the answer it must get on its
// first delivery.
type example struct {
	file     string
	meta     bool // Meta-native: posted, signed, to the Meta endpoint
	messages []wantRecord
	statuses []wantRecord
}

// examples are the provider seed and every example of the contract.
var examples = []example{
	{file: "kaleyra_seed.json", messages: []wantRecord{{"wamid.HBgMOTE5NzQwNzc2NTA1FQIAEhggNUYXXXXXXXXXXzNjE2MjI0U3REVENTU3RUY3NEMxODYA", "order", "stored"}}},
	{file: "i1_order_inr.json", messages: []wantRecord{{"wamid.TESTORDER00000000000000000001", "order", "stored"}}},
	{file: "i2_order_usd_decimal.json", messages: []wantRecord{{"wamid.TESTORDER00000000000000000002", "order", "stored"}}},
	{file: "i3_order_eur_no_name.json", messages: []wantRecord{{"wamid.TESTORDER00000000000000000003", "order", "stored"}}},
	{file: "i4_text_reply.json", messages: []wantRecord{{"wamid.TESTTEXT000000000000000000001", "text", "stored"}}},
	{file: "i5_button_reply.json", messages: []wantRecord{{"wamid.TESTBUTTON0000000000000000001", "interactive", "stored"}}},
	{file: "i6_status_delivered.json", statuses: []wantRecord{{"wamid.TESTCONFIRM0000000000000000001", "delivered", "stored"}}},
	{file: "i7_status_failed.json", statuses: []wantRecord{{"wamid.TESTCONFIRM0000000000000000002", "failed", "stored"}}},
	{file: "i8_meta_order.json", meta: true, messages: []wantRecord{{"wamid.TESTORDER00000000000000000004", "order", "stored"}}},
	{file: "i9_meta_statuses.json", meta: true, statuses: []wantRecord{
		{"wamid.TESTCONFIRM0000000000000000010", "read", "stored"},
		{"wamid.TESTCONFIRM0000000000000000011", "sent", "stored"},
	}},
	{file: "kaleyra_batch3.json", messages: []wantRecord{
		{"wamid.TESTBATCH00000000000000000001", "text", "stored"},
		{"wamid.TESTBATCH00000000000000000002", "order", "stored"},
		{"wamid.TESTBATCH00000000000000000003", "reaction", "stored"},
	}},
	{file: "kaleyra_contact_phones_object.json", messages: []wantRecord{{"wamid.TESTCONTACT0000000000000000001", "contacts", "stored"}}},
	{file: "kaleyra_order_problems.json", messages: []wantRecord{{"", "order", "quarantined"}}},
	{file: "kaleyra_status_not_sent.json", statuses: []wantRecord{{"wamid.TESTCONFIRM0000000000000000003", "not-sent", "stored"}}},
	{file: "meta_all_types.json", meta: true, messages: []wantRecord{
		{"wamid.ALL01", "text", "stored"}, {"wamid.ALL02", "image", "stored"}, {"wamid.ALL03", "video", "stored"},
		{"wamid.ALL04", "audio", "stored"}, {"wamid.ALL05", "document", "stored"}, {"wamid.ALL06", "sticker", "stored"},
		{"wamid.ALL07", "location", "stored"}, {"wamid.ALL08", "contacts", "stored"}, {"wamid.ALL09", "interactive", "stored"},
		{"wamid.ALL10", "interactive", "stored"}, {"wamid.ALL11", "interactive", "stored"}, {"wamid.ALL12", "button", "stored"},
		{"wamid.ALL13", "reaction", "stored"}, {"wamid.ALL14", "text", "stored"}, {"wamid.ALL15", "unsupported", "stored"},
		{"wamid.ALL16", "poll", "stored"}, {"wamid.ALL17", "system", "stored"},
		{"", "", "quarantined"}, // a message that is a string, not an object
	}},
	// Identity, errors, group receipts and the change fields (issue 12);
	// their changes are checked in changes_test.go.
	{file: "bsuid_username_only_text.json", meta: true, messages: []wantRecord{{"wamid.HBgNMTU1NTEyMzQ1NjcVAgASGBQzQUYwMDAwMDAwMDAwMDAwMDAB", "text", "stored"}}},
	{file: "meta_interactive_errors_only.json", meta: true, messages: []wantRecord{{"wamid.wegrchytvwcggt=", "interactive", "stored"}}},
	{file: "meta_smb_message_echo.json", meta: true, messages: []wantRecord{{"<WHATSAPP_MESSAGE_ID>", "text", "stored"}}},
	{file: "meta_system_user_changed_user_id.json", meta: true, messages: []wantRecord{{"wamid.HBgNMTU1NTEyMzQ1NjcVAgASGBQzQUYwMDAwMDAwMDAwMDAwMDAD", "system", "stored"}}},
	{file: "meta_group_statuses.json", meta: true, statuses: []wantRecord{
		{"wamid.HBgNMTU1NTEyMzQ1NjcVAgARGBI0QUYwMDAwMDAwMDAwMDAwMDAG", "read", "stored"},
		{"wamid.HBgNMTU1NTEyMzQ1NjcVAgARGBI0QUYwMDAwMDAwMDAwMDAwMDAG", "read", "stored"}, // another participant
	}},
	{file: "meta_call_status.json", meta: true},
	{file: "meta_call_terminate.json", meta: true},
	{file: "meta_unknown_field.json", meta: true},
	{file: "meta_user_id_update.json", meta: true},
	{file: "meta_user_preferences.json", meta: true},
}

// goldenTotals returns the order totals the decoder's golden file records
// for each order message of an example.
func goldenTotals(t *testing.T, file string) map[string]json.RawMessage {
	t.Helper()
	var g struct {
		Callback struct {
			Changes []struct {
				Messages []struct {
					ID    string
					Order *struct{ Totals json.RawMessage }
				}
			}
		} `json:"callback"`
	}
	if err := json.Unmarshal(readTestdata(t, strings.TrimSuffix(file, ".json")+".golden.json"), &g); err != nil {
		t.Fatalf("golden of %s: %v", file, err)
	}
	out := map[string]json.RawMessage{}
	for _, ch := range g.Callback.Changes {
		for _, m := range ch.Messages {
			if m.Order != nil {
				out[m.ID] = m.Order.Totals
			}
		}
	}
	return out
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return bytes.Equal(ja, jb)
}

func checkRecords(t *testing.T, what string, got []cbItem, want []wantRecord, status bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records %+v, want %d", what, len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		kind := g.Type
		if status {
			kind = g.Status
		}
		if g.ID != w.id || kind != w.kind || g.Result != w.result {
			t.Errorf("%s[%d] = %s %s %s, want %s %s %s", what, i, g.ID, kind, g.Result, w.id, w.kind, w.result)
		}
		if (g.Result == "quarantined") != (g.QuarantineID > 0) {
			t.Errorf("%s[%d]: result %s with quarantine_id %d", what, i, g.Result, g.QuarantineID)
		}
		if (g.Result == "quarantined") != (len(g.Errors) > 0) {
			t.Errorf("%s[%d]: result %s with errors %+v", what, i, g.Result, g.Errors)
		}
	}
}

func TestExamplesEndToEnd(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()

	// Every example body in callback/testdata is covered by the table.
	files, err := filepath.Glob(filepath.Join("..", "..", "callback", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".golden.json") {
			continue
		}
		if !slices.ContainsFunc(examples, func(e example) bool { return e.file == name }) {
			t.Errorf("callback/testdata/%s is not in the examples table", name)
		}
	}

	for _, ex := range examples {
		t.Run(strings.TrimSuffix(ex.file, ".json"), func(t *testing.T) {
			body := readTestdata(t, ex.file)
			post := func() cbAnswer {
				if ex.meta {
					return mustAnswer(t, ts.meta(body))
				}
				return mustAnswer(t, ts.kaleyra(body))
			}
			a := post()
			wantEnvelope := "kaleyra"
			if ex.meta {
				wantEnvelope = "meta"
			}
			if a.Envelope != wantEnvelope {
				t.Errorf("envelope %q, want %q", a.Envelope, wantEnvelope)
			}
			checkRecords(t, "messages", a.Messages, ex.messages, false)
			checkRecords(t, "statuses", a.Statuses, ex.statuses, true)

			totals := goldenTotals(t, ex.file)
			for _, w := range ex.messages {
				if w.result != "stored" {
					continue
				}
				var m struct {
					ID       string                `json:"id"`
					Type     string                `json:"type"`
					Customer struct{ WaID string } `json:"customer"`
					Raw      json.RawMessage       `json:"raw"`
				}
				ts.apiJSON(http.MethodGet, "/v1/messages/"+url.PathEscape(w.id), http.StatusOK, &m)
				if m.ID != w.id || m.Type != w.kind || len(m.Raw) == 0 {
					t.Errorf("GET message %s = %+v, want type %s with raw JSON", w.id, m, w.kind)
				}
				if w.kind != "order" {
					continue
				}
				var o struct {
					ID     string          `json:"id"`
					Status string          `json:"status"`
					Totals json.RawMessage `json:"totals"`
				}
				ts.apiJSON(http.MethodGet, "/v1/orders/"+url.PathEscape(w.id), http.StatusOK, &o)
				if o.ID != w.id || o.Status != "pending" {
					t.Errorf("order %s: id %s status %s, want pending", w.id, o.ID, o.Status)
				}
				if !sameJSON(t, o.Totals, totals[w.id]) {
					t.Errorf("order %s totals %s, want the decoder's %s", w.id, o.Totals, totals[w.id])
				}
			}
			for _, w := range ex.statuses {
				sts, err := ts.store.ListStatuses(ctx, w.id)
				if err != nil {
					t.Fatalf("statuses of %s: %v", w.id, err)
				}
				// One per status of the message in the example (group receipts: one per participant).
				n := 0
				for _, x := range ex.statuses {
					if x.id == w.id {
						n++
					}
				}
				if len(sts) != n || sts[0].Status != w.kind {
					t.Errorf("statuses of %s = %+v, want %d %s", w.id, sts, n, w.kind)
				}
			}
			// Redelivery: every stored record is a duplicate, nothing new.
			before := ts.storedRows()
			again := post()
			all := slices.Concat(ex.messages, ex.statuses)
			for i, g := range slices.Concat(again.Messages, again.Statuses) {
				want := "duplicate"
				if all[i].result == "quarantined" {
					want = "quarantined"
				}
				if g.Result != want {
					t.Errorf("redelivery of %s: %s, want %s", g.ID, g.Result, want)
				}
			}
			after := ts.storedRows()
			for _, table := range []string{"messages", "orders", "statuses"} {
				if after[table] != before[table] {
					t.Errorf("redelivery added %d rows to %s", after[table]-before[table], table)
				}
			}
			if after["callbacks"] != before["callbacks"]+1 {
				t.Errorf("callbacks %d → %d: every accepted delivery is kept", before["callbacks"], after["callbacks"])
			}
		})
	}
}

// apiOrder is the API's order, as the contract of issue 3 item 8 names it.
type apiOrder struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	CatalogID string `json:"catalog_id"`
	Text      string `json:"text"`
	Customer  struct {
		WaID string `json:"wa_id"`
		Name string `json:"name"`
	} `json:"customer"`
	Business struct {
		PhoneNumberID      string `json:"phone_number_id"`
		DisplayPhoneNumber string `json:"display_phone_number"`
		WABAID             string `json:"waba_id"`
	} `json:"business"`
	Campaign struct {
		Ref  string `json:"ref"`
		Ref1 string `json:"ref1"`
		Ref2 string `json:"ref2"`
	} `json:"campaign"`
	ReplyTo          *string `json:"reply_to"`
	ContextMessageID *string `json:"context_message_id"`
	TraceID          string  `json:"trace_id"`
	Items            []struct {
		ProductRetailerID string    `json:"product_retailer_id"`
		Quantity          int64     `json:"quantity"`
		UnitPrice         apiAmount `json:"unit_price"`
		LineTotal         apiAmount `json:"line_total"`
	} `json:"items"`
	Totals     []apiAmount  `json:"totals"`
	OrderedAt  time.Time    `json:"ordered_at"`
	ReceivedAt time.Time    `json:"received_at"`
	Warnings   []apiProblem `json:"warnings"`
}

type apiAmount struct {
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	AmountMinor *int64 `json:"amount_minor"`
}

func (a apiAmount) String() string {
	minor := "nil"
	if a.AmountMinor != nil {
		minor = strconv.FormatInt(*a.AmountMinor, 10)
	}
	return a.Currency + " " + a.Amount + " " + minor
}

func TestSeedOrderThroughAPI(t *testing.T) {
	ts := startServer(t)
	const id = "wamid.HBgMOTE5NzQwNzc2NTA1FQIAEhggNUYXXXXXXXXXXzNjE2MjI0U3REVENTU3RUY3NEMxODYA"
	before := time.Now().UTC()
	a := mustAnswer(t, ts.kaleyra(readTestdata(t, "kaleyra_seed.json")))
	after := time.Now().UTC()
	if len(a.Messages) != 1 || a.Messages[0].Result != "stored" || !slices.Equal(codes(a.Messages[0].Warnings), []string{"invalid_timestamp"}) {
		t.Fatalf("answer %+v, want one stored order with the invalid_timestamp warning", a)
	}

	var o apiOrder
	r := ts.apiJSON(http.MethodGet, "/v1/orders/"+id, http.StatusOK, &o)
	if got := r.header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag %q, want \"1\"", got)
	}
	check := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	check("id", o.ID, id)
	check("status", o.Status, "pending")
	check("catalog_id", o.CatalogID, "3294XXXXXXXX2474")
	check("text", o.Text, "message")
	check("customer.wa_id", o.Customer.WaID, "919XXXXXXXX5")
	check("customer.name", o.Customer.Name, "Sam")
	check("business.phone_number_id", o.Business.PhoneNumberID, "177XXXXXXXXXX45")
	check("business.display_phone_number", o.Business.DisplayPhoneNumber, "91XXXXXXXX80")
	check("business.waba_id", o.Business.WABAID, "347XXXXXXXXXX69")
	check("campaign.ref", o.Campaign.Ref, "Hello This will be my reference id - 123")
	check("campaign.ref1", o.Campaign.Ref1, "shoes campaign")
	check("campaign.ref2", o.Campaign.Ref2, "summer sale campaign")
	check("trace_id", o.TraceID, "cb94fee2-3e70-XXXX-944a-2a4XXXXdb90a")
	if o.ReplyTo == nil || *o.ReplyTo != "48c38d78-4ec5-XXXX-abee-03XXXXXX6c85" {
		t.Errorf("reply_to = %v, want 48c38d78-4ec5-XXXX-abee-03XXXXXX6c85", o.ReplyTo)
	}
	if o.ContextMessageID == nil || *o.ContextMessageID != "" {
		t.Errorf("context_message_id = %v, want present and empty", o.ContextMessageID)
	}

	wantItems := []struct {
		product   string
		unit, sum string
	}{
		{"shirt1122", "INR 1600.00 160000", "INR 1600.00 160000"},
		{"pant1122", "INR 2000.00 200000", "INR 2000.00 200000"},
	}
	if len(o.Items) != len(wantItems) {
		t.Fatalf("items %+v, want 2", o.Items)
	}
	for i, w := range wantItems {
		it := o.Items[i]
		if it.ProductRetailerID != w.product || it.Quantity != 1 || it.UnitPrice.String() != w.unit || it.LineTotal.String() != w.sum {
			t.Errorf("item %d = %s ×%d %s = %s, want %s ×1 %s = %s", i, it.ProductRetailerID, it.Quantity, it.UnitPrice, it.LineTotal, w.product, w.unit, w.sum)
		}
	}
	if len(o.Totals) != 1 || o.Totals[0].String() != "INR 3600.00 360000" {
		t.Errorf("totals %v, want [INR 3600.00 360000]", o.Totals)
	}
	// The seed's timestamp is not unix seconds: ordered_at is the receipt.
	if o.ReceivedAt.Before(before.Truncate(time.Microsecond)) || o.ReceivedAt.After(after) {
		t.Errorf("received_at %v, want between %v and %v", o.ReceivedAt, before, after)
	}
	if !o.OrderedAt.Equal(o.ReceivedAt) {
		t.Errorf("ordered_at %v, want received_at %v", o.OrderedAt, o.ReceivedAt)
	}
	if !slices.Equal(codes(o.Warnings), []string{"invalid_timestamp"}) {
		t.Errorf("warnings %+v, want invalid_timestamp", o.Warnings)
	}

	var m struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		CallbackID string `json:"callback_id"`
		Summary    string `json:"summary"`
	}
	ts.apiJSON(http.MethodGet, "/v1/messages/"+id, http.StatusOK, &m)
	if m.ID != id || m.Type != "order" || m.CallbackID != a.RequestID || m.Summary != "order: 2 items, 3600.00 INR" {
		t.Errorf("message %+v, want the order from callback %s", m, a.RequestID)
	}

	// The redelivery is acknowledged and changes nothing.
	again := mustAnswer(t, ts.kaleyra(readTestdata(t, "kaleyra_seed.json")))
	if again.Messages[0].Result != "duplicate" {
		t.Errorf("redelivery: %s, want duplicate", again.Messages[0].Result)
	}
	var o2 apiOrder
	r2 := ts.apiJSON(http.MethodGet, "/v1/orders/"+id, http.StatusOK, &o2)
	if !o2.ReceivedAt.Equal(o.ReceivedAt) || r2.header.Get("ETag") != `"1"` {
		t.Errorf("after redelivery: received_at %v ETag %s, want unchanged", o2.ReceivedAt, r2.header.Get("ETag"))
	}
	ts.apiJSON(http.MethodGet, "/v1/orders/wamid.NOSUCHORDER", http.StatusNotFound, nil)
	mustError(t, ts.api(http.MethodGet, "/v1/messages/wamid.NOSUCHMESSAGE"), http.StatusNotFound, "not_found")
}

func TestCallbackAuthentication(t *testing.T) {
	ts := startServer(t)
	n := 0
	body := func() []byte {
		n++
		return oneOrder(fmt.Sprintf("wamid.AUTH%04d", n))
	}
	tokenReply := ts.send(http.MethodPost, "/v1/callbacks/token",
		[]byte(`{"client_id":"`+srvClientID+`","client_secret":"`+srvClientSecret+`"}`))
	if tokenReply.status != http.StatusOK {
		t.Fatalf("token endpoint: %s", tokenReply)
	}
	var tok struct {
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(tokenReply.body, &tok); err != nil || tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.ExpiresIn <= 0 {
		t.Fatalf("token answer %s (%v)", tokenReply.body, err)
	}
	badToken := ts.send(http.MethodPost, "/v1/callbacks/token",
		[]byte(`{"client_id":"`+srvClientID+`","client_secret":"wrong-client-secret-000000"}`))
	mustError(t, badToken, http.StatusUnauthorized, "unauthorized")
	if got := ts.metric("waorders_auth_failures_total", "reason=token_endpoint"); got != 1 {
		t.Errorf("waorders_auth_failures_total{reason=token_endpoint} = %v, want 1", got)
	}

	basic := func(user, pass string) string {
		req, _ := http.NewRequest(http.MethodPost, "/", nil)
		req.SetBasicAuth(user, pass)
		return req.Header.Get("Authorization")
	}
	tests := []struct {
		name   string
		hdr    []string // replaces the default secret header
		ok     bool
		reason string
	}{
		{"SecretCurrent", []string{"X-Callback-Secret", srvSecretNew}, true, ""},
		{"SecretRotatedOut", []string{"X-Callback-Secret", srvSecretOld}, true, ""},
		{"SecretWrong", []string{"X-Callback-Secret", "not-the-secret-0123456789"}, false, "bad_credentials"},
		{"SecretPrefix", []string{"X-Callback-Secret", srvSecretNew[:20]}, false, "bad_credentials"},
		{"SecretInOtherHeader", []string{"X-Callback-Secret", "", "X-Secret", srvSecretNew}, false, "missing_credentials"},
		{"Missing", []string{"X-Callback-Secret", ""}, false, "missing_credentials"},
		{"Basic", []string{"X-Callback-Secret", "", "Authorization", basic(srvBasicUser, srvBasicPass)}, true, ""},
		{"BasicWrongPassword", []string{"X-Callback-Secret", "", "Authorization", basic(srvBasicUser, srvBasicPass+"x")}, false, "bad_credentials"},
		{"BasicWrongUser", []string{"X-Callback-Secret", "", "Authorization", basic("someone", srvBasicPass)}, false, "bad_credentials"},
		{"IssuedBearer", []string{"X-Callback-Secret", "", "Authorization", "Bearer " + tok.AccessToken}, true, ""},
		{"ForgedBearer", []string{"X-Callback-Secret", "", "Authorization", "Bearer " + tok.AccessToken + "x"}, false, "bad_credentials"},
		{"APITokenAsBearer", []string{"X-Callback-Secret", "", "Authorization", "Bearer " + srvAPIToken}, false, "bad_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body()
			before := ts.storedRows()
			failures := ts.metric("waorders_auth_failures_total", "reason="+tt.reason)
			r := ts.kaleyra(b, tt.hdr...)
			noSecrets(t, "answer", r.body)
			if tt.ok {
				a := mustAnswer(t, r)
				if len(a.Messages) != 1 || a.Messages[0].Result != "stored" {
					t.Errorf("answer %+v, want one stored", a)
				}
				return
			}
			mustError(t, r, http.StatusUnauthorized, "unauthorized")
			if after := ts.storedRows(); !mapsEqual(before, after) {
				t.Errorf("a rejected callback changed storage: %v → %v", before, after)
			}
			if got := ts.metric("waorders_auth_failures_total", "reason="+tt.reason); got != failures+1 {
				t.Errorf("waorders_auth_failures_total{reason=%q} %v → %v, want +1", tt.reason, failures, got)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestIPAllowList(t *testing.T) {
	prefix := func(s string) netip.Prefix { return netip.MustParsePrefix(s) }
	tests := []struct {
		name    string
		allow   []netip.Prefix
		trusted []netip.Prefix
		xff     string
		ok      bool
	}{
		{"LoopbackAllowed", []netip.Prefix{prefix("127.0.0.0/8")}, nil, "", true},
		{"PeerOutside", []netip.Prefix{prefix("10.0.0.0/8")}, nil, "", false},
		{"ForwardedByTrustedProxy", []netip.Prefix{prefix("203.0.113.0/24")}, []netip.Prefix{prefix("127.0.0.1/32")}, "203.0.113.9", true},
		{"ForwardedOutside", []netip.Prefix{prefix("203.0.113.0/24")}, []netip.Prefix{prefix("127.0.0.1/32")}, "198.51.100.7", false},
		{"SpoofedWithoutTrustedProxy", []netip.Prefix{prefix("203.0.113.0/24")}, nil, "203.0.113.9", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, func(_ *server.Config, ac *callbackauth.Config) {
				ac.AllowCIDRs, ac.TrustedProxies = tt.allow, tt.trusted
			})
			hdr := []string{}
			if tt.xff != "" {
				hdr = append(hdr, "X-Forwarded-For", tt.xff)
			}
			r := ts.kaleyra(oneOrder("wamid.IP0001"), hdr...)
			if tt.ok {
				mustAnswer(t, r)
				return
			}
			mustError(t, r, http.StatusUnauthorized, "unauthorized")
			if n := ts.rows("callbacks") + ts.rows("messages"); n != 0 {
				t.Errorf("a refused callback stored %d rows", n)
			}
			if got := ts.metric("waorders_auth_failures_total", "reason=ip_not_allowed"); got != 1 {
				t.Errorf("waorders_auth_failures_total{reason=ip_not_allowed} = %v, want 1", got)
			}
		})
	}
}

func TestMetaEndpoint(t *testing.T) {
	ts := startServer(t)
	body := readTestdata(t, "i8_meta_order.json")

	t.Run("Handshake", func(t *testing.T) {
		q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {srvVerifyToken}, "hub.challenge": {"1158201444"}}
		r := ts.send(http.MethodGet, "/v1/callbacks/meta?"+q.Encode(), nil)
		if r.status != http.StatusOK || string(r.body) != "1158201444" {
			t.Fatalf("handshake: %s, want 200 1158201444", r)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want text/plain", ct)
		}
		q.Set("hub.verify_token", "wrong-token")
		mustError(t, ts.send(http.MethodGet, "/v1/callbacks/meta?"+q.Encode(), nil), http.StatusForbidden, "forbidden")
		q.Set("hub.verify_token", srvVerifyToken)
		q.Set("hub.mode", "unsubscribe")
		mustError(t, ts.send(http.MethodGet, "/v1/callbacks/meta?"+q.Encode(), nil), http.StatusForbidden, "forbidden")
	})

	t.Run("BadSignature", func(t *testing.T) {
		for name, hdr := range map[string][]string{
			"Missing":     {},
			"OtherSecret": {callback.SignatureHeader, callback.Sign(body, "another-app-secret-012345")},
			"OtherBody":   {callback.SignatureHeader, callback.Sign(append([]byte(" "), body...), srvMetaSecret)},
			"NotHex":      {callback.SignatureHeader, "sha256=zz"},
			"CallbackSecretInstead": {
				"X-Callback-Secret", srvSecretNew,
			},
		} {
			before := ts.metric("waorders_auth_failures_total")
			r := ts.send(http.MethodPost, "/v1/callbacks/meta", body, hdr...)
			mustError(t, r, http.StatusUnauthorized, "unauthorized")
			if n := ts.rows("messages") + ts.rows("callbacks"); n != 0 {
				t.Errorf("%s: stored %d rows", name, n)
			}
			if got := ts.metric("waorders_auth_failures_total"); got != before+1 {
				t.Errorf("%s: auth failures %v → %v, want +1", name, before, got)
			}
		}
	})

	t.Run("Signed", func(t *testing.T) {
		a := mustAnswer(t, ts.meta(body))
		if a.Envelope != "meta" || len(a.Messages) != 1 || a.Messages[0].Result != "stored" {
			t.Errorf("answer %+v, want one stored meta order", a)
		}
		// A secret header does not open the Meta endpoint, nor the signature the Kaleyra one.
		r := ts.send(http.MethodPost, "/v1/callbacks/kaleyra", body, callback.SignatureHeader, callback.Sign(body, srvMetaSecret))
		mustError(t, r, http.StatusUnauthorized, "unauthorized")
	})
}

func TestAPIRequiresToken(t *testing.T) {
	ts := startServer(t)
	mustAnswer(t, ts.kaleyra(oneOrder("wamid.APITOKEN1")))
	paths := []struct{ method, path string }{
		{http.MethodGet, "/v1/messages"},
		{http.MethodGet, "/v1/messages/wamid.APITOKEN1"},
		{http.MethodGet, "/v1/orders/wamid.APITOKEN1"},
		{http.MethodGet, "/v1/quarantine"},
		{http.MethodGet, "/v1/quarantine/1"},
		{http.MethodPost, "/v1/quarantine/1/retry"},
	}
	for _, p := range paths {
		for name, authz := range map[string]string{
			"Missing":        "",
			"Wrong":          "Bearer wrong-api-token-0123456789",
			"CallbackSecret": "Bearer " + srvSecretNew,
			"Basic":          "Basic " + srvAPIToken,
			"Empty":          "Bearer ",
		} {
			r := ts.send(p.method, p.path, nil, "Authorization", authz)
			mustError(t, r, http.StatusUnauthorized, "unauthorized")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s %s: WWW-Authenticate %q, want Bearer", p.method, p.path, name, r.header.Get("WWW-Authenticate"))
			}
		}
	}
	for _, tok := range []string{srvAPIToken, srvAPITokenNext} {
		r := ts.send(http.MethodGet, "/v1/orders/wamid.APITOKEN1", nil, "Authorization", "Bearer "+tok)
		if r.status != http.StatusOK {
			t.Errorf("token %s…: %s, want 200", tok[:8], r)
		}
	}
	// Operations endpoints need no token.
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := ts.send(http.MethodGet, p, nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", p, r.status)
		}
	}
}

func TestLimits(t *testing.T) {
	const limit = 4096
	ts := startServer(t, func(c *server.Config, _ *callbackauth.Config) { c.MaxBodyBytes = limit })

	t.Run("BodyAtLimit", func(t *testing.T) {
		b := oneOrder("wamid.LIMIT0001")
		b = append(b, bytes.Repeat([]byte(" "), limit-len(b))...)
		mustAnswer(t, ts.kaleyra(b))
	})
	t.Run("BodyOverLimit", func(t *testing.T) {
		before := ts.storedRows()
		b := oneOrder("wamid.LIMIT0002")
		b = append(b, bytes.Repeat([]byte(" "), limit+1-len(b))...)
		e := mustError(t, ts.kaleyra(b), http.StatusRequestEntityTooLarge, "body_too_large")
		if !strings.Contains(e.Error.Message, strconv.Itoa(limit)) {
			t.Errorf("message %q does not name the limit", e.Error.Message)
		}
		if after := ts.storedRows(); !mapsEqual(before, after) {
			t.Errorf("an oversized body changed storage: %v → %v", before, after)
		}
	})
	t.Run("ContentType", func(t *testing.T) {
		for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"} {
			before := ts.storedRows()
			r := ts.kaleyra(oneOrder("wamid.CT0001"), "Content-Type", ct)
			mustError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
			if after := ts.storedRows(); !mapsEqual(before, after) {
				t.Errorf("Content-Type %q changed storage", ct)
			}
		}
		for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON", "application/vnd.kaleyra+json"} {
			id := "wamid.CT" + strconv.Itoa(len(ct))
			if a := mustAnswer(t, ts.kaleyra(oneOrder(id), "Content-Type", ct)); a.Messages[0].Result != "stored" {
				t.Errorf("Content-Type %q: %+v", ct, a)
			}
		}
	})
	t.Run("Methods", func(t *testing.T) {
		for _, tt := range []struct{ method, path, allow string }{
			{http.MethodPut, "/v1/callbacks/kaleyra", "POST"},
			{http.MethodGet, "/v1/callbacks/kaleyra", "POST"},
			{http.MethodDelete, "/v1/callbacks/kaleyra", "POST"},
			{http.MethodPut, "/v1/callbacks/meta", "GET, HEAD, POST"},
			{http.MethodPost, "/healthz", "GET, HEAD"},
			{http.MethodDelete, "/v1/quarantine/1", "GET, HEAD"},
		} {
			r := ts.send(tt.method, tt.path, nil, "X-Callback-Secret", srvSecretNew)
			mustError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			if got := splitList(r.header.Get("Allow")); !slices.Equal(got, splitList(tt.allow)) {
				t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, r.header.Get("Allow"), tt.allow)
			}
		}
	})
	t.Run("UnknownPath", func(t *testing.T) {
		for _, p := range []string{"/nope", "/v1/callbacks/other", "/v2/orders"} {
			mustError(t, ts.send(http.MethodGet, p, nil), http.StatusNotFound, "not_found")
		}
	})
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// TestSlowClients checks that a client that stalls is cut off by the
// server's timeouts: the connection ends (answered or closed) although the
// client never finishes its request. The deadline on the test's side only
// keeps a broken server from hanging the test.
func TestSlowClients(t *testing.T) {
	ts := startServer(t, func(c *server.Config, _ *callbackauth.Config) {
		c.ReadTimeout = 300 * time.Millisecond
		c.ReadHeaderTimeout = 300 * time.Millisecond
	})
	tests := []struct {
		name, request string
	}{
		{"StalledBody", "POST /v1/callbacks/kaleyra HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
			"X-Callback-Secret: " + srvSecretNew + "\r\nContent-Length: 4000\r\n\r\n{\"meta_object\":"},
		{"StalledHeaders", "POST /v1/callbacks/kaleyra HTTP/1.1\r\nHost: test\r\nContent-Type: appl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", ts.srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			got, err := io.ReadAll(conn)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the stalled connection open: %v", err)
			}
			if len(got) > 0 {
				resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(got)), nil)
				if err != nil {
					t.Fatalf("answer %q: %v", got, err)
				}
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Errorf("status %d, want a 4xx", resp.StatusCode)
				}
			}
			if n := ts.rows("callbacks") + ts.rows("quarantine"); n != 0 {
				t.Errorf("a stalled request stored %d rows", n)
			}
		})
	}
	// The server still serves others.
	mustAnswer(t, ts.kaleyra(oneOrder("wamid.AFTERSLOW")))
}

// apiQuarantine is the API's full quarantine entry.
type apiQuarantine struct {
	ID         int64               `json:"id"`
	Kind       string              `json:"kind"`
	CallbackID string              `json:"callback_id"`
	MessageID  string              `json:"message_id"`
	Reason     string              `json:"reason"`
	Message    string              `json:"message"`
	Problems   []apiProblem        `json:"problems"`
	ReceivedAt time.Time           `json:"received_at"`
	ResolvedAt *time.Time          `json:"resolved_at"`
	Attempts   int                 `json:"attempts"`
	Body       *string             `json:"body"`
	Headers    map[string][]string `json:"headers"`
}

func TestBadInputIsQuarantined(t *testing.T) {
	ts := startServer(t)
	basicReq, _ := http.NewRequest(http.MethodPost, "/", nil)
	basicReq.SetBasicAuth(srvBasicUser, srvBasicPass)

	bodies := []struct {
		name, body, code string
		hdr              []string
	}{
		{"InvalidJSON", `{"meta_object": {"value": <script>`, "invalid_json", []string{"X-Trace", "trace-1"}},
		{"UnknownEnvelope", `{"hello": "world"}`, "unknown_envelope", []string{"X-Callback-Secret", "", "Authorization", basicReq.Header.Get("Authorization")}},
		{"Empty", "  \n", "empty_body", nil},
		{"InvalidUTF8", "{\"meta_object\": \"\xff\xfe\"}", "invalid_json", nil},
	}
	var ids []int64
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			r := ts.kaleyra([]byte(b.body), b.hdr...)
			e := mustError(t, r, http.StatusBadRequest, b.code)
			if e.Error.QuarantineID <= 0 {
				t.Fatalf("no quarantine_id in %s", r.body)
			}
			ids = append(ids, e.Error.QuarantineID)
			var q apiQuarantine
			full := ts.apiJSON(http.MethodGet, "/v1/quarantine/"+strconv.FormatInt(e.Error.QuarantineID, 10), http.StatusOK, &q)
			noSecrets(t, "quarantine entry", full.body)
			if bytes.ContainsAny(full.body, "<>") {
				t.Errorf("quarantine entry is not HTML-escaped: %s", full.body)
			}
			if q.Kind != "body" || q.Reason != b.code || q.CallbackID != e.Error.RequestID || q.Body == nil || len(q.Problems) != 1 {
				t.Errorf("entry %+v, want a body entry %s of request %s with its body", q, b.code, e.Error.RequestID)
			}
			if q.Body != nil && utf8.ValidString(b.body) && *q.Body != b.body {
				t.Errorf("body %q, want %q", *q.Body, b.body)
			}
			for name, values := range q.Headers {
				if isSecretHeader(name) && !slices.Equal(values, []string{callbackauth.Redacted}) {
					t.Errorf("header %s = %q, want redacted", name, values)
				}
			}
			if len(b.hdr) > 0 && b.hdr[0] == "X-Trace" && !slices.Equal(q.Headers["X-Trace"], []string{"trace-1"}) {
				t.Errorf("headers %v, want X-Trace kept", q.Headers)
			}
			if b.name == "InvalidJSON" && !slices.Equal(q.Headers["X-Callback-Secret"], []string{callbackauth.Redacted}) {
				t.Errorf("headers %v, want X-Callback-Secret redacted", q.Headers)
			}
			if b.name == "UnknownEnvelope" && !slices.Equal(q.Headers["Authorization"], []string{callbackauth.Redacted}) {
				t.Errorf("headers %v, want Authorization redacted", q.Headers)
			}
		})
	}

	// A readable callback with one good and one unusable order.
	mixed := kaleyraOrders("mixed",
		orderMsg{ID: "wamid.MIXEDGOOD", Name: "Good"},
		orderMsg{ID: "wamid.MIXEDBAD", Name: "Bad", Items: []lineItem{{"SKU-1", "0", "100", "INR"}}})
	a := mustAnswer(t, ts.kaleyra(mixed))
	if len(a.Messages) != 2 || a.Messages[0].Result != "stored" || a.Messages[1].Result != "quarantined" {
		t.Fatalf("answer %+v, want stored and quarantined", a)
	}
	bad := a.Messages[1]
	if bad.ID != "wamid.MIXEDBAD" || bad.QuarantineID <= 0 || !slices.Contains(codes(bad.Errors), "invalid_quantity") {
		t.Errorf("bad message %+v, want quarantined with invalid_quantity", bad)
	}
	ts.apiJSON(http.MethodGet, "/v1/orders/wamid.MIXEDGOOD", http.StatusOK, nil)
	ts.apiJSON(http.MethodGet, "/v1/orders/wamid.MIXEDBAD", http.StatusNotFound, nil)
	var qbad apiQuarantine
	ts.apiJSON(http.MethodGet, "/v1/quarantine/"+strconv.FormatInt(bad.QuarantineID, 10), http.StatusOK, &qbad)
	if qbad.Kind != "message" || qbad.MessageID != "wamid.MIXEDBAD" || qbad.Reason != "invalid_quantity" || qbad.Body == nil || *qbad.Body != string(mixed) {
		t.Errorf("entry %+v, want the message entry with reason invalid_quantity and the body", qbad)
	}
	ids = append(ids, bad.QuarantineID)

	t.Run("ListNewestFirst", func(t *testing.T) {
		want := slices.Clone(ids)
		slices.Reverse(want)
		var got []int64
		cursor := ""
		for page := 0; page < 10; page++ {
			var p struct {
				Entries    []apiQuarantine `json:"entries"`
				NextCursor string          `json:"next_cursor"`
			}
			ts.apiJSON(http.MethodGet, "/v1/quarantine?limit=2&cursor="+url.QueryEscape(cursor), http.StatusOK, &p)
			for _, e := range p.Entries {
				got = append(got, e.ID)
				if e.Body != nil {
					t.Errorf("list entry %d carries its body", e.ID)
				}
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("quarantine ids %v, want %v", got, want)
		}
	})

	t.Run("RetryStillUnusable", func(t *testing.T) {
		var out struct {
			Entry    apiQuarantine `json:"entry"`
			Resolved bool          `json:"resolved"`
			Result   *cbAnswer     `json:"result"`
			Error    *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		ts.apiJSON(http.MethodPost, "/v1/quarantine/"+strconv.FormatInt(ids[0], 10)+"/retry", http.StatusOK, &out)
		if out.Resolved || out.Error == nil || out.Error.Code != "invalid_json" || out.Entry.Attempts != 1 {
			t.Errorf("retry of a non-JSON body: %+v, want unresolved invalid_json after 1 attempt", out)
		}
		before := ts.storedRows()
		out.Result, out.Error = nil, nil
		ts.apiJSON(http.MethodPost, "/v1/quarantine/"+strconv.FormatInt(bad.QuarantineID, 10)+"/retry", http.StatusOK, &out)
		if out.Resolved || out.Result == nil || len(out.Result.Messages) != 2 {
			t.Fatalf("retry of the zero quantity: %+v, want unresolved with both messages", out)
		}
		if m := out.Result.Messages; m[0].Result != "duplicate" || m[1].Result != "quarantined" || m[1].QuarantineID != bad.QuarantineID {
			t.Errorf("retry results %+v, want duplicate and the same quarantine entry", m)
		}
		if after := ts.storedRows(); !mapsEqual(before, after) {
			t.Errorf("a retry of a still-unusable message changed storage: %v → %v", before, after)
		}
		mustError(t, ts.api(http.MethodPost, "/v1/quarantine/999999/retry"), http.StatusNotFound, "not_found")
		mustError(t, ts.api(http.MethodPost, "/v1/quarantine/abc/retry"), http.StatusBadRequest, "invalid")
		mustError(t, ts.api(http.MethodGet, "/v1/quarantine/0"), http.StatusBadRequest, "invalid")
	})

	t.Run("RetryResolves", func(t *testing.T) {
		// An entry kept by an older decoder that the current one reads: the
		// seed, quarantined as if it had been undecodable.
		seed := readTestdata(t, "kaleyra_seed.json")
		res, err := ts.store.WriteInbound(context.Background(), []*store.Inbound{{Quarantine: []*waorders.QuarantineEntry{{
			Kind: waorders.QuarantineBody, CallbackID: "older-decoder-1", Reason: "unknown_envelope",
			Message: "an older decoder could not read it", Body: seed, ReceivedAt: time.Now(),
		}}}})
		if err != nil {
			t.Fatal(err)
		}
		qid := strconv.FormatInt(res[0].Quarantine[0].ID, 10)
		var out struct {
			Entry    apiQuarantine `json:"entry"`
			Resolved bool          `json:"resolved"`
			Result   *cbAnswer     `json:"result"`
		}
		ts.apiJSON(http.MethodPost, "/v1/quarantine/"+qid+"/retry", http.StatusOK, &out)
		if !out.Resolved || out.Result == nil || len(out.Result.Messages) != 1 || out.Result.Messages[0].Result != "stored" || out.Entry.ResolvedAt == nil {
			t.Fatalf("retry: %+v, want resolved with the order stored", out)
		}
		var o apiOrder
		ts.apiJSON(http.MethodGet, "/v1/orders/"+out.Result.Messages[0].ID, http.StatusOK, &o)
		if len(o.Totals) != 1 || o.Totals[0].String() != "INR 3600.00 360000" {
			t.Errorf("order totals %v, want INR 3600.00 360000", o.Totals)
		}
		var unresolved struct {
			Entries []apiQuarantine `json:"entries"`
		}
		ts.apiJSON(http.MethodGet, "/v1/quarantine?unresolved=true", http.StatusOK, &unresolved)
		for _, e := range unresolved.Entries {
			if strconv.FormatInt(e.ID, 10) == qid {
				t.Errorf("resolved entry %s listed as unresolved", qid)
			}
		}
		ts.apiJSON(http.MethodPost, "/v1/quarantine/"+qid+"/retry", http.StatusOK, &out)
		if !out.Resolved || out.Result.Messages[0].Result != "duplicate" || out.Entry.Attempts != 2 {
			t.Errorf("second retry: %+v, want resolved, duplicate, 2 attempts", out)
		}
	})
}

func isSecretHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "X-Callback-Secret", "X-Hub-Signature-256", "Cookie":
		return true
	}
	return false
}

func TestStorageFailure(t *testing.T) {
	ts := startServer(t, func(c *server.Config, _ *callbackauth.Config) { c.RetryAfter = 7 * time.Second })
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := ts.send(http.MethodGet, p, nil); r.status != http.StatusOK {
			t.Fatalf("GET %s on a healthy store: %s", p, r)
		}
	}
	mustAnswer(t, ts.kaleyra(oneOrder("wamid.BEFOREFAIL")))

	if err := ts.store.Close(); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"Order":       oneOrder("wamid.AFTERFAIL"),
		"Undecodable": []byte(`{"not json`),
		"Duplicate":   oneOrder("wamid.BEFOREFAIL"),
	} {
		r := ts.kaleyra(body)
		mustError(t, r, http.StatusServiceUnavailable, "unavailable")
		if got := r.header.Get("Retry-After"); got != "7" {
			t.Errorf("%s: Retry-After %q, want 7", name, got)
		}
	}
	r := ts.send(http.MethodGet, "/readyz", nil)
	mustError(t, r, http.StatusServiceUnavailable, "unavailable")
	if r := ts.send(http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
		t.Errorf("GET /healthz: %s, want 200 (the process is alive)", r)
	}
	if got := ts.rows("messages"); got != 1 {
		t.Errorf("%d messages in storage, want only the one acknowledged before the failure", got)
	}
	if got := ts.metric("waorders_storage_errors_total"); got < 1 {
		t.Errorf("waorders_storage_errors_total = %v, want ≥ 1", got)
	}
}

func TestConcurrentDuplicates(t *testing.T) {
	ts := startServer(t)
	body := oneOrder("wamid.CONCURRENT")
	const n = 10
	results := make([]string, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, ts.base+"/v1/callbacks/kaleyra", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Callback-Secret", srvSecretOld)
			resp, err := ts.client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			var a cbAnswer
			if json.NewDecoder(resp.Body).Decode(&a) == nil && len(a.Messages) == 1 {
				results[i] = a.Messages[0].Result
			}
		})
	}
	close(start)
	wg.Wait()
	stored := 0
	for i := range n {
		if statuses[i] != http.StatusOK {
			t.Errorf("request %d: status %d, want 200", i, statuses[i])
		}
		switch results[i] {
		case "stored":
			stored++
		case "duplicate":
		default:
			t.Errorf("request %d: result %q", i, results[i])
		}
	}
	if stored != 1 {
		t.Errorf("%d requests stored the order, want exactly 1: %v", stored, results)
	}
	if got := ts.rows("orders"); got != 1 {
		t.Errorf("%d orders, want 1", got)
	}
	if got := ts.rows("order_items"); got != 2 {
		t.Errorf("%d order items, want 2", got)
	}
	if got := ts.rows("callbacks"); got != n {
		t.Errorf("%d callbacks kept, want %d (duplicates included)", got, n)
	}
	if got := ts.metric("waorders_duplicates_total"); got != n-1 {
		t.Errorf("waorders_duplicates_total = %v, want %d", got, n-1)
	}
}

func TestMetrics(t *testing.T) {
	ts := startServer(t)
	mustAnswer(t, ts.kaleyra(oneOrder("wamid.METRIC1")))
	mustAnswer(t, ts.kaleyra(oneOrder("wamid.METRIC1")))
	mustAnswer(t, ts.meta(readTestdata(t, "i9_meta_statuses.json")))
	mustAnswer(t, ts.kaleyra(kaleyraOrders("m", orderMsg{ID: "wamid.METRICBAD", Items: []lineItem{{"SKU", "0", "1", "INR"}}})))
	mustError(t, ts.kaleyra([]byte("nope")), http.StatusBadRequest, "invalid_json")
	mustError(t, ts.kaleyra(oneOrder("wamid.METRIC2"), "X-Callback-Secret", "wrong-secret-0123456789"), http.StatusUnauthorized, "unauthorized")

	r := ts.send(http.MethodGet, "/metrics", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %s", r)
	}
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"waorders_callbacks_total", []string{"envelope=kaleyra", "type=order", "result=stored"}, 1},
		{"waorders_callbacks_total", []string{"envelope=kaleyra", "type=order", "result=duplicate"}, 1},
		{"waorders_callbacks_total", []string{"envelope=kaleyra", "type=order", "result=quarantined"}, 1},
		{"waorders_callbacks_total", []string{"envelope=meta", "type=status", "result=stored"}, 2},
		{"waorders_callbacks_total", []string{"type=body", "result=rejected"}, 1},
		{"waorders_duplicates_total", nil, 1},
		{"waorders_quarantined_total", []string{"kind=message"}, 1},
		{"waorders_quarantined_total", []string{"kind=body"}, 1},
		{"waorders_auth_failures_total", []string{"reason=bad_credentials"}, 1},
		{"waorders_intake_duration_seconds_count", []string{"envelope=kaleyra", "code=200"}, 3},
		{"waorders_intake_duration_seconds_count", []string{"envelope=kaleyra", "code=400"}, 1},
		{"waorders_intake_duration_seconds_count", []string{"envelope=meta", "code=200"}, 1},
		{"waorders_commit_batch_size_count", nil, 5},
		{"waorders_commit_batch_size_sum", nil, 5},
	}
	for _, tt := range tests {
		if got := sampleValue(t, r.body, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// go_sched_latencies_seconds: how long goroutines wait for a CPU, which
	// tells an operator when callback latency is the process being starved.
	for _, name := range []string{"waorders_intake_duration_seconds_bucket", "waorders_commit_batch_size_bucket",
		"go_sched_latencies_seconds_bucket"} {
		if !bytes.Contains(r.body, []byte(name+"{")) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	ts := startServer(t)
	const (
		name = `<script>alert("name")</script>`
		text = `</textarea><img src=x onerror=alert(1)> & more`
		ref  = `<b>ref</b>&amp;`
	)
	body := kaleyraOrders(ref, orderMsg{ID: "wamid.HOSTILE", Name: name, Text: text,
		Items: []lineItem{{"<sku>&", "1", "10", "INR"}}})
	r := ts.kaleyra(body)
	mustAnswer(t, r)
	for _, path := range []string{"/v1/orders/wamid.HOSTILE", "/v1/messages/wamid.HOSTILE", "/v1/messages"} {
		r := ts.api(http.MethodGet, path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %s", path, r)
		}
		if bytes.ContainsAny(r.body, "<>&") {
			t.Errorf("GET %s is not HTML-escaped: %s", path, r.body)
		}
	}
	var o apiOrder
	ts.apiJSON(http.MethodGet, "/v1/orders/wamid.HOSTILE", http.StatusOK, &o)
	if o.Customer.Name != name || o.Text != text || o.Campaign.Ref != ref || o.Items[0].ProductRetailerID != "<sku>&" {
		t.Errorf("order %+v: the text did not survive unchanged", o)
	}
	// The error answers carry no raw markup either.
	r = ts.send(http.MethodGet, "/v1/<script>", nil)
	mustError(t, r, http.StatusNotFound, "not_found")
	if bytes.ContainsAny(r.body, "<>") {
		t.Errorf("404 answer is not HTML-escaped: %s", r.body)
	}
}

func TestNewRefusesMissingParts(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := intake.New(st, intake.Config{})
	authn, err := callbackauth.New(callbackauth.Config{Secrets: []string{srvSecretNew}})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]server.Config{
		"NoStore":  {Intake: in, Auth: authn},
		"NoIntake": {Store: st, Auth: authn},
		"NoAuth":   {Store: st, Intake: in},
	} {
		if _, err := server.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := server.New(server.Config{Store: st, Intake: in, InsecureNoAuth: true}); err != nil {
		t.Errorf("InsecureNoAuth: %v", err)
	}
}

func TestInsecureNoAuth(t *testing.T) {
	ts := startServer(t, func(c *server.Config, _ *callbackauth.Config) {
		c.InsecureNoAuth = true
		c.MetaAppSecrets = nil
	})
	if a := mustAnswer(t, ts.send(http.MethodPost, "/v1/callbacks/kaleyra", oneOrder("wamid.OPEN1"))); a.Messages[0].Result != "stored" {
		t.Errorf("answer %+v", a)
	}
	if a := mustAnswer(t, ts.send(http.MethodPost, "/v1/callbacks/meta", readTestdata(t, "i8_meta_order.json"))); a.Messages[0].Result != "stored" {
		t.Errorf("answer %+v", a)
	}
	// The API still needs its token.
	mustError(t, ts.send(http.MethodGet, "/v1/orders/wamid.OPEN1", nil), http.StatusUnauthorized, "unauthorized")
	// Without a token client the token endpoint does not exist.
	mustError(t, ts.send(http.MethodPost, "/v1/callbacks/token", []byte(`{}`)), http.StatusNotFound, "not_found")
}

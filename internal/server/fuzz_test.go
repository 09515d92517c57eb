package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/callbackauth"
	"github.com/waorders/waorders/internal/testkit"
)

// hostileFuzzCap is the body cap of the fuzzed server: small, so that the
// 413 path is within the fuzzer's reach.
const hostileFuzzCap = 64 << 10

// FuzzCallbackHandler posts arbitrary bodies, with valid credentials, to
// the Kaleyra callback endpoint of one real server (real SQLite store in a
// temp dir, real intake) per fuzzing process, and checks the intake
// promise for every one of them:
//
//   - the status is 200 or 400 (413 over the cap), never a 5xx or a panic;
//   - a 400 carries error.code and error.quarantine_id, and that quarantine
//     entry holds the exact bytes posted;
//   - a 200 keeps the exact body as a callback, and every message and
//     status it lists is readable: a stored or duplicate message through
//     GET /v1/messages/{id} (and /v1/orders/{id} for an order), a status in
//     storage, a quarantined one through GET /v1/quarantine/{id} with the
//     exact body;
//   - no JSON answer carries raw '<', '>' or '&'.
//
// Seeds: every example body of callback/testdata and the corpus of
// hostile_test.go that reaches the decoder. Run it with
//
//	go test -run='^$' -fuzz=FuzzCallbackHandler -fuzztime=3m ./internal/server
func FuzzCallbackHandler(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "..", "callback", "testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	n := 0
	for _, name := range seeds {
		if strings.HasSuffix(name, ".golden.json") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		n++
	}
	if n == 0 {
		f.Fatal("no seed bodies in callback/testdata")
	}
	for _, c := range hostileCases() {
		if c.req.path == kaleyraPath && c.req.method == http.MethodPost && !c.req.chunked &&
			(c.status == http.StatusOK || c.status == http.StatusBadRequest) && len(c.req.body) <= 16<<10 &&
			len(c.req.header) == 4 { // the default headers only
			f.Add(c.req.body)
		}
	}

	// Through the handler (no listener), on memory-backed storage: the
	// fuzzer runs many inputs a second.
	h := newCorpus(setup(f, inDir(hostileShmDir(f)), secretOnly(), bodyLimit(hostileFuzzCap)))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := h.do(t, kaleyraRequest(body))
		hostileNoRawMarkup(t, "answer", r)
		switch {
		case len(body) > hostileFuzzCap:
			wantError(t, r, http.StatusRequestEntityTooLarge, "body_too_large")
			return
		case r.status == http.StatusOK:
		case r.status == http.StatusBadRequest:
			wantError(t, r, http.StatusBadRequest, "")
		default:
			t.Fatalf("status %s, want 200 or 400", r)
		}
		h.checkKept(t, body, r, nil, nil)
	})
}

// apiTargets are the API requests FuzzAPI aims its input at: a GET with the
// fuzzed raw query, a GET with the fuzzed path segment, or the status
// change of a stored order with the fuzzed body and If-Match header.
var apiTargets = []struct {
	method, path string
	segment      bool // the input is a path segment, not a query
}{
	{http.MethodGet, "/v1/orders", false},
	{http.MethodGet, "/v1/messages", false},
	{http.MethodGet, "/v1/quarantine", false},
	{http.MethodGet, "/v1/reports/campaigns", false},
	{http.MethodGet, "/v1/orders/export", false},
	{http.MethodGet, "/v1/orders/", true},
	{http.MethodGet, "/v1/messages/", true},
	{http.MethodGet, "/v1/quarantine/", true},
	{http.MethodGet, "/v1/customers/", true},
	{http.MethodPost, "/v1/orders/{order}/status", false},
	// The endpoints anyone on the internet reaches without the API token.
	{http.MethodGet, "/v1/callbacks/meta", false},   // Meta's handshake: the query is hub.*
	{http.MethodPost, "/v1/callbacks/token", false}, // body + Content-Type (the fuzzed header)
	{http.MethodPost, "/v1/callbacks/meta", false},  // body + X-Hub-Signature-256 (the fuzzed header)
}

// FuzzAPI sends arbitrary queries, path segments, status-change bodies and
// If-Match headers, with the API token, to every read endpoint and to the
// lifecycle endpoint of one real server (real SQLite store holding a few
// example callbacks, one of them quarantined), and arbitrary handshake
// queries, token requests (body and Content-Type) and signed Meta posts
// (body and signature) without it, and checks what any client may rely on:
// never a 5xx or a panic; a 4xx is a JSON error with a code,
// a message and the request id; a 200 is JSON (or CSV/NDJSON from the
// export, text/plain with nosniff for the handshake's echoed challenge); a
// redirect (net/http's, for a path that is not clean) stays on this server;
// no JSON answer carries raw '<', '>' or '&'. Run it with
//
//	go test -run='^$' -fuzz=FuzzAPI -fuzztime=3m ./internal/server
func FuzzAPI(f *testing.F) {
	f.Add(uint8(0), "status=pending&ref1=summer-sale&limit=2", []byte(nil), "")
	f.Add(uint8(0), "since=2026-01-01T00:00:00Z&until=2025-01-01T00:00:00Z", []byte(nil), "")
	f.Add(uint8(0), "cursor=MTc2NzIyNTYwMDAwMDAwMDp3YW1pZC54&q=%E2%80%AE", []byte(nil), "")
	f.Add(uint8(1), "type=order&customer=919876543210&since=yesterday", []byte(nil), "")
	f.Add(uint8(2), "unresolved=maybe&limit=-1", []byte(nil), "")
	f.Add(uint8(3), "group_by=ref1&interval=day&since=2026-01-01T00:00:00Z", []byte(nil), "")
	f.Add(uint8(4), "format=csv&ref=%00", []byte(nil), "")
	f.Add(uint8(4), "format=ndjson&format=csv", []byte(nil), "")
	f.Add(uint8(5), "wamid.%2F..%2F", []byte(nil), "")
	f.Add(uint8(7), "99999999999999999999", []byte(nil), "")
	f.Add(uint8(8), "919876543210", []byte(nil), "")
	f.Add(uint8(9), "", []byte(`{"status":"processing","note":"<b>x</b>"}`), `"1"`)
	f.Add(uint8(9), "", []byte(`{"status":"completed"}`), `W/"1", "2"`)
	f.Add(uint8(9), "", []byte(`{"status":1e999}`), "")

	f.Add(uint8(10), "hub.mode=subscribe&hub.verify_token="+testkit.MetaVerifyToken+"&hub.challenge=%3Cscript%3E", []byte(nil), "")
	f.Add(uint8(11), "", []byte("grant_type=client_credentials&client_id="+testkit.TokenClientID+"&client_secret="+testkit.TokenClientSecret),
		"application/x-www-form-urlencoded")
	f.Add(uint8(11), "", []byte(`{"client_id":"`+testkit.TokenClientID+`","client_secret":"x"}`), "application/json; charset=utf-8")
	f.Add(uint8(12), "", []byte(`{"object":"whatsapp_business_account","entry":[]}`), "sha256=00")

	// Only the secret header and the token client authenticate callbacks.
	h := newCorpus(setup(f, inDir(hostileShmDir(f)), withAuth(func(ac *callbackauth.Config) { ac.BasicUsers = nil })))
	var order string
	for _, name := range []string{"i1_order_inr.json", "i4_text_reply.json", "kaleyra_order_problems.json"} {
		r := h.do(f, kaleyraRequest(readTestdata(f, name)))
		var a cbAnswer
		if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil {
			f.Fatalf("seed %s: %s", name, r)
		}
		for _, m := range a.Messages {
			if m.Type == "order" && m.Result == "stored" && order == "" {
				order = m.ID
			}
		}
	}
	if r := h.do(f, kaleyraRequest([]byte(`{"meta_object":`))); r.status != http.StatusBadRequest {
		f.Fatalf("seed quarantine: %s", r)
	}
	if order == "" {
		f.Fatal("no order among the seeds")
	}

	f.Fuzz(func(t *testing.T, target uint8, input string, body []byte, ifMatch string) {
		tg := apiTargets[int(target)%len(apiTargets)]
		path := strings.ReplaceAll(tg.path, "{order}", url.PathEscape(order))
		switch {
		case tg.segment:
			path += url.PathEscape(input)
		case strings.ContainsFunc(input, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }):
			return // not a query a client can send: the HTTP layer refuses it before us
		case input != "":
			path += "?" + input
		}
		req := request{method: tg.method, path: path}
		switch tg.path {
		case "/v1/callbacks/meta":
			if tg.method == http.MethodPost {
				req.body = body
				req.header = []string{"Content-Type", "application/json", testkit.SignatureHeader, ifMatch}
			}
		case "/v1/callbacks/token":
			req.body = body
			req.header = []string{"Content-Type", ifMatch}
		default:
			req.header = []string{"Authorization", "Bearer " + testkit.APIToken}
			if tg.method == http.MethodPost {
				req.body = body
				req.header = append(req.header, "Content-Type", "application/json", "If-Match", ifMatch)
			}
		}
		if slices.Contains(req.header, ifMatch) && strings.ContainsAny(ifMatch, "\r\n\x00") {
			return // not a header value a client can send
		}
		r := h.do(t, req)
		hostileNoRawMarkup(t, tg.method+" "+path, r)
		switch ct := r.header.Get("Content-Type"); {
		case r.status >= 500:
			t.Fatalf("%s %s: %s", tg.method, path, r)
		case r.status >= 400:
			wantError(t, r, r.status, "")
		case r.status == http.StatusOK && strings.HasPrefix(ct, "application/json"):
			if !json.Valid(r.body) {
				t.Fatalf("%s %s: invalid JSON: %s", tg.method, path, r)
			}
		case r.status == http.StatusMovedPermanently || r.status == http.StatusTemporaryRedirect ||
			r.status == http.StatusPermanentRedirect:
			// net/http's mux sends a path with "." or ".." segments or "//" to
			// its clean form; that is no answer of ours, but where it points must
			// be one of our paths, never another host.
			if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				t.Fatalf("%s %s: redirect to %q", tg.method, path, loc)
			}
		case r.status == http.StatusOK && tg.path == "/v1/callbacks/meta" && tg.method == http.MethodGet:
			// The challenge is echoed: it must not be taken for markup.
			if !strings.HasPrefix(ct, "text/plain") || r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("handshake answer %q with Content-Type %q, nosniff %q", r.body, ct, r.header.Get("X-Content-Type-Options"))
			}
		case r.status == http.StatusOK && tg.path == "/v1/orders/export" &&
			(strings.HasPrefix(ct, "text/csv") || strings.HasPrefix(ct, "application/x-ndjson")):
		default:
			t.Fatalf("%s %s: status %d, Content-Type %q: %s", tg.method, path, r.status, ct, r)
		}
	})
}

package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waorders/waorders/internal/server"
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
		if c.req.path == hostileKaleyra && c.req.method == http.MethodPost && !c.req.chunked &&
			(c.status == http.StatusOK || c.status == http.StatusBadRequest) && len(c.req.body) <= 16<<10 &&
			len(c.req.header) == 4 { // the default headers only
			f.Add(c.req.body)
		}
	}

	h := newHostileEnv(f, false, func(c *server.Config) { c.MaxBodyBytes = hostileFuzzCap })
	f.Fuzz(func(t *testing.T, body []byte) {
		r := h.do(t, hostileCallbackRequest(hostileKaleyra, body))
		hostileNoRawMarkup(t, "answer", r)
		switch {
		case len(body) > hostileFuzzCap:
			hostileErrorBody(t, r, http.StatusRequestEntityTooLarge, "body_too_large")
			return
		case r.status == http.StatusOK:
		case r.status == http.StatusBadRequest:
			hostileErrorBody(t, r, http.StatusBadRequest, "")
		default:
			t.Fatalf("status %s, want 200 or 400", r)
		}
		h.checkKept(t, body, r, nil, nil)
	})
}

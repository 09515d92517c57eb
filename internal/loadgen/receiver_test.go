package loadgen

import (
	"encoding/json"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// receiver is a fake callback receiver: the third party the load generator
// talks to. It answers 401 when auth rejects a request, 400 to bodies that
// are not JSON, 503 the first time it sees one body in five (by checksum),
// and 200 otherwise; and it remembers what it saw.
type receiver struct {
	auth func(r *http.Request, body []byte) bool // nil accepts all
	// answer, when set, replaces the rules above.
	answer func(r *http.Request, body []byte) int

	mu          sync.Mutex
	requests    int
	paths       map[string]int
	bodies      map[string]int  // times each body was received
	acked       map[string]bool // bodies answered 2xx at least once
	codes       map[int]int
	inFlight    int
	maxInFlight int
	conns       int // connections opened
}

func newReceiver(t *testing.T, rc *receiver) *httptest.Server {
	t.Helper()
	rc.paths, rc.bodies, rc.acked, rc.codes = map[string]int{}, map[string]int{}, map[string]bool{}, map[int]int{}
	srv := httptest.NewUnstartedServer(rc)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			rc.mu.Lock()
			rc.conns++
			rc.mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	rc.mu.Lock()
	rc.inFlight++
	rc.maxInFlight = max(rc.maxInFlight, rc.inFlight)
	rc.mu.Unlock()

	code := http.StatusOK
	if rc.answer != nil {
		code = rc.answer(r, body)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.inFlight--
	seen := rc.bodies[string(body)]
	if rc.answer == nil {
		switch {
		case rc.auth != nil && !rc.auth(r, body):
			code = http.StatusUnauthorized
		case !json.Valid(body):
			code = http.StatusBadRequest
		case seen == 0 && crc32.ChecksumIEEE(body)%5 == 0:
			code = http.StatusServiceUnavailable
		}
	}
	rc.requests++
	rc.paths[r.URL.Path]++
	rc.bodies[string(body)]++
	rc.codes[code]++
	if code >= 200 && code < 300 {
		rc.acked[string(body)] = true
	}
	w.WriteHeader(code)
	io.WriteString(w, `{"results":[]}`)
}

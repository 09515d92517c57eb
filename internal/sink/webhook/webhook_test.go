package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/waorders/waorders/internal/sink"
)

// received is one request as a test receiver saw it.
type received struct {
	header http.Header
	body   []byte
	method string
}

// receiver is an httptest server that records requests and answers with
// answer (200 when nil).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

func newReceiver(t *testing.T, answer http.HandlerFunc) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{header: r.Header.Clone(), body: body, method: r.Method})
		rc.mu.Unlock()
		if answer != nil {
			answer(w, r)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

func newSink(t *testing.T, rawURL string, mod func(*Config)) *Sink {
	t.Helper()
	cfg := Config{URL: rawURL, Secrets: []string{k1}, AllowPrivate: true, AllowHTTPHosts: []string{"127.0.0.1"}}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func delivery(id string, attempt int) sink.Delivery {
	return sink.Delivery{EventID: id, Type: "order.created", PhoneNumberID: "100000000000001", Attempt: attempt,
		OccurredAt: time.Unix(w1TS, 0), Payload: []byte(w1Body)}
}

func TestDeliverRequest(t *testing.T) {
	rc := newReceiver(t, nil)
	clock := time.Unix(w1TS, 0)
	s := newSink(t, rc.URL+"/hooks?x=1", func(c *Config) {
		c.Secrets = []string{k1, k2}
		c.UserAgent = "waorders/test"
		c.Now = func() time.Time { return clock }
	})
	r := s.Deliver(context.Background(), delivery(w1ID, 1))
	if r.Outcome != sink.Delivered || r.Status != 200 || string(r.Excerpt) != `{"ok":true}` || r.Error != "" {
		t.Fatalf("Deliver = %+v", r)
	}
	clock = clock.Add(5 * time.Second)
	if r := s.Deliver(context.Background(), delivery(w1ID, 2)); r.Outcome != sink.Delivered {
		t.Fatalf("second attempt: %+v", r)
	}
	reqs := rc.got()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	first := reqs[0]
	if first.method != http.MethodPost || !bytes.Equal(first.body, []byte(w1Body)) {
		t.Fatalf("method %s body %q", first.method, first.body)
	}
	for k, want := range map[string]string{
		"Content-Type":      "application/json",
		"User-Agent":        "waorders/test",
		"webhook-id":        w1ID,
		"webhook-timestamp": "1767225600",
		// the W2 vector: both secrets sign
		"webhook-signature":   w2Sig,
		"waorders-event-type": "order.created",
		"waorders-attempt":    "1",
	} {
		if got := first.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// a retry: the same webhook-id, a fresh timestamp, a valid signature
	second := reqs[1]
	if second.header.Get(HeaderID) != w1ID || second.header.Get(HeaderTimestamp) != "1767225605" || second.header.Get(HeaderAttempt) != "2" {
		t.Fatalf("retry headers: %v", second.header)
	}
	for _, secret := range []string{k1, k2} {
		v := &Verifier{Keys: keys(t, secret), Now: func() time.Time { return clock }}
		for i, rq := range reqs {
			if err := v.Verify(rq.header, rq.body); err != nil {
				t.Fatalf("request %d does not verify with one key: %v", i+1, err)
			}
		}
	}
}

// TestOfficialVerifier has the reference Go library of Standard Webhooks
// (github.com/standard-webhooks/standard-webhooks/libraries/go, a
// test-only dependency) verify what the Sink sends, with either secret of
// a rotation, and shows it refuses a tampered body.
func TestOfficialVerifier(t *testing.T) {
	checked := 0
	official := map[string]*standardwebhooks.Webhook{}
	for _, s := range []string{k1, k2} {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			t.Fatal(err)
		}
		official[s] = wh
	}
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s := newSink(t, rc.URL, func(c *Config) { c.Secrets = []string{k2, k1} }) // real clock: the library calls time.Now
	for _, body := range []string{w1Body, w3Body, `{}`, ""} {
		d := delivery("evt_01JOFFICIAL", 1)
		d.Payload = []byte(body)
		if r := s.Deliver(context.Background(), d); r.Outcome != sink.Delivered || r.Status != 204 {
			t.Fatalf("Deliver: %+v", r)
		}
	}
	for _, rq := range rc.got() {
		for name, wh := range official {
			checked++
			if err := wh.Verify(rq.body, rq.header); err != nil {
				t.Errorf("the official verifier with %s refuses %q: %v", name[:12], rq.body, err)
			}
			if err := wh.Verify(append(append([]byte{}, rq.body...), ' '), rq.header); err == nil {
				t.Errorf("the official verifier accepts a tampered body")
			}
		}
	}
	if checked != 8 {
		t.Fatalf("%d verifications, want 8 (4 requests × 2 secrets)", checked)
	}
	// and our signer agrees with the official one on the upstream vector
	wh, _ := standardwebhooks.NewWebhook(u1Secret)
	theirs, _ := wh.Sign(u1ID, time.Unix(u1TS, 0), []byte(u1Body))
	if ours := Sign(keys(t, u1Secret), u1ID, time.Unix(u1TS, 0), []byte(u1Body)); ours != theirs || ours != u1Sig {
		t.Fatalf("ours %q, official %q, vector %q", ours, theirs, u1Sig)
	}
}

func TestDeliverClassifies(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var targetHits atomic.Int32
	target := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) })
	for _, c := range []struct {
		name       string
		answer     http.HandlerFunc
		outcome    sink.Outcome
		status     int
		retryAfter time.Duration
		errHas     string
	}{
		{"200", nil, sink.Delivered, 200, 0, ""},
		{"202", status(202, nil), sink.Delivered, 202, 0, ""},
		{"299", status(299, nil), sink.Delivered, 299, 0, ""},
		{"301 not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/moved?token=secret", http.StatusMovedPermanently)
		}, sink.Retry, 301, 0, "redirects are not followed"},
		{"307 not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
		}, sink.Retry, 307, 0, "update the endpoint URL"},
		{"400", status(400, nil), sink.Retry, 400, 0, "400"},
		{"401", status(401, nil), sink.Retry, 401, 0, "401"},
		{"403", status(403, nil), sink.Retry, 403, 0, "403"},
		{"404", status(404, nil), sink.Retry, 404, 0, "404"},
		{"422", status(422, nil), sink.Retry, 422, 0, "422"},
		{"410 gone", status(410, nil), sink.Gone, 410, 0, "410"},
		{"429 Retry-After seconds", status(429, map[string]string{"Retry-After": "2"}), sink.Retry, 429, 2 * time.Second, "429"},
		{"503 Retry-After date", status(503, map[string]string{"Retry-After": clock.Add(90 * time.Second).Format(http.TimeFormat)}), sink.Retry, 503, 90 * time.Second, "503"},
		{"502 Retry-After", status(502, map[string]string{"Retry-After": "7"}), sink.Retry, 502, 7 * time.Second, "502"},
		{"504 Retry-After garbage", status(504, map[string]string{"Retry-After": "soon"}), sink.Retry, 504, 0, "504"},
		{"500 Retry-After ignored", status(500, map[string]string{"Retry-After": "9"}), sink.Retry, 500, 0, "500"},
		{"500", status(500, nil), sink.Retry, 500, 0, "500 Internal Server Error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := newReceiver(t, c.answer)
			s := newSink(t, rc.URL, func(cfg *Config) { cfg.Now = func() time.Time { return clock } })
			r := s.Deliver(context.Background(), delivery(w1ID, 1))
			if r.Outcome != c.outcome || r.Status != c.status || r.RetryAfter != c.retryAfter || !strings.Contains(r.Error, c.errHas) {
				t.Fatalf("Deliver = %v status %d retryAfter %s error %q; want %v %d %s %q",
					r.Outcome, r.Status, r.RetryAfter, r.Error, c.outcome, c.status, c.retryAfter, c.errHas)
			}
			if strings.Contains(r.Error, "token=secret") {
				t.Fatalf("the error shows the Location's query: %q", r.Error)
			}
			if r.Latency <= 0 {
				t.Fatalf("latency %s", r.Latency)
			}
		})
	}
	if n := targetHits.Load(); n != 0 {
		t.Fatalf("a redirect was followed: the target got %d requests", n)
	}
}

func status(code int, h map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range h {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(http.StatusText(code)))
	}
}

func TestDeliverExcerptIsOneKiB(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100<<10)
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500); _, _ = w.Write(big) })
	r := newSink(t, rc.URL, nil).Deliver(context.Background(), delivery(w1ID, 1))
	if r.Outcome != sink.Retry || len(r.Excerpt) != ExcerptBytes {
		t.Fatalf("outcome %v, excerpt %d bytes", r.Outcome, len(r.Excerpt))
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s := newSink(t, rc.URL, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	start := time.Now()
	r := s.Deliver(context.Background(), delivery(w1ID, 1))
	if r.Outcome != sink.Retry || r.Status != 0 || !strings.Contains(r.Error, "timeout") {
		t.Fatalf("Deliver = %+v", r)
	}
	if el := time.Since(start); el > 3*time.Second || r.Latency < 200*time.Millisecond {
		t.Fatalf("took %s (latency %s) with a 200 ms timeout", el, r.Latency)
	}
	// the caller's deadline, when sooner, ends the attempt too
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s = newSink(t, rc.URL, nil) // 15 s default
	if r := s.Deliver(ctx, delivery(w1ID, 1)); r.Outcome != sink.Retry || r.Latency > 3*time.Second {
		t.Fatalf("Deliver under a 100 ms ctx: %+v", r)
	}
}

func TestDeliverTransportErrors(t *testing.T) {
	// connection refused: a listener closed at once
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := newSink(t, "http://"+addr+"/h?token=secret", nil).Deliver(context.Background(), delivery(w1ID, 1))
	if r.Outcome != sink.Retry || r.Status != 0 || r.Error == "" || strings.Contains(r.Error, "token=secret") {
		t.Fatalf("refused: %+v", r)
	}
	// a connection reset mid-request
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			conn.Close()
		}
	})
	r = newSink(t, rc.URL, nil).Deliver(context.Background(), delivery(w1ID, 1))
	if r.Outcome != sink.Retry || r.Status != 0 {
		t.Fatalf("reset: %+v", r)
	}
}

func TestDeliverRefusesBadEventID(t *testing.T) {
	rc := newReceiver(t, nil)
	s := newSink(t, rc.URL, nil)
	for _, id := range []string{"", "evt.1", "evt 1"} {
		if r := s.Deliver(context.Background(), delivery(id, 1)); r.Outcome != sink.Dead {
			t.Fatalf("id %q: %+v", id, r)
		}
	}
	if n := len(rc.got()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// TestPrivateRefusedAtDial shows the dial-time check: a URL whose name
// passes ValidateURL but resolves to loopback is refused when the
// connection is made, and the Sink asks to be paused. "localhost" is used
// as that name (ValidateURL refuses it by name too, so the Sink is built
// with private destinations allowed and its dialer swapped for the
// refusing one: exactly what a name that rebinds to 127.0.0.1 meets).
func TestPrivateRefusedAtDial(t *testing.T) {
	rc := newReceiver(t, nil)
	u, _ := url.Parse(rc.URL)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			s := newSink(t, "http://"+host+":"+u.Port()+"/h", func(c *Config) { c.AllowHTTPHosts = []string{host} })
			s.transport.DialContext = dialer(false).DialContext
			r := s.Deliver(context.Background(), delivery(w1ID, 1))
			if r.Outcome != sink.PauseSink || !strings.Contains(r.Error, "WEBHOOK_ALLOW_PRIVATE") || r.Status != 0 {
				t.Fatalf("Deliver = %+v", r)
			}
		})
	}
	if n := len(rc.got()); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
	// with AllowPrivate the same name is reached
	s := newSink(t, "http://localhost:"+u.Port()+"/h", func(c *Config) { c.AllowHTTPHosts = []string{"localhost"} })
	if r := s.Deliver(context.Background(), delivery(w1ID, 1)); r.Outcome != sink.Delivered {
		t.Fatalf("allowed: %+v", r)
	}
}

func TestDialControl(t *testing.T) {
	refuse := dialControl(false)
	for _, a := range []string{"127.0.0.1:443", "[::1]:443", "10.1.2.3:443", "172.16.0.1:443", "192.168.1.1:80",
		"169.254.169.254:80", "[fe80::1]:443", "0.0.0.0:443", "[::]:443", "224.0.0.1:443", "100.64.0.1:443",
		"[::ffff:127.0.0.1]:443", "[fd00::1]:443", "[64:ff9b::a00:1]:443", "255.255.255.255:443"} {
		if err := refuse("tcp", a, nil); !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: %v, want refused", a, err)
		}
	}
	for _, a := range []string{"8.8.8.8:443", "[2606:4700:4700::1111]:443", "1.1.1.1:80"} {
		if err := refuse("tcp", a, nil); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
	if err := dialControl(true)("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("allowed: %v", err)
	}
	if !IsPrivate(netip.MustParseAddr("::ffff:10.0.0.1")) {
		t.Error("IPv4-mapped private not private")
	}
}

func TestValidateURL(t *testing.T) {
	for _, c := range []struct {
		url          string
		allowPrivate bool
		httpHosts    []string
		errHas       string // "" = accepted
	}{
		{"https://hooks.example.com/waorders", false, nil, ""},
		{"https://hooks.example.com:8443/w?x=1", false, nil, ""},
		{"http://hooks.example.com/w", false, nil, "use https, or allow plain http"},
		{"http://hooks.example.com/w", false, []string{"HOOKS.example.com"}, ""},
		{"ftp://hooks.example.com/w", false, nil, "use https"},
		{"/relative", false, nil, "absolute"},
		{"hooks.example.com/w", false, nil, "absolute"},
		{"https://user:pw@hooks.example.com/w", false, nil, "user or password"},
		{"https://hooks.example.com/w#frag", false, nil, "fragment"},
		{"https://127.0.0.1/w", false, nil, "--webhook-allow-private"},
		{"https://127.0.0.1/w", true, nil, ""},
		{"https://[::1]:8443/w", false, nil, "internal address"},
		{"https://10.0.0.8/w", false, nil, "internal address"},
		{"https://169.254.169.254/latest/meta-data", false, nil, "internal address"},
		{"https://localhost/w", false, nil, "this machine"},
		{"https://api.localhost/w", false, nil, "this machine"},
		{"https://localhost/w", true, nil, ""},
		{"http://127.0.0.1:8080/w", true, []string{"127.0.0.1"}, ""},
		{"https://", false, nil, "absolute"},
		{"://x", false, nil, "does not parse"},
	} {
		err := ValidateURL(c.url, c.allowPrivate, c.httpHosts)
		switch {
		case c.errHas == "" && err != nil:
			t.Errorf("ValidateURL(%q): %v", c.url, err)
		case c.errHas != "" && (err == nil || !strings.Contains(err.Error(), c.errHas)):
			t.Errorf("ValidateURL(%q) = %v, want an error with %q", c.url, err, c.errHas)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, c := range []Config{
		{URL: "https://h.example.com", Secrets: nil},
		{URL: "https://h.example.com", Secrets: []string{"whsec_"}},
		{URL: "https://h.example.com", Secrets: []string{k1}, Timeout: -time.Second},
		{URL: "https://127.0.0.1", Secrets: []string{k1}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		} else if strings.Contains(err.Error(), "AAECAwQF") {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
	s, err := New(Config{URL: "https://h.example.com/", Secrets: []string{k1}})
	if err != nil || s.timeout != DefaultTimeout || s.userAgent != DefaultUserAgent {
		t.Fatalf("defaults: %v %v", s, err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"2":                             2 * time.Second,
		" 120 ":                         2 * time.Minute,
		"-5":                            0,
		"1.5":                           0,
		"soon":                          0,
		"99999999999999999999":          30 * 24 * time.Hour,
		"Thu, 01 Jan 2026 00:01:30 GMT": 90 * time.Second,
		"Wed, 31 Dec 2025 23:59:00 GMT": 0,
		"Sat, 01 Jan 2028 00:00:00 GMT": 30 * 24 * time.Hour,
	} {
		if got := ParseRetryAfter(v, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/cli"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/kaleyra"
)

const (
	sid    = "HXSANDBOXTEST01IN"
	apiKey = "test-api-key"
	sender = "+919800000001"
	to     = "+919900000001"
)

// receiver is a callback endpoint on 127.0.0.1 that fails the first
// failFirst posts with 503 and records the rest.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	got       []*http.Request
	bodies    [][]byte
	url       string
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	t.Helper()
	r := &receiver{failFirst: failFirst}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.failFirst > 0 {
			r.failFirst--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.got = append(r.got, req)
		r.bodies = append(r.bodies, b)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	r.url = "http://" + ln.Addr().String() + "/v1/callbacks/kaleyra"
	return r
}

func (r *receiver) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startSandbox(t *testing.T, cfg sandbox.Config) (*sandbox.Sandbox, *kaleyra.Client) {
	t.Helper()
	cfg.SID, cfg.APIKey, cfg.Sender = sid, apiKey, sender
	if cfg.StatusDelay == 0 {
		cfg.StatusDelay = 10 * time.Millisecond
	}
	cfg.CallbackRetryDelay = 10 * time.Millisecond
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	kc, err := kaleyra.New(kaleyra.Config{BaseURL: sb.URL(), SID: sid, APIKey: apiKey, Sender: sender})
	if err != nil {
		t.Fatal(err)
	}
	return sb, kc
}

// TestCallbacks: sent, delivered, read in order, each a Kaleyra V2 status
// body that the callback package decodes, refs echoed, the secret header
// sent, and a 503 retried.
func TestCallbacks(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 1)
	sb, kc := startSandbox(t, sandbox.Config{CallbackURL: rc.url,
		CallbackAuth: sandbox.CallbackAuth{Header: "X-Callback-Secret", Secret: "s3cret"}})
	res, err := kc.Send(context.Background(), kaleyra.Text(to, "hi").ReplyTo("wamid.O1").
		WithRefs(kaleyra.Refs{Ref: "order-wamid.O1", Ref1: "confirmation", Ref2: "42"}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 callbacks", func() bool { return rc.n() == 3 })
	// The sandbox records an attempt once it has the answer.
	waitFor(t, "4 attempts recorded", func() bool { return len(sb.Callbacks()) == 4 })
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, want := range []string{"sent", "delivered", "read"} {
		if rc.got[i].Header.Get("X-Callback-Secret") != "s3cret" {
			t.Errorf("%s: no secret header", want)
		}
		cb, err := callback.Decode(rc.bodies[i])
		if err != nil {
			t.Fatalf("%s: %v\n%s", want, err, rc.bodies[i])
		}
		ch := cb.Changes[0]
		if len(ch.Statuses) != 1 {
			t.Fatalf("%s: %d statuses", want, len(ch.Statuses))
		}
		st := ch.Statuses[0]
		if string(st.Status) != want || st.MessageID != res.MessageID || len(st.Problems) > 0 {
			t.Errorf("%s: status %+v", want, st)
		}
		var raw struct {
			ExtraInfo map[string]any `json:"extra_info"`
			Status    string         `json:"status"`
			MessageID string         `json:"message_id"`
		}
		_ = json.Unmarshal(rc.bodies[i], &raw)
		if raw.ExtraInfo["ref"] != "order-wamid.O1" || raw.ExtraInfo["ref1"] != "confirmation" || raw.ExtraInfo["ref2"] != "42" ||
			raw.Status != want || raw.MessageID != res.MessageID || raw.ExtraInfo["message_id"] != res.MessageID {
			t.Errorf("%s: body %s", want, rc.bodies[i])
		}
	}
	cbs := sb.Callbacks()
	if len(cbs) != 4 || cbs[0].HTTPStatus != 503 || cbs[1].Attempt != 2 || cbs[1].HTTPStatus != 200 {
		t.Errorf("attempts %+v", cbs)
	}
}

func TestBasicAuthAndFailedDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 0)
	sb, kc := startSandbox(t, sandbox.Config{CallbackURL: rc.url, CallbackAuth: sandbox.CallbackAuth{Username: "kaleyra", Password: "pw"}})
	sb.FailDelivery(131047, 1)
	res, err := kc.Send(context.Background(), kaleyra.Text(to, "hi"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 callbacks", func() bool { return rc.n() == 2 })
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if u, p, ok := rc.got[1].BasicAuth(); !ok || u != "kaleyra" || p != "pw" {
		t.Error("no Basic credentials")
	}
	cb, err := callback.Decode(rc.bodies[1])
	if err != nil {
		t.Fatal(err)
	}
	st := cb.Changes[0].Statuses[0]
	if string(st.Status) != "failed" || st.MessageID != res.MessageID || !bytes.Contains(rc.bodies[1], []byte("131047")) {
		t.Errorf("failed status %+v\n%s", st, rc.bodies[1])
	}
}

// TestSandboxAnswers: requests the client would not make, sent raw.
func TestSandboxAnswers(t *testing.T) {
	t.Parallel()
	sb, _ := startSandbox(t, sandbox.Config{})
	url := sb.URL() + "/v2/" + sid + "/whatsapp/" + sender + "/messages"
	cases := []struct {
		name, method, ct, body string
		status                 int
		want                   string
	}{
		{"get", "GET", "", "", 405, "WA405"},
		{"form", "POST", "application/x-www-form-urlencoded", "to=1", 400, "Content-Type"},
		{"not json", "POST", "application/json", "{", 400, "not valid JSON"},
		{"unknown field", "POST", "application/json", `{"messaging_object":{"messaging_product":"whatsapp","to":"+919900000001","type":"text","text":{"body":"x"},"txt":1}}`, 400, "messaging_object.txt"},
		{"bad to", "POST", "application/json", `{"messaging_object":{"messaging_product":"whatsapp","to":"abc","type":"text","text":{"body":"x"}}}`, 400, "E.164"},
		{"number body", "POST", "application/json", `{"messaging_object":{"messaging_product":"whatsapp","to":"+919900000001","type":"text","text":{"body":5}}}`, 400, "must be a string"},
		{"unknown type", "POST", "application/json", `{"messaging_object":{"messaging_product":"whatsapp","to":"+919900000001","type":"poll"}}`, 400, "messaging_object.type"},
		{"extra_info", "POST", "application/json", `{"messaging_object":{"messaging_product":"whatsapp","to":"+919900000001","type":"text","text":{"body":"x"}},"extra_info":{"ref":1}}`, 400, "extra_info.ref"},
		{"preview string", "POST", "application/json", `{"messaging_object":{"messaging_product":"whatsapp","recipient_type":"individual","to":"+919900000001","type":"text","text":{"preview_url":"false","body":"x"}},"extra_info":{"ref":"a","wa_source":"api"}}`, 200, "wamid.SANDBOX"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, url, strings.NewReader(tc.body))
		req.Header.Set("api-key", apiKey)
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
}

var listeningRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIntoWaorders: the sandbox's status callbacks, posted into a real
// waorders server (serve on 127.0.0.1:0) with its callback secret, are
// stored: the server's API shows sent, delivered and read.
func TestIntoWaorders(t *testing.T) {
	t.Parallel()
	const secret, token = "sandbox-callback-secret-0123456789", "sandbox-api-token-0123456789"
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--database-url", filepath.Join(dir, "db.sqlite"),
			"--callback-secret", secret, "--api-token", token}, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr.String())
		}
	})
	var base string
	waitFor(t, "serve's banner", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve ended: %v\n%s", err, stderr.String())
		default:
		}
		if m := listeningRE.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})

	sb, kc := startSandbox(t, sandbox.Config{CallbackURL: base + "/v1/callbacks/kaleyra",
		CallbackAuth: sandbox.CallbackAuth{Header: "X-Callback-Secret", Secret: secret}})
	res, err := kc.Send(context.Background(), kaleyra.Text(to, "Order received").ReplyTo("wamid.O1").
		WithRefs(kaleyra.Refs{Ref: "order-wamid.O1", Ref1: "confirmation", Ref2: "1"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	waitFor(t, "the statuses stored", func() bool {
		req, _ := http.NewRequest("GET", base+"/v1/messages/"+res.MessageID+"/statuses", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var list struct {
			Statuses []struct {
				Status string `json:"status"`
			} `json:"statuses"`
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&list) != nil {
			return false
		}
		got = got[:0]
		for _, s := range list.Statuses {
			got = append(got, s.Status)
		}
		return len(got) == 3
	})
	if strings.Join(got, ",") != "sent,delivered,read" {
		t.Errorf("statuses %v", got)
	}
	for _, c := range sb.Callbacks() {
		if c.HTTPStatus != 200 {
			t.Errorf("callback %+v", c)
		}
	}
}

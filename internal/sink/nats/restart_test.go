package nats

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waorders/waorders/internal/sink"
)

// startServer runs an in-process nats-server (a test-only dependency) with
// JetStream on loopback, storing in dir; port 0 picks one.
func startServer(t *testing.T, dir string, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the in-process NATS server did not start")
	}
	return s
}

// TestRestartMidRun: the server stops in the middle of a run of events
// and comes back on the same store. Deliveries during the outage report
// Retry; the relay's retries (simulated here, same event ids) then report
// Delivered; the stream ends with exactly one copy of each event, even of
// those whose publish timed out after the client had buffered it. A
// second full redelivery (a relay that lost its bookkeeping) adds nothing.
func TestRestartMidRun(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir, 0)
	url := srv.ClientURL()
	portNum := srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(func() { srv.Shutdown() })

	ctx := context.Background()
	s, err := Open(ctx, Options{URL: url, ConnOptions: []natsgo.Option{natsgo.ReconnectWait(100 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const n = 200
	ids := make([]string, n)
	var pending []int
	retries, dupOnRetry := 0, 0
	for i := range n {
		ids[i] = fmt.Sprintf("evt_%05d", i)
		if i == n/2 {
			srv.Shutdown()
			srv.WaitForShutdown()
		}
		if i == n/2+10 {
			srv = startServer(t, dir, portNum)
		}
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		r := s.Deliver(dctx, event(ids[i], "order.created", "100000000000001"))
		cancel()
		switch r.Outcome {
		case sink.Delivered:
		case sink.Retry:
			retries++
			pending = append(pending, i)
		default:
			t.Fatalf("event %d: %+v", i, r)
		}
	}
	if retries == 0 {
		t.Fatal("no delivery reported Retry during the outage")
	}
	// the relay retries with the same ids until each is delivered
	deadline := time.Now().Add(30 * time.Second)
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d events still not delivered", len(pending))
		}
		var still []int
		for _, i := range pending {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			r := s.Deliver(dctx, event(ids[i], "order.created", "100000000000001"))
			cancel()
			if r.Outcome == sink.Delivered && strings.Contains(string(r.Excerpt), `"duplicate":true`) {
				dupOnRetry++ // stored during the outage after all (buffered, flushed on reconnect)
			}
			if r.Outcome != sink.Delivered {
				if r.Outcome != sink.Retry {
					t.Fatalf("retry of event %d: %+v", i, r)
				}
				still = append(still, i)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	// a full redelivery: every one a duplicate
	for i := range n {
		r := s.Deliver(ctx, event(ids[i], "order.created", "100000000000001"))
		if r.Outcome != sink.Delivered {
			t.Fatalf("redelivery %d: %+v", i, r)
		}
	}
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != n {
		t.Fatalf("the stream holds %d messages after %d retries, want exactly %d", info.State.Msgs, retries, n)
	}
	// one copy of each id
	seen := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		id := m.Header.Get("Nats-Msg-Id")
		if seen[id] {
			t.Fatalf("%s stored twice", id)
		}
		seen[id] = true
	}
	t.Logf("%d events, %d Retry during the outage (%d of them already stored: the retry was a duplicate), %d messages stored",
		n, retries, dupOnRetry, info.State.Msgs)
}

// TestPermissionRefusedPausesSink: a user that may use the JetStream API
// but not publish on the event subjects. The server refuses the publish
// asynchronously (the request itself only times out); the sink reports
// PauseSink, not Retry, so the relay pauses it without spending attempts.
func TestPermissionRefusedPausesSink(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{{Username: "waorders", Password: "pw", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"$JS.API.>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server did not start")
	}
	defer srv.Shutdown()
	port := srv.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("nats://waorders:pw@127.0.0.1:%d", port)
	s, err := Open(context.Background(), Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r := s.Deliver(ctx, event("evt_perm", "order.created", "1"))
	if r.Outcome != sink.PauseSink || !strings.Contains(r.Error, "permission") || strings.Contains(r.Error, "pw@") {
		t.Fatalf("Deliver = %+v", r)
	}
}

package nats

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/testkit"
)

func TestSubject(t *testing.T) {
	for _, c := range []struct{ typ, pn, want string }{
		{"order.created", "100000000000001", "waorders.order.created.100000000000001"},
		{"message.received", "", "waorders.message.received.unknown"},
		{"status.updated", "+91 98", "waorders.status.updated.unknown"},
		{"status.updated", "1.2", "waorders.status.updated.unknown"},
		{"status.updated", "*", "waorders.status.updated.unknown"},
		{"callback.quarantined", "42", "waorders.callback.quarantined.42"},
	} {
		got, err := Subject("waorders", c.typ, c.pn)
		if err != nil || got != c.want {
			t.Errorf("Subject(%q, %q) = %q, %v; want %q", c.typ, c.pn, got, err, c.want)
		}
	}
	for _, typ := range []string{"", "order..created", "order.*", "order.>", "order created", ".order"} {
		if _, err := Subject("waorders", typ, "1"); err == nil {
			t.Errorf("Subject accepted type %q", typ)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{"waorders.>", true}, {">", true}, {"*.>", true}, {"waorders.*", false}, {"waorders.order.>", false},
		{"other.>", false}, {"waorders", false}, {"*.*.>", false},
	} {
		if got := covers(c.filter, "waorders.>"); got != c.want {
			t.Errorf("covers(%q, waorders.>) = %v", c.filter, got)
		}
	}
}

func TestOpenRefusesOptions(t *testing.T) {
	ctx := context.Background()
	for _, o := range []Options{
		{},
		{URL: "nats://127.0.0.1:1", Stream: "A.B"},
		{URL: "nats://127.0.0.1:1", SubjectPrefix: "a.*"},
		{URL: "nats://127.0.0.1:1", Duplicates: time.Hour, MaxAge: time.Minute},
		{URL: "nats://127.0.0.1:1", Duplicates: time.Millisecond},
	} {
		if s, err := Open(ctx, o); err == nil {
			s.Close()
			t.Errorf("Open(%+v) accepted", o)
		}
	}
	_, err := Open(ctx, Options{URL: "nats://user:hunter2@127.0.0.1:1"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open with no server: %v", err)
	}
}

var uniq atomic.Int64

// testNames returns a stream name and a subject prefix of the test's own:
// two streams on one server may not share subjects, and tests never touch
// WAORDERS.
func testNames() (stream, prefix string) {
	n := fmt.Sprintf("%d_%d", time.Now().UnixNano(), uniq.Add(1))
	return "WOTEST_" + n, "wotest_" + n
}

// openLocal opens a Sink on the NATS test server (testkit.NATSURL) on a
// stream of the test's own, deleted at the end, and returns a raw
// JetStream handle to inspect it.
func openLocal(t *testing.T, mod func(*Options)) (*Sink, jetstream.JetStream, Options) {
	t.Helper()
	url := testkit.NATSURL(t)
	stream, prefix := testNames()
	o := Options{URL: url, Stream: stream, SubjectPrefix: prefix, MaxAge: time.Hour}
	if mod != nil {
		mod(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, o.Stream)
		nc.Close()
		s.Close()
	})
	return s, js, o
}

func event(id, typ, pn string) sink.Delivery {
	return sink.Delivery{EventID: id, Type: typ, PhoneNumberID: pn, Attempt: 1,
		Payload: []byte(`{"id":"` + id + `","type":"` + typ + `","data":{}}`)}
}

func deliver(t *testing.T, s *Sink, d sink.Delivery) sink.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Deliver(ctx, d)
}

func msgs(t *testing.T, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestLocalFiveTimesOneMessage(t *testing.T) {
	s, js, o := openLocal(t, nil)
	d := event("evt_01DEDUP", "order.created", "100000000000001")
	var ref string
	for i := range 5 {
		d.Attempt = i + 1
		r := deliver(t, s, d)
		if r.Outcome != sink.Delivered || r.RemoteRef == "" {
			t.Fatalf("publish %d: %+v", i+1, r)
		}
		if i == 0 {
			ref = r.RemoteRef
		} else if r.RemoteRef != ref || !strings.Contains(string(r.Excerpt), `"duplicate":true`) {
			t.Fatalf("publish %d: ref %s excerpt %s, want the original %s, duplicate", i+1, r.RemoteRef, r.Excerpt, ref)
		}
	}
	if n := msgs(t, js, o.Stream); n != 1 {
		t.Fatalf("the stream holds %d messages, want 1", n)
	}
	st, _ := js.Stream(context.Background(), o.Stream)
	m, err := st.GetLastMsgForSubject(context.Background(), o.SubjectPrefix+".order.created.100000000000001")
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Nats-Msg-Id") != d.EventID || m.Header.Get(HeaderType) != "order.created" ||
		m.Header.Get(HeaderContentType) != "application/json" || string(m.Data) != string(d.Payload) {
		t.Fatalf("stored message: headers %v data %s", m.Header, m.Data)
	}
}

func TestLocalSubjectLayout(t *testing.T) {
	s, js, o := openLocal(t, nil)
	for _, d := range []sink.Delivery{
		event("evt_1", "order.created", "100000000000001"),
		event("evt_2", "order.status_changed", "100000000000002"),
		event("evt_3", "message.received", ""),
	} {
		if r := deliver(t, s, d); r.Outcome != sink.Delivered {
			t.Fatalf("%s: %+v", d.EventID, r)
		}
	}
	st, _ := js.Stream(context.Background(), o.Stream)
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(">"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		o.SubjectPrefix + ".order.created.100000000000001":        1,
		o.SubjectPrefix + ".order.status_changed.100000000000002": 1,
		o.SubjectPrefix + ".message.received.unknown":             1,
	}
	if len(info.State.Subjects) != len(want) {
		t.Fatalf("subjects %v, want %v", info.State.Subjects, want)
	}
	for k, v := range want {
		if info.State.Subjects[k] != v {
			t.Fatalf("subjects %v, want %v", info.State.Subjects, want)
		}
	}
	// the stream Open created: ours, as documented
	cfg := info.Config
	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != o.SubjectPrefix+".>" || cfg.Duplicates != DefaultDuplicates ||
		cfg.MaxAge != time.Hour || cfg.Storage != jetstream.FileStorage || !cfg.DenyDelete || cfg.Discard != jetstream.DiscardOld {
		t.Fatalf("created stream config: %+v", cfg)
	}
}

// TestLocalExistingStream: Open leaves an existing stream as it is (a
// shorter duplicates window included), and refuses one whose subjects do
// not cover the prefix, saying what to do, without changing it.
func TestLocalExistingStream(t *testing.T) {
	url := testkit.NATSURL(t)
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	stream, prefix := testNames()
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), stream) })
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{prefix + ".other.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, Options{URL: url, Stream: stream, SubjectPrefix: prefix})
	if err == nil || !strings.Contains(err.Error(), "do not cover") || !strings.Contains(err.Error(), "nats stream edit") {
		t.Fatalf("Open on a stream with other subjects: %v", err)
	}
	st, _ := js.Stream(ctx, stream)
	info, _ := st.Info(ctx)
	if len(info.Config.Subjects) != 1 || info.Config.Subjects[0] != prefix+".other.>" {
		t.Fatalf("the stream was changed: %v", info.Config.Subjects)
	}
	// a covering stream with a 1-minute window is used as it is
	if _, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{prefix + ".>"}, Storage: jetstream.MemoryStorage, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Options{URL: url, Stream: stream, SubjectPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, _ = st.Info(ctx)
	if info.Config.Duplicates != time.Minute || info.Config.Storage != jetstream.MemoryStorage {
		t.Fatalf("Open changed the stream: %+v", info.Config)
	}
	if r := deliver(t, s, event("evt_x", "order.created", "1")); r.Outcome != sink.Delivered {
		t.Fatalf("%+v", r)
	}
}

// TestLocalWrongStream: when the subjects now belong to another stream
// than the configured one, the server refuses the expected-stream check:
// the sink asks to be paused, and nothing is stored in the other stream.
// When no stream takes the subject at all, the publish has no responders:
// Retry.
func TestLocalWrongStream(t *testing.T) {
	s, js, o := openLocal(t, nil)
	ctx := context.Background()
	if err := js.DeleteStream(ctx, o.Stream); err != nil {
		t.Fatal(err)
	}
	r := deliver(t, s, event("evt_nostream", "order.created", "1"))
	if r.Outcome != sink.Retry || !strings.Contains(r.Error, "no JetStream answer") {
		t.Fatalf("no stream: %+v", r)
	}
	other := o.Stream + "_OTHER"
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), other) })
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: other, Subjects: []string{o.SubjectPrefix + ".>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	r = deliver(t, s, event("evt_wrong", "order.created", "1"))
	if r.Outcome != sink.PauseSink || !strings.Contains(r.Error, o.Stream) {
		t.Fatalf("wrong stream: %+v", r)
	}
	if n := msgs(t, js, other); n != 0 {
		t.Fatalf("the other stream got %d messages", n)
	}
}

func TestLocalDeadAndClosed(t *testing.T) {
	s, _, _ := openLocal(t, nil)
	if r := deliver(t, s, event("", "order.created", "1")); r.Outcome != sink.Dead {
		t.Fatalf("empty id: %+v", r)
	}
	if r := deliver(t, s, event("evt_1", "order.*", "1")); r.Outcome != sink.Dead {
		t.Fatalf("bad type: %+v", r)
	}
	big := event("evt_big", "order.created", "1")
	big.Payload = make([]byte, s.nc.MaxPayload()+1)
	if r := deliver(t, s, big); r.Outcome != sink.Dead {
		t.Fatalf("over max_payload: %+v", r)
	}
	s.Close()
	if r := deliver(t, s, event("evt_closed", "order.created", "1")); r.Outcome != sink.Retry {
		t.Fatalf("closed connection: %+v", r)
	}
}

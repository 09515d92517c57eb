package loadgen

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/waorders/waorders/internal/simulate"
	"github.com/waorders/waorders/internal/testkit"
)

func checkCountsAddUp(t *testing.T, s *Summary) {
	t.Helper()
	sum := s.Acknowledged + s.Rejected + s.ServerErrors + s.OtherStatus + s.TransportErrors + s.Cancelled
	if sum != s.Sent {
		t.Errorf("outcomes add up to %d, sent %d: %+v", sum, s.Sent, s)
	}
	var codes int64
	for _, n := range s.StatusCodes {
		codes += n
	}
	if codes != s.Acknowledged+s.Rejected+s.ServerErrors+s.OtherStatus {
		t.Errorf("status codes %v do not match the answer counts", s.StatusCodes)
	}
}

func TestRunCountsDuplicatesAndAcks(t *testing.T) {
	rc := &receiver{}
	srv := newReceiver(t, rc)
	var ackFile testkit.SyncBuffer
	cfg := Config{
		URL: srv.URL, Count: 3000, Concurrency: 8, DuplicateShare: 0.3, MalformedShare: 0.1,
		BatchSize: 2, Seed: 5, AckFile: &ackFile,
	}
	s, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCountsAddUp(t, s)

	// What was sent is what the receiver got.
	if s.Sent != 3000 || s.Sent != int64(rc.requests) {
		t.Fatalf("sent %d, receiver got %d, want 3000", s.Sent, rc.requests)
	}
	if s.Acknowledged != int64(rc.codes[200]) || s.Rejected != int64(rc.codes[400]) || s.ServerErrors != int64(rc.codes[503]) {
		t.Errorf("summary %+v disagrees with receiver codes %v", s, rc.codes)
	}
	if s.ServerErrors == 0 || s.Rejected == 0 || s.TransportErrors != 0 {
		t.Errorf("want some 5xx and 4xx and no transport errors, got %+v", s)
	}
	if rc.paths[KaleyraPath] != rc.requests {
		t.Errorf("paths %v, want all on %s", rc.paths, KaleyraPath)
	}

	// Duplicates: exactly the resent bodies, about the share asked for.
	if distinct := int64(len(rc.bodies)); distinct != s.Sent-s.Duplicates {
		t.Errorf("receiver saw %d distinct bodies, want sent-duplicates = %d", distinct, s.Sent-s.Duplicates)
	}
	if share := float64(s.Duplicates) / float64(s.Sent); share < 0.25 || share > 0.35 {
		t.Errorf("duplicate share %.3f, want about 0.3", share)
	}
	if share := float64(s.Malformed) / float64(s.Sent); share < 0.06 || share > 0.14 {
		t.Errorf("malformed share %.3f, want about 0.1", share)
	}

	// The ack file holds exactly the ids of the acknowledged bodies, once each.
	want := expectedAcks(cfg, len(rc.bodies), rc.acked)
	lines := strings.Split(strings.TrimSuffix(ackFile.String(), "\n"), "\n")
	got := map[string]bool{}
	for _, l := range lines {
		if got[l] {
			t.Fatalf("ack file repeats %q", l)
		}
		got[l] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ack file differs from the acknowledged ids (-want +got):\n%s", diff)
	}
	if s.AckedIDs != int64(len(lines)) {
		t.Errorf("AckedIDs = %d, ack file has %d lines", s.AckedIDs, len(lines))
	}
}

// expectedAcks regenerates the run's n distinct bodies from its seed and
// returns the ack lines of those the receiver acknowledged.
func expectedAcks(cfg Config, n int, acked map[string]bool) map[string]bool {
	gen := simulate.New(cfg.Seed, cfg.generatorOptions())
	want := map[string]bool{}
	for range n {
		cb := gen.Next()
		if !acked[string(cb.Body)] {
			continue
		}
		for _, id := range cb.MessageIDs {
			want[id] = true
		}
		for _, k := range cb.StatusKeys {
			want[k.MessageID+" "+k.Status] = true
		}
	}
	return want
}

func TestRunAuthAndSignatures(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("kaleyra:pa55"))
	sign := func(body []byte, secret string) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	tests := []struct {
		name     string
		cfg      Config
		path     string
		accepted func(r *http.Request, body []byte) bool
	}{
		{
			name: "SecretHeaderDefault", cfg: Config{Auth: Auth{Secret: "s3cret"}}, path: KaleyraPath,
			accepted: func(r *http.Request, _ []byte) bool { return r.Header.Get("X-Callback-Secret") == "s3cret" },
		},
		{
			name: "SecretHeaderNamed", cfg: Config{Auth: Auth{SecretHeader: "X-Kaleyra-Token", Secret: "t"}}, path: KaleyraPath,
			accepted: func(r *http.Request, _ []byte) bool { return r.Header.Get("X-Kaleyra-Token") == "t" },
		},
		{
			name: "Basic", cfg: Config{Auth: Auth{Username: "kaleyra", Password: "pa55"}}, path: KaleyraPath,
			accepted: func(r *http.Request, _ []byte) bool { return r.Header.Get("Authorization") == basic },
		},
		{
			name: "BearerWithSecret", cfg: Config{Auth: Auth{BearerToken: "tok", Secret: "s"}}, path: KaleyraPath,
			accepted: func(r *http.Request, _ []byte) bool {
				return r.Header.Get("Authorization") == "Bearer tok" && r.Header.Get("X-Callback-Secret") == "s"
			},
		},
		{
			name: "MetaSigned", cfg: Config{Meta: true, AppSecret: "app-secret"}, path: MetaPath,
			accepted: func(r *http.Request, body []byte) bool {
				return hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(sign(body, "app-secret"))) &&
					strings.Contains(string(body), `"whatsapp_business_account"`)
			},
		},
		{
			name: "MetaUnsigned", cfg: Config{Meta: true}, path: MetaPath,
			accepted: func(r *http.Request, _ []byte) bool { return r.Header.Get("X-Hub-Signature-256") == "" },
		},
		{
			name: "NoAuth", cfg: Config{}, path: KaleyraPath,
			accepted: func(r *http.Request, _ []byte) bool {
				return r.Header.Get("Authorization") == "" && r.Header.Get("Content-Type") == "application/json"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &receiver{answer: func(r *http.Request, body []byte) int {
				if !tt.accepted(r, body) {
					return http.StatusUnauthorized
				}
				return http.StatusOK
			}}
			srv := newReceiver(t, rc)
			cfg := tt.cfg
			cfg.URL, cfg.Count, cfg.Concurrency, cfg.DuplicateShare = srv.URL, 50, 4, 0.2
			s, err := Run(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Acknowledged != 50 || rc.paths[tt.path] != 50 {
				t.Errorf("acknowledged %d of 50, paths %v (want %s), codes %v", s.Acknowledged, rc.paths, tt.path, rc.codes)
			}
		})
	}
}

func TestRunServerErrorsAckNothing(t *testing.T) {
	rc := &receiver{answer: func(*http.Request, []byte) int { return http.StatusInternalServerError }}
	srv := newReceiver(t, rc)
	var ackFile testkit.SyncBuffer
	s, err := Run(context.Background(), Config{URL: srv.URL + KaleyraPath, Count: 200, Concurrency: 4, AckFile: &ackFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCountsAddUp(t, s)
	if s.ServerErrors != 200 || s.Acknowledged != 0 || s.StatusCodes[500] != 200 {
		t.Errorf("summary %+v, want 200 server errors", s)
	}
	if ackFile.String() != "" || s.AckedIDs != 0 {
		t.Errorf("ack file has %q after only 5xx", ackFile.String())
	}
}

func TestRunTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	s, err := Run(context.Background(), Config{URL: url, Count: 20, Concurrency: 2, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCountsAddUp(t, s)
	if s.TransportErrors != 20 || len(s.Errors) == 0 || s.Latency.Max != 0 {
		t.Errorf("summary %+v, want 20 transport errors with a message and no latency", s)
	}
	for msg := range s.Errors {
		if strings.Contains(msg, url) {
			t.Errorf("error %q repeats the URL", msg)
		}
	}
}

func TestRunKeepsConcurrencyAndConnections(t *testing.T) {
	rc := &receiver{}
	srv := newReceiver(t, rc)
	s, err := Run(context.Background(), Config{URL: srv.URL, Count: 600, Concurrency: 3, Mix: map[simulate.Kind]float64{simulate.KindOrder: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent != 600 {
		t.Fatalf("sent %d, want 600", s.Sent)
	}
	if rc.maxInFlight > 3 || rc.conns > 3 {
		t.Errorf("max in flight %d over %d connections, want at most 3 of each (keep-alive); summary %+v", rc.maxInFlight, rc.conns, s)
	}
	if s.Latency.P50 <= 0 || s.Latency.P50 > s.Latency.P95 || s.Latency.P95 > s.Latency.P99 || s.Latency.P99 > s.Latency.Max {
		t.Errorf("latency percentiles out of order: %+v", s.Latency)
	}
}

func TestRunRateIsBounded(t *testing.T) {
	rc := &receiver{}
	srv := newReceiver(t, rc)
	cfg := Config{URL: srv.URL, Count: 1_000_000, Duration: 300 * time.Millisecond, Rate: 100, Concurrency: 4}
	s, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCountsAddUp(t, s)
	// The token bucket never lets request n start before (n-1)/rate seconds.
	if limit := cfg.Rate*s.Elapsed.Seconds() + 2; s.Sent == 0 || float64(s.Sent) >= limit {
		t.Errorf("sent %d in %s at rate %v, want between 1 and %.0f", s.Sent, s.Elapsed, cfg.Rate, limit)
	}
	if s.Interrupted {
		t.Error("a run ended by its duration is marked interrupted")
	}
}

func TestRunCancellationStops(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	rc := &receiver{answer: func(r *http.Request, _ []byte) int {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusOK
	}}
	srv := newReceiver(t, rc)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for range 4 { // every worker is stuck in a request
			<-arrived
		}
		cancel()
	}()
	s, err := Run(ctx, Config{URL: srv.URL, Count: 1_000_000, Concurrency: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCountsAddUp(t, s)
	if !s.Interrupted || s.Cancelled == 0 || s.Sent >= 1_000_000 {
		t.Errorf("summary %+v, want an interrupted run with cancelled requests", s)
	}
}

func TestRunDurationWithoutCount(t *testing.T) {
	srv := newReceiver(t, &receiver{})
	s, err := Run(context.Background(), Config{URL: srv.URL, Duration: 50 * time.Millisecond, Concurrency: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkCountsAddUp(t, s)
	if s.Sent == 0 || s.Interrupted {
		t.Errorf("summary %+v, want some requests and no interruption", s)
	}
}

func TestRunProgress(t *testing.T) {
	srv := newReceiver(t, &receiver{})
	var out testkit.SyncBuffer
	s, err := Run(context.Background(), Config{URL: srv.URL, Count: 100, Concurrency: 2, ProgressInterval: 5 * time.Millisecond,
		Mix: map[simulate.Kind]float64{simulate.KindText: 1}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	errs := s.Rejected + s.ServerErrors + s.TransportErrors
	if want := fmt.Sprintf("sent 100  acked %d  errors %d", s.Acknowledged, errs); !strings.HasPrefix(last, want) {
		t.Errorf("last progress line %q, want prefix %q", last, want)
	}
	if strings.Contains(out.String(), "\r") {
		t.Error("progress to a buffer uses carriage returns")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunAckFileError(t *testing.T) {
	srv := newReceiver(t, &receiver{answer: func(*http.Request, []byte) int { return http.StatusOK }})
	s, err := Run(context.Background(), Config{URL: srv.URL, Count: 10, AckFile: failingWriter{}}, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the ack file's error", err)
	}
	if s == nil || s.Acknowledged != 10 {
		t.Fatalf("summary %+v, want it despite the error", s)
	}
}

func TestRunIsRepeatable(t *testing.T) {
	bodies := func() []string {
		rc := &receiver{}
		srv := newReceiver(t, rc)
		if _, err := Run(context.Background(), Config{URL: srv.URL, Count: 200, Seed: 77, DuplicateShare: 0.2, Concurrency: 4}, nil); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(rc.bodies))
	}
	if a, b := bodies(), bodies(); !slices.Equal(a, b) {
		t.Error("two runs with the same seed sent different bodies")
	}
}

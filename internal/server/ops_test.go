package server_test

// Tests of the operations surface (package ops): health, readiness and
// metrics.

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/testkit"
)

func TestStorageFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, withServer(func(c *server.Config) { c.RetryAfter = 7 * time.Second }))
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := b.send(t, http.MethodGet, p, nil); r.status != http.StatusOK {
			t.Fatalf("GET %s on a healthy store: %s", p, r)
		}
	}
	wantAnswer(t, b.kaleyra(t, order("wamid.BEFOREFAIL")))

	if err := b.store.Close(); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"Order":       order("wamid.AFTERFAIL"),
		"Undecodable": []byte(`{"not json`),
		"Duplicate":   order("wamid.BEFOREFAIL"),
	} {
		r := b.kaleyra(t, body)
		wantError(t, r, http.StatusServiceUnavailable, "unavailable")
		if got := r.header.Get("Retry-After"); got != "7" {
			t.Errorf("%s: Retry-After %q, want 7", name, got)
		}
	}
	r := b.send(t, http.MethodGet, "/readyz", nil)
	wantError(t, r, http.StatusServiceUnavailable, "unavailable")
	if r := b.send(t, http.MethodGet, "/healthz", nil); r.status != http.StatusOK {
		t.Errorf("GET /healthz: %s, want 200 (the process is alive)", r)
	}
	if got := b.rows(t, "messages"); got != 1 {
		t.Errorf("%d messages in storage, want only the one acknowledged before the failure", got)
	}
	if got := b.metric(t, "waorders_storage_errors_total"); got < 1 {
		t.Errorf("waorders_storage_errors_total = %v, want ≥ 1", got)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wantAnswer(t, b.kaleyra(t, order("wamid.METRIC1")))
	wantAnswer(t, b.kaleyra(t, order("wamid.METRIC1")))
	wantAnswer(t, b.meta(t, readTestdata(t, "i9_meta_statuses.json")))
	wantAnswer(t, b.kaleyra(t, testkit.Kaleyra(testkit.Order("wamid.METRICBAD").RawItems()).Bytes()))
	wantError(t, b.kaleyra(t, []byte("nope")), http.StatusBadRequest, "invalid_json")
	wantError(t, b.kaleyra(t, order("wamid.METRIC2"), testkit.CallbackSecretHeader, "wrong-secret-0123456789"), http.StatusUnauthorized, "unauthorized")

	r := b.send(t, http.MethodGet, "/metrics", nil)
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

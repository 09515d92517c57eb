package loadgen

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	values := []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, math.MaxUint64 >> 1, math.MaxUint64}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rnd.Uint64()>>rnd.IntN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		if up := upperBound(i); v > up {
			t.Fatalf("value %d above its bucket's upper bound %d", v, up)
		}
		if i > 0 && upperBound(i-1) >= v {
			t.Fatalf("value %d not above the previous bucket's bound %d", v, upperBound(i-1))
		}
		if up := upperBound(i); v >= linear && float64(up-v) > float64(v)/(1<<subBits) {
			t.Fatalf("bucket of %d is wider than 1/%d: upper bound %d", v, 1<<subBits, up)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 5000 * time.Microsecond},
		{0.95, 9500 * time.Microsecond},
		{0.99, 9900 * time.Microsecond},
		{1, 10000 * time.Microsecond},
	}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		if got < tt.want || float64(got-tt.want) > float64(tt.want)*0.01 {
			t.Errorf("quantile(%v) = %s, want %s within 1%%", tt.q, got, tt.want)
		}
	}
	if got := time.Duration(h.max.Load()); got != 10*time.Millisecond {
		t.Errorf("max = %s, want 10ms", got)
	}
	if got := h.mean(); got != 5000500*time.Nanosecond {
		t.Errorf("mean = %s, want 5.0005ms", got)
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Error("empty histogram reports a latency")
	}
}

func TestSummaryJSONAndPrint(t *testing.T) {
	s := Summary{
		URL: "http://127.0.0.1:8080/v1/callbacks/kaleyra", Envelope: "kaleyra",
		Sent: 10, Duplicates: 2, Acknowledged: 8, Rejected: 1, ServerErrors: 1,
		StatusCodes: map[int]int64{200: 8, 400: 1, 503: 1},
		Errors:      map[string]int64{"connection refused": 3},
		Latency:     Latency{P50: 1500 * time.Microsecond, P95: 2 * time.Millisecond, P99: 3 * time.Millisecond, Max: 4 * time.Millisecond},
		Elapsed:     2500 * time.Millisecond, Throughput: 4, AckRate: 3.2,
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	lat, _ := got["latency"].(map[string]any)
	if got["elapsed_seconds"] != 2.5 || got["acknowledged"] != 8.0 || lat["p50_ms"] != 1.5 || got["server_errors"] != 1.0 {
		t.Errorf("JSON = %s", b)
	}
	var out strings.Builder
	if err := s.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"acknowledged", "8", "p99 3ms", "200×8", "3× connection refused", "2 duplicates"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Print output lacks %q:\n%s", want, out.String())
		}
	}
}

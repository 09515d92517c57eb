package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is the outcome of a run. The request counters add up:
// Sent = Acknowledged + Rejected + ServerErrors + OtherStatus +
// TransportErrors + Cancelled.
type Summary struct {
	// URL is the callback URL, with any password in it masked.
	URL      string `json:"url"`
	Envelope string `json:"envelope"`

	// Sent counts requests started, duplicates and malformed included.
	Sent       int64 `json:"sent"`
	Duplicates int64 `json:"duplicates"`
	Malformed  int64 `json:"malformed"`

	Acknowledged    int64 `json:"acknowledged"`     // 2xx
	Rejected        int64 `json:"rejected"`         // 4xx
	ServerErrors    int64 `json:"server_errors"`    // 5xx
	OtherStatus     int64 `json:"other_status"`     // 1xx and 3xx (redirects are not followed)
	TransportErrors int64 `json:"transport_errors"` // no answer: refused, reset, timed out
	Cancelled       int64 `json:"cancelled"`        // cut short by the end of ctx
	// AckedIDs counts the lines written to the ack file: message ids and
	// status keys acknowledged at least once.
	AckedIDs int64 `json:"acked_ids"`

	// StatusCodes counts answers by HTTP status.
	StatusCodes map[int]int64 `json:"status_codes"`
	// Errors counts transport errors by message (the first few kinds).
	Errors map[string]int64 `json:"errors,omitempty"`

	// Latency is measured from sending a request to reading the end of its
	// answer, over requests that got an answer.
	Latency Latency `json:"latency"`
	// Elapsed runs from the first request to the last answer.
	Elapsed time.Duration `json:"-"`
	// Throughput is answers per second; AckRate is 2xx answers per second.
	Throughput float64 `json:"throughput_per_second"`
	AckRate    float64 `json:"acknowledged_per_second"`
	// Interrupted is set when ctx ended the run before its count or
	// duration did.
	Interrupted bool `json:"interrupted"`
}

// Latency holds latency percentiles. Percentiles are accurate within 1 %.
type Latency struct {
	P50, P95, P99, Max, Mean time.Duration
}

// MarshalJSON writes latencies as milliseconds: {"p50_ms": 0.412, ...}.
func (l Latency) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return json.Marshal(struct {
		P50  float64 `json:"p50_ms"`
		P95  float64 `json:"p95_ms"`
		P99  float64 `json:"p99_ms"`
		Max  float64 `json:"max_ms"`
		Mean float64 `json:"mean_ms"`
	}{ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), ms(l.Mean)})
}

// MarshalJSON writes the summary with snake_case keys and the elapsed time
// in seconds ("elapsed_seconds"), for `waorders send --json`.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		ElapsedSeconds float64 `json:"elapsed_seconds"`
	}{plain(s), s.Elapsed.Seconds()})
}

// Print writes the summary as a readable table.
func (s *Summary) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	row("target", "%s (%s)", s.URL, s.Envelope)
	if s.Interrupted {
		row("interrupted", "yes: counts are for the part of the run that happened")
	}
	row("elapsed", "%s", s.Elapsed.Round(time.Millisecond))
	row("sent", "%d\t(%d duplicates, %d malformed)", s.Sent, s.Duplicates, s.Malformed)
	row("acknowledged", "%d\t2xx", s.Acknowledged)
	row("rejected", "%d\t4xx", s.Rejected)
	row("server errors", "%d\t5xx", s.ServerErrors)
	if s.OtherStatus > 0 {
		row("other status", "%d\t1xx/3xx", s.OtherStatus)
	}
	row("transport errors", "%d", s.TransportErrors)
	if s.Cancelled > 0 {
		row("cancelled", "%d\tin flight at interruption", s.Cancelled)
	}
	row("throughput", "%.1f/s\t(%.1f acknowledged/s)", s.Throughput, s.AckRate)
	l := s.Latency
	row("latency", "p50 %s  p95 %s  p99 %s  max %s  mean %s",
		roundLatency(l.P50), roundLatency(l.P95), roundLatency(l.P99), roundLatency(l.Max), roundLatency(l.Mean))
	if len(s.StatusCodes) > 0 {
		var codes []string
		for _, c := range slices.Sorted(maps.Keys(s.StatusCodes)) {
			codes = append(codes, fmt.Sprintf("%d×%d", c, s.StatusCodes[c]))
		}
		row("status codes", "%s", strings.Join(codes, "  "))
	}
	if s.AckedIDs > 0 {
		row("acked ids", "%d\tin the ack file", s.AckedIDs)
	}
	for _, msg := range slices.Sorted(maps.Keys(s.Errors)) {
		row("error", "%d× %s", s.Errors[msg], msg)
	}
	return tw.Flush()
}

func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

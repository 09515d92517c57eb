// Command receiver is the forwarding benchmark's webhook receiver: it
// answers every POST 200 at once (or, with -verify, after checking
// webhook-signature with the secret in BENCH_WEBHOOK_SECRET) and records,
// per distinct webhook-id, the time from the event's "timestamp" to its
// arrival. GET /stats answers {"count","raw","first","last","p50_ms",
// "p99_ms","max_ms"} over the arrivals since the last POST /reset.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/waorders/waorders/internal/sink/webhook"
)

type stats struct {
	mu          sync.Mutex
	seen        map[string]bool
	raw         int
	lat         []time.Duration
	first, last time.Time
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	verify := flag.Bool("verify", false, "verify webhook-signature with BENCH_WEBHOOK_SECRET (answer 401 otherwise)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st := &stats{seen: map[string]bool{}}
	var v *webhook.Verifier
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hooks", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(r.Body)
		if *verify {
			if v == nil {
				v, _ = webhook.NewVerifier(os.Getenv("BENCH_WEBHOOK_SECRET"))
			}
			if v == nil || v.Verify(r.Header, body) != nil {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
		}
		var env struct {
			Timestamp time.Time `json:"timestamp"`
		}
		_ = json.Unmarshal(body, &env)
		id := r.Header.Get("webhook-id")
		st.mu.Lock()
		st.raw++
		if !st.seen[id] {
			st.seen[id] = true
			st.lat = append(st.lat, now.Sub(env.Timestamp))
			if st.first.IsZero() {
				st.first = now
			}
			st.last = now
		}
		st.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		st.seen, st.raw, st.lat, st.first, st.last = map[string]bool{}, 0, nil, time.Time{}, time.Time{}
		st.mu.Unlock()
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		st.mu.Lock()
		lat := slices.Clone(st.lat)
		out := map[string]any{"count": len(st.seen), "raw": st.raw, "first": st.first, "last": st.last}
		st.mu.Unlock()
		slices.Sort(lat)
		q := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
		}
		out["p50_ms"], out["p99_ms"], out["max_ms"] = q(0.50), q(0.99), q(1)
		_ = json.NewEncoder(w).Encode(out)
	})
	fmt.Printf("listening on http://%s\n", ln.Addr())
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/money"
)

// The order benchmarks run against a database of -seed-orders orders,
// written straight through store.WriteInbound in big batches. The file
// is kept (default: waorders-bench-<N>-<schema hash>.db in the temp
// directory, the hash taken over the SQLite migrations) so later runs skip
// the seeding; delete it to start over.
//
//	go test ./internal/server -run '^$' -bench OrdersListRef1 -benchtime 1000x -seed-orders=1000000
var (
	seedOrders = flag.Int("seed-orders", 20000, "orders in the benchmark database")
	benchDB    = flag.String("bench-db", "", "benchmark database file (default: in the temp directory, kept between runs)")
)

// Shape of the seeded data.
const (
	benchCampaigns = 50     // distinct ref1 values: 1M orders → 20,000 per campaign
	benchCustomers = 100000 // distinct customers
	benchSpan      = 90 * 24 * time.Hour
	benchBatch     = 5000 // orders per WriteInbound call
)

var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	benchOnce    sync.Once
	benchHandler http.Handler
	benchStore   store.Store // the seeded store, for benchmarks that need more than HTTP
	benchErr     error
)

// benchServer opens (seeding it if needed) the benchmark database and
// returns the real router over it.
func benchServer(b *testing.B) http.Handler {
	b.Helper()
	benchOnce.Do(func() {
		path := *benchDB
		if path == "" {
			path = filepath.Join(os.TempDir(), fmt.Sprintf("waorders-bench-%d-%s.db", *seedOrders, schemaHash()))
		}
		st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			benchErr = err
			return
		}
		last := benchOrderID(*seedOrders - 1)
		if _, err := st.GetOrder(context.Background(), last); err != nil {
			if waorders.ErrorCode(err) != waorders.CodeNotFound {
				benchErr = err
				return
			}
			start := time.Now()
			if benchErr = seedBenchOrders(context.Background(), st, *seedOrders); benchErr != nil {
				return
			}
			var size int64
			for _, f := range []string{path, path + "-wal"} {
				if fi, err := os.Stat(f); err == nil {
					size += fi.Size()
				}
			}
			fmt.Fprintf(os.Stderr, "seeded %d orders in %s (%.0f orders/s) into %s (%d MiB)\n", *seedOrders,
				time.Since(start).Round(time.Millisecond), float64(*seedOrders)/time.Since(start).Seconds(), path, size>>20)
		}
		benchStore = st
		in := intake.New(st, intake.Config{})
		srv, err := server.New(server.Config{Store: st, Intake: in, InsecureNoAuth: true, APITokens: []string{testkit.APIToken}})
		if err != nil {
			benchErr = err
			return
		}
		benchHandler = srv.Handler() // the store stays open until the process ends
	})
	if benchErr != nil {
		b.Fatalf("benchmark database: %v", benchErr)
	}
	return benchHandler
}

// schemaHash identifies the SQLite schema by its migration files, so a
// kept benchmark database is not reused after the schema changed.
func schemaHash() string {
	files, _ := filepath.Glob(filepath.Join("..", "store", "sqlite", "migrations", "*.sql"))
	h := sha256.New()
	for _, f := range files {
		b, _ := os.ReadFile(f)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// benchOrderID is the wamid of seeded order i: random-looking like real
// ones, so the unique index sees random inserts, and reproducible.
func benchOrderID(i int) string {
	var b [20]byte
	rnd := rand.NewChaCha8([32]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)})
	rnd.Read(b[:12])
	binary.BigEndian.PutUint64(b[12:], uint64(i))
	return "wamid.HBgM" + base64.RawURLEncoding.EncodeToString(b[:])
}

// seedBenchOrders writes n orders, oldest first, over benchSpan: 50
// campaigns, 100,000 customers, 2 items each, 90% INR and 10% USD.
func seedBenchOrders(ctx context.Context, st store.Store, n int) error {
	step := benchSpan / time.Duration(n)
	body := []byte(`{"seeded":true}`)
	batch := make([]*store.Inbound, 0, benchBatch)
	for i := 0; i < n; i++ {
		id := benchOrderID(i)
		at := benchStart.Add(time.Duration(i) * step).Truncate(time.Second)
		cur, p1, p2 := "INR", int64(160000), int64(200000)
		if i%10 == 9 {
			cur, p1, p2 = "USD", 1699, 750
		}
		items := []waorders.Item{
			{ProductRetailerID: "SKU-" + strconv.Itoa(i%500), Quantity: int64(1 + i%3), UnitPrice: money.Amount{Currency: cur, Minor: p1}},
			{ProductRetailerID: "SKU-" + strconv.Itoa(500+i%300), Quantity: 1, UnitPrice: money.Amount{Currency: cur, Minor: p2}},
		}
		for j := range items {
			items[j].LineTotal = money.Amount{Currency: cur, Minor: items[j].UnitPrice.Minor * items[j].Quantity}
		}
		totals, err := waorders.ComputeTotals(items)
		if err != nil {
			return err
		}
		cust := waorders.Customer{WaID: fmt.Sprintf("91%010d", (i*7919)%benchCustomers), Name: "Customer " + strconv.Itoa(i%benchCustomers)}
		biz := waorders.Business{PhoneNumberID: "100000000000001", DisplayPhoneNumber: "919800000001", WABAID: "200000000000001"}
		camp := waorders.Campaign{Ref1: fmt.Sprintf("campaign-%02d", i%benchCampaigns), Ref2: "ref2-" + strconv.Itoa(i%7)}
		cbID := "bench-" + strconv.Itoa(i)
		batch = append(batch, &store.Inbound{
			Callback: store.RawCallback{ID: cbID, Envelope: "kaleyra", ReceivedAt: at.Add(time.Second), Body: body},
			Messages: []store.MessageWrite{{
				Message: &waorders.Message{
					ID: id, CallbackID: cbID, Type: "order", Customer: cust, Business: biz, Campaign: camp,
					Summary: "order of 2 items", SentAt: at, ReceivedAt: at.Add(time.Second), Raw: []byte(`{"type":"order"}`),
				},
				Order: &waorders.Order{
					ID: id, Status: waorders.OrderPending, Version: 1, CatalogID: "1234567890123456", Text: "please deliver soon",
					Customer: cust, Business: biz, Campaign: camp, TraceID: "trace-" + strconv.Itoa(i),
					Items: items, Totals: totals, OrderedAt: at, ReceivedAt: at.Add(time.Second),
				},
			}},
		})
		if len(batch) == benchBatch || i == n-1 {
			if _, err := st.WriteInbound(ctx, batch); err != nil {
				return fmt.Errorf("seed orders up to %d: %w", i, err)
			}
			clear(batch)
			batch = batch[:0]
		}
	}
	return nil
}

// discardWriter is a ResponseWriter that keeps only the status and counts
// the bytes, so a large export is not held in memory by the benchmark.
type discardWriter struct {
	h      http.Header
	status int
	n      int64
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Flush()                      {}
func (w *discardWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

func benchGet(b *testing.B, h http.Handler, target string) *discardWriter {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", "Bearer "+testkit.APIToken)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if w.status != http.StatusOK && w.status != 0 {
		b.Fatalf("GET %s: status %d", target, w.status)
	}
	return w
}

// reportLatency adds p50/p95/p99 in milliseconds.
func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkOrdersListRef1 is one page of 50 orders of one campaign, newest
// first, through the whole API (routing, auth, query, JSON). Each
// iteration asks for another campaign, half of them a second page.
func BenchmarkOrdersListRef1(b *testing.B) {
	h := benchServer(b)
	cursor := map[int]string{}
	for c := range benchCampaigns {
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/v1/orders?ref1=campaign-%02d&limit=50", c), nil)
		req.Header.Set("Authorization", "Bearer "+testkit.APIToken)
		h.ServeHTTP(rec, req)
		_ = json.NewDecoder(rec.Body).Decode(&page)
		cursor[c] = page.NextCursor
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := i % benchCampaigns
		target := fmt.Sprintf("/v1/orders?ref1=campaign-%02d&limit=50", c)
		if i%2 == 1 && cursor[c] != "" {
			target += "&cursor=" + cursor[c]
		}
		start := time.Now()
		benchGet(b, h, target)
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// BenchmarkOrdersCampaignReport is the campaign report over every order.
func BenchmarkOrdersCampaignReport(b *testing.B) {
	h := benchServer(b)
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		benchGet(b, h, "/v1/reports/campaigns?group_by=ref1")
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// BenchmarkOrdersExportCSV exports every order as CSV; orders/s is the rate.
func BenchmarkOrdersExportCSV(b *testing.B) {
	h := benchServer(b)
	var bytes int64
	start := time.Now()
	n := 0
	for b.Loop() {
		w := benchGet(b, h, "/v1/orders/export?format=csv")
		bytes += w.n
		n++
	}
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(*seedOrders)*float64(n)/elapsed, "orders/s")
	b.ReportMetric(float64(bytes)/float64(n)/(1<<20), "MiB/op")
}

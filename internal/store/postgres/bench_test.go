package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/storetest"
	"github.com/waorders/waorders/internal/testkit"
)

// BenchmarkWriteInbound measures durable group commit of single-order
// deliveries: each operation is one WriteInbound call (one transaction,
// one commit) of batch deliveries, from one writer (as the intake's single
// batching loop calls it) or from four at once (four instances, or four
// writer loops, on one database). deliveries/s is what that sustains.
func BenchmarkWriteInbound(b *testing.B) {
	tmpl := storetest.BenchInbound()
	b.Logf("callback body %d bytes, message raw %d bytes", len(tmpl.Callback.Body), len(tmpl.Messages[0].Message.Raw))
	for _, writers := range []int{1, 4} {
		for _, batch := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("writers=%d/batch=%d", writers, batch), func(b *testing.B) {
				s := openStore(b, postgres.Options{MaxConns: int32(writers)})
				// The batches are built before the clock runs.
				rnd := rand.NewChaCha8([32]byte{byte(writers), byte(batch)})
				batches := make([][]*store.Inbound, b.N)
				for i := range batches {
					batches[i] = make([]*store.Inbound, batch)
					for k := range batches[i] {
						at := storetest.Base.Add(time.Duration(i*batch+k) * time.Millisecond)
						batches[i][k] = storetest.CloneInbound(tmpl, rnd, at, "")
					}
				}
				work := make(chan []*store.Inbound, len(batches))
				for _, ds := range batches {
					work <- ds
				}
				close(work)
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				b.ResetTimer()
				client0, server0 := processCPU(), postgresCPU()
				start := time.Now()
				for range writers {
					wg.Go(func() {
						for ds := range work {
							res, err := s.WriteInbound(b.Context(), ds)
							if err != nil {
								errs <- err
								return
							}
							if res[0].Messages[0] != store.Stored {
								errs <- fmt.Errorf("outcome %v, want stored", res[0].Messages[0])
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				client, server := processCPU()-client0, postgresCPU()-server0
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				n := float64(b.N * batch)
				b.ReportMetric(n/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64(client.Microseconds())/n, "client-cpu-µs/delivery")
				if server >= 0 {
					b.ReportMetric(float64(server.Microseconds())/n, "server-cpu-µs/delivery")
				}
			})
		}
	}
}

// processCPU is the CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used so far by every process named postgres
// on this machine (backends, WAL writer, checkpointer), or -1 when /proc
// cannot tell: with the server on the same host it is what the writes
// cost it, whatever else competes for the CPUs.
func postgresCPU() time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	var ticks int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(b[end+2:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		sys, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + sys
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// BenchmarkReads measures the read side on a store seeded with
// WAORDERS_BENCH_ORDERS orders (default 20,000) over 20 campaigns: a page
// of 50 orders filtered by ref1 (a cursor deep into the list), the
// campaign report over every order, and a full export.
func BenchmarkReads(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("WAORDERS_BENCH_ORDERS")); err == nil && v > 0 {
		n = v
	}
	url := testkit.PostgresURL(b)
	schema := newSchema(b, url)
	s := openStore(b, postgres.Options{Schema: schema})
	tmpl := storetest.BenchInbound()
	rnd := rand.NewChaCha8([32]byte{7})
	for i := 0; i < n; i += 256 {
		ds := make([]*store.Inbound, 0, 256)
		for k := i; k < min(i+256, n); k++ {
			at := storetest.Base.Add(time.Duration(k) * time.Second)
			ds = append(ds, storetest.CloneInbound(tmpl, rnd, at, fmt.Sprintf("campaign-%02d", k%20)))
		}
		if _, err := s.WriteInbound(b.Context(), ds); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d orders", n)
	// Autovacuum analyzes a table this size soon after a bulk load; do it
	// now, or the planner works from the empty table's statistics.
	analyze(b, url, schema)
	first, err := s.ListOrders(b.Context(), store.ListOrdersParams{Ref1: "campaign-07", Limit: 50})
	if err != nil {
		b.Fatal(err)
	}

	b.Run("ListOrdersByRef1", func(b *testing.B) {
		for b.Loop() {
			page, err := s.ListOrders(b.Context(), store.ListOrdersParams{Ref1: "campaign-07", Limit: 50, Cursor: first.NextCursor})
			if err != nil || len(page.Orders) != 50 {
				b.Fatalf("ListOrders = %d orders, %v", len(page.Orders), err)
			}
		}
	})
	b.Run("CampaignReport", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.CampaignReport(b.Context(), store.CampaignReportParams{GroupBy: "ref1"})
			if err != nil || len(rows) != min(n, 20) {
				b.Fatalf("CampaignReport = %d rows, %v", len(rows), err)
			}
		}
	})
	b.Run("ExportOrders", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			count := 0
			if err := s.ExportOrders(b.Context(), store.ListOrdersParams{}, func(*waorders.Order) error {
				count++
				return nil
			}); err != nil || count != n {
				b.Fatalf("ExportOrders = %d orders, %v", count, err)
			}
		}
		b.ReportMetric(float64(b.N*n)/time.Since(start).Seconds(), "orders/s")
	})
}

// analyze refreshes the planner statistics of schema's tables.
func analyze(tb testing.TB, url, schema string) {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "SET search_path TO "+pgx.Identifier{schema}.Sanitize()+"; ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}

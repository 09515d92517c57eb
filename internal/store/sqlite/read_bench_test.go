package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/store/storetest"
)

// The read benchmarks share one seeded database of readBenchOrders orders
// (WAORDERS_BENCH_ORDERS, default 100000), built once per process.
var (
	readBenchOnce sync.Once
	readBenchDir  string
	readBenchErr  error
)

func readBenchOrders() int {
	if n, err := strconv.Atoi(os.Getenv("WAORDERS_BENCH_ORDERS")); err == nil && n > 0 {
		return n
	}
	return 100000
}

func TestMain(m *testing.M) {
	code := m.Run()
	if readBenchDir != "" {
		os.RemoveAll(readBenchDir)
	}
	os.Exit(code)
}

// seededStore opens the shared read benchmark database, seeding it first:
// orders over 90 days from 50k customers, 20% without campaign, ref1 from
// 20 campaigns, 1 to 4 lines from 200 products, one in 20 in USD.
func seededStore(b *testing.B) *sqlite.Store {
	b.Helper()
	readBenchOnce.Do(func() {
		readBenchDir, readBenchErr = os.MkdirTemp("", "waorders-readbench-")
		if readBenchErr != nil {
			return
		}
		s, err := sqlite.Open(b.Context(), filepath.Join(readBenchDir, "read.db"), sqlite.Options{})
		if err != nil {
			readBenchErr = err
			return
		}
		defer s.Close()
		rnd := rand.New(rand.NewPCG(7, 7))
		n := readBenchOrders()
		start := time.Now()
		span := 90 * 24 * time.Hour
		var ds []*store.Inbound
		for i := range n {
			var items []waorders.Item
			currency := "INR"
			if rnd.IntN(20) == 0 {
				currency = "USD"
			}
			for range 1 + rnd.IntN(4) {
				items = append(items, storetest.NewItem(fmt.Sprintf("sku-%03d", rnd.IntN(200)), int64(1+rnd.IntN(3)),
					storetest.Money(currency, int64(100+rnd.IntN(500000)))))
			}
			o := storetest.NewOrder(fmt.Sprintf("wamid.HBgM%012d%08x", rnd.IntN(50000), i),
				storetest.Base.Add(time.Duration(i)*span/time.Duration(n)), items...)
			o.Customer.WaID = fmt.Sprintf("9198%08d", rnd.IntN(50000))
			if rnd.IntN(5) > 0 {
				o.Campaign = waorders.Campaign{
					Ref:  fmt.Sprintf("ref-%03d", rnd.IntN(100)),
					Ref1: fmt.Sprintf("campaign-%02d", rnd.IntN(20)),
					Ref2: fmt.Sprintf("wave-%d", rnd.IntN(5)),
				}
			}
			ds = append(ds, storetest.NewOrderInbound(o))
			if len(ds) == 1000 || i == n-1 {
				if _, err := s.WriteInbound(b.Context(), ds); err != nil {
					readBenchErr = err
					return
				}
				ds = ds[:0]
			}
		}
		b.Logf("seeded %d orders in %v", n, time.Since(start).Round(time.Second))
	})
	if readBenchErr != nil {
		b.Fatal(readBenchErr)
	}
	s, err := sqlite.Open(b.Context(), filepath.Join(readBenchDir, "read.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// reportPercentile reports the p-th percentile of ds in milliseconds.
func reportPercentile(b *testing.B, ds []time.Duration, p int) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[(len(ds)-1)*p/100].Microseconds())/1000, fmt.Sprintf("p%d-ms", p))
}

// BenchmarkListOrdersByRef1 measures a first page of 50 orders filtered by
// ref1, and the page after it.
func BenchmarkListOrdersByRef1(b *testing.B) {
	s := seededStore(b)
	var ds []time.Duration
	i := 0
	for b.Loop() {
		f := store.ListOrdersParams{Ref1: fmt.Sprintf("campaign-%02d", i%20), Limit: 50}
		i++
		t := time.Now()
		page, err := s.ListOrders(b.Context(), f)
		if err != nil {
			b.Fatal(err)
		}
		f.Cursor = page.NextCursor
		if _, err := s.ListOrders(b.Context(), f); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(t)/2)
	}
	reportPercentile(b, ds, 95)
}

// BenchmarkCampaignReport measures the report over every order.
func BenchmarkCampaignReport(b *testing.B) {
	s := seededStore(b)
	for _, q := range []store.CampaignReportParams{{GroupBy: "ref1"}, {GroupBy: "ref1", Interval: "day"}} {
		b.Run("interval="+q.Interval, func(b *testing.B) {
			for b.Loop() {
				rows, err := s.CampaignReport(b.Context(), q)
				if err != nil || len(rows) == 0 {
					b.Fatal(rows, err)
				}
			}
		})
	}
}

// BenchmarkExportOrders measures a full export (orders with lines and
// totals handed to a callback that does nothing).
func BenchmarkExportOrders(b *testing.B) {
	s := seededStore(b)
	n := 0
	for b.Loop() {
		if err := s.ExportOrders(b.Context(), store.ListOrdersParams{}, func(*waorders.Order) error {
			n++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "orders/s")
}

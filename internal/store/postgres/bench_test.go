package postgres_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/postgres"
	"github.com/waorders/waorders/internal/store/storetest"
)

// benchDeliveries returns n single-order deliveries with unique ids: three
// items, a raw body of about 1.6 KB.
func benchDeliveries(prefix string, seq *atomic.Int64, n int) []*store.Delivery {
	ds := make([]*store.Delivery, n)
	for i := range ds {
		k := seq.Add(1)
		o := storetest.NewOrder(fmt.Sprintf("wamid.%s.%09d", prefix, k), storetest.Base.Add(time.Duration(k)*time.Millisecond),
			storetest.NewItem("shirt1122", 1, storetest.Money("INR", 160000)),
			storetest.NewItem("pant1122", 2, storetest.Money("INR", 200000)),
			storetest.NewItem("cap-blue-large", 1, storetest.Money("INR", 49900)),
		)
		o.Campaign = waorders.Campaign{Ref: "ref", Ref1: "summer", Ref2: "banner"}
		ds[i] = storetest.NewOrderDelivery(o)
	}
	return ds
}

// BenchmarkWriteDeliveries measures durable intake of single-order
// deliveries (synchronous_commit as the server has it): one call per
// group commit of batch deliveries, from one writer (as the intake's
// batching loop calls it) and from four concurrent writers (several
// batching loops or instances on one database).
func BenchmarkWriteDeliveries(b *testing.B) {
	for _, writers := range []int{1, 4} {
		for _, batch := range []int{1, 16, 64, 256} {
			b.Run(fmt.Sprintf("writers=%d/batch=%d", writers, batch), func(b *testing.B) {
				s := openStore(b, postgres.Options{MaxConns: int32(writers + 1)})
				var seq atomic.Int64
				var bodyBytes int
				for _, d := range benchDeliveries("size", &seq, 1) {
					bodyBytes = len(d.Callback.Body)
				}
				// Prepare the batches before the clock runs.
				calls := b.N
				batches := make([][]*store.Delivery, calls)
				for i := range batches {
					batches[i] = benchDeliveries("b", &seq, batch)
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				b.ResetTimer()
				start := time.Now()
				for range writers {
					wg.Go(func() {
						for {
							i := int(next.Add(1)) - 1
							if i >= calls {
								return
							}
							res, err := s.WriteDeliveries(b.Context(), batches[i])
							if err != nil {
								errs <- err
								return
							}
							if res[0].Messages[0] != store.Stored {
								errs <- fmt.Errorf("batch %d: outcome %v, want stored", i, res[0].Messages[0])
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				b.ReportMetric(float64(calls*batch)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64(bodyBytes), "body-bytes")
			})
		}
	}
}

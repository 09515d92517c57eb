package sqlite_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/storetest"
)

// BenchmarkWriteInboundEvents measures what the event log adds to a group
// commit: each operation is one transaction of batch order callbacks, as
// the intake writes them with the event log on (WriteInbound, then the
// events built from what it stored, appended with one delivery per
// endpoint). webhooks=0 is the log alone; 1 adds a delivery row per event,
// what a dead endpoint costs the intake once its breaker is open. Compare
// cpu-µs/delivery with BenchmarkWriteInbound's at the same batch.
func BenchmarkWriteInboundEvents(b *testing.B) {
	tmpl := storetest.BenchInbound()
	for _, hooks := range []int{0, 1} {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("webhooks=%d/batch=%d", hooks, batch), func(b *testing.B) {
				rnd := rand.NewChaCha8([32]byte{byte(batch), byte(hooks)})
				s := openBench(b, tmpl, rnd)
				for i := range hooks {
					w := &store.Webhook{ID: fmt.Sprintf("wh_bench%d", i), URL: "https://example.com/hooks", Enabled: true,
						Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
					if err := s.CreateWebhook(b.Context(), w); err != nil {
						b.Fatal(err)
					}
				}
				builder := &events.Builder{}
				n := 0
				ds := make([]*store.Inbound, batch)
				b.ReportAllocs()
				var cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					n = nextBatch(ds, tmpl, rnd, n)
					b.StartTimer()
					cpu0 := cpuTime()
					err := s.InTx(b.Context(), func(tx store.Tx) error {
						res, err := tx.WriteInbound(b.Context(), ds)
						if err != nil {
							return err
						}
						evs, err := builder.FromInbound(ds, res, time.Now())
						if err != nil {
							return err
						}
						if len(evs) != batch {
							return fmt.Errorf("%d events for %d orders", len(evs), batch)
						}
						return tx.AppendEvents(b.Context(), store.AppendEventsParams{Events: evs})
					})
					if err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - cpu0
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/delivery")
			})
		}
	}
}

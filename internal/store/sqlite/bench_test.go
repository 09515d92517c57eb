package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/sqlite"
	"github.com/waorders/waorders/internal/store/storetest"
)

// prefill is how many orders a benchmark store holds before timing starts:
// enough that the cache is warm and the unique indexes are past the size
// where a batch's random inserts all land on the same few pages.
const prefill = 50000

// nextBatch fills ds with fresh callbacks cloned from tmpl, the n-th
// after the prefill first, and returns the count past them.
func nextBatch(ds []*store.Inbound, tmpl *store.Inbound, rnd *rand.ChaCha8, n int) int {
	for i := range ds {
		ds[i] = storetest.CloneInbound(tmpl, rnd, storetest.Base.Add(time.Duration(prefill+n)*time.Millisecond), "")
		n++
	}
	return n
}

// openBench opens a store in b's temporary directory holding prefill orders.
func openBench(b *testing.B, tmpl *store.Inbound, rnd *rand.ChaCha8) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ds := make([]*store.Inbound, 500)
	for n := 0; n < prefill; n += len(ds) {
		for i := range ds {
			ds[i] = storetest.CloneInbound(tmpl, rnd, storetest.Base.Add(time.Duration(n+i)*time.Millisecond), "")
		}
		if _, err := s.WriteInbound(b.Context(), ds); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkWriteInbound measures durable group commit: each operation is
// one WriteInbound call (one transaction, one fsync) of batch single-order
// deliveries, on a store that already holds prefill orders. deliveries/s is
// what the intake can sustain; cpu-µs/delivery is the process CPU time
// (all threads: the writer and the background checkpointer) spent during the
// timed writes, steadier than wall time on a shared machine.
func BenchmarkWriteInbound(b *testing.B) {
	tmpl := storetest.BenchInbound()
	b.Logf("callback body %d bytes, message raw %d bytes", len(tmpl.Callback.Body), len(tmpl.Messages[0].Message.Raw))
	for _, batch := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			rnd := rand.NewChaCha8([32]byte{byte(batch)})
			s := openBench(b, tmpl, rnd)
			n := 0
			ds := make([]*store.Inbound, batch)
			b.SetBytes(int64(batch * len(tmpl.Callback.Body)))
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				n = nextBatch(ds, tmpl, rnd, n)
				b.StartTimer()
				cpu0 := cpuTime()
				// The label tells the timed writes from the prefill in a
				// CPU profile: go tool pprof -tagfocus phase=timed.
				pprof.Do(b.Context(), pprof.Labels("phase", "timed"), func(ctx context.Context) {
					if _, err := s.WriteInbound(ctx, ds); err != nil {
						b.Fatal(err)
					}
				})
				cpu += cpuTime() - cpu0
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/delivery")
		})
	}
}

// cpuTime returns the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a recorded value is known within 1/2^subBits (under 0.8 %).
const subBits = 7

const (
	linear     = 1 << (subBits + 1)               // values below this have a bucket each
	numBuckets = linear + (64-subBits-1)<<subBits // enough for any uint64
)

// histogram is a log-linear latency histogram, in the manner of HDR
// histograms: fixed memory (about 60 KiB) whatever the number of values,
// safe for concurrent use without locks.
type histogram struct {
	counts [numBuckets]atomic.Uint64
	total  atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	max    atomic.Uint64
}

func bucketOf(v uint64) int {
	if v < linear {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	top := v >> shift // in [2^subBits, 2^(subBits+1))
	return linear + (shift-1)<<subBits + int(top-1<<subBits)
}

// upperBound is the largest value that falls in bucket i.
func upperBound(i int) uint64 {
	if i < linear {
		return uint64(i)
	}
	shift := (i-linear)>>subBits + 1
	top := uint64((i-linear)&(1<<subBits-1)) + 1<<subBits
	if shift >= 64-subBits-1 && top == 1<<(subBits+1)-1 {
		return math.MaxUint64
	}
	return (top+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// quantile returns the value at or below which a fraction q of the recorded
// values lie, reported as the upper edge of its bucket (never above the
// maximum recorded).
func (h *histogram) quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(upperBound(i), h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

func (h *histogram) mean() time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

package simulate

import (
	"testing"

	"github.com/waorders/waorders/callback"
)

func BenchmarkGenerator(b *testing.B) {
	cases := []struct {
		name string
		opts Options
	}{
		{"Kaleyra", Options{}},
		{"KaleyraOrders", Options{Mix: map[Kind]float64{KindOrder: 1}}},
		{"Meta", Options{Envelope: callback.EnvelopeMeta}},
		{"Batch10", Options{MessagesPerCallback: 10}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			g := New(1, c.opts)
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				bytes += int64(len(g.Next().Body))
			}
			b.ReportMetric(float64(bytes)/float64(b.N), "B/body")
		})
	}
}

func BenchmarkSign(b *testing.B) {
	body := New(1, Options{}).Next().Body
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		callback.Sign(body, "app-secret")
	}
}

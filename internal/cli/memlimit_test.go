package cli

import (
	"errors"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// TestSetMemoryLimit: a container limit becomes Go's soft limit at
// MemoryLimitRatio of it less OffHeapReserve (of half of it, for a small
// one), GOMEMLIMIT or AUTOMEMLIMIT=off leave it alone, no limit or no
// cgroup leaves none, and restore puts the previous one back.
func TestSetMemoryLimit(t *testing.T) {
	const gib = 1 << 30
	ratio := MemoryLimitRatio // a variable: the products are not whole constants
	ofGiB := int64(float64(gib-OffHeapReserve) * ratio)
	of100MiB := int64(float64(50<<20) * ratio) // 100 MiB less the reserve is under half of it
	noCgroup := func() (uint64, error) { return 0, errors.New("no cgroup here") }
	tests := []struct {
		name  string
		env   map[string]string
		limit memlimit.Provider
		want  int64 // the soft limit while serving; 0 = unchanged
	}{
		{"container limit", nil, memlimit.Limit(gib), ofGiB},
		{"small container", nil, memlimit.Limit(100 << 20), of100MiB},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "300MiB"}, memlimit.Limit(gib), 0},
		{"AUTOMEMLIMIT off", map[string]string{"AUTOMEMLIMIT": "off"}, memlimit.Limit(gib), 0},
		{"no limit", nil, func() (uint64, error) { return 0, memlimit.ErrNoLimit }, math.MaxInt64},
		{"no cgroup", nil, noCgroup, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const before = 7 * gib // a limit no branch sets, to see what changes
			prev := debug.SetMemoryLimit(before)
			t.Cleanup(func() { debug.SetMemoryLimit(prev) })
			restore := setMemoryLimit(func(k string) string { return tt.env[k] }, tt.limit, slog.New(slog.DiscardHandler))
			want := tt.want
			if want == 0 {
				want = before
			}
			if got := debug.SetMemoryLimit(-1); got != want {
				t.Errorf("memory limit while serving = %d, want %d", got, want)
			}
			restore()
			if got := debug.SetMemoryLimit(-1); got != before {
				t.Errorf("after restore: memory limit = %d, want the previous %d", got, before)
			}
		})
	}
}

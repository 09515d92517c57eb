package lifecycle_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/lifecycle"
)

// recorder notes every Start and Stop of the fake services, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// fake is a service that records its calls and fails as told.
type fake struct {
	name              string
	rec               *recorder
	startErr, stopErr error
}

func (f *fake) Start(context.Context) error {
	f.rec.add("start " + f.name)
	return f.startErr
}

func (f *fake) Stop(context.Context) error {
	f.rec.add("stop " + f.name)
	return f.stopErr
}

type testBundle struct {
	group *lifecycle.Group
	rec   *recorder
	log   *bytes.Buffer
}

// setup returns a group of services a, b, c; fail configures them.
func setup(t *testing.T, fail map[string][2]error) *testBundle {
	t.Helper()
	b := &testBundle{rec: &recorder{}, log: &bytes.Buffer{}}
	b.group = &lifecycle.Group{Logger: slog.New(slog.NewTextHandler(b.log, nil))}
	for _, name := range []string{"a", "b", "c"} {
		b.group.Add(name, &fake{name: name, rec: b.rec, startErr: fail[name][0], stopErr: fail[name][1]})
	}
	return b
}

var (
	errStartB = errors.New("b cannot start")
	errStopA  = errors.New("a cannot stop")
	errStopC  = errors.New("c cannot stop")
)

func TestGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		fail         map[string][2]error
		wantStartErr []error // errors.Is must hold for each
		wantStopErr  []error
		wantEvents   []string
		wantLogged   []string // service names in the stop-error log
	}{
		{
			name:       "StartsInOrderStopsInReverse",
			wantEvents: []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"},
		},
		{
			name:         "StartFailureMidwayStopsTheStartedInReverse",
			fail:         map[string][2]error{"b": {errStartB, nil}},
			wantStartErr: []error{errStartB},
			wantEvents:   []string{"start a", "start b", "stop a"},
		},
		{
			name:         "StartFailureJoinsRollbackStopErrors",
			fail:         map[string][2]error{"b": {errStartB, nil}, "a": {nil, errStopA}},
			wantStartErr: []error{errStartB, errStopA},
			wantEvents:   []string{"start a", "start b", "stop a"},
			wantLogged:   []string{"service=a"},
		},
		{
			name:        "StopErrorsCollectedAndEveryServiceStopped",
			fail:        map[string][2]error{"a": {nil, errStopA}, "c": {nil, errStopC}},
			wantStopErr: []error{errStopA, errStopC},
			wantEvents:  []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"},
			wantLogged:  []string{"service=c", "service=a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.fail)
			ctx := context.Background()
			err := b.group.Start(ctx)
			checkErr(t, "Start", err, tt.wantStartErr)
			if err == nil {
				checkErr(t, "Stop", b.group.Stop(ctx), tt.wantStopErr)
			}
			if got := b.rec.get(); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("events %q, want %q", got, tt.wantEvents)
			}
			log := b.log.String()
			if n := strings.Count(log, "stop failed"); n != len(tt.wantLogged) {
				t.Errorf("%d stop errors logged, want %d:\n%s", n, len(tt.wantLogged), log)
			}
			last := -1
			for _, name := range tt.wantLogged {
				i := strings.Index(log, name)
				if i < last {
					t.Errorf("log lacks %q after the previous one:\n%s", name, log)
				}
				last = i
			}
			// Stop is idempotent: nothing is stopped twice.
			if err := b.group.Stop(ctx); err != nil {
				t.Errorf("second Stop: %v, want nil", err)
			}
			if got := b.rec.get(); !slices.Equal(got, tt.wantEvents) {
				t.Errorf("after a second Stop: events %q, want %q", got, tt.wantEvents)
			}
		})
	}
}

func checkErr(t *testing.T, what string, err error, want []error) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Errorf("%s: %v, want nil", what, err)
		}
		return
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("%s: %v, want it to wrap %v", what, err, w)
		}
	}
}

func TestGroupStartErrorUnchanged(t *testing.T) {
	t.Parallel()
	// A start error reaches the caller as it is, so messages callers
	// already print do not change.
	b := setup(t, map[string][2]error{"a": {errStartB, nil}})
	if err := b.group.Start(context.Background()); err == nil || err.Error() != errStartB.Error() {
		t.Fatalf("Start: %v, want exactly %q", err, errStartB)
	}
	if err := b.group.Start(context.Background()); err == nil {
		t.Error("second Start: nil, want an error")
	}
}

func TestGroupStopSharesTheDeadline(t *testing.T) {
	t.Parallel()
	// Every service gets its Stop even after the deadline passed: the
	// first one uses up the time, the second still runs and sees ctx done.
	var seen []error
	g := &lifecycle.Group{}
	g.Add("first", lifecycle.Funcs{StopFunc: func(ctx context.Context) error {
		seen = append(seen, ctx.Err())
		return nil
	}})
	g.Add("slow", lifecycle.Funcs{StopFunc: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := g.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop: %v, want the slow service's deadline error", err)
	}
	if len(seen) != 1 || !errors.Is(seen[0], context.DeadlineExceeded) {
		t.Errorf("first service: stopped %d times with %v, want once after the deadline", len(seen), seen)
	}
}

func TestFuncs(t *testing.T) {
	t.Parallel()
	// The zero Funcs does nothing; IgnoreContext adapts Close() error.
	if err := (lifecycle.Funcs{}).Start(context.Background()); err != nil {
		t.Error(err)
	}
	closed := 0
	f := lifecycle.Funcs{StopFunc: lifecycle.IgnoreContext(func() error { closed++; return errStopA })}
	if err := f.Stop(context.Background()); !errors.Is(err, errStopA) || closed != 1 {
		t.Errorf("Stop: %v after %d calls", err, closed)
	}
}

func TestGroupNests(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	inner := &lifecycle.Group{}
	inner.Add("x", &fake{name: "x", rec: rec})
	outer := &lifecycle.Group{}
	outer.Add("a", &fake{name: "a", rec: rec})
	outer.Add("inner", inner)
	if err := outer.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := outer.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"start a", "start x", "stop x", "stop a"}; !slices.Equal(rec.get(), want) {
		t.Errorf("events %q, want %q", rec.get(), want)
	}
}

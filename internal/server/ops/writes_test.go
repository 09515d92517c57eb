package ops

import (
	"errors"
	"testing"
	"time"

	"github.com/waorders/waorders"
)

func TestWrites(t *testing.T) {
	now := time.Unix(1000, 0)
	w := &Writes{Hold: 10 * time.Second, Now: func() time.Time { return now }}
	if err := w.Failing(); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	w.Observe(waorders.Errorf(waorders.CodeConflict, "a callback storage rejects"))
	if err := w.Failing(); err != nil {
		t.Fatalf("a rejected callback made storage failing: %v", err)
	}
	full := waorders.Wrap(waorders.CodeUnavailable, errors.New("database or disk is full"), "unavailable")
	w.Observe(full)
	if err := w.Failing(); err == nil || !errors.Is(err, full) {
		t.Fatalf("after a failed commit: %v", err)
	}
	now = now.Add(5 * time.Second)
	if w.Failing() == nil {
		t.Fatal("failure forgotten before Hold")
	}
	w.Observe(nil)
	if err := w.Failing(); err != nil {
		t.Fatalf("after a later commit succeeded: %v", err)
	}
	w.Observe(full)
	now = now.Add(11 * time.Second)
	if err := w.Failing(); err != nil {
		t.Fatalf("after Hold without traffic: %v", err)
	}
}

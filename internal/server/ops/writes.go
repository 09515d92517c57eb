package ops

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waorders/waorders"
)

// DefaultHold is how long /readyz stays not ready after a failed commit
// when no later commit succeeds.
const DefaultHold = 30 * time.Second

// Writes tracks whether storage takes writes, from the outcome of the
// intake's real commits. Ping alone cannot tell: on a full disk SQLite's
// heartbeat UPDATE can still fit in the WAL while every batch of callbacks
// fails. After a commit fails with CodeUnavailable, Failing reports the
// failure until a later commit succeeds or, when none is attempted (a load
// balancer sends no traffic to an instance that is not ready), until Hold
// has passed; /readyz then asks Ping again, and the next failed commit
// makes it not ready again. Other errors (a callback storage rejects) say
// nothing about the storage and are ignored. It is safe for concurrent use.
type Writes struct {
	// Hold bounds how long a failure counts without a later success; 0
	// means DefaultHold.
	Hold time.Duration
	// Writable, when set, is 1 while commits succeed and 0 after a failure.
	Writable prometheus.Gauge
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	failedAt time.Time
	failure  error
}

// Observe records the outcome of one commit.
func (w *Writes) Observe(err error) {
	if err != nil && waorders.ErrorCode(err) != waorders.CodeUnavailable {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil {
		if w.failure != nil {
			w.failure = nil
			w.setGauge(1)
		}
		return
	}
	w.failedAt, w.failure = w.now(), err
	w.setGauge(0)
}

// Failing returns the last commit failure while it counts, else nil.
func (w *Writes) Failing() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failure == nil {
		return nil
	}
	hold := w.Hold
	if hold <= 0 {
		hold = DefaultHold
	}
	if age := w.now().Sub(w.failedAt); age < hold {
		return errors.Join(errors.New("the last commit failed "+age.Round(time.Millisecond).String()+" ago and none succeeded since"), w.failure)
	}
	return nil
}

func (w *Writes) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Writes) setGauge(v float64) {
	if w.Writable != nil {
		w.Writable.Set(v)
	}
}

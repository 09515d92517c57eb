package loadgen

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// startProgress writes a progress line to w every interval until the
// returned function is called, which writes a last line and returns once
// nothing more will be written. On a terminal the line updates in place.
func (r *runner) startProgress(w io.Writer) (stop func()) {
	if w == nil {
		return func() {}
	}
	terminal := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		lastSent, lastAt := int64(0), time.Now()
		line := func(final bool) {
			now := time.Now()
			sent := r.sent.Load()
			rate := float64(sent-lastSent) / now.Sub(lastAt).Seconds()
			lastSent, lastAt = sent, now
			errs := r.rejected.Load() + r.serverErrors.Load() + r.transportErrors.Load()
			text := fmt.Sprintf("sent %d  acked %d  errors %d  rate %.0f/s  elapsed %s",
				sent, r.acked.Load(), errs, rate, now.Sub(r.started).Round(time.Second))
			switch {
			case terminal && final:
				fmt.Fprintf(w, "\r%s\x1b[K\n", text)
			case terminal:
				fmt.Fprintf(w, "\r%s\x1b[K", text)
			default:
				fmt.Fprintln(w, text)
			}
		}
		for {
			select {
			case <-t.C:
				line(false)
			case <-done:
				line(true)
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

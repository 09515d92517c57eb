package relay

import (
	"time"

	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/store"
)

// WebhookSchedule is Standard Webhooks' example schedule: the first attempt
// at once, then these delays after attempts 1…9; a tenth failure is dead.
var WebhookSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// StreamSchedule is the schedule of a stream sink (NATS): short, capped at
// 5 minutes, never dead: a stream that is down is a lag to alert on.
var StreamSchedule = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute,
}

// Jitter is the spread of a retry delay: ±20 %.
const Jitter = 0.2

// PauseFor is how long a sink that asked to pause (PauseSink) is left alone.
const PauseFor = 30 * time.Second

// MaxRetryAfter caps a receiver's Retry-After: the schedule's longest step.
const MaxRetryAfter = 24 * time.Hour

// Policy turns an attempt's Result into the delivery's next state.
type Policy struct {
	Schedule []time.Duration
	// Unlimited retries for ever (with the last delay); otherwise the
	// attempt after the schedule's end is the last.
	Unlimited bool
	// Rand returns a number in [0, 1) for the jitter.
	Rand func() float64
}

// Next returns the finish of attempt `attempt` (from 1) that ended at now
// with res.
func (p Policy) Next(attempt int, res sink.Result, now time.Time) (f store.Finish) {
	f.Attempt = attempt
	switch res.Outcome {
	case sink.Delivered:
		f.State, f.Health = store.DeliveryDelivered, store.HealthOK
		return f
	case sink.Gone:
		f.State, f.Health = store.DeliveryDead, store.HealthGone
		return f
	case sink.Dead:
		f.State = store.DeliveryDead
		return f
	case sink.PauseSink:
		f.State, f.Refund, f.NextAttemptAt = store.DeliveryRetry, true, now.Add(PauseFor)
		return f
	}
	f.Health = store.HealthFail
	if !p.Unlimited && attempt > len(p.Schedule) {
		f.State = store.DeliveryDead
		return f
	}
	i := min(attempt-1, len(p.Schedule)-1)
	delay := p.jitter(p.Schedule[i])
	// Retry-After only postpones: the next attempt is never sooner than
	// the schedule's (a receiver answering 429 with Retry-After: 1 for an
	// hour must not spend all ten attempts in a minute and go dead), and
	// never later than MaxRetryAfter (a hint of a week does not park the
	// event for a week).
	if res.RetryAfter > delay {
		delay = min(res.RetryAfter, MaxRetryAfter)
	}
	f.State, f.NextAttemptAt = store.DeliveryRetry, now.Add(delay)
	return f
}

func (p Policy) jitter(d time.Duration) time.Duration {
	r := 0.5
	if p.Rand != nil {
		r = p.Rand()
	}
	return time.Duration(float64(d) * (1 - Jitter + 2*Jitter*r))
}

// Package metrics defines the Prometheus metrics of waorders on a registry of
// its own (never the global one), so tests and several servers in one
// process do not collide.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector the service updates.
type Metrics struct {
	Registry *prometheus.Registry

	// Callbacks counts callback records by envelope, message type (or
	// "status", or "body" for undecodable bodies) and result (stored,
	// duplicate, quarantined, rejected).
	Callbacks *prometheus.CounterVec
	// Duplicates counts duplicate deliveries of messages and statuses.
	Duplicates prometheus.Counter
	// Quarantined counts new quarantine entries by kind (body, message).
	Quarantined *prometheus.CounterVec
	// AuthFailures counts rejected callback requests by reason.
	AuthFailures *prometheus.CounterVec
	// IntakeSeconds is the time from request start to answer on the callback endpoints.
	IntakeSeconds *prometheus.HistogramVec
	// CallbackRecords is the number of messages and statuses per callback.
	CallbackRecords prometheus.Histogram
	// CommitBatch is the number of callbacks written per group-commit transaction.
	CommitBatch prometheus.Histogram
	// CommitSeconds is the duration of one group-commit transaction.
	CommitSeconds prometheus.Histogram
	// StorageErrors counts failed group commits.
	StorageErrors prometheus.Counter
	// HTTPRequests counts all requests by route pattern and status code.
	HTTPRequests *prometheus.CounterVec
	// StorageWritable is 1 while group commits succeed and 0 after one
	// failed because storage was unavailable, until one succeeds.
	StorageWritable prometheus.Gauge
	// Reloads counts credential reloads (SIGHUP) by result (ok, error).
	Reloads *prometheus.CounterVec
	// NeedsReview counts orders stored for review (unusable lines) by
	// the intake; staff resolve them through /v1/orders/{id}/review.
	NeedsReview prometheus.Counter
	// Notifications counts the order notifier's outcomes by result
	// (accepted, resent, retried, ambiguous, failed, skipped, paused,
	// lease_lost); "paused" means Kaleyra refused a sender's credentials
	// or account and its sends wait for an operator.
	Notifications *prometheus.CounterVec
}

// New registers the metrics on a fresh registry, with Go and process
// collectors. The Go collector adds the scheduler's metrics to its
// defaults: go_sched_latencies_seconds (how long runnable goroutines wait
// for a CPU) is what shows a process starved of CPU, whose callbacks then
// wait for their commit however fast the disk is.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: reg,
		Callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waorders_callbacks_total",
			Help: "Callback records (messages, statuses, undecodable bodies) by envelope, type and result.",
		}, []string{"envelope", "type", "result"}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waorders_duplicates_total",
			Help: "Messages and statuses delivered again and not stored twice.",
		}),
		Quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waorders_quarantined_total",
			Help: "New quarantine entries by kind (body or message).",
		}, []string{"kind"}),
		AuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waorders_auth_failures_total",
			Help: "Callback requests rejected by authentication, by reason.",
		}, []string{"reason"}),
		IntakeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waorders_intake_duration_seconds",
			Help:    "Time to answer a callback, including the durable commit.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"envelope", "code"}),
		CallbackRecords: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waorders_callback_records",
			Help:    "Messages and statuses per callback.",
			Buckets: []float64{1, 2, 5, 10, 50, 100, 500, 1000},
		}),
		CommitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waorders_commit_batch_size",
			Help:    "Callbacks written per group-commit transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "waorders_commit_duration_seconds",
			Help:    "Duration of one group-commit transaction.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		StorageErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waorders_storage_errors_total",
			Help: "Group commits that failed; their callbacks were answered 503.",
		}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waorders_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
	}
	m.StorageWritable = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "waorders_storage_writable",
		Help: "1 while group commits succeed; 0 after one failed because storage was unavailable, until one succeeds.",
	})
	m.StorageWritable.Set(1)
	m.Reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waorders_reloads_total",
		Help: "Credential reloads (SIGHUP) by result: ok, or error (the previous credentials stay in use).",
	}, []string{"result"})
	m.NeedsReview = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "waorders_orders_needs_review_total",
		Help: "Orders stored in needs_review because some of their lines were unusable; they count in no revenue until reviewed.",
	})
	m.Notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "waorders_notifications_total",
		Help: "Order notifications by result: accepted, resent, retried, ambiguous, failed, skipped, paused (a sender refused by Kaleyra), lease_lost.",
	}, []string{"result"})
	for _, r := range []string{"accepted", "resent", "retried", "ambiguous", "failed", "skipped", "paused", "lease_lost"} {
		m.Notifications.WithLabelValues(r)
	}
	m.Reloads.WithLabelValues("ok")
	m.Reloads.WithLabelValues("error")
	reg.MustRegister(m.Callbacks, m.Duplicates, m.Quarantined, m.AuthFailures, m.IntakeSeconds,
		m.CallbackRecords, m.CommitBatch, m.CommitSeconds, m.StorageErrors, m.HTTPRequests,
		m.StorageWritable, m.Reloads, m.NeedsReview, m.Notifications)
	return m
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

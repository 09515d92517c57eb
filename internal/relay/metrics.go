package relay

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the relay's collectors.
type Metrics struct {
	// Attempts counts attempts by sink and result (delivered, retry, dead,
	// gone, pause_sink, lease_lost).
	Attempts *prometheus.CounterVec
	// Latency is the time from the event's commit to its delivery (2xx).
	Latency *prometheus.HistogramVec
	// Backlog is the number of deliveries not yet delivered or dead.
	Backlog *prometheus.GaugeVec
	// Oldest is the age of the oldest undelivered delivery.
	Oldest *prometheus.GaugeVec
	// Dead is the number of dead deliveries (waiting for a replay).
	Dead *prometheus.GaugeVec
	// LeaseLost counts finishes that found their lease taken.
	LeaseLost prometheus.Counter
	// Disabled counts endpoints disabled by the relay, by reason.
	Disabled *prometheus.CounterVec
	// Pruned counts events deleted by retention.
	Pruned prometheus.Counter
	// BreakerOpen is 1 while an endpoint's breaker is open.
	BreakerOpen *prometheus.GaugeVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waorders_relay_attempts_total",
			Help: "Delivery attempts by sink (webhook id or nats) and result.",
		}, []string{"sink", "result"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "waorders_relay_delivery_latency_seconds",
			Help:    "Time from an event's commit to its successful delivery, by sink.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 300, 3600},
		}, []string{"sink"}),
		Backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "waorders_relay_backlog",
			Help: "Deliveries not yet delivered or dead, by sink.",
		}, []string{"sink"}),
		Oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "waorders_relay_oldest_undelivered_age_seconds",
			Help: "Age of the oldest delivery not yet delivered or dead, by sink.",
		}, []string{"sink"}),
		Dead: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "waorders_relay_dead",
			Help: "Dead deliveries waiting for a replay, by sink.",
		}, []string{"sink"}),
		LeaseLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waorders_relay_lease_lost_total",
			Help: "Finishes that found their delivery leased by another relay (the event goes out again).",
		}),
		Disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "waorders_webhook_disabled_total",
			Help: "Webhook endpoints disabled by the relay, by reason (gone, failing).",
		}, []string{"reason"}),
		Pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "waorders_events_pruned_total",
			Help: "Events deleted by retention.",
		}),
		BreakerOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "waorders_endpoint_breaker_open",
			Help: "1 while a webhook endpoint's breaker is open (consecutive connection failures: nothing is claimed for it but a probe per cool-down).",
		}, []string{"endpoint"}),
	}
	if reg != nil {
		reg.MustRegister(m.Attempts, m.Latency, m.Backlog, m.Oldest, m.Dead, m.LeaseLost, m.Disabled, m.Pruned, m.BreakerOpen)
	}
	return m
}

package cli

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/lifecycle"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/relay"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/server/ops"
	"github.com/waorders/waorders/internal/sink"
	natssink "github.com/waorders/waorders/internal/sink/nats"
	"github.com/waorders/waorders/internal/sink/webhook"
	"github.com/waorders/waorders/internal/store"
)

// natsSinkName is the sink name of NATS deliveries (the deliveries rows'
// sink column).
const natsSinkName = "nats"

// newWebhookSink builds the sink of a webhook endpoint (package
// sink/webhook: Standard Webhooks signing with every live secret, no
// redirects, the SSRF-safe dialer). The relay calls it again whenever the
// endpoint's URL or secrets change.
func newWebhookSink(w *store.Webhook, cfg *config.Serve) (sink.Sink, error) {
	return webhook.New(webhook.Config{
		URL: w.URL, Secrets: w.Secrets, Timeout: cfg.WebhookTimeout,
		AllowPrivate: cfg.WebhookAllowPrivate, AllowHTTPHosts: cfg.WebhookAllowHTTPHosts,
		UserAgent: "waorders/" + version(),
	})
}

// forwarding builds the event log's API side and the relay (nil with
// --no-relay) from serve's settings, and the NATS sink (nil without
// --nats-url), a service to stop after the relay.
func forwarding(cfg *config.Serve, st store.Store, met *metrics.Metrics, log *slog.Logger) (*api.EventsAPI, *relay.Relay, *lazyNATS) {
	newSink := func(w *store.Webhook) (sink.Sink, error) { return newWebhookSink(w, cfg) }
	ev := &api.EventsAPI{
		Events: st, Webhooks: st, Relay: st, Tx: st, Builder: &events.Builder{},
		URLs:    relay.URLPolicy{AllowHTTPHosts: cfg.WebhookAllowHTTPHosts, AllowPrivate: cfg.WebhookAllowPrivate},
		NewSink: newSink,
	}
	var ns *lazyNATS
	if cfg.NATSURL != "" {
		// Every event gets a nats delivery at append time, on every
		// instance, relay or not: an event is never missed by the stream.
		ev.Sinks = []string{natsSinkName}
		ns = &lazyNATS{opts: natssink.Options{URL: cfg.NATSURL, Stream: cfg.NATSStream, SubjectPrefix: cfg.NATSSubjectPrefix, Logger: log}, log: log}
	}
	if cfg.NoRelay {
		return ev, nil, nil
	}
	rc := relay.Config{
		Store: st, NewSink: newSink, Concurrency: cfg.WebhookConcurrency, RatePerSecond: cfg.WebhookRate,
		Timeout: cfg.WebhookTimeout, Retention: cfg.EventRetention, BusyShare: cfg.RelayBusyShare,
		Metrics: relay.NewMetrics(met.Registry), Logger: log,
	}
	if ns != nil {
		rc.Sinks = map[string]sink.Sink{natsSinkName: ns}
	}
	rl := relay.New(rc)
	ev.Wake = rl.Wake
	return ev, rl, ns
}

// lazyNATS is the NATS sink as serve runs it: Start tries to connect (and
// ensure the stream) but a NATS server that is down does not stop
// waorders from taking callbacks; until a connection is made every
// delivery reports PauseSink (no attempt spent; the events wait, pending)
// and the next one tries again, at most every natsRetry.
type lazyNATS struct {
	opts natssink.Options
	log  *slog.Logger

	mu      sync.Mutex
	s       *natssink.Sink
	lastTry time.Time
	lastErr error
	closed  bool
}

const natsRetry = 5 * time.Second

var (
	_ sink.Sink         = (*lazyNATS)(nil)
	_ lifecycle.Service = (*lazyNATS)(nil)
)

// Start makes the first connection attempt; a failure is logged, not
// returned.
func (n *lazyNATS) Start(ctx context.Context) error {
	if _, err := n.open(ctx, true); err != nil {
		n.log.Error("nats: not connected; events wait for it", "err", err)
	}
	return nil
}

// Stop closes the connection.
func (n *lazyNATS) Stop(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	if n.s != nil {
		return n.s.Close()
	}
	return nil
}

func (n *lazyNATS) open(ctx context.Context, force bool) (*natssink.Sink, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.s != nil || n.closed {
		return n.s, nil
	}
	if !force && time.Since(n.lastTry) < natsRetry {
		return nil, n.lastErr
	}
	n.lastTry = time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := natssink.Open(ctx, n.opts)
	if err != nil {
		n.lastErr = err
		return nil, err
	}
	n.log.Info("nats: connected; events go to the stream", "stream", n.opts.Stream)
	n.s = s
	return s, nil
}

// Deliver publishes through the open sink, opening it first if need be.
func (n *lazyNATS) Deliver(ctx context.Context, d sink.Delivery) sink.Result {
	s, err := n.open(ctx, false)
	if s == nil {
		msg := "not connected to NATS"
		if err != nil {
			msg = fmt.Sprintf("not connected to NATS: %v", err)
		}
		return sink.Result{Outcome: sink.PauseSink, Error: msg}
	}
	return s.Deliver(ctx, d)
}

// trackedTx is the intake's InTx (group commits with their events),
// reporting each commit's outcome to /readyz as trackedStore does.
type trackedTx struct {
	st     store.Store
	writes *ops.Writes
}

func (t trackedTx) InTx(ctx context.Context, fn func(store.Tx) error) error {
	err := t.st.InTx(ctx, fn)
	t.writes.Observe(err)
	return err
}

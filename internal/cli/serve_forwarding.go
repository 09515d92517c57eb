package cli

import (
	"context"

	"github.com/waorders/waorders/internal/server/ops"
	"log/slog"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/relay"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/sink"
	"github.com/waorders/waorders/internal/store"
)

// newWebhookSink builds the sink of a webhook endpoint (package
// sink/webhook: Standard Webhooks signing, no redirects, the SSRF-safe
// dialer). It is set when that package is linked in; while it is nil,
// deliveries to webhooks wait, pending, and are never lost.
var newWebhookSink func(w *store.Webhook, cfg *config.Serve) (sink.Sink, error)

// forwarding builds the event log's API side and the relay (nil with
// --no-relay) from serve's settings.
func forwarding(cfg *config.Serve, st store.Store, met *metrics.Metrics, log *slog.Logger) (*api.EventsAPI, *relay.Relay) {
	var newSink func(*store.Webhook) (sink.Sink, error)
	if newWebhookSink != nil {
		newSink = func(w *store.Webhook) (sink.Sink, error) { return newWebhookSink(w, cfg) }
	}
	ev := &api.EventsAPI{
		Events: st, Webhooks: st, Relay: st, Tx: st, Builder: &events.Builder{},
		URLs:    relay.URLPolicy{AllowHTTPHosts: cfg.WebhookAllowHTTPHosts, AllowPrivate: cfg.WebhookAllowPrivate},
		NewSink: newSink,
	}
	if cfg.NoRelay {
		return ev, nil
	}
	rl := relay.New(relay.Config{
		Store: st, NewSink: newSink, Concurrency: cfg.WebhookConcurrency, RatePerSecond: cfg.WebhookRate,
		Timeout: cfg.WebhookTimeout, Retention: cfg.EventRetention,
		Metrics: relay.NewMetrics(met.Registry), Logger: log,
	})
	ev.Wake = rl.Wake
	return ev, rl
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

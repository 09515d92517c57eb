package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/lifecycle"
	"github.com/waorders/waorders/internal/metrics"
	"github.com/waorders/waorders/internal/notify"
	"github.com/waorders/waorders/internal/server/api"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
	"github.com/waorders/waorders/kaleyra"
)

// notifications builds issue 15's parts of serve: the API of
// notifications and outbound messages, intake's hook (intents of new
// orders, status callbacks joined to outbound rows) and the notifier
// service. Without a configured Kaleyra number all three are nil
// (notifications off).
func notifications(cfg *config.Serve, st store.Store, ev *api.EventsAPI, met *metrics.Metrics, log *slog.Logger) (*api.NotifyAPI, *intake.OutboundHook, lifecycle.Service, error) {
	nums, err := cfg.Notify.Numbers()
	if err != nil || len(nums) == 0 {
		return nil, nil, nil, err
	}
	defaults := notify.FromStatuses(cfg.NotifyStatuses)
	if cfg.NotifySettings != "" {
		b, err := os.ReadFile(cfg.NotifySettings)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--notify-settings: %w", err)
		}
		file, err := notify.ParseSettings(b)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--notify-settings %s: %w", cfg.NotifySettings, err)
		}
		for st, v := range file.Statuses {
			defaults.Statuses[st] = v
		}
	}
	var senders []notify.Sender
	var shown []wire.NotifyNumber
	for _, n := range nums {
		c, err := kaleyra.New(n.Kaleyra)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("kaleyra number %q: %w", n.PhoneNumberID, err)
		}
		senders = append(senders, notify.Sender{PhoneNumberID: n.PhoneNumberID, Client: c})
		shown = append(shown, wire.NotifyNumber{PhoneNumberID: n.PhoneNumberID, SID: n.Kaleyra.SID, Sender: n.Kaleyra.Sender,
			BaseURL: n.Kaleyra.BaseURL, APIKey: "set"})
		log.Info("kaleyra number configured", "number", n.Kaleyra) // kaleyra.Config logs without its key
	}
	set := notify.NewSettingsSource(defaults, st)
	ncfg := notify.Config{Store: st, Senders: senders, Settings: set, Concurrency: cfg.NotifyConcurrency,
		Reconcile: cfg.NotifyReconcile, GiveUpOnAmbiguous: cfg.NotifyOnAmbiguous == "give_up", Logger: log,
		OnResult: func(result string) { met.Notifications.WithLabelValues(result).Inc() }}
	if ev != nil {
		ncfg.Events, ncfg.Sinks, ncfg.Wake = ev.Builder, ev.Sinks, ev.Wake
	}
	n := notify.New(ncfg)
	ints := &notify.Intents{Settings: set, HasSender: n.HasSender}
	napi := &api.NotifyAPI{Outbound: st, Settings: set, Intents: ints, Tx: st, Numbers: shown, Wake: n.Wake}
	var b = ncfg.Events
	hook := &intake.OutboundHook{Store: st, Apply: ints.InboundHook(b, ncfg.Sinks), Notify: n.Wake}
	if cfg.NoNotify {
		napi.Wake, hook.Notify = nil, nil
		return napi, hook, refresher(set, log, nil), nil
	}
	return napi, hook, refresher(set, log, n), nil
}

// refresher re-reads the stored settings every 5 s (a PUT on another
// instance) and runs the notifier, if any.
func refresher(set *notify.SettingsSource, log *slog.Logger, n *notify.Notifier) lifecycle.Service {
	var (
		stop chan struct{}
		wg   sync.WaitGroup
	)
	return lifecycle.Funcs{
		StartFunc: func(ctx context.Context) error {
			if err := set.Refresh(ctx); err != nil {
				log.Warn("notification settings: using the configured ones", "err", err)
			}
			stop = make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(5 * time.Second)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						if err := set.Refresh(context.Background()); err != nil {
							log.Warn("notification settings: refresh failed", "err", err)
						}
					}
				}
			}()
			if n != nil {
				return n.Start(context.Background())
			}
			return nil
		},
		StopFunc: func(ctx context.Context) error {
			close(stop)
			wg.Wait()
			if n != nil {
				return n.Stop(ctx)
			}
			return nil
		},
	}
}

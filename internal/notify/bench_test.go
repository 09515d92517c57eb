package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/events"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/notify"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/store/storetest"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/kaleyra"
)

// BenchmarkNotificationsSent measures notifications sent per second to the
// local Kaleyra (SQLite, 8 sends in flight): claim, window check, render,
// POST, fenced finish.
func BenchmarkNotificationsSent(b *testing.B) {
	ctx := context.Background()
	st := openSQLiteB(b)
	sb, err := sandbox.New(sandbox.Config{SID: sid, APIKey: apiKey, Sender: sender})
	if err != nil {
		b.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Close() })
	cl, err := kaleyra.New(kaleyra.Config{BaseURL: sb.URL(), SID: sid, APIKey: apiKey, Sender: sender})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	ints := &notify.Intents{Settings: notify.NewSettingsSource(notify.FromStatuses([]string{"pending"}), nil)}
	var ins []*store.Inbound
	for i := range b.N {
		ins = append(ins, storetest.NewOrderInbound(storetest.NewOrder(fmt.Sprintf("wamid.B%07d", i), now)))
	}
	for i := 0; i < len(ins); i += 500 {
		res, err := st.WriteInbound(ctx, ins[i:min(i+500, len(ins))])
		if err != nil {
			b.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx store.Tx) error {
			_, err := ints.InboundHook(nil, nil)(ctx, tx, ins[i:min(i+500, len(ins))], res)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	n := notify.New(notify.Config{Store: st, Senders: []notify.Sender{{Client: cl}}, Settings: ints.Settings, Concurrency: 8})
	b.ResetTimer()
	start := time.Now()
	sent := 0
	for sent < b.N {
		k, err := n.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if k == 0 {
			b.Fatalf("nothing due after %d of %d", sent, b.N)
		}
		sent += k
	}
	b.StopTimer()
	if got := n.Stats.Accepted.Load(); got != int64(b.N) {
		b.Fatalf("accepted %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
}

func openSQLiteB(b *testing.B) store.Store { return openSQLiteTB(b) }

// BenchmarkIntakeNotify compares intake with notifications off and on: each
// order callback stored, with on also its intent (and the status join
// running over the batch), through 16 concurrent posters.
func BenchmarkIntakeNotify(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			st := openSQLiteTB(b)
			cfg := intake.Config{}
			if on {
				ints := &notify.Intents{Settings: notify.NewSettingsSource(notify.FromStatuses([]string{"pending"}), nil)}
				cfg.Outbound = &intake.OutboundHook{Store: st, Apply: ints.InboundHook(&events.Builder{}, nil)}
			}
			in := intake.New(st, cfg)
			in.Start()
			b.Cleanup(func() { _ = in.Stop(context.Background()) })
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = testkit.Kaleyra(testkit.Order(fmt.Sprintf("wamid.I%07d", i)).At(time.Now())).Bytes()
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			next := make(chan int)
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						if _, err := in.Process(context.Background(), intake.Request{ID: events.Default.New(), Endpoint: "kaleyra", Body: bodies[i]}); err != nil {
							b.Error(err)
						}
					}
				}()
			}
			for i := range b.N {
				next <- i
			}
			close(next)
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "orders/s")
		})
	}
}

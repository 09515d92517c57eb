package testkit

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSURLEnv names the environment variable with the URL of the NATS
// server (JetStream on) tests use; DefaultNATSURL is used when it is unset.
const (
	NATSURLEnv     = "WAORDERS_TEST_NATS_URL"
	DefaultNATSURL = "nats://127.0.0.1:4222"
)

// NATSURL returns the URL of the NATS test server: the NATSURLEnv
// variable, or DefaultNATSURL. When no server with JetStream answers there
// it skips the test with a message saying what to do, unless the CI
// variable is set: CI must run these tests, so there it fails. Tests must
// use streams and subjects of their own (unique names), never WAORDERS.
func NATSURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(NATSURLEnv)
	if u == "" {
		u = DefaultNATSURL
	}
	p, _ := probes.LoadOrStore("nats "+u, &probe{})
	pr := p.(*probe)
	pr.once.Do(func() {
		nc, err := nats.Connect(u, nats.Timeout(3*time.Second), nats.MaxReconnects(0))
		if err != nil {
			pr.err = err
			return
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			pr.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if _, err := js.AccountInfo(ctx); err != nil {
			pr.err = fmt.Errorf("JetStream: %w", err)
		}
	})
	if pr.err != nil {
		msg := fmt.Sprintf("no NATS server with JetStream answers at %s (%v); set %s, or start the local one with: "+
			"start-stop-daemon --start --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server",
			u, pr.err, NATSURLEnv)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return u
}

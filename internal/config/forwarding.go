package config

import (
	"flag"
	"fmt"
	"time"
)

// Forwarding holds serve's settings of the event log and the relay
// (issue 14), embedded in Serve.
type Forwarding struct {
	WebhookTimeout        time.Duration
	WebhookConcurrency    int
	WebhookRate           float64
	RelayBusyShare        float64
	WebhookAllowPrivate   bool
	WebhookAllowHTTPHosts List
	EventRetention        time.Duration
	NATSURL               string
	NATSStream            string
	NATSSubjectPrefix     string
	NoRelay               bool
}

// Flags registers the forwarding flags.
func (c *Forwarding) Flags(fs *flag.FlagSet) {
	fs.DurationVar(&c.WebhookTimeout, "webhook-timeout", 15*time.Second, "time allowed for one webhook delivery attempt")
	fs.IntVar(&c.WebhookConcurrency, "webhook-concurrency", 8, "deliveries in flight per webhook endpoint (different orders; one order's events go one at a time)")
	fs.Float64Var(&c.WebhookRate, "webhook-rate", 0, "most delivery attempts per second per endpoint (0: no limit)")
	fs.Float64Var(&c.RelayBusyShare, "relay-busy-share", 0.05, "while the intake is saturated (group commits of 16 callbacks or more), each endpoint may claim only this `share` of the callbacks committed; the rest waits, durable, until the load falls (1: no limit)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", false, "allow webhook URLs that resolve to private, loopback or link-local addresses (checked at connect time)")
	fs.Var(&c.WebhookAllowHTTPHosts, "webhook-allow-http-hosts", "comma-separated `hosts` whose webhook URLs may be plain http (all others must be https)")
	fs.DurationVar(&c.EventRetention, "event-retention", 30*24*time.Hour, "keep delivered events this long (undelivered and dead ones are never pruned); negative: keep all")
	fs.StringVar(&c.NATSURL, "nats-url", "", "publish every event to NATS JetStream at this `url` (comma-separated for a cluster); off when empty")
	fs.StringVar(&c.NATSStream, "nats-stream", "WAORDERS", "the JetStream `stream` events go to: created when missing, never changed when present")
	fs.StringVar(&c.NATSSubjectPrefix, "nats-subject-prefix", "waorders", "first `token` of every subject: <prefix>.<event type>.<phone_number_id>; the stream must cover <prefix>.>")
	fs.BoolVar(&c.NoRelay, "no-relay", false, "do not deliver events from this instance (another instance's relay does); events are still logged")
}

// Validate checks the forwarding flags.
func (c *Forwarding) Validate() []error {
	var errs []error
	if c.WebhookTimeout < time.Second || c.WebhookTimeout > 60*time.Second {
		errs = append(errs, fmt.Errorf("--webhook-timeout %s: use 1s to 60s", c.WebhookTimeout))
	}
	if c.WebhookConcurrency < 1 || c.WebhookConcurrency > 256 {
		errs = append(errs, fmt.Errorf("--webhook-concurrency %d: use 1 to 256", c.WebhookConcurrency))
	}
	if c.WebhookRate < 0 {
		errs = append(errs, fmt.Errorf("--webhook-rate %g: use 0 (no limit) or more", c.WebhookRate))
	}
	if c.RelayBusyShare < 0.01 || c.RelayBusyShare > 1 {
		errs = append(errs, fmt.Errorf("--relay-busy-share %g: use 0.01 to 1 (1: forwarding is not slowed while the intake is saturated)", c.RelayBusyShare))
	}
	if c.NATSURL != "" && (c.NATSStream == "" || c.NATSSubjectPrefix == "") {
		errs = append(errs, fmt.Errorf("--nats-stream and --nats-subject-prefix may not be empty with --nats-url"))
	}
	return errs
}

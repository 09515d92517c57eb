package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"

	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/loadgen"
	"github.com/waorders/waorders/internal/simulate"
)

const sendSynopsis = `Usage: waorders send [options]
       waorders send --example KIND

Sends realistic Kaleyra V2 callbacks (orders with 1..N items in currencies
with 0, 2 and 3 decimals, campaign refs, texts, media, replies, reactions,
statuses in and out of order, ...) or Meta-native signed callbacks to a
waorders server: to try an integration before real traffic arrives, or to
measure how much a machine takes. Shows progress while it runs and ends
with a summary; Ctrl-C stops early and still prints it.

  waorders send --count 100                       # 100 callbacks to the local server
  waorders send --duration 30s --rate 500         # 500/s for 30 s
  waorders send --count 10000 --concurrency 64 --duplicates 0.1 --malformed 0.01
  waorders send --meta --meta-app-secret S        # Meta-native, signed
  waorders send --example order | curl -H 'Content-Type: application/json' \
      -H "X-Callback-Secret: $SECRET" --data-binary @- http://127.0.0.1:8080/v1/callbacks/kaleyra

By default it reads the callback secret from WAORDERS_CALLBACK_SECRET or,
for a local server, from data/credentials.env.`

func runSend(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "send", sendSynopsis, args)
	var (
		cfg          loadgen.Config
		example      = fs.String("example", "", "print one example body of `KIND` and exit ("+strings.Join(simulate.ExampleNames(), ", ")+")")
		secret       = fs.String("callback-secret", "", "callback `secret` to send in the secret header")
		secretHeader = fs.String("callback-secret-header", loadgen.DefaultSecretHeader, "`header` carrying the callback secret")
		basic        = fs.String("basic-auth", "", "send HTTP Basic `user:password` instead")
		bearer       = fs.String("bearer-token", "", "send Authorization: Bearer `token` instead")
		mix          = fs.String("mix", "", "share of each kind, e.g. `order=60,status=30,text=10` (default: a realistic mix)")
		seed         = fs.Uint64("seed", 0, "seed for repeatable runs (0: random)")
		ackFile      = fs.String("ack-file", "", "write the ids of acknowledged messages to this `file`, one per line")
		asJSON       = fs.Bool("json", false, "print the summary as JSON")
		dataDir      = fs.String("data-dir", "data", "`directory` of a local server's generated credentials.env")
		quiet        = fs.Bool("quiet", false, "no progress lines")
	)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "server base `URL` or full callback URL")
	fs.BoolVar(&cfg.Meta, "meta", false, "send Meta-native bodies to /v1/callbacks/meta")
	fs.StringVar(&cfg.AppSecret, "meta-app-secret", "", "Meta app `secret` signing X-Hub-Signature-256")
	fs.Int64Var(&cfg.Count, "count", 0, "callbacks to send (0 with no --duration: 10)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "send for this long")
	fs.Float64Var(&cfg.Rate, "rate", 0, "callbacks per second (0: as fast as the server answers)")
	fs.IntVar(&cfg.Concurrency, "concurrency", loadgen.DefaultConcurrency, "requests in flight at most")
	fs.Float64Var(&cfg.DuplicateShare, "duplicates", 0, "share 0..1 of deliveries that resend an earlier body")
	fs.Float64Var(&cfg.MalformedShare, "malformed", 0, "share 0..1 of bodies that are malformed")
	fs.IntVar(&cfg.BatchSize, "batch", 1, "messages per callback")
	fs.IntVar(&cfg.MaxItems, "max-items", 5, "most items per order")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "timeout of one request")
	if err := parseClientArgs(fs, args, env); err != nil {
		return err
	}
	if *example != "" {
		b, err := simulate.Example(*example)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		_, err = env.Stdout.Write(b)
		return err
	}
	if cfg.Count == 0 && cfg.Duration == 0 {
		cfg.Count = 10
	}
	m, err := simulate.ParseMix(*mix)
	if err != nil {
		return fmt.Errorf("%w: --mix: %v", ErrUsage, err)
	}
	cfg.Mix = m
	cfg.Seed = *seed
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	cfg.Auth = loadgen.Auth{SecretHeader: *secretHeader, Secret: *secret, BearerToken: *bearer}
	if *basic != "" {
		u, p, ok := strings.Cut(*basic, ":")
		if !ok {
			return fmt.Errorf("%w: --basic-auth must be user:password", ErrUsage)
		}
		cfg.Auth.Username, cfg.Auth.Password = u, p
	}
	if cfg.Meta && cfg.AppSecret == "" {
		cfg.AppSecret = env.Getenv(config.EnvName("meta-app-secret"))
	}
	if !cfg.Meta && cfg.Auth.Secret == "" && cfg.Auth.Username == "" && cfg.Auth.BearerToken == "" {
		if vals, err := readCredentials(filepath.Join(*dataDir, credentialsFile)); err == nil {
			cfg.Auth.Secret = vals["WAORDERS_CALLBACK_SECRET"]
		}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if *ackFile != "" {
		f, err := os.Create(*ackFile)
		if err != nil {
			return fmt.Errorf("ack file: %w", err)
		}
		w := bufio.NewWriter(f)
		defer func() { _ = w.Flush(); _ = f.Close() }()
		cfg.AckFile = w
	}
	var progress io.Writer = env.Stderr
	if *quiet {
		progress = nil
	}
	fmt.Fprintf(env.Stderr, "sending to %s (seed %d)\n", cfg.URL, cfg.Seed)
	sum, err := loadgen.Run(ctx, cfg, progress)
	if err != nil && sum == nil {
		return err
	}
	if *asJSON {
		if jerr := json.NewEncoder(env.Stdout).Encode(sum); jerr != nil {
			return jerr
		}
	} else if perr := sum.Print(env.Stdout); perr != nil {
		return perr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if sum.Acknowledged == 0 && sum.Sent > 0 && sum.Malformed < sum.Sent {
		return fmt.Errorf("no callback was acknowledged: check --url and the credentials (status codes above)")
	}
	return nil
}

package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/loadgen"
	"github.com/waorders/waorders/internal/simulate"
)

const sendSynopsis = `Usage: waorders send [options]
       waorders send --example KIND [--print]

Sends realistic Kaleyra V2 callbacks (orders with 1..N items in currencies
with 0, 2 and 3 decimals, campaign refs, texts, media, replies, reactions,
statuses in and out of order, ...) or Meta-native signed callbacks to a
waorders server: to try an integration before real traffic arrives, or to
measure how much a machine takes. Shows progress while it runs and ends
with a summary; Ctrl-C stops early and still prints it. --quiet prints
nothing but errors; the exit status says whether callbacks were
acknowledged.

--example KIND posts one example callback of that kind to the server and
prints the server's answer, so "waorders send --example order" creates an
order you then see with "waorders orders list". --print only prints the
example body, to read it or to post it with another tool.

  waorders send --count 100                       # 100 callbacks to the local server
  waorders send --duration 30s --rate 500         # 500/s for 30 s
  waorders send --count 10000 --concurrency 64 --duplicates 0.1 --malformed 0.01
  waorders send --meta --meta-app-secret S        # Meta-native, signed
  waorders send --example order                   # post one example order
  waorders send --example order --print | curl -H 'Content-Type: application/json' \
      -H "X-Callback-Secret: $SECRET" --data-binary @- http://127.0.0.1:8080/v1/callbacks/kaleyra

The server is the one of --url; without it, the local server (its addr
from WAORDERS_ADDR or the config file, else 127.0.0.1:8080). The callback
secret comes from --callback-secret, WAORDERS_CALLBACK_SECRET,
WAORDERS_CALLBACK_SECRET_FILE or the config file, else from the
credentials.env a local server generated.`

// sendSettings are the options of send also read from the environment and
// the config file (the server's own settings, where they are shared).
var sendSettings = []string{"url", "data-dir", "callback-secret", "callback-secret-header", "meta-app-secret"}

func runSend(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "send", sendSynopsis, args)
	var (
		cfg          loadgen.Config
		client       config.Client
		example      = fs.String("example", "", "post one example callback of `KIND` and print the answer ("+strings.Join(simulate.ExampleNames(), ", ")+")")
		printOnly    = fs.Bool("print", false, "with --example: print the example body instead of posting it")
		secret       = fs.String("callback-secret", "", "callback `secret` to send in the secret header (the first, if a comma-separated list)")
		secretHeader = fs.String("callback-secret-header", loadgen.DefaultSecretHeader, "`header` carrying the callback secret")
		basic        = fs.String("basic-auth", "", "send HTTP Basic `user:password` instead")
		bearer       = fs.String("bearer-token", "", "send Authorization: Bearer `token` instead")
		appSecret    = fs.String("meta-app-secret", "", "Meta app `secret` signing X-Hub-Signature-256 (the first, if a comma-separated list)")
		mix          = fs.String("mix", "", "share of each kind, e.g. `order=60,status=30,text=10` (default: a realistic mix)")
		seed         = fs.Uint64("seed", 0, "seed for repeatable runs (0: random)")
		ackFile      = fs.String("ack-file", "", "write the ids of acknowledged messages to this `file`, one per line")
		asJSON       = fs.Bool("json", false, "print the summary (or the example's answer) as JSON")
		dataDir      string
		quiet        = fs.Bool("quiet", false, "print nothing but errors (with --json, only the JSON)")
	)
	fs.String("config", "", "read settings from this `file` of name = value lines, the same file serve reads")
	client.URLFlag(fs, &cfg.URL)
	client.DataDirFlag(fs, &dataDir)
	fs.BoolVar(&cfg.Meta, "meta", false, "send Meta-native bodies to /v1/callbacks/meta")
	fs.Int64Var(&cfg.Count, "count", 0, "callbacks to send (0 with no --duration: 10)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "send for this long")
	fs.Float64Var(&cfg.Rate, "rate", 0, "callbacks per second (0: as fast as the server answers)")
	fs.IntVar(&cfg.Concurrency, "concurrency", loadgen.DefaultConcurrency, "requests in flight at most")
	fs.Float64Var(&cfg.DuplicateShare, "duplicates", 0, "share 0..1 of deliveries that resend an earlier body")
	fs.Float64Var(&cfg.MalformedShare, "malformed", 0, "share 0..1 of bodies that are malformed")
	fs.IntVar(&cfg.BatchSize, "batch", 1, "messages per callback")
	fs.IntVar(&cfg.MaxItems, "max-items", 5, "most items per order")
	fs.DurationVar(&cfg.Timeout, "timeout", loadgen.DefaultTimeout, "timeout of one request")
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: send takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
	}
	var body []byte
	if *example != "" {
		b, err := simulate.Example(*example)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if *printOnly {
			_, err = env.Stdout.Write(b)
			return err
		}
		// Posted, the example happens now: its printed form keeps a fixed
		// date (reproducible), but a message from 2026-01-01 would arrive
		// with the 24-hour customer-service window long closed.
		body = stampNow(b, time.Now())
		cfg.Meta = cfg.Meta || strings.HasPrefix(*example, "meta-")
	} else if *printOnly {
		return fmt.Errorf("%w: --print goes with --example KIND", ErrUsage)
	}
	src, err := config.ResolveParsed(fs, sendSettings, env.Getenv, []string{"callback-secret", "meta-app-secret"})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if cfg.URL, _, err = config.ServerURL(src, cfg.URL); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
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
	cfg.AppSecret = first(*appSecret)
	cfg.Auth = loadgen.Auth{SecretHeader: *secretHeader, Secret: first(*secret), BearerToken: *bearer}
	if *basic != "" {
		u, p, ok := strings.Cut(*basic, ":")
		if !ok {
			return fmt.Errorf("%w: --basic-auth must be user:password", ErrUsage)
		}
		cfg.Auth.Username, cfg.Auth.Password = u, p
	}
	if !cfg.Meta && cfg.Auth.Secret == "" && cfg.Auth.Username == "" && cfg.Auth.BearerToken == "" {
		dir := config.DataDir(src, dataDir)
		if vals, err := readCredentials(filepath.Join(dir, credentialsFile)); err == nil {
			cfg.Auth.Secret = vals["WAORDERS_CALLBACK_SECRET"]
		}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if body != nil {
		return sendExample(ctx, env, cfg, *example, body, *quiet, *asJSON)
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
	} else {
		fmt.Fprintf(env.Stderr, "sending to %s (seed %d)\n", cfg.URL, cfg.Seed)
	}
	sum, err := loadgen.Run(ctx, cfg, progress)
	if err != nil && sum == nil {
		return err
	}
	switch {
	case *asJSON:
		if jerr := json.NewEncoder(env.Stdout).Encode(sum); jerr != nil {
			return jerr
		}
	case !*quiet:
		if perr := sum.Print(env.Stdout); perr != nil {
			return perr
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if sum.Acknowledged == 0 && sum.Sent > 0 && sum.Malformed < sum.Sent {
		return fmt.Errorf("no callback was acknowledged (%s): check --url and the callback credentials", outcomes(sum))
	}
	return nil
}

// sendExample posts one example body and prints the server's answer.
func sendExample(ctx context.Context, env Env, cfg loadgen.Config, name string, body []byte, quiet, asJSON bool) error {
	target, _ := loadgen.CallbackURL(cfg.URL, cfg.Meta) // validated
	status, answer, err := loadgen.Post(ctx, cfg, body)
	if err != nil {
		return fmt.Errorf("send example %s: %w (is a waorders server running there? set --url or WAORDERS_URL)", name, err)
	}
	if !quiet || asJSON {
		if !asJSON {
			fmt.Fprintf(env.Stderr, "posted example %s to %s: %d %s\n", name, target, status, http.StatusText(status))
		}
		if json.Valid(answer) {
			_, _ = env.Stdout.Write(answer)
			if !bytes.HasSuffix(answer, []byte("\n")) {
				fmt.Fprintln(env.Stdout)
			}
		}
	}
	defect := slices.Contains(simulate.Defects(), simulate.Defect(name))
	switch {
	case status/100 == 2:
		return nil
	case defect && status/100 == 4:
		return nil // a malformed example is meant to be refused (and quarantined)
	case status == http.StatusUnauthorized:
		return fmt.Errorf("the server refused the example: %d %s; check the callback credentials (--callback-secret, WAORDERS_CALLBACK_SECRET, the config file or credentials.env)", status, clean(string(answer), 300))
	}
	return fmt.Errorf("the server refused the example: %d %s", status, clean(string(answer), 300))
}

// first returns the first of a comma-separated list of secrets (the server
// accepts several, for rotation; a sender uses one).
func first(list string) string {
	var l config.List
	_ = l.Set(list)
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

// outcomes sums up a run's answers for an error message: status codes and
// transport errors, since --quiet prints no summary.
func outcomes(s *loadgen.Summary) string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(s.StatusCodes)) {
		parts = append(parts, fmt.Sprintf("%d×%d", s.StatusCodes[c], c))
	}
	for _, m := range slices.Sorted(maps.Keys(s.Errors)) {
		parts = append(parts, fmt.Sprintf("%d× %s", s.Errors[m], m))
	}
	if len(parts) == 0 {
		return "no answers"
	}
	return "answers: " + strings.Join(parts, ", ")
}

// exampleTimestamp matches the message and status timestamps of an example
// body: unix seconds as a JSON string, as the providers send them.
var exampleTimestamp = regexp.MustCompile(`"timestamp": *"[0-9]+"`)

// stampNow gives every timestamp of body the time now.
func stampNow(body []byte, now time.Time) []byte {
	return exampleTimestamp.ReplaceAll(body, []byte(fmt.Sprintf(`"timestamp": "%d"`, now.Unix())))
}

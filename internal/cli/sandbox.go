package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/config"
	sandbox "github.com/waorders/waorders/internal/sandbox/kaleyra"
)

const sandboxSynopsis = `Usage: waorders sandbox kaleyra [options]

Runs a local Kaleyra: the WhatsApp V2 send endpoint
(POST /v2/{sid}/whatsapp/{sender}/messages), checking every request
against Kaleyra's documented schema and answering with its codes, and for
every accepted message the status callbacks sent, delivered and read (with
the send's extra_info refs echoed), posted to --callback-url with the
callback secret, the way Kaleyra does. No Kaleyra account needed.

  waorders serve &                       # the server, generating its secret
  waorders sandbox kaleyra               # the sandbox, posting back to it

The callback secret comes from --callback-secret, WAORDERS_CALLBACK_SECRET,
WAORDERS_CALLBACK_SECRET_FILE or the config file, else from the
credentials.env a local server generated (--data-dir). The sandbox prints
the settings that point serve at it.`

var sandboxSettings = []string{"data-dir", "callback-secret", "callback-secret-header"}

func runSandbox(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		for _, a := range args {
			if a == "-h" || a == "-help" || a == "--help" {
				fmt.Fprintln(env.Stdout, sandboxSynopsis)
				return nil
			}
		}
		return fmt.Errorf("%w: sandbox needs a provider: waorders sandbox kaleyra", ErrUsage)
	}
	if args[0] != "kaleyra" {
		return fmt.Errorf("%w: unknown sandbox %q (there is kaleyra)", ErrUsage, args[0])
	}
	args = args[1:]
	fs := newFlagSet(env, "sandbox kaleyra", sandboxSynopsis, args)
	var (
		client       config.Client
		dataDir      string
		addr         = fs.String("addr", "127.0.0.1:8090", "`address` to listen on")
		callbackURL  = fs.String("callback-url", "http://127.0.0.1:8080/v1/callbacks/kaleyra", "`URL` the status callbacks are posted to (empty: none)")
		secret       = fs.String("callback-secret", "", "callback `secret` sent in the secret header (the first, if a comma-separated list)")
		secretHeader = fs.String("callback-secret-header", "X-Callback-Secret", "`header` carrying the callback secret")
		basic        = fs.String("basic-auth", "", "send HTTP Basic `user:password` instead")
		sid          = fs.String("sid", "HXSANDBOX0000001IN", "the account `SID` the sandbox accepts")
		apiKey       = fs.String("api-key", "sandbox-api-key", "the API `key` the sandbox accepts")
		sender       = fs.String("sender", "+919800000001", "the business `number` the sandbox accepts")
		phoneID      = fs.String("phone-number-id", "100000000000001", "phone_number_id in the callbacks' metadata")
		statuses     = fs.String("statuses", "sent,delivered,read", "`list` of statuses posted for each message, in order")
		delay        = fs.Duration("status-delay", time.Second, "time before each status callback")
		quiet        = fs.Bool("quiet", false, "log nothing but errors")
	)
	fs.String("config", "", "read settings from this `file` of name = value lines, the same file serve reads")
	client.DataDirFlag(fs, &dataDir)
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: sandbox kaleyra takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
	}
	src, err := config.ResolveParsed(fs, sandboxSettings, env.Getenv, []string{"callback-secret"})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	auth := sandbox.CallbackAuth{Header: *secretHeader, Secret: first(*secret)}
	if *basic != "" {
		u, p, ok := strings.Cut(*basic, ":")
		if !ok {
			return fmt.Errorf("%w: --basic-auth must be user:password", ErrUsage)
		}
		auth = sandbox.CallbackAuth{Username: u, Password: p}
	}
	if auth.Username == "" && auth.Secret == "" && *callbackURL != "" {
		dir := config.DataDir(src, dataDir)
		if vals, err := readCredentials(filepath.Join(dir, credentialsFile)); err == nil {
			auth.Secret = vals["WAORDERS_CALLBACK_SECRET"]
		}
		if auth.Secret == "" {
			fmt.Fprintf(env.Stderr, "warning: no callback secret (--callback-secret, WAORDERS_CALLBACK_SECRET or %s): callbacks go unauthenticated\n",
				filepath.Join(dir, credentialsFile))
		}
	}
	level := slog.LevelInfo
	if *quiet {
		level = slog.LevelError
	}
	var sts []string
	for _, s := range strings.Split(*statuses, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sts = append(sts, s)
		}
	}
	sb, err := sandbox.New(sandbox.Config{
		SID: *sid, APIKey: *apiKey, Sender: *sender, PhoneNumberID: *phoneID,
		CallbackURL: *callbackURL, CallbackAuth: auth, Statuses: sts, StatusDelay: *delay,
		Logger: slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if err := sb.Start(*addr); err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(env.Stdout, `Kaleyra sandbox listening on %s
  send endpoint: POST %s/v2/%s/whatsapp/%s/messages (api-key header)
  status callbacks (%s) to: %s

Point waorders serve at it with:
  WAORDERS_KALEYRA_BASE_URL=%s
  WAORDERS_KALEYRA_SID=%s
  WAORDERS_KALEYRA_API_KEY=%s
  WAORDERS_KALEYRA_SENDER=%s
`, sb.URL(), sb.URL(), *sid, *sender, strings.Join(sts, ", "), orNone(*callbackURL), sb.URL(), *sid, *apiKey, *sender)
	<-ctx.Done()
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

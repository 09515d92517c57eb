package cli

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/wire"
)

const webhooksSynopsis = `Usage: waorders webhooks add [options] URL [--description TEXT] [--event-types T1,T2]
       waorders webhooks list [options]
       waorders webhooks show [options] ID [--attempts N]
       waorders webhooks test [options] ID
       waorders webhooks disable [options] ID
       waorders webhooks enable [options] ID
       waorders webhooks replay [options] ID (--status dead | --since TIME [--until TIME])

The webhook endpoints of a running waorders server, over its /v1 API. Each
endpoint gets every event of its types (all types when none are given),
signed by the Standard Webhooks scheme with the endpoint's secret.

  add      create an endpoint; prints its secret ONCE (store it: the
           receiver verifies webhook-signature with it; GET shows only a
           prefix afterwards)
  list     every endpoint, enabled or not, and why one is disabled
  show     one endpoint and its latest delivery attempts
  test     send it one signed webhook.test event now and show the answer
  disable  stop delivering to it (events keep being logged for it)
  enable   deliver to it again (what waited is sent; dead events need replay)
  replay   send again the endpoint's dead deliveries (--status dead), or
           every event of a time range (--since, --until: RFC 3339 or
           YYYY-MM-DD; events it never had are delivered too)

Event types: order.created, order.status_changed, message.received,
message.status, quarantine.added.

--json prints the API's answer for scripts.

Examples:
  waorders webhooks add https://shop.example/hooks/waorders --event-types order.created,order.status_changed
  waorders webhooks test wh_01JH...
  waorders webhooks replay wh_01JH... --status dead
  waorders webhooks replay wh_01JH... --since 2026-01-01 --until 2026-01-02`

func runWebhooks(ctx context.Context, env Env, args []string) error {
	subs := map[string]func(context.Context, Env, []string) error{
		"add": webhooksAdd, "list": webhooksList, "show": webhooksShow, "test": webhooksTest,
		"disable": func(ctx context.Context, env Env, args []string) error { return webhooksEnable(ctx, env, args, false) },
		"enable":  func(ctx context.Context, env Env, args []string) error { return webhooksEnable(ctx, env, args, true) },
		"replay":  webhooksReplay,
	}
	if len(args) > 0 {
		if run, ok := subs[args[0]]; ok {
			return run(ctx, env, args[1:])
		}
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
			fmt.Fprintln(env.Stdout, webhooksSynopsis)
			return nil
		}
	}
	fmt.Fprintln(env.Stderr, webhooksSynopsis)
	return fmt.Errorf("%w: webhooks needs add, list, show, test, disable, enable or replay", ErrUsage)
}

func webhookArg(sub string, args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", fmt.Errorf("%w: webhooks %s needs one endpoint id (wh_…; see waorders webhooks list)", ErrUsage, sub)
	}
	return args[0], nil
}

func webhookPath(id string, rest ...string) string {
	return "/v1/webhooks/" + url.PathEscape(id) + strings.Join(rest, "")
}

// sendJSON sends a request and prints the answer (--json) or decodes it.
func sendJSON(ctx context.Context, env Env, c *apiClient, asJSON bool, method, path string, q url.Values, body, out any) (bool, error) {
	if asJSON {
		return true, copyJSON(ctx, c, env.Stdout, method, path, q, body, nil)
	}
	_, err := c.getJSON(ctx, method, path, q, body, out, nil)
	return false, err
}

func webhooksAdd(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "webhooks add", webhooksSynopsis, args)
	var cf clientFlags
	desc := fs.String("description", "", "what the endpoint is for (up to 500 characters)")
	types := fs.String("event-types", "", "comma-separated event `types` it receives (default: all)")
	disabled := fs.Bool("disabled", false, "create it disabled (enable it when the receiver is ready)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer (with the secret) for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if len(fs.Args()) != 1 || fs.Arg(0) == "" {
		return fmt.Errorf("%w: webhooks add needs the endpoint URL, e.g. https://shop.example/hooks/waorders", ErrUsage)
	}
	body := map[string]any{"url": fs.Arg(0), "enabled": !*disabled}
	if *desc != "" {
		body["description"] = *desc
	}
	if *types != "" {
		var ts []string
		for _, t := range strings.Split(*types, ",") {
			if t = strings.TrimSpace(t); t != "" {
				ts = append(ts, t)
			}
		}
		body["event_types"] = ts
	}
	var w wire.Webhook
	if done, err := sendJSON(ctx, env, c, *asJSON, http.MethodPost, "/v1/webhooks", nil, body, &w); done || err != nil {
		return err
	}
	if err := webhookFields(env, c, &w); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "\nSecret: %s\n", w.Secret)
	fmt.Fprintln(env.Stdout, "Store this secret now, where the receiver reads it: it is shown only once. The receiver")
	fmt.Fprintln(env.Stdout, "verifies webhook-signature with it (see the README, \"Receiving webhooks\").")
	fmt.Fprintf(env.Stdout, "Try it: waorders webhooks test %s\n", w.ID)
	return nil
}

func webhookFields(env Env, c *apiClient, w *wire.Webhook) error {
	types := "all"
	if len(w.EventTypes) > 0 {
		types = strings.Join(w.EventTypes, ", ")
	}
	state := "enabled"
	if !w.Enabled {
		state = "disabled"
		if w.DisabledReason != "" {
			state += " (" + w.DisabledReason + ")"
		}
	}
	f := [][2]string{{"ID", w.ID}, {"URL", w.URL}, {"Description", w.Description}, {"Event types", types}, {"State", state}}
	if w.FailingSince != nil {
		f = append(f, [2]string{"Failing since", c.shortTime(*w.FailingSince) + " " + c.zone()})
	}
	f = append(f, [2]string{"Secrets", strings.Join(w.Secrets, " ")}, [2]string{"Created", c.shortTime(w.CreatedAt) + " " + c.zone()})
	return fields(env.Stdout, f)
}

func webhooksList(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "webhooks list", webhooksSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if len(fs.Args()) != 0 {
		return fmt.Errorf("%w: webhooks list takes no arguments", ErrUsage)
	}
	var l wire.WebhookList
	if done, err := sendJSON(ctx, env, c, *asJSON, http.MethodGet, "/v1/webhooks", nil, nil, &l); done || err != nil {
		return err
	}
	if len(l.Webhooks) == 0 {
		fmt.Fprintln(env.Stdout, "(no webhooks; add one with: waorders webhooks add URL)")
		return nil
	}
	t := newTable("ID", "STATE", "EVENT TYPES", "URL")
	for _, w := range l.Webhooks {
		state := "enabled"
		if !w.Enabled {
			state = "disabled"
			if w.DisabledReason != "" {
				state += " (" + w.DisabledReason + ")"
			}
		} else if w.FailingSince != nil {
			state = "failing since " + c.shortTime(*w.FailingSince)
		}
		types := "all"
		if len(w.EventTypes) > 0 {
			types = strings.Join(w.EventTypes, ",")
		}
		t.row(w.ID, state, types, clean(w.URL, 100))
	}
	return t.write(env.Stdout)
}

func webhooksShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "webhooks show", webhooksSynopsis, args)
	var cf clientFlags
	n := fs.Int("attempts", 10, "latest delivery attempts to show (0: none)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer (the endpoint only) for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := webhookArg("show", fs.Args())
	if err != nil {
		return err
	}
	var w wire.Webhook
	if done, err := sendJSON(ctx, env, c, *asJSON, http.MethodGet, webhookPath(id), nil, nil, &w); done || err != nil {
		return err
	}
	if err := webhookFields(env, c, &w); err != nil {
		return err
	}
	if *n <= 0 {
		return nil
	}
	var al wire.AttemptList
	if _, err := c.getJSON(ctx, http.MethodGet, webhookPath(id, "/attempts"), url.Values{"limit": {strconv.Itoa(*n)}}, nil, &al, nil); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout)
	if len(al.Attempts) == 0 {
		fmt.Fprintln(env.Stdout, "(no delivery attempts yet)")
		return nil
	}
	return attemptTable(env, c, al.Attempts)
}

func attemptTable(env Env, c *apiClient, as []wire.Attempt) error {
	t := newTable("AT", "EVENT", "ATTEMPT", "RESULT", "STATUS", "MS", "ERROR").alignRight(2, 4, 5)
	for _, a := range as {
		status := "-"
		if a.Status != 0 {
			status = strconv.Itoa(a.Status)
		}
		res := a.Result
		if a.Manual {
			res += " (manual)"
		}
		t.row(c.shortTime(a.At), a.EventID, strconv.Itoa(a.Attempt), res, status, strconv.FormatFloat(a.LatencyMS, 'f', 1, 64), clean(a.Error, 80))
	}
	return t.write(env.Stdout)
}

func webhooksTest(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "webhooks test", webhooksSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := webhookArg("test", fs.Args())
	if err != nil {
		return err
	}
	var a wire.Attempt
	if done, err := sendJSON(ctx, env, c, *asJSON, http.MethodPost, webhookPath(id, "/test"), nil, nil, &a); done || err != nil {
		return err
	}
	if err := attemptTable(env, c, []wire.Attempt{a}); err != nil {
		return err
	}
	if a.Result != "delivered" {
		return fmt.Errorf("the endpoint did not accept the test event (%s)", orDash(a.Error))
	}
	return nil
}

func webhooksEnable(ctx context.Context, env Env, args []string, on bool) error {
	sub := "disable"
	if on {
		sub = "enable"
	}
	fs := newFlagSet(env, "webhooks "+sub, webhooksSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := webhookArg(sub, fs.Args())
	if err != nil {
		return err
	}
	var w wire.Webhook
	if done, err := sendJSON(ctx, env, c, *asJSON, http.MethodPatch, webhookPath(id), nil, map[string]any{"enabled": on}, &w); done || err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s %sd\n", w.ID, sub)
	if on {
		fmt.Fprintf(env.Stdout, "events that wait for it go out now; dead ones need: waorders webhooks replay %s --status dead\n", w.ID)
	}
	return nil
}

// timeFlag is a time given as RFC 3339 or YYYY-MM-DD (midnight UTC).
type timeFlag struct{ t *time.Time }

func (f *timeFlag) String() string {
	if f.t == nil {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = &t
			return nil
		}
	}
	return fmt.Errorf("%q is not a time: use RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)", s)
}

var _ flag.Value = (*timeFlag)(nil)

func webhooksReplay(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "webhooks replay", webhooksSynopsis, args)
	var (
		cf           clientFlags
		since, until timeFlag
	)
	fs.Var(&since, "since", "replay the events from this `time` (RFC 3339 or YYYY-MM-DD, UTC)")
	fs.Var(&until, "until", "and before this `time` (exclusive; default: now)")
	status := fs.String("status", "", `replay the endpoint's deliveries in this state: only "dead"`)
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := webhookArg("replay", fs.Args())
	if err != nil {
		return err
	}
	if *status != "" && *status != "dead" {
		return fmt.Errorf(`%w: --status may only be "dead"`, ErrUsage)
	}
	if *status == "" && since.t == nil {
		return fmt.Errorf("%w: webhooks replay needs --status dead, or a time range with --since (and --until)", ErrUsage)
	}
	body := map[string]any{}
	if *status != "" {
		body["status"] = *status
	}
	if since.t != nil {
		body["since"] = since.t.UTC()
	}
	if until.t != nil {
		body["until"] = until.t.UTC()
	}
	var r wire.Redelivered
	if done, err := sendJSON(ctx, env, c, *asJSON, http.MethodPost, webhookPath(id, "/replay"), nil, body, &r); done || err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d deliveries to %s queued again\n", r.Redelivered, id)
	return nil
}

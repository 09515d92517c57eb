package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"

	"github.com/waorders/waorders/internal/wire"
)

const notificationsSynopsis = `Usage: waorders notifications show [--json]
       waorders notifications set --file SETTINGS.json
       waorders notifications resume PHONE_NUMBER_ID

The order notifications of a running server with a Kaleyra number.

  show    per order status: on or off, the text sent inside the 24-hour
          window, the template sent outside it; the sending numbers (never
          their keys) and the numbers paused by Kaleyra's answer
  set     replace the settings with a JSON document shaped like
          {"statuses": {"shipped": {"enabled": true, "text": "{{.Short}} has
          shipped. {{.Note}}", "template": {"name": "order_shipped",
          "language": "en", "params": ["{{.Short}}"]}}}}
  resume  send again from a number paused for RBC001, E110, WAV2101 or
          WA401, once the cause is fixed

Examples:
  waorders notifications show
  waorders notifications set --file notifications.json
  waorders notifications resume 100000000000001`

func runNotifications(ctx context.Context, env Env, args []string) error {
	return runSubcommand(ctx, env, args, map[string]subcommand{
		"show": notificationsShow, "set": notificationsSet, "resume": notificationsResume,
	}, notificationsSynopsis, "notifications needs show, set or resume")
}

func notificationsShow(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "notifications show", notificationsSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, "/v1/notifications", nil, nil, nil)
	}
	var s wire.NotifySettings
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/notifications", nil, nil, &s, nil); err != nil {
		return err
	}
	return printNotifySettings(env, s)
}

func printNotifySettings(env Env, s wire.NotifySettings) error {
	t := newTable("STATUS", "ON", "TEXT", "TEMPLATE")
	for _, st := range slices.Sorted(maps.Keys(s.Statuses)) {
		v := s.Statuses[st]
		on := "no"
		if v.Enabled {
			on = "yes"
		}
		tpl := "-"
		if v.Template != nil {
			tpl = v.Template.Name + ":" + v.Template.Language
		}
		t.row(st, on, clean(v.DefaultText, 70), clean(tpl, 30))
	}
	if err := t.write(env.Stdout); err != nil {
		return err
	}
	for _, n := range s.Numbers {
		id := n.PhoneNumberID
		if id == "" {
			id = "(every number)"
		}
		fmt.Fprintf(env.Stdout, "number %s: sender %s, SID %s, %s, api key %s\n", clean(id, 30), clean(n.Sender, 20), clean(n.SID, 40), clean(n.BaseURL, 60), n.APIKey)
	}
	for _, p := range s.Paused {
		fmt.Fprintf(env.Stdout, "PAUSED %s since %s: %s (resume with: waorders notifications resume %s)\n",
			clean(p.PhoneNumberID, 30), p.PausedAt.Format("2006-01-02 15:04"), clean(p.Reason, 20), clean(p.PhoneNumberID, 30))
	}
	return nil
}

func notificationsSet(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "notifications set", notificationsSynopsis, args)
	var cf clientFlags
	file := fs.String("file", "", "the settings `file` (JSON; - reads standard input)")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if *file == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: notifications set needs --file", ErrUsage)
	}
	var raw []byte
	if *file == "-" {
		if raw, err = io.ReadAll(env.Stdin); err != nil {
			return err
		}
	} else if raw, err = os.ReadFile(*file); err != nil {
		return err
	}
	var req wire.NotifySettingsRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	var s wire.NotifySettings
	if _, err := c.getJSON(ctx, http.MethodPut, "/v1/notifications", nil, req, &s, nil); err != nil {
		return err
	}
	return printNotifySettings(env, s)
}

func notificationsResume(ctx context.Context, env Env, args []string) error {
	fs := newFlagSet(env, "notifications resume", notificationsSynopsis, args)
	var cf clientFlags
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	id, err := oneArg("notifications resume", "phone_number_id", fs.Args())
	if err != nil {
		return err
	}
	var s wire.NotifySettings
	if _, err := c.getJSON(ctx, http.MethodPost, "/v1/notifications/senders/"+url.PathEscape(id)+"/resume", nil, nil, &s, nil); err != nil {
		return err
	}
	return printNotifySettings(env, s)
}

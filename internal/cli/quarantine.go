package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/wire"
)

const quarantineSynopsis = `Usage: waorders quarantine list [options]
       waorders quarantine show [options] ID
       waorders quarantine retry [options] ID...

Callbacks and messages waorders could not use are kept in quarantine with
the reason. "list" shows them, newest first. "show" prints one entry: the
reason, the decoder's problems, the request headers (secrets redacted by
the server) and the body as text (control characters removed; --json has
it exactly). "retry" re-runs the server's current decoder on a kept body
(after an upgrade, say) and stores what is now usable; the entry is marked
resolved when all it held is stored.

Examples:
  waorders quarantine list --unresolved
  waorders quarantine show 7
  waorders quarantine retry 7 8`

func runQuarantine(ctx context.Context, env Env, args []string) error {
	subs := []string{"list", "show", "retry"}
	if len(args) == 0 || !slices.Contains(subs, args[0]) {
		return noSubcommand(env, args, quarantineSynopsis, "quarantine needs list, show or retry")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet(env, "quarantine "+sub, quarantineSynopsis, args)
	var cf clientFlags
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	var unresolved *bool
	var limit *int
	if sub == "list" {
		unresolved = fs.Bool("unresolved", false, "only entries not yet resolved")
		limit = fs.Int("limit", 50, "entries to show")
	}
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: quarantine list takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
		}
		return quarantineList(ctx, env, c, *limit, *unresolved, *asJSON)
	case "show":
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: quarantine show needs one quarantine id (see waorders quarantine list)", ErrUsage)
		}
		return quarantineShow(ctx, env, c, fs.Arg(0), *asJSON)
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: retry needs at least one quarantine id (see waorders quarantine list)", ErrUsage)
	}
	var errs []error
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Errorf("%q is not a quarantine id", a))
			continue
		}
		// Error and Result stay raw, so --json prints them as the server sent them.
		var errRaw, resRaw json.RawMessage
		out := wire.QuarantineRetry{Error: &errRaw, Result: &resRaw}
		if _, err := c.getJSON(ctx, http.MethodPost, "/v1/quarantine/"+a+"/retry", nil, nil, &out, nil); err != nil {
			errs = append(errs, fmt.Errorf("retry %d: %w", id, err))
			continue
		}
		if *asJSON {
			_ = json.NewEncoder(env.Stdout).Encode(retryJSON{Resolved: out.Resolved, Error: errRaw, Result: resRaw})
			continue
		}
		if out.Resolved {
			fmt.Fprintf(env.Stdout, "%d: resolved, stored now\n", id)
		} else {
			fmt.Fprintf(env.Stdout, "%d: still unusable; kept in quarantine\n", id)
		}
	}
	return errors.Join(errs...)
}

func quarantineList(ctx context.Context, env Env, c *apiClient, limit int, unresolved, asJSON bool) error {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if unresolved {
		q.Set("unresolved", "true")
	}
	var page wire.QuarantineList
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/quarantine", q, nil, &page, nil); err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(quarantineListJSON(page))
	}
	t := newTable("ID", "RECEIVED ("+c.zone()+")", "KIND", "REASON", "MESSAGE ID", "RESOLVED", "ATTEMPTS").alignRight(0, 6)
	for _, e := range page.Entries {
		res := "no"
		if e.ResolvedAt != nil {
			res = c.shortTime(*e.ResolvedAt)
		}
		t.row(strconv.FormatInt(e.ID, 10), c.shortTime(e.ReceivedAt), clean(e.Kind, 20), clean(e.Reason, 40),
			orDash(clean(e.MessageID, 80)), res, strconv.Itoa(e.Attempts))
	}
	if err := t.write(env.Stdout); err != nil {
		return err
	}
	if len(page.Entries) == 0 {
		fmt.Fprintln(env.Stdout, "(quarantine is empty)")
	}
	return nil
}

// quarantineShow prints one entry. The body is hostile text: it is shown
// with control characters and escape sequences removed (line breaks kept);
// --json gives the API's answer, with the exact body.
func quarantineShow(ctx context.Context, env Env, c *apiClient, arg string, asJSON bool) error {
	if id, err := strconv.ParseInt(arg, 10, 64); err != nil || id <= 0 {
		return fmt.Errorf("%w: %q is not a quarantine id (see waorders quarantine list)", ErrUsage, arg)
	}
	path := "/v1/quarantine/" + arg
	if asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, path, nil, nil, nil)
	}
	var e wire.Quarantine
	if _, err := c.getJSON(ctx, http.MethodGet, path, nil, nil, &e, nil); err != nil {
		return err
	}
	resolved := "no"
	if e.ResolvedAt != nil {
		resolved = c.shortTime(*e.ResolvedAt) + " " + c.zone()
	}
	f := [][2]string{
		{"Entry", strconv.FormatInt(e.ID, 10)},
		{"Kind", e.Kind},
		{"Reason", e.Reason},
		{"Message", e.Message},
		{"Callback", e.CallbackID},
		{"Message ID", e.MessageID},
		{"Envelope", e.Envelope},
		{"Received", c.shortTime(e.ReceivedAt) + " " + c.zone()},
		{"Resolved", resolved},
		{"Attempts", strconv.Itoa(e.Attempts)},
	}
	if err := fields(env.Stdout, f); err != nil {
		return err
	}
	w := env.Stdout
	if len(e.Problems) > 0 {
		fmt.Fprintln(w)
		t := newTable("SEVERITY", "CODE", "PATH", "PROBLEM")
		for _, p := range e.Problems {
			t.row(orDash(clean(string(p.Severity), 10)), clean(p.Code, 40), orDash(clean(p.Path, 60)), clean(p.Message, 200))
		}
		if err := t.write(w); err != nil {
			return err
		}
	}
	if len(e.Headers) > 0 {
		fmt.Fprintln(w, "\nHeaders:")
		for _, k := range slices.Sorted(maps.Keys(e.Headers)) {
			for _, v := range e.Headers[k] {
				fmt.Fprintf(w, "  %s: %s\n", clean(k, 80), clean(v, 400))
			}
		}
	}
	if e.Body != nil {
		fmt.Fprintln(w, "\nBody:")
		if e.BodyBase64 != "" {
			fmt.Fprintln(w, "(not valid UTF-8: shown with replacement characters; --json has the exact bytes in body_base64)")
		}
		body := strip(*e.Body, true)
		fmt.Fprint(w, body)
		if !strings.HasSuffix(body, "\n") {
			fmt.Fprintln(w)
		}
	}
	return nil
}

// quarantineListJSON is what quarantine list --json prints: the columns of
// the table, not the API's whole answer (wire.QuarantineList).
func quarantineListJSON(page wire.QuarantineList) any {
	type entry struct {
		ID         int64      `json:"id"`
		Kind       string     `json:"kind"`
		MessageID  string     `json:"message_id"`
		Reason     string     `json:"reason"`
		Message    string     `json:"message"`
		ReceivedAt time.Time  `json:"received_at"`
		ResolvedAt *time.Time `json:"resolved_at"`
		Attempts   int        `json:"attempts"`
	}
	out := struct {
		Entries    []entry `json:"entries"`
		NextCursor string  `json:"next_cursor"`
	}{Entries: make([]entry, 0, len(page.Entries)), NextCursor: page.NextCursor}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, entry{
			ID: e.ID, Kind: e.Kind, MessageID: e.MessageID, Reason: e.Reason, Message: e.Message,
			ReceivedAt: e.ReceivedAt, ResolvedAt: e.ResolvedAt, Attempts: e.Attempts,
		})
	}
	return out
}

// retryJSON is what quarantine retry --json prints for each entry (a nil
// raw value, from a null, prints as null).
type retryJSON struct {
	Resolved bool            `json:"resolved"`
	Error    json.RawMessage `json:"error"`
	Result   json.RawMessage `json:"result"`
}

// parseArgs parses fs from args, options and positional arguments mixed
// ("orders show ID --json"); fs.Args() then holds the positional ones.
func parseArgs(fs *flag.FlagSet, args []string) error {
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	// Put the positional arguments back where fs.Args finds them.
	return fs.Parse(append([]string{"--"}, pos...))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/waorders/waorders/internal/config"
	"github.com/waorders/waorders/internal/wire"
)

const quarantineSynopsis = `Usage: waorders quarantine list [options]
       waorders quarantine retry [options] ID...

Callbacks and messages waorders could not use are kept in quarantine with
the reason. "list" shows them, newest first. "retry" re-runs the server's
current decoder on a kept body (after an upgrade, say) and stores what is
now usable; the entry is marked resolved when all it held is stored.`

func runQuarantine(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "retry") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(env.Stdout, quarantineSynopsis)
			return nil
		}
		fmt.Fprintln(env.Stderr, quarantineSynopsis)
		return fmt.Errorf("%w: quarantine needs list or retry", ErrUsage)
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet(env, "quarantine "+sub, quarantineSynopsis, args)
	var cf clientFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	unresolved := fs.Bool("unresolved", false, "list: only entries not yet resolved")
	limit := fs.Int("limit", 50, "list: entries to show")
	if err := parseClientArgs(fs, args, env); err != nil {
		return err
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	if sub == "list" {
		q := url.Values{"limit": {strconv.Itoa(*limit)}}
		if *unresolved {
			q.Set("unresolved", "true")
		}
		var page wire.QuarantineList
		if _, err := c.getJSON(ctx, http.MethodGet, "/v1/quarantine", q, nil, &page, nil); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(quarantineListJSON(page))
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tKIND\tREASON\tMESSAGE ID\tRESOLVED\tATTEMPTS")
		for _, e := range page.Entries {
			res := "no"
			if e.ResolvedAt != nil {
				res = shortTime(*e.ResolvedAt)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", e.ID, shortTime(e.ReceivedAt), e.Kind, e.Reason, orDash(e.MessageID), res, e.Attempts)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(page.Entries) == 0 {
			fmt.Fprintln(env.Stdout, "(quarantine is empty)")
		}
		return nil
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

// envFlags are the client flags that fall back to WAORDERS_* variables:
// where and how to connect, never filters (a stray WAORDERS_STATUS must not
// silently filter an export).
var envFlags = map[string]bool{
	"server": true, "api-token": true, "data-dir": true, "url": true,
	"callback-secret": true, "callback-secret-header": true, "meta-app-secret": true,
}

// parseClientArgs resolves flags (interspersed with positional arguments)
// and, for the connection flags in envFlags, WAORDERS_* variables.
func parseClientArgs(fs *flag.FlagSet, args []string, env Env) error {
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || !envFlags[f.Name] {
			return
		}
		if v := env.Getenv(config.EnvName(f.Name)); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", config.EnvName(f.Name), err))
			}
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%w: %v", ErrUsage, errors.Join(errs...))
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

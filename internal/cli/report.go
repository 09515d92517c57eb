package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/waorders/waorders/internal/wire"
)

const reportSynopsis = `Usage: waorders report campaigns [options]

Campaign revenue of a running waorders server: orders grouped by the
campaign reference Kaleyra passes in extra_info (--group-by ref1, ref2 or
ref; default ref1), with orders, units and revenue per currency (never
summed across currencies). Orders without a reference form the "(none)"
row. --interval day splits each campaign by UTC day.

Examples:
  waorders report campaigns
  waorders report campaigns --group-by ref2 --since 2026-01-01 --until 2026-02-01
  waorders report campaigns --interval day --json`

func runReport(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "campaigns" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help") {
			fmt.Fprintln(env.Stdout, reportSynopsis)
			return nil
		}
		fmt.Fprintln(env.Stderr, reportSynopsis)
		return fmt.Errorf("%w: report needs a report name: campaigns", ErrUsage)
	}
	args = args[1:]
	fs := newFlagSet(env, "report campaigns", reportSynopsis, args)
	var cf clientFlags
	groupBy := fs.String("group-by", "ref1", "campaign `reference` to group by: ref1, ref2 or ref")
	since := fs.String("since", "", "only orders placed at or after this `time` (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "only orders placed before this `time` (RFC 3339 or YYYY-MM-DD)")
	interval := fs.String("interval", "", "`day` for one row per campaign and UTC day")
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: report campaigns takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
	}
	q := url.Values{"group_by": {*groupBy}}
	for name, v := range map[string]string{"since": *since, "until": *until, "interval": *interval} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, "/v1/reports/campaigns", q, nil, nil)
	}
	var rep wire.CampaignReport
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/reports/campaigns", q, nil, &rep, nil); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	daily := *interval != ""
	if daily {
		fmt.Fprint(tw, "DAY\t")
	}
	fmt.Fprintf(tw, "%s\tORDERS\tUNITS\tREVENUE\tFIRST ORDER (UTC)\tLAST ORDER (UTC)\n", strings.ToUpper(clean(*groupBy, 8)))
	for _, r := range rep.Campaigns {
		if daily {
			day := "-"
			if r.Bucket != nil {
				day = r.Bucket.UTC().Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t", day)
		}
		name := clean(r.Campaign, 40)
		if name == "" {
			name = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", name, r.Orders, r.Units, clean(amounts(r.Revenue), 80),
			shortTime(r.FirstOrderAt), shortTime(r.LastOrderAt))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Campaigns) == 0 {
		fmt.Fprintln(env.Stdout, "(no orders in this period)")
	}
	return nil
}

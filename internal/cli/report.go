package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders/internal/wire"
)

const reportSynopsis = `Usage: waorders report campaigns [options]

Campaign revenue of a running waorders server: orders grouped by the
campaign reference Kaleyra passes in extra_info (--group-by ref1, ref2 or
ref; default ref1), with orders, units and revenue per currency (never
summed across currencies). Orders without a reference form the "(none)"
row. --interval day splits each campaign by day of the server's business
time zone (serve --business-tz, default UTC); first and last order times
are shown in the zone of --tz. Revenue excludes canceled orders and
subtracts refunds; --status picks the statuses counted (comma list, e.g.
completed,refunded or canceled) and --by-status adds one line per status.

Examples:
  waorders report campaigns
  waorders report campaigns --group-by ref2 --since 2026-01-01 --until 2026-02-01
  waorders report campaigns --interval day --json
  waorders report campaigns --status canceled
  waorders report campaigns --by-status`

func runReport(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] != "campaigns" {
		return noSubcommand(env, args, reportSynopsis, "report needs a report name: campaigns")
	}
	args = args[1:]
	fs := newFlagSet(env, "report campaigns", reportSynopsis, args)
	var cf clientFlags
	groupBy := fs.String("group-by", "ref1", "campaign `reference` to group by: ref1, ref2 or ref")
	since := fs.String("since", "", "only orders placed at or after this `time` (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "only orders placed before this `time` (RFC 3339 or YYYY-MM-DD)")
	interval := fs.String("interval", "", "`day` for one row per campaign and day of the business time zone")
	statuses := fs.String("status", "", "count only orders in these `statuses`, comma-separated (default: all but canceled)")
	byStatus := fs.Bool("by-status", false, "add each campaign's figures per order status")
	asJSON := fs.Bool("json", false, "print the API's JSON answer for scripts")
	c, err := clientCommand(env, fs, &cf, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: report campaigns takes no arguments, only options (got %q)", ErrUsage, fs.Arg(0))
	}
	q := url.Values{"group_by": {*groupBy}}
	for name, v := range map[string]string{"since": *since, "until": *until, "interval": *interval, "status": *statuses} {
		if v != "" {
			q.Set(name, v)
		}
	}
	if *byStatus {
		q.Set("by_status", "true")
	}
	if *asJSON {
		return copyJSON(ctx, c, env.Stdout, http.MethodGet, "/v1/reports/campaigns", q, nil, nil)
	}
	var rep wire.CampaignReport
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/reports/campaigns", q, nil, &rep, nil); err != nil {
		return err
	}
	daily := *interval != ""
	head := []string{strings.ToUpper(clean(*groupBy, 8)), "ORDERS", "UNITS", "REVENUE", "FIRST ORDER (" + c.zone() + ")", "LAST ORDER (" + c.zone() + ")"}
	right := []int{1, 2}
	if daily {
		// Buckets are days of the business time zone (the API's), whatever --tz says.
		head = append([]string{"DAY (" + clean(rep.TimeZone, 32) + ")"}, head...)
		right = []int{2, 3}
	}
	t := newTable(head...).alignRight(right...)
	for _, r := range rep.Campaigns {
		name := clean(r.Campaign, 40)
		if name == "" {
			name = "(none)"
		}
		row := []string{name, strconv.FormatInt(r.Orders, 10), strconv.FormatInt(r.Units, 10), clean(amounts(r.Revenue), 80),
			c.shortTime(r.FirstOrderAt), c.shortTime(r.LastOrderAt)}
		if daily {
			day := "-"
			if r.Bucket != nil {
				day = r.Bucket.Format(time.DateOnly) // in the offset the API gave
			}
			row = append([]string{day}, row...)
		}
		t.row(row...)
		for _, f := range r.ByStatus {
			sub := []string{"  " + clean(f.Status, 20), strconv.FormatInt(f.Orders, 10), strconv.FormatInt(f.Units, 10), clean(amounts(f.Revenue), 80), "", ""}
			if daily {
				sub = append([]string{""}, sub...)
			}
			t.row(sub...)
		}
	}
	if err := t.write(env.Stdout); err != nil {
		return err
	}
	if len(rep.Campaigns) == 0 {
		fmt.Fprintln(env.Stdout, "(no orders in this period)")
	}
	return nil
}

package server_test

// Tests of the reports API (api/reports.go).

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

// reportRow is one campaign row as the tests compare it.
type reportRow struct {
	Campaign string
	Bucket   string
	Orders   int64
	Units    int64
	Revenue  string
	First    string
	Last     string
}

func readReport(t *testing.T, b *bundle, query string) []reportRow {
	t.Helper()
	var rep wire.CampaignReport
	b.get(t, "/v1/reports/campaigns?"+query, http.StatusOK, &rep)
	rows := []reportRow{}
	for _, c := range rep.Campaigns {
		var rev []string
		for _, a := range c.Revenue {
			rev = append(rev, a.Currency+" "+a.Decimal())
		}
		row := reportRow{Campaign: c.Campaign, Orders: c.Orders, Units: c.Units, Revenue: strings.Join(rev, ", "),
			First: c.FirstOrderAt.Format(time.RFC3339), Last: c.LastOrderAt.Format(time.RFC3339)}
		if c.Bucket != nil {
			row.Bucket = c.Bucket.Format(time.DateOnly)
		}
		rows = append(rows, row)
	}
	return rows
}

func TestCampaignReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	day2 := t0.Add(24 * time.Hour)
	b.post(t,
		testkit.Kaleyra(testkit.Order("wamid.R1").At(t0).Item("A", 2, "1600", "INR")).Refs("", "shoes", "summer"),
		testkit.Kaleyra(testkit.Order("wamid.R2").At(t0.Add(time.Hour)).Item("B", 3, "16.99", "USD")).Refs("", "shoes", "summer"),
		testkit.Kaleyra(testkit.Order("wamid.R3").At(day2).Item("A", 1, "1600", "INR").Item("C", 1, "7.5", "USD")).Refs("", "shoes", ""),
		testkit.Kaleyra(testkit.Order("wamid.R4").At(day2.Add(time.Hour)).Item("D", 1, "49.90", "EUR")).Refs("", "bags", "summer"),
		testkit.Kaleyra(testkit.Order("wamid.R5").At(day2.Add(2*time.Hour)).Item("A", 1, "1600", "INR")),
	)
	ts := func(d time.Time) string { return d.Format(time.RFC3339) }
	tests := []struct {
		name, query string
		want        []reportRow
	}{
		{"DefaultRef1TwoCurrencies", "", []reportRow{
			{"", "", 1, 1, "INR 1600.00", ts(day2.Add(2 * time.Hour)), ts(day2.Add(2 * time.Hour))},
			{"bags", "", 1, 1, "EUR 49.90", ts(day2.Add(time.Hour)), ts(day2.Add(time.Hour))},
			{"shoes", "", 3, 7, "INR 4800.00, USD 58.47", ts(t0), ts(day2)},
		}},
		{"Ref2", "group_by=ref2", []reportRow{
			{"", "", 2, 3, "INR 3200.00, USD 7.50", ts(day2), ts(day2.Add(2 * time.Hour))},
			{"summer", "", 3, 6, "EUR 49.90, INR 3200.00, USD 50.97", ts(t0), ts(day2.Add(time.Hour))},
		}},
		{"RefAllEmpty", "group_by=ref", []reportRow{
			{"", "", 5, 9, "EUR 49.90, INR 6400.00, USD 58.47", ts(t0), ts(day2.Add(2 * time.Hour))},
		}},
		{"SinceUntil", "since=" + ts(t0.Add(time.Hour)) + "&until=" + ts(day2.Add(time.Hour)), []reportRow{
			{"shoes", "", 2, 5, "INR 1600.00, USD 58.47", ts(t0.Add(time.Hour)), ts(day2)},
		}},
		{"Daily", "interval=day", []reportRow{
			{"shoes", "2026-01-05", 2, 5, "INR 3200.00, USD 50.97", ts(t0), ts(t0.Add(time.Hour))},
			{"", "2026-01-06", 1, 1, "INR 1600.00", ts(day2.Add(2 * time.Hour)), ts(day2.Add(2 * time.Hour))},
			{"bags", "2026-01-06", 1, 1, "EUR 49.90", ts(day2.Add(time.Hour)), ts(day2.Add(time.Hour))},
			{"shoes", "2026-01-06", 1, 2, "INR 1600.00, USD 7.50", ts(day2), ts(day2)},
		}},
		{"Empty", "since=2030-01-01", []reportRow{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, readReport(t, b, tt.query)); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
	for _, q := range []string{"group_by=campaign", "interval=week", "since=soon", "since=2026-02-01&until=2026-01-01", "groupby=ref"} {
		wantError(t, b.api(t, http.MethodGet, "/v1/reports/campaigns?"+q, nil), http.StatusBadRequest, "")
	}
	// An empty value is refused like any invalid one, not read as absent.
	wantError(t, b.api(t, http.MethodGet, "/v1/reports/campaigns?group_by=", nil), http.StatusBadRequest, "invalid", "group_by is empty")
	wantError(t, b.api(t, http.MethodGet, "/v1/reports/campaigns?interval=", nil), http.StatusBadRequest, "invalid", "interval is empty")
	// The message lists the choices.
	wantError(t, b.api(t, http.MethodGet, "/v1/reports/campaigns?group_by=campaign", nil), http.StatusBadRequest, "", "ref or ref1 or ref2")
}

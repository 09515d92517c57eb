package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

func testCustomerSummary(t *testing.T, s store.Store) {
	mk := func(id string, at time.Duration, waID, name string, items ...waorders.Item) *waorders.Order {
		o := NewOrder(id, Base.Add(at), items...)
		o.Customer = waorders.Customer{WaID: waID, Name: name}
		return o
	}
	mustWriteOrders(t, s,
		mk("c1", 0, "cust-a", "Sam", NewItem("shirt", 1, Money("INR", 360000))),
		mk("c2", time.Hour, "cust-a", "Samuel", NewItem("cap", 2, Money("USD", 1699))),
		// The newest order has no profile name: the name last seen stays.
		mk("c3", 2*time.Hour, "cust-a", "", NewItem("socks", 1, Money("INR", 50000)), NewItem("oud", 1, Money("AED", 1000))),
		mk("c4", 3*time.Hour, "cust-b", "Priya", NewItem("shirt", 9, Money("INR", 100))),
	)
	// A canceled order is counted among the orders but not in the spend.
	mustUpdate(t, s, "c2", waorders.OrderCanceled)

	got, err := s.GetCustomer(t.Context(), "cust-a")
	if err != nil {
		t.Fatal(err)
	}
	want := &waorders.CustomerSummary{
		ID: "cust-a", WaID: "cust-a", Name: "Samuel", FirstOrderAt: Base, LastOrderAt: Base.Add(2 * time.Hour), OrderCount: 3,
		Identifiers: []waorders.CustomerID{{Kind: waorders.IDWa, Value: "cust-a"}}, Names: []string{"Samuel", "Sam"},
		MessageCount: 3,
		Spend:        []money.Amount{Money("AED", 1000), Money("INR", 410000)}, // by currency code; c2 (USD) canceled
	}
	diff(t, "customer", want, got)
	wantUTC(t, "customer", got.FirstOrderAt, got.LastOrderAt)

	_, err = s.GetCustomer(t.Context(), "cust-unknown")
	wantCode(t, "unknown customer", err, waorders.CodeNotFound)
}

// campaignOrders writes the orders the campaign report tests share.
func campaignOrders(t *testing.T, s store.Store) {
	mk := func(id string, at time.Time, ref, ref1, ref2 string, items ...waorders.Item) *waorders.Order {
		o := NewOrder(id, at, items...)
		o.Campaign = waorders.Campaign{Ref: ref, Ref1: ref1, Ref2: ref2}
		return o
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	mustWriteOrders(t, s,
		mk("k1", day.Add(10*time.Hour), "a", "shoes", "x", NewItem("shirt", 2, Money("INR", 180000))),
		mk("k2", day.Add(23*time.Hour+59*time.Minute+59*time.Second+999999*time.Microsecond), "a", "shoes", "", NewItem("cap", 2, Money("USD", 1699))),
		// 00:30 on the 3rd in UTC, written in IST (06:00 local).
		mk("k3", day.Add(24*time.Hour+30*time.Minute).In(ist), "b", "shoes", "x", NewItem("sock", 3, Money("INR", 10000))),
		mk("k4", day.Add(25*time.Hour), "b", "Summer", "", NewItem("hat", 1, Money("INR", 50000))),
		mk("k5", day.Add(26*time.Hour), "", "", "", NewItem("tea", 1, Money("JPY", 1500))),
		mk("k6", day.Add(27*time.Hour), "", "bags", "x", NewItem("bag", 1, Money("INR", 99900)), NewItem("strap", 2, Money("USD", 500))),
	)
	// A canceled order counts in no report by default.
	mustUpdate(t, s, "k4", waorders.OrderCanceled)
}

func testCampaignReport(t *testing.T, s store.Store) {
	campaignOrders(t, s)
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return day.Add(d) }
	last := 23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond
	tests := []struct {
		name string
		q    store.CampaignReportParams
		want []waorders.CampaignRow
	}{
		{"Ref1", store.CampaignReportParams{GroupBy: "ref1"}, []waorders.CampaignRow{
			// Sorted by campaign in byte order: "" first, upper case before lower.
			{Campaign: "", Orders: 1, Units: 1, Revenue: []money.Amount{Money("JPY", 1500)}, FirstOrderAt: at(26 * time.Hour), LastOrderAt: at(26 * time.Hour)},
			{Campaign: "bags", Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 99900), Money("USD", 1000)}, FirstOrderAt: at(27 * time.Hour), LastOrderAt: at(27 * time.Hour)},
			{Campaign: "shoes", Orders: 3, Units: 7, Revenue: []money.Amount{Money("INR", 390000), Money("USD", 3398)}, FirstOrderAt: at(10 * time.Hour), LastOrderAt: at(24*time.Hour + 30*time.Minute)},
		}},
		{"Ref", store.CampaignReportParams{GroupBy: "ref"}, []waorders.CampaignRow{
			{Campaign: "", Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 99900), Money("JPY", 1500), Money("USD", 1000)}, FirstOrderAt: at(26 * time.Hour), LastOrderAt: at(27 * time.Hour)},
			{Campaign: "a", Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 360000), Money("USD", 3398)}, FirstOrderAt: at(10 * time.Hour), LastOrderAt: at(last)},
			{Campaign: "b", Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 30000)}, FirstOrderAt: at(24*time.Hour + 30*time.Minute), LastOrderAt: at(24*time.Hour + 30*time.Minute)},
		}},
		{"Ref2Window", store.CampaignReportParams{GroupBy: "ref2", Since: at(last), Until: at(27 * time.Hour)}, []waorders.CampaignRow{
			{Campaign: "", Orders: 2, Units: 3, Revenue: []money.Amount{Money("JPY", 1500), Money("USD", 3398)}, FirstOrderAt: at(last), LastOrderAt: at(26 * time.Hour)},
			{Campaign: "x", Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 30000)}, FirstOrderAt: at(24*time.Hour + 30*time.Minute), LastOrderAt: at(24*time.Hour + 30*time.Minute)},
		}},
		{"Empty", store.CampaignReportParams{GroupBy: "ref1", Since: at(100 * time.Hour)}, nil},
		// The canceled order, asked for: read from the orders.
		{"Canceled", store.CampaignReportParams{GroupBy: "ref1", Statuses: []waorders.OrderStatus{waorders.OrderCanceled}}, []waorders.CampaignRow{
			{Campaign: "Summer", Orders: 1, Units: 1, Revenue: []money.Amount{Money("INR", 50000)}, FirstOrderAt: at(25 * time.Hour), LastOrderAt: at(25 * time.Hour)},
		}},
		{"ByStatus", store.CampaignReportParams{GroupBy: "ref", Statuses: []waorders.OrderStatus{waorders.OrderPending, waorders.OrderCanceled}, ByStatus: true}, []waorders.CampaignRow{
			{Campaign: "", Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 99900), Money("JPY", 1500), Money("USD", 1000)}, FirstOrderAt: at(26 * time.Hour), LastOrderAt: at(27 * time.Hour),
				ByStatus: []waorders.StatusFigures{{Status: waorders.OrderPending, Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 99900), Money("JPY", 1500), Money("USD", 1000)}}}},
			{Campaign: "a", Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 360000), Money("USD", 3398)}, FirstOrderAt: at(10 * time.Hour), LastOrderAt: at(last),
				ByStatus: []waorders.StatusFigures{{Status: waorders.OrderPending, Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 360000), Money("USD", 3398)}}}},
			{Campaign: "b", Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 80000)}, FirstOrderAt: at(24*time.Hour + 30*time.Minute), LastOrderAt: at(25 * time.Hour),
				ByStatus: []waorders.StatusFigures{
					{Status: waorders.OrderPending, Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 30000)}},
					{Status: waorders.OrderCanceled, Orders: 1, Units: 1, Revenue: []money.Amount{Money("INR", 50000)}},
				}},
		}},
	}
	for _, tt := range tests {
		got, err := s.CampaignReport(t.Context(), tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		diff(t, tt.name, tt.want, got)
		for _, r := range got {
			wantUTC(t, tt.name, r.FirstOrderAt, r.LastOrderAt)
		}
	}
}

func testCampaignReportByDay(t *testing.T, s store.Store) {
	campaignOrders(t, s)
	d1 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	d2 := d1.Add(24 * time.Hour)
	last := 23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond
	got, err := s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref1", Interval: "day"})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by bucket, then campaign.
	want := []waorders.CampaignRow{
		{Campaign: "shoes", Bucket: d1, Orders: 2, Units: 4, Revenue: []money.Amount{Money("INR", 360000), Money("USD", 3398)}, FirstOrderAt: d1.Add(10 * time.Hour), LastOrderAt: d1.Add(last)},
		{Campaign: "", Bucket: d2, Orders: 1, Units: 1, Revenue: []money.Amount{Money("JPY", 1500)}, FirstOrderAt: d2.Add(2 * time.Hour), LastOrderAt: d2.Add(2 * time.Hour)},
		{Campaign: "bags", Bucket: d2, Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 99900), Money("USD", 1000)}, FirstOrderAt: d2.Add(3 * time.Hour), LastOrderAt: d2.Add(3 * time.Hour)},
		{Campaign: "shoes", Bucket: d2, Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 30000)}, FirstOrderAt: d2.Add(30 * time.Minute), LastOrderAt: d2.Add(30 * time.Minute)},
	}
	diff(t, "daily report", want, got)
	for _, r := range got {
		wantUTC(t, "bucket", r.Bucket)
	}

	plain, err := s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plain {
		if !r.Bucket.IsZero() {
			t.Errorf("row %q has bucket %v without an interval", r.Campaign, r.Bucket)
		}
	}
}

// testCampaignReportLocalDays checks daily buckets in a business time zone
// (IST, +05:30): k1 (10:00 UTC, 15:30 IST) and k2 (23:59:59 UTC on the 2nd,
// 05:29 IST on the 3rd) fall on different local days; k3 (00:30 UTC on the
// 3rd) on the 3rd. Buckets are local midnights.
func testCampaignReportLocalDays(t *testing.T, s store.Store) {
	campaignOrders(t, s)
	d1 := time.Date(2026, 3, 2, 0, 0, 0, 0, ist)
	d2 := time.Date(2026, 3, 3, 0, 0, 0, 0, ist)
	utc := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	last := 23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond
	got, err := s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref1", Interval: "day", Location: ist,
		Since: d1, Until: d2.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	want := []waorders.CampaignRow{
		{Campaign: "shoes", Bucket: d1, Orders: 1, Units: 2, Revenue: []money.Amount{Money("INR", 360000)}, FirstOrderAt: utc.Add(10 * time.Hour), LastOrderAt: utc.Add(10 * time.Hour)},
		{Campaign: "", Bucket: d2, Orders: 1, Units: 1, Revenue: []money.Amount{Money("JPY", 1500)}, FirstOrderAt: utc.Add(26 * time.Hour), LastOrderAt: utc.Add(26 * time.Hour)},
		{Campaign: "bags", Bucket: d2, Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 99900), Money("USD", 1000)}, FirstOrderAt: utc.Add(27 * time.Hour), LastOrderAt: utc.Add(27 * time.Hour)},
		{Campaign: "shoes", Bucket: d2, Orders: 2, Units: 5, Revenue: []money.Amount{Money("INR", 30000), Money("USD", 3398)}, FirstOrderAt: utc.Add(last), LastOrderAt: utc.Add(24*time.Hour + 30*time.Minute)},
	}
	diff(t, "report by IST day", want, got)
	for _, r := range got {
		if r.Bucket.Location() != ist {
			t.Errorf("bucket %v is not in the business zone", r.Bucket)
		}
	}
}

func testCampaignReportInvalid(t *testing.T, s store.Store) {
	_, err := s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref3"})
	wantCode(t, "group by ref3", err, waorders.CodeInvalid)
	_, err = s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "status; DROP TABLE orders"})
	wantCode(t, "group by an injection", err, waorders.CodeInvalid)
	_, err = s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref1", Interval: "week"})
	wantCode(t, "interval week", err, waorders.CodeInvalid)
	_, err = s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref1", Statuses: []waorders.OrderStatus{waorders.OrderNeedsReview}})
	wantCode(t, "status needs_review", err, waorders.CodeInvalid)
	_, err = s.CampaignReport(t.Context(), store.CampaignReportParams{GroupBy: "ref1", Statuses: []waorders.OrderStatus{"lost"}})
	wantCode(t, "status lost", err, waorders.CodeInvalid)
}

// testCampaignReportWindows checks the report over windows whose edges fall
// inside days, on days, and around them, against figures computed here from
// the orders, with orders in several currencies, orders written in two
// batches and written twice (a duplicate never counts).
func testCampaignReportWindows(t *testing.T, s store.Store) {
	d0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, at time.Duration, ref1 string, items ...waorders.Item) *waorders.Order {
		o := NewOrder(id, d0.Add(at), items...)
		o.Campaign = waorders.Campaign{Ref: "r", Ref1: ref1}
		return o
	}
	first := []*waorders.Order{
		mk("w1", 0, "a", NewItem("shirt", 1, Money("INR", 1000))),
		mk("w2", 7*time.Hour+13*time.Minute, "a", NewItem("cap", 2, Money("USD", 300)), NewItem("oud", 1, Money("AED", 50))),
		mk("w3", 23*time.Hour+59*time.Minute, "", NewItem("tea", 4, Money("JPY", 10))),
		mk("w4", 24*time.Hour, "b", NewItem("hat", 1, Money("INR", 200)), NewItem("bag", 3, Money("INR", 7))),
	}
	second := []*waorders.Order{
		mk("w5", 24*time.Hour+11*time.Hour+time.Microsecond, "a", NewItem("sock", 5, Money("USD", 11)), NewItem("shirt", 1, Money("INR", 13))),
		mk("w6", 47*time.Hour+30*time.Minute, "b", NewItem("cap", 1, Money("AED", 700))),
		mk("w7", 48*time.Hour+time.Microsecond, "a", NewItem("tea", 2, Money("JPY", 90))),
		mk("w8", 50*time.Hour, "", NewItem("oud", 1, Money("AED", 5)), NewItem("hat", 1, Money("USD", 1))),
	}
	all := append(slices.Clone(first), second...)

	at := func(d time.Duration) time.Time { return d0.Add(d) }
	windows := []struct{ since, until time.Time }{
		{},
		{at(7 * time.Hour), time.Time{}},
		{time.Time{}, at(30 * time.Hour)},
		{at(5 * time.Hour), at(49 * time.Hour)},
		{at(7*time.Hour + 13*time.Minute), at(24*time.Hour + 11*time.Hour + time.Microsecond)},
		{at(24 * time.Hour), at(48 * time.Hour)},
		{at(24 * time.Hour), at(48*time.Hour + time.Microsecond)},
		{at(time.Hour), at(2 * time.Hour)},
		{at(23 * time.Hour), at(25 * time.Hour)},
		{at(-time.Hour), at(72 * time.Hour)},
	}
	check := func(stage string, orders []*waorders.Order) {
		t.Helper()
		for _, w := range windows {
			for _, interval := range []string{"", "day"} {
				for _, g := range []string{"ref", "ref1", "ref2"} {
					q := store.CampaignReportParams{GroupBy: g, Since: w.since, Until: w.until, Interval: interval}
					got, err := s.CampaignReport(t.Context(), q)
					if err != nil {
						t.Fatalf("%s %+v: %v", stage, q, err)
					}
					diff(t, fmt.Sprintf("%s %+v", stage, q), expectedCampaignReport(t, orders, q), got)
				}
			}
		}
	}
	mustWriteOrders(t, s, first...)
	check("first batch", first)
	mustWriteOrders(t, s, second...)
	check("second batch", all)
	for i, r := range mustWrite(t, s, NewOrderInbounds(all...)...) {
		if len(r.Messages) != 1 || r.Messages[0] != store.Duplicate {
			t.Fatalf("order %d written again: %+v, want a duplicate", i, r)
		}
	}
	check("duplicates", all)
}

// expectedCampaignReport is the campaign report over orders, computed
// without storage.
func expectedCampaignReport(t *testing.T, orders []*waorders.Order, q store.CampaignReportParams) []waorders.CampaignRow {
	t.Helper()
	type key struct {
		campaign string
		bucket   time.Time
	}
	rows := map[key]*waorders.CampaignRow{}
	revenue := map[key]*money.Totals{}
	for _, o := range orders {
		if (!q.Since.IsZero() && o.OrderedAt.Before(q.Since)) || (!q.Until.IsZero() && !o.OrderedAt.Before(q.Until)) {
			continue
		}
		k := key{campaign: map[string]string{"ref": o.Campaign.Ref, "ref1": o.Campaign.Ref1, "ref2": o.Campaign.Ref2}[q.GroupBy]}
		if q.Interval == "day" {
			k.bucket = o.OrderedAt.UTC().Truncate(24 * time.Hour)
		}
		r := rows[k]
		if r == nil {
			r = &waorders.CampaignRow{Campaign: k.campaign, Bucket: k.bucket, FirstOrderAt: o.OrderedAt.UTC(), LastOrderAt: o.OrderedAt.UTC()}
			rows[k], revenue[k] = r, &money.Totals{}
		}
		r.Orders++
		r.Units += o.Units()
		r.FirstOrderAt = minTime(r.FirstOrderAt, o.OrderedAt.UTC())
		if o.OrderedAt.After(r.LastOrderAt) {
			r.LastOrderAt = o.OrderedAt.UTC()
		}
		totals, err := waorders.ComputeTotals(o.Items)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range totals {
			if err := revenue[k].Add(a); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out []waorders.CampaignRow
	for k, r := range rows {
		r.Revenue = slices.SortedFunc(slices.Values(revenue[k].List()), func(x, y money.Amount) int {
			return strings.Compare(x.Currency, y.Currency)
		})
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y waorders.CampaignRow) int {
		return cmp.Or(x.Bucket.Compare(y.Bucket), strings.Compare(x.Campaign, y.Campaign))
	})
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// CheckRollupRebuild writes orders (some in several currencies), takes
// campaign reports, calls rebuild, which must drop the driver's campaign
// rollup and migrate again so that the migration rebuilds it from the
// orders, and checks that the reports are unchanged.
func CheckRollupRebuild(t *testing.T, s store.Store, rebuild func()) {
	t.Helper()
	campaignOrders(t, s)
	at := time.Date(2026, 3, 2, 13, 7, 0, 0, time.UTC)
	queries := []store.CampaignReportParams{
		{GroupBy: "ref"}, {GroupBy: "ref1", Interval: "day"}, {GroupBy: "ref2"},
		{GroupBy: "ref1", Since: at, Until: at.Add(30 * time.Hour)},
	}
	reports := func() [][]waorders.CampaignRow {
		var out [][]waorders.CampaignRow
		for _, q := range queries {
			rows, err := s.CampaignReport(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 {
				t.Fatalf("report %+v is empty", q)
			}
			out = append(out, rows)
		}
		return out
	}
	before := reports()
	rebuild()
	diff(t, "reports after the rollup was rebuilt", before, reports())
}

// RunReports checks Reports: customer summaries and campaign reports.
func RunReports(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"CustomerSummary", testCustomerSummary},
		{"CampaignReport", testCampaignReport},
		{"CampaignReportByDay", testCampaignReportByDay},
		{"CampaignReportLocalDays", testCampaignReportLocalDays},
		{"CampaignReportInvalid", testCampaignReportInvalid},
		{"CampaignReportWindows", testCampaignReportWindows},
	})
}

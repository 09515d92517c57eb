package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// t0 is when the first test order was placed.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// filterOrders are five orders that differ in every filtered field.
var filterOrders = []testOrder{
	{ID: "wamid.A", At: t0, WaID: "911000000001", Name: "Asha Rao", PhoneNumberID: "100000000000001", CatalogID: "C1",
		Text: "deliver after 6pm", Ref: "r-a", Ref1: "shoes", Ref2: "summer",
		Items: []testItem{{"SKU-SHIRT", 1, "1600", "INR"}}},
	{ID: "wamid.B", At: t0.Add(time.Hour), WaID: "911000000002", Name: "Bilal", PhoneNumberID: "100000000000002", CatalogID: "C1",
		Ref1: "shoes", Ref2: "winter", Items: []testItem{{"SKU-MUG", 3, "16.99", "USD"}}},
	{ID: "wamid.C", At: t0.Add(2 * time.Hour), WaID: "911000000001", Name: "Asha Rao", PhoneNumberID: "100000000000001", CatalogID: "C2",
		Text: "Gift wrap please", Ref1: "bags", Items: []testItem{{"SKU-BAG", 1, "2500", "INR"}, {"SKU-SHIRT", 1, "1600", "INR"}}},
	{ID: "wamid.D", At: t0.Add(3 * time.Hour), WaID: "911000000003", Name: "Chen", PhoneNumberID: "100000000000001", CatalogID: "C1",
		Items: []testItem{{"SKU-PANT", 1, "2000", "INR"}}},
	{ID: "wamid.E", At: t0.Add(4 * time.Hour), WaID: "911000000002", Name: "Bilal", PhoneNumberID: "100000000000001", CatalogID: "C1",
		Ref: "r-e", Ref1: "shoes", Items: []testItem{{"SKU-PANT", 2, "2000", "INR"}}},
}

func TestOrderListFilters(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	b.post(t, filterOrders...)
	if r := b.do(t, http.MethodPost, "/v1/orders/wamid.E/status", map[string]string{"status": "processing"}); r.status != http.StatusOK {
		t.Fatalf("move E: %s", r)
	}

	tests := []struct {
		name  string
		query string
		want  []string
		more  bool
	}{
		{"All", "", []string{"wamid.E", "wamid.D", "wamid.C", "wamid.B", "wamid.A"}, false},
		{"StatusProcessing", "status=processing", []string{"wamid.E"}, false},
		{"StatusPending", "status=pending", []string{"wamid.D", "wamid.C", "wamid.B", "wamid.A"}, false},
		{"StatusNoneYet", "status=shipped", []string{}, false},
		{"Ref", "ref=r-a", []string{"wamid.A"}, false},
		{"Ref1", "ref1=shoes", []string{"wamid.E", "wamid.B", "wamid.A"}, false},
		{"Ref2", "ref2=winter", []string{"wamid.B"}, false},
		{"Customer", "customer=911000000001", []string{"wamid.C", "wamid.A"}, false},
		{"PhoneNumberID", "phone_number_id=100000000000002", []string{"wamid.B"}, false},
		{"CatalogID", "catalog_id=C2", []string{"wamid.C"}, false},
		{"ProductOnSecondLine", "product=SKU-SHIRT", []string{"wamid.C", "wamid.A"}, false},
		{"SinceInclusive", "since=" + t0.Add(time.Hour).Format(time.RFC3339), []string{"wamid.E", "wamid.D", "wamid.C", "wamid.B"}, false},
		{"UntilExclusive", "until=" + t0.Add(2*time.Hour).Format(time.RFC3339), []string{"wamid.B", "wamid.A"}, false},
		{"SinceDate", "since=2026-01-05&until=2026-01-06", []string{"wamid.E", "wamid.D", "wamid.C", "wamid.B", "wamid.A"}, false},
		{"QNameAnyCase", "q=asha", []string{"wamid.C", "wamid.A"}, false},
		{"QText", "q=GIFT", []string{"wamid.C"}, false},
		{"Combined", "ref1=shoes&customer=911000000002", []string{"wamid.E", "wamid.B"}, false},
		{"NoMatch", "ref1=nothing", []string{}, false},
		{"Limit", "limit=2", []string{"wamid.E", "wamid.D"}, true},
		{"LimitCapped", "limit=100000", []string{"wamid.E", "wamid.D", "wamid.C", "wamid.B", "wamid.A"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.getJSON(t, "/v1/orders?"+tt.query, http.StatusOK, nil)
			got, next := orderIDs(t, r.body)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if (next != "") != tt.more {
				t.Errorf("next_cursor = %q, want more=%v", next, tt.more)
			}
			if !strings.Contains(string(r.body), `"orders":[`) {
				t.Errorf("orders is not a JSON array: %s", r.body)
			}
		})
	}

	// Lists leave out the history; the single order has it.
	var list struct {
		Orders []map[string]any `json:"orders"`
	}
	b.getJSON(t, "/v1/orders?limit=1", http.StatusOK, &list)
	if _, ok := list.Orders[0]["history"]; ok {
		t.Errorf("list entry has a history: %v", list.Orders[0])
	}
}

func TestOrderListPagesWhileInserting(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	// Twelve orders, three per second: ties on ordered_at are broken by id.
	var want []string
	for i := range 12 {
		o := testOrder{ID: fmt.Sprintf("wamid.P%02d", i), At: t0.Add(time.Duration(i/3) * time.Second)}
		b.post(t, o)
		want = append([]string{o.ID}, want...)
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatalf("more pages than possible; got %v", got)
		}
		q := url.Values{"limit": {"5"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := b.getJSON(t, "/v1/orders?"+q.Encode(), http.StatusOK, nil)
		ids, next := orderIDs(t, r.body)
		got = append(got, ids...)
		if page == 0 {
			// Newer orders arrive between pages, one of them in the same
			// second as the page's last order.
			b.post(t,
				testOrder{ID: "wamid.NEW1", At: t0.Add(time.Hour)},
				testOrder{ID: "wamid.NEW2", At: t0.Add(2 * time.Hour)},
				testOrder{ID: "wamid.Z99", At: t0.Add(3 * time.Second)},
			)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged ids (-want +got):\n%s", diff)
	}
	r := b.getJSON(t, "/v1/orders?limit=500", http.StatusOK, nil)
	if all, _ := orderIDs(t, r.body); len(all) != 15 {
		t.Errorf("after inserting: %d orders, want 15", len(all))
	}
}

func TestOrderListRejects(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	tests := []struct {
		name, query string
		wantMsg     []string
	}{
		{"UnknownStatus", "status=lost", []string{`"lost"`, "pending, processing, partially_shipped, shipped, completed, canceled"}},
		{"BadSince", "since=yesterday", []string{"since", "RFC 3339", "2026-01-31"}},
		{"BadUntil", "until=2026-13-01", []string{"until", "RFC 3339"}},
		{"SinceAfterUntil", "since=2026-02-01&until=2026-01-01", []string{"before until"}},
		{"ZeroLimit", "limit=0", []string{"limit", "positive"}},
		{"TextLimit", "limit=ten", []string{"limit"}},
		{"BadCursor", "cursor=not-a-cursor!", []string{"cursor", "next_cursor"}},
		{"UnknownParameter", "stauts=pending", []string{`"stauts"`, "status"}},
		{"RepeatedParameter", "ref1=a&ref1=b", []string{"ref1", "once"}},
		{"LongFilter", "q=" + strings.Repeat("x", 300), []string{"q", "256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, http.MethodGet, "/v1/orders?"+tt.query, nil)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			code, msg := errorAnswer(t, r)
			if code != "invalid" {
				t.Errorf("code %q, want invalid", code)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
	t.Run("NoToken", func(t *testing.T) {
		r := b.do(t, http.MethodGet, "/v1/orders", nil, "Authorization", "")
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", r.status)
		}
	})
}

// orderAnswer is what the lifecycle tests read of an order.
type orderAnswer struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
	History []struct {
		At    time.Time `json:"at"`
		Actor string    `json:"actor"`
		From  string    `json:"from"`
		To    string    `json:"to"`
		Note  string    `json:"note"`
	} `json:"history"`
}

func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	b.post(t, testOrder{ID: "wamid.L", At: t0})

	// One order walks the lifecycle; each step sees the state the previous
	// steps left.
	steps := []struct {
		name        string
		body        any
		ifMatch     string
		actor       string
		wantStatus  int
		wantVersion int64 // after the step
		wantMsg     string
	}{
		{"QuotedIfMatch", map[string]string{"status": "processing", "note": "packed"}, `"1"`, "", 200, 2, ""},
		{"SameStateConflicts", map[string]string{"status": "processing"}, `2`, "", 409, 2,
			"allowed from processing: partially_shipped, shipped, completed, canceled"},
		{"StaleVersion", map[string]string{"status": "shipped"}, `"1"`, "", 412, 2, "version 2"},
		{"StaleBareVersion", map[string]string{"status": "shipped"}, `7`, "", 412, 2, "not 7"},
		{"StarMatchesAny", map[string]string{"status": "partially_shipped"}, `*`, "", 200, 3, ""},
		{"BackwardsConflicts", map[string]string{"status": "pending"}, "", "", 409, 3, "cannot move from partially_shipped to pending"},
		{"BareIfMatchWithActor", map[string]string{"status": "shipped", "note": "AWB 123"}, `3`, " warehouse\tteam\x1b ", 200, 4, ""},
		{"SkipToCompleted", map[string]string{"status": "completed"}, "", "", 200, 5, ""},
		{"NoCancelAfterCompleted", map[string]string{"status": "canceled"}, "", "", 409, 5, "final"},
		{"IfMatchNotAVersion", map[string]string{"status": "canceled"}, `"abc"`, "", 400, 5, "If-Match"},
		{"WeakIfMatchRefused", map[string]string{"status": "canceled"}, `W/"5"`, "", 400, 5, "If-Match"},
		{"UnknownStatus", map[string]string{"status": "lost"}, "", "", 400, 5, "pending, processing"},
		{"MissingStatus", map[string]string{"note": "x"}, "", "", 400, 5, "status is required"},
		{"MalformedJSON", `{"status": "canceled"`, "", "", 400, 5, "not valid JSON"},
		{"NotAnObject", `["canceled"]`, "", "", 400, 5, "not valid JSON"},
		{"UnknownField", `{"status": "canceled", "by": "me"}`, "", "", 400, 5, `unknown field "by"`},
		{"TwoValues", `{"status": "canceled"} {}`, "", "", 400, 5, "more than one"},
		{"EmptyBody", ``, "", "", 400, 5, "empty"},
		{"LongNote", map[string]string{"status": "canceled", "note": strings.Repeat("n", 2001)}, "", "", 400, 5, "2000"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := b.do(t, http.MethodPost, "/v1/orders/wamid.L/status", st.body, "If-Match", st.ifMatch, "X-Actor", st.actor)
			if r.status != st.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, st.wantStatus, r.body)
			}
			if st.wantStatus == 200 {
				var o orderAnswer
				if err := json.Unmarshal(r.body, &o); err != nil {
					t.Fatal(err)
				}
				if o.Version != st.wantVersion || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, st.wantVersion) {
					t.Errorf("version %d, ETag %s; want %d", o.Version, r.header.Get("ETag"), st.wantVersion)
				}
			} else {
				_, msg := errorAnswer(t, r)
				if !strings.Contains(msg, st.wantMsg) {
					t.Errorf("message %q does not mention %q", msg, st.wantMsg)
				}
			}
			var cur orderAnswer
			g := b.getJSON(t, "/v1/orders/wamid.L", http.StatusOK, &cur)
			if cur.Version != st.wantVersion || g.header.Get("ETag") != fmt.Sprintf(`"%d"`, st.wantVersion) {
				t.Errorf("stored version %d (ETag %s), want %d", cur.Version, g.header.Get("ETag"), st.wantVersion)
			}
		})
	}

	var o orderAnswer
	b.getJSON(t, "/v1/orders/wamid.L", http.StatusOK, &o)
	type change struct{ Actor, From, To, Note string }
	var got []change
	for _, h := range o.History {
		if h.At.IsZero() {
			t.Errorf("history entry without time: %+v", h)
		}
		got = append(got, change{h.Actor, h.From, h.To, h.Note})
	}
	want := []change{
		{"intake", "", "pending", ""},
		{"api", "pending", "processing", "packed"},
		{"api", "processing", "partially_shipped", ""},
		{"warehouseteam", "partially_shipped", "shipped", "AWB 123"},
		{"api", "shipped", "completed", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestOrderStatusOtherAnswers(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	b.post(t, testOrder{ID: "wamid.X", At: t0})
	tests := []struct {
		name       string
		target     string
		body       any
		header     []string
		wantStatus int
		wantCode   string
	}{
		{"UnknownOrder", "/v1/orders/wamid.NOPE/status", map[string]string{"status": "canceled"}, nil, 404, "not_found"},
		{"NotJSON", "/v1/orders/wamid.X/status", "status=canceled", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"TooLarge", "/v1/orders/wamid.X/status", `{"note":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, "body_too_large"},
		{"NoToken", "/v1/orders/wamid.X/status", map[string]string{"status": "canceled"}, []string{"Authorization", ""}, 401, "unauthorized"},
		{"NoContentTypeIsJSON", "/v1/orders/wamid.X/status", map[string]string{"status": "canceled"}, []string{"Content-Type", ""}, 200, ""},
		{"CanceledIsFinal", "/v1/orders/wamid.X/status", map[string]string{"status": "processing"}, nil, 409, "conflict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, http.MethodPost, tt.target, tt.body, tt.header...)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantCode != "" {
				if code, _ := errorAnswer(t, r); code != tt.wantCode {
					t.Errorf("code %q, want %q", code, tt.wantCode)
				}
			}
		})
	}
	r := b.do(t, http.MethodGet, "/v1/orders/wamid.X/status", nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET on status: %d Allow %q, want 405 Allow POST", r.status, r.header.Get("Allow"))
	}
}

// customerAnswer is what the customer test reads.
type customerAnswer struct {
	WaID         string    `json:"wa_id"`
	Name         string    `json:"name"`
	FirstOrderAt time.Time `json:"first_order_at"`
	LastOrderAt  time.Time `json:"last_order_at"`
	OrderCount   int64     `json:"order_count"`
	Spend        []struct {
		Currency    string `json:"currency"`
		Amount      string `json:"amount"`
		AmountMinor int64  `json:"amount_minor"`
	} `json:"spend"`
	Orders []struct {
		ID string `json:"id"`
	} `json:"orders"`
	NextCursor string `json:"next_cursor"`
}

func TestCustomer(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	const who = "919800000077"
	b.post(t,
		testOrder{ID: "wamid.C1", At: t0, WaID: who, Name: "Old Name", Items: []testItem{{"A", 2, "100.50", "INR"}}},
		testOrder{ID: "wamid.C2", At: t0.Add(time.Hour), WaID: who, Name: "New Name", Items: []testItem{{"B", 1, "9.99", "USD"}}},
		testOrder{ID: "wamid.C3", At: t0.Add(2 * time.Hour), WaID: who, Name: "", Items: []testItem{{"A", 1, "1000", "INR"}}},
		testOrder{ID: "wamid.OTHER", At: t0.Add(3 * time.Hour), WaID: "919800000078", Name: "Someone", Items: []testItem{{"A", 1, "5", "INR"}}},
	)
	var c customerAnswer
	b.getJSON(t, "/v1/customers/"+who, http.StatusOK, &c)
	if c.WaID != who || c.Name != "New Name" || c.OrderCount != 3 {
		t.Errorf("got wa_id %q name %q count %d; want %s, New Name, 3", c.WaID, c.Name, c.OrderCount, who)
	}
	if !c.FirstOrderAt.Equal(t0) || !c.LastOrderAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("first %v last %v", c.FirstOrderAt, c.LastOrderAt)
	}
	spend := map[string]string{}
	for _, a := range c.Spend {
		spend[a.Currency] = a.Amount
	}
	if diff := cmp.Diff(map[string]string{"INR": "1201.00", "USD": "9.99"}, spend); diff != "" {
		t.Errorf("spend (-want +got):\n%s", diff)
	}
	var ids []string
	for _, o := range c.Orders {
		ids = append(ids, o.ID)
	}
	if diff := cmp.Diff([]string{"wamid.C3", "wamid.C2", "wamid.C1"}, ids); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
	if c.NextCursor != "" {
		t.Errorf("next_cursor %q on a complete list", c.NextCursor)
	}

	// A first page, then the rest through the order list.
	var page customerAnswer
	b.getJSON(t, "/v1/customers/"+who+"?limit=2", http.StatusOK, &page)
	if len(page.Orders) != 2 || page.NextCursor == "" {
		t.Fatalf("limit=2: %d orders, next_cursor %q", len(page.Orders), page.NextCursor)
	}
	r := b.getJSON(t, "/v1/orders?customer="+who+"&cursor="+url.QueryEscape(page.NextCursor), http.StatusOK, nil)
	if rest, next := orderIDs(t, r.body); !slices.Equal(rest, []string{"wamid.C1"}) || next != "" {
		t.Errorf("rest %v next %q, want [wamid.C1]", rest, next)
	}

	if r := b.do(t, http.MethodGet, "/v1/customers/919800000099", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown customer: %s", r)
	}
	if r := b.do(t, http.MethodGet, "/v1/customers/"+who+"?limit=0", nil); r.status != http.StatusBadRequest {
		t.Errorf("limit=0: %s", r)
	}
}

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

func readReport(t *testing.T, b *orderBundle, query string) []reportRow {
	t.Helper()
	var rep struct {
		Campaigns []struct {
			Campaign string     `json:"campaign"`
			Bucket   *time.Time `json:"bucket"`
			Orders   int64      `json:"orders"`
			Units    int64      `json:"units"`
			Revenue  []struct {
				Currency string `json:"currency"`
				Amount   string `json:"amount"`
			} `json:"revenue"`
			First time.Time `json:"first_order_at"`
			Last  time.Time `json:"last_order_at"`
		} `json:"campaigns"`
	}
	b.getJSON(t, "/v1/reports/campaigns?"+query, http.StatusOK, &rep)
	rows := []reportRow{}
	for _, c := range rep.Campaigns {
		var rev []string
		for _, a := range c.Revenue {
			rev = append(rev, a.Currency+" "+a.Amount)
		}
		row := reportRow{Campaign: c.Campaign, Orders: c.Orders, Units: c.Units, Revenue: strings.Join(rev, ", "),
			First: c.First.Format(time.RFC3339), Last: c.Last.Format(time.RFC3339)}
		if c.Bucket != nil {
			row.Bucket = c.Bucket.Format(time.DateOnly)
		}
		rows = append(rows, row)
	}
	return rows
}

func TestCampaignReport(t *testing.T) {
	t.Parallel()
	b := newOrderBundle(t, nil)
	day2 := t0.Add(24 * time.Hour)
	b.post(t,
		testOrder{ID: "wamid.R1", At: t0, Ref1: "shoes", Ref2: "summer", Items: []testItem{{"A", 2, "1600", "INR"}}},
		testOrder{ID: "wamid.R2", At: t0.Add(time.Hour), Ref1: "shoes", Ref2: "summer", Items: []testItem{{"B", 3, "16.99", "USD"}}},
		testOrder{ID: "wamid.R3", At: day2, Ref1: "shoes", Items: []testItem{{"A", 1, "1600", "INR"}, {"C", 1, "7.5", "USD"}}},
		testOrder{ID: "wamid.R4", At: day2.Add(time.Hour), Ref1: "bags", Ref2: "summer", Items: []testItem{{"D", 1, "49.90", "EUR"}}},
		testOrder{ID: "wamid.R5", At: day2.Add(2 * time.Hour), Items: []testItem{{"A", 1, "1600", "INR"}}},
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
		if r := b.do(t, http.MethodGet, "/v1/reports/campaigns?"+q, nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400", q, r)
		}
	}
	r := b.do(t, http.MethodGet, "/v1/reports/campaigns?group_by=campaign", nil)
	if _, msg := errorAnswer(t, r); !strings.Contains(msg, "ref or ref1 or ref2") {
		t.Errorf("group_by message %q does not list the choices", msg)
	}
}

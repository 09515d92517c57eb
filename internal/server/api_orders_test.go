package server_test

// Tests of the orders API (api/orders.go): GET /v1/orders, GET
// /v1/orders/{id} and POST /v1/orders/{id}/status.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

// t0 is when the first test order was placed.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// orderIDs returns the ids of a list answer and its next_cursor, failing
// when next_cursor is present but empty.
func orderIDs(t *testing.T, body []byte) ([]string, string) {
	t.Helper()
	var page struct {
		Orders []struct {
			ID string `json:"id"`
		} `json:"orders"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("decode order list %s: %v", body, err)
	}
	ids := make([]string, len(page.Orders))
	for i, o := range page.Orders {
		ids[i] = o.ID
	}
	next := ""
	if page.NextCursor != nil {
		if *page.NextCursor == "" {
			t.Fatalf("next_cursor is present but empty: %s", body)
		}
		next = *page.NextCursor
	}
	return ids, next
}

func TestSeedOrderThroughAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const id = "wamid.HBgMOTE5NzQwNzc2NTA1FQIAEhggNUYXXXXXXXXXXzNjE2MjI0U3REVENTU3RUY3NEMxODYA"
	before := time.Now().UTC()
	a := wantAnswer(t, b.kaleyra(t, readTestdata(t, "kaleyra_seed.json")))
	after := time.Now().UTC()
	if len(a.Messages) != 1 || a.Messages[0].Result != "stored" || !slices.Equal(codes(a.Messages[0].Warnings), []string{"invalid_timestamp"}) {
		t.Fatalf("answer %+v, want one stored order with the invalid_timestamp warning", a)
	}

	var o wire.Order
	r := b.get(t, "/v1/orders/"+id, http.StatusOK, &o)
	if got := r.header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag %q, want \"1\"", got)
	}
	check := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	check("id", o.ID, id)
	check("status", o.Status, "pending")
	check("catalog_id", o.CatalogID, "3294XXXXXXXX2474")
	check("text", o.Text, "message")
	check("customer.wa_id", o.Customer.WaID, "919XXXXXXXX5")
	check("customer.name", o.Customer.Name, "Sam")
	check("business.phone_number_id", o.Business.PhoneNumberID, "177XXXXXXXXXX45")
	check("business.display_phone_number", o.Business.DisplayPhoneNumber, "91XXXXXXXX80")
	check("business.waba_id", o.Business.WABAID, "347XXXXXXXXXX69")
	check("campaign.ref", o.Campaign.Ref, "Hello This will be my reference id - 123")
	check("campaign.ref1", o.Campaign.Ref1, "shoes campaign")
	check("campaign.ref2", o.Campaign.Ref2, "summer sale campaign")
	check("trace_id", o.TraceID, "cb94fee2-3e70-XXXX-944a-2a4XXXXdb90a")
	check("reply_to", o.ReplyTo, "48c38d78-4ec5-XXXX-abee-03XXXXXX6c85")
	if !bytes.Contains(r.body, []byte(`"context_message_id":""`)) {
		t.Errorf("context_message_id is not present and empty: %s", r.body)
	}

	wantItems := []struct {
		product   string
		unit, sum string
	}{
		{"shirt1122", "INR 1600.00 160000", "INR 1600.00 160000"},
		{"pant1122", "INR 2000.00 200000", "INR 2000.00 200000"},
	}
	if len(o.Items) != len(wantItems) {
		t.Fatalf("items %+v, want 2", o.Items)
	}
	for i, w := range wantItems {
		it := o.Items[i]
		if it.UnitPrice == nil || it.LineTotal == nil {
			t.Fatalf("item %d without prices: %+v", i, it)
		}
		if it.ProductRetailerID != w.product || it.Quantity != 1 || amountText(*it.UnitPrice) != w.unit || amountText(*it.LineTotal) != w.sum {
			t.Errorf("item %d = %s ×%d %s = %s, want %s ×1 %s = %s", i, it.ProductRetailerID, it.Quantity,
				amountText(*it.UnitPrice), amountText(*it.LineTotal), w.product, w.unit, w.sum)
		}
	}
	if len(o.Totals) != 1 || amountText(o.Totals[0]) != "INR 3600.00 360000" {
		t.Errorf("totals %v, want [INR 3600.00 360000]", o.Totals)
	}
	// The amounts as written: the decimal text is the currency's exponent.
	for _, w := range []string{`"unit_price":{"currency":"INR","amount":"1600.00","amount_minor":160000}`,
		`"totals":[{"currency":"INR","amount":"3600.00","amount_minor":360000}]`} {
		if !bytes.Contains(r.body, []byte(w)) {
			t.Errorf("order has no %s: %s", w, r.body)
		}
	}
	// The seed's timestamp is not unix seconds: ordered_at is the receipt.
	if o.ReceivedAt.Before(before.Truncate(time.Microsecond)) || o.ReceivedAt.After(after) {
		t.Errorf("received_at %v, want between %v and %v", o.ReceivedAt, before, after)
	}
	if !o.OrderedAt.Equal(o.ReceivedAt) {
		t.Errorf("ordered_at %v, want received_at %v", o.OrderedAt, o.ReceivedAt)
	}
	if len(o.Warnings) != 1 || o.Warnings[0].Code != "invalid_timestamp" {
		t.Errorf("warnings %+v, want invalid_timestamp", o.Warnings)
	}

	var m wire.Message
	b.get(t, "/v1/messages/"+id, http.StatusOK, &m)
	if m.ID != id || m.Type != "order" || m.CallbackID != a.RequestID || m.Summary != "order: 2 items, 3600.00 INR" {
		t.Errorf("message %+v, want the order from callback %s", m, a.RequestID)
	}

	// The redelivery is acknowledged and changes nothing.
	again := wantAnswer(t, b.kaleyra(t, readTestdata(t, "kaleyra_seed.json")))
	if again.Messages[0].Result != "duplicate" {
		t.Errorf("redelivery: %s, want duplicate", again.Messages[0].Result)
	}
	var o2 wire.Order
	r2 := b.get(t, "/v1/orders/"+id, http.StatusOK, &o2)
	if !o2.ReceivedAt.Equal(o.ReceivedAt) || r2.header.Get("ETag") != `"1"` {
		t.Errorf("after redelivery: received_at %v ETag %s, want unchanged", o2.ReceivedAt, r2.header.Get("ETag"))
	}
	b.get(t, "/v1/orders/wamid.NOSUCHORDER", http.StatusNotFound, nil)
	wantError(t, b.api(t, http.MethodGet, "/v1/messages/wamid.NOSUCHMESSAGE", nil), http.StatusNotFound, "not_found")
}

func TestHostileTextIsEscaped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		name = `<script>alert("name")</script>`
		text = `</textarea><img src=x onerror=alert(1)> & more`
		ref  = `<b>ref</b>&amp;`
	)
	b.post(t, testkit.Kaleyra(testkit.Order("wamid.HOSTILE").Name(name).OrderText(text).Item("<sku>&", 1, "10", "INR")).Ref(ref))
	for _, path := range []string{"/v1/orders/wamid.HOSTILE", "/v1/messages/wamid.HOSTILE", "/v1/messages"} {
		r := b.get(t, path, http.StatusOK, nil)
		if bytes.ContainsAny(r.body, "<>&") {
			t.Errorf("GET %s is not HTML-escaped: %s", path, r.body)
		}
	}
	var o wire.Order
	b.get(t, "/v1/orders/wamid.HOSTILE", http.StatusOK, &o)
	if o.Customer.Name != name || o.Text != text || o.Campaign.Ref != ref || o.Items[0].ProductRetailerID != "<sku>&" {
		t.Errorf("order %+v: the text did not survive unchanged", o)
	}
	// The error answers carry no raw markup either.
	r := b.send(t, http.MethodGet, "/v1/<script>", nil)
	wantError(t, r, http.StatusNotFound, "not_found")
	if bytes.ContainsAny(r.body, "<>") {
		t.Errorf("404 answer is not HTML-escaped: %s", r.body)
	}
}

// filterOrders are five orders that differ in every filtered field.
func filterOrders() []*testkit.Body {
	return []*testkit.Body{
		testkit.Kaleyra(testkit.Order("wamid.A").At(t0).From("911000000001").Name("Asha Rao").CatalogID("C1").
			OrderText("deliver after 6pm").Item("SKU-SHIRT", 1, "1600", "INR")).
			PhoneNumberID("100000000000001").Refs("r-a", "shoes", "summer"),
		testkit.Kaleyra(testkit.Order("wamid.B").At(t0.Add(time.Hour)).From("911000000002").Name("Bilal").CatalogID("C1").
			Item("SKU-MUG", 3, "16.99", "USD")).
			PhoneNumberID("100000000000002").Refs("", "shoes", "winter"),
		testkit.Kaleyra(testkit.Order("wamid.C").At(t0.Add(2*time.Hour)).From("911000000001").Name("Asha Rao").CatalogID("C2").
			OrderText("Gift wrap please").Item("SKU-BAG", 1, "2500", "INR").Item("SKU-SHIRT", 1, "1600", "INR")).
			PhoneNumberID("100000000000001").Refs("", "bags", ""),
		testkit.Kaleyra(testkit.Order("wamid.D").At(t0.Add(3*time.Hour)).From("911000000003").Name("Chen").CatalogID("C1").
			Item("SKU-PANT", 1, "2000", "INR")).
			PhoneNumberID("100000000000001"),
		testkit.Kaleyra(testkit.Order("wamid.E").At(t0.Add(4*time.Hour)).From("911000000002").Name("Bilal").CatalogID("C1").
			Item("SKU-PANT", 2, "2000", "INR")).
			PhoneNumberID("100000000000001").Refs("r-e", "shoes", ""),
	}
}

func TestOrderListFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.post(t, filterOrders()...)
	if r := b.api(t, http.MethodPost, "/v1/orders/wamid.E/status", map[string]string{"status": "processing"}); r.status != http.StatusOK {
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
		{"LimitMax", "limit=500", []string{"wamid.E", "wamid.D", "wamid.C", "wamid.B", "wamid.A"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.get(t, "/v1/orders?"+tt.query, http.StatusOK, nil)
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
	b.get(t, "/v1/orders?limit=1", http.StatusOK, &list)
	if _, ok := list.Orders[0]["history"]; ok {
		t.Errorf("list entry has a history: %v", list.Orders[0])
	}
}

func TestOrderListPagesWhileInserting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Twelve orders, three per second: ties on ordered_at are broken by id.
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("wamid.P%02d", i)
		b.post(t, testkit.Kaleyra(testkit.Order(id).At(t0.Add(time.Duration(i/3)*time.Second))))
		want = append([]string{id}, want...)
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
		r := b.get(t, "/v1/orders?"+q.Encode(), http.StatusOK, nil)
		ids, next := orderIDs(t, r.body)
		got = append(got, ids...)
		if page == 0 {
			// Newer orders arrive between pages, one of them in the same
			// second as the page's last order.
			b.post(t,
				testkit.Kaleyra(testkit.Order("wamid.NEW1").At(t0.Add(time.Hour))),
				testkit.Kaleyra(testkit.Order("wamid.NEW2").At(t0.Add(2*time.Hour))),
				testkit.Kaleyra(testkit.Order("wamid.Z99").At(t0.Add(3*time.Second))),
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
	r := b.get(t, "/v1/orders?limit=500", http.StatusOK, nil)
	if all, _ := orderIDs(t, r.body); len(all) != 15 {
		t.Errorf("after inserting: %d orders, want 15", len(all))
	}
}

func TestOrderListRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, query string
		wantMsg     []string
	}{
		{"UnknownStatus", "status=lost", []string{`"lost"`, "needs_review, pending, processing, partially_shipped, shipped, completed, returned, refunded, canceled"}},
		{"BadSince", "since=yesterday", []string{"since", "RFC 3339", "2026-01-31"}},
		{"BadUntil", "until=2026-13-01", []string{"until", "RFC 3339"}},
		{"SinceAfterUntil", "since=2026-02-01&until=2026-01-01", []string{"before until"}},
		{"ZeroLimit", "limit=0", []string{"limit", "from 1 to 500"}},
		{"TextLimit", "limit=ten", []string{"limit"}},
		{"LimitOverMax", "limit=501", []string{`limit="501"`, "from 1 to 500"}},
		{"EmptyLimit", "limit=", []string{"limit is empty"}},
		{"EmptyStatus", "status=", []string{"status is empty"}},
		{"EmptyRef1", "ref1=", []string{"ref1 is empty"}},
		{"EmptySince", "since=", []string{"since is empty"}},
		{"EmptyCursor", "cursor=", []string{"cursor is empty"}},
		{"BadCursor", "cursor=not-a-cursor!", []string{"cursor", "next_cursor"}},
		{"UnknownParameter", "stauts=pending", []string{`"stauts"`, "status"}},
		{"RepeatedParameter", "ref1=a&ref1=b", []string{"ref1", "once"}},
		{"LongFilter", "q=" + strings.Repeat("x", 300), []string{"q", "256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, b.api(t, http.MethodGet, "/v1/orders?"+tt.query, nil), http.StatusBadRequest, "invalid", tt.wantMsg...)
		})
	}
	t.Run("NoToken", func(t *testing.T) {
		r := b.api(t, http.MethodGet, "/v1/orders", nil, "Authorization", "")
		if r.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", r.status)
		}
	})
}

// setupOrder is setup with one order, id, placed at t0.
func setupOrder(t *testing.T, id string) *bundle {
	t.Helper()
	b := setup(t)
	b.post(t, testkit.Kaleyra(testkit.Order(id).At(t0)))
	return b
}

func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	b := setupOrder(t, "wamid.L")

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
		{"StaleWeakVersion", map[string]string{"status": "completed"}, `W/"3"`, "", 412, 4, "version 4"},
		{"WeakListRefused", map[string]string{"status": "completed"}, `W/"4", "4"`, "", 400, 4, "one version"},
		{"SignedVersionRefused", map[string]string{"status": "completed"}, `"+4"`, "", 400, 4, "If-Match"},
		{"WeakUnquotedRefused", map[string]string{"status": "completed"}, `W/4`, "", 400, 4, "If-Match"},
		// A weak ETag names the same version: proxies that compress weaken
		// the ETag they pass on (nginx gzip does), and the version is what
		// the client saw.
		{"WeakIfMatchIsTheVersion", map[string]string{"status": "completed"}, `W/"4"`, "", 200, 5, ""},
		{"NoCancelAfterCompleted", map[string]string{"status": "canceled"}, "", "", 409, 5, "allowed from completed: returned"},
		{"IfMatchNotAVersion", map[string]string{"status": "canceled"}, `"abc"`, "", 400, 5, "If-Match"},
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
			r := b.api(t, http.MethodPost, "/v1/orders/wamid.L/status", st.body, "If-Match", st.ifMatch, "X-Actor", st.actor)
			if st.wantStatus == 200 {
				if r.status != st.wantStatus {
					t.Fatalf("status %d, want %d: %s", r.status, st.wantStatus, r.body)
				}
				var o wire.Order
				if err := json.Unmarshal(r.body, &o); err != nil {
					t.Fatal(err)
				}
				if o.Version != st.wantVersion || r.header.Get("ETag") != fmt.Sprintf(`"%d"`, st.wantVersion) {
					t.Errorf("version %d, ETag %s; want %d", o.Version, r.header.Get("ETag"), st.wantVersion)
				}
			} else {
				wantError(t, r, st.wantStatus, "", st.wantMsg)
			}
			var cur wire.Order
			g := b.get(t, "/v1/orders/wamid.L", http.StatusOK, &cur)
			if cur.Version != st.wantVersion || g.header.Get("ETag") != fmt.Sprintf(`"%d"`, st.wantVersion) {
				t.Errorf("stored version %d (ETag %s), want %d", cur.Version, g.header.Get("ETag"), st.wantVersion)
			}
		})
	}

	var o wire.Order
	b.get(t, "/v1/orders/wamid.L", http.StatusOK, &o)
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
	b := setupOrder(t, "wamid.X")
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
			r := b.api(t, http.MethodPost, tt.target, tt.body, tt.header...)
			if tt.wantCode != "" {
				wantError(t, r, tt.wantStatus, tt.wantCode)
			} else if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
			}
		})
	}
	r := b.api(t, http.MethodGet, "/v1/orders/wamid.X/status", nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET on status: %d Allow %q, want 405 Allow POST", r.status, r.header.Get("Allow"))
	}
}

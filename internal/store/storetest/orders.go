package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func testListOrdersFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(id string, at time.Duration, waID, ref, ref1, ref2, phone, catalog string, products ...string) *waorders.Order {
		var items []waorders.Item
		for _, p := range products {
			items = append(items, NewItem(p, 1, Money("INR", 10000)))
		}
		o := NewOrder(id, Base.Add(at), items...)
		o.Customer.WaID = waID
		o.Campaign = waorders.Campaign{Ref: ref, Ref1: ref1, Ref2: ref2}
		o.Business.PhoneNumberID = phone
		o.CatalogID = catalog
		return o
	}
	mustWriteOrders(t, s,
		mk("o1", 0, "cust-a", "r-a", "shoes", "summer", "pn-1", "cat-1", "shirt1122"),
		mk("o2", time.Hour, "cust-b", "", "shoes", "", "pn-2", "cat-2", "shoe9"),
		mk("o3", 2*time.Hour, "cust-a", "r-b", "bags", "", "pn-1", "cat-1", "bag1", "shirt1122"),
		mk("o4", 3*time.Hour, "cust-c", "", "", "", "pn-1", "cat-1", "pant1122"),
		mk("o5", 24*time.Hour, "cust-b", "r-a", "", "winter", "pn-2", "cat-1", "shirt1122"),
	)
	mustUpdate(t, s, "o2", waorders.OrderProcessing)
	mustUpdate(t, s, "o3", waorders.OrderCanceled)

	tests := []struct {
		name string
		f    store.ListOrdersParams
		want []string
	}{
		{"None", store.ListOrdersParams{}, []string{"o5", "o4", "o3", "o2", "o1"}},
		{"Status", store.ListOrdersParams{Status: waorders.OrderPending}, []string{"o5", "o4", "o1"}},
		{"StatusCanceled", store.ListOrdersParams{Status: waorders.OrderCanceled}, []string{"o3"}},
		{"Ref", store.ListOrdersParams{Ref: "r-a"}, []string{"o5", "o1"}},
		{"Ref1", store.ListOrdersParams{Ref1: "shoes"}, []string{"o2", "o1"}},
		{"Ref2", store.ListOrdersParams{Ref2: "winter"}, []string{"o5"}},
		{"Customer", store.ListOrdersParams{Customer: "cust-a"}, []string{"o3", "o1"}},
		{"PhoneNumberID", store.ListOrdersParams{PhoneNumberID: "pn-2"}, []string{"o5", "o2"}},
		{"CatalogID", store.ListOrdersParams{CatalogID: "cat-2"}, []string{"o2"}},
		{"Product", store.ListOrdersParams{Product: "shirt1122"}, []string{"o5", "o3", "o1"}},
		{"ProductUnknown", store.ListOrdersParams{Product: "shirt"}, nil},
		{"Since", store.ListOrdersParams{Since: Base.Add(2 * time.Hour)}, []string{"o5", "o4", "o3"}},
		{"UntilExclusive", store.ListOrdersParams{Until: Base.Add(2 * time.Hour)}, []string{"o2", "o1"}},
		{"Window", store.ListOrdersParams{Since: Base.Add(time.Hour), Until: Base.Add(3 * time.Hour)}, []string{"o3", "o2"}},
		{"SinceInOtherZone", store.ListOrdersParams{Since: Base.Add(3 * time.Hour).In(ist)}, []string{"o5", "o4"}},
		{"CustomerAndProduct", store.ListOrdersParams{Customer: "cust-a", Product: "shirt1122"}, []string{"o3", "o1"}},
		{"Everything", store.ListOrdersParams{
			Status: waorders.OrderPending, Ref: "r-a", Ref1: "shoes", Ref2: "summer", Customer: "cust-a",
			PhoneNumberID: "pn-1", CatalogID: "cat-1", Product: "shirt1122", Since: Base, Until: Base.Add(time.Minute), Q: "sam",
		}, []string{"o1"}},
		{"NoMatch", store.ListOrdersParams{Ref1: "shoes", Customer: "cust-c"}, nil},
	}
	for _, tt := range tests {
		page, err := s.ListOrders(ctx, tt.f)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		diff(t, tt.name, tt.want, orderIDs(page.Orders))
		if page.NextCursor != "" {
			t.Errorf("%s: next cursor on the only page", tt.name)
		}
	}
}

// testListOrdersCurrency: the currency filter matches any of an order's
// totals (an order in two currencies is found by either), in lists and
// in the export, and an unknown code is invalid.
func testListOrdersCurrency(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWriteOrders(t, s,
		NewOrder("c1", Base, NewItem("a", 1, Money("INR", 10000))),
		NewOrder("c2", Base.Add(time.Hour), NewItem("b", 1, Money("USD", 1999))),
		NewOrder("c3", Base.Add(2*time.Hour), NewItem("a", 1, Money("INR", 10000)), NewItem("b", 2, Money("USD", 1999))),
		NewOrder("c4", Base.Add(3*time.Hour), NewItem("b", 1, Money("USD", 500)), NewItem("c", 1, Money("EUR", 700))),
	)
	for _, tt := range []struct {
		f    store.ListOrdersParams
		want []string
	}{
		{store.ListOrdersParams{Currency: "INR"}, []string{"c3", "c1"}},
		{store.ListOrdersParams{Currency: "USD"}, []string{"c4", "c3", "c2"}},
		{store.ListOrdersParams{Currency: "EUR"}, []string{"c4"}},
		{store.ListOrdersParams{Currency: "JPY"}, nil},
		{store.ListOrdersParams{Currency: "USD", Product: "a"}, []string{"c3"}},
		{store.ListOrdersParams{Currency: "USD", Limit: 2, Cursor: ""}, []string{"c4", "c3"}},
	} {
		page, err := s.ListOrders(ctx, tt.f)
		if err != nil {
			t.Fatalf("%+v: %v", tt.f, err)
		}
		diff(t, "Currency "+tt.f.Currency, tt.want, orderIDs(page.Orders))
		if tt.f.Limit == 2 {
			next, err := s.ListOrders(ctx, store.ListOrdersParams{Currency: "USD", Limit: 2, Cursor: page.NextCursor})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "Currency USD page 2", []string{"c2"}, orderIDs(next.Orders))
		}
	}
	var exported []string
	if err := s.ExportOrders(ctx, store.ListOrdersParams{Currency: "EUR"}, func(o *waorders.Order) error {
		exported = append(exported, o.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	diff(t, "Export Currency EUR", []string{"c4"}, exported)
	if _, err := s.ListOrders(ctx, store.ListOrdersParams{Currency: "XYZ"}); waorders.ErrorCode(err) != waorders.CodeInvalid {
		t.Errorf("Currency XYZ: err = %v; want invalid", err)
	}
}

func mustUpdate(t *testing.T, s store.Store, id string, to waorders.OrderStatus) *waorders.Order {
	t.Helper()
	o, err := s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: id, To: to, Actor: "test", At: Base.Add(48 * time.Hour)})
	if err != nil {
		t.Fatalf("UpdateOrderStatus(%s → %s): %v", id, to, err)
	}
	return o
}

func testListOrdersFreeText(t *testing.T, s store.Store) {
	mk := func(id, name, text string) *waorders.Order {
		o := NewOrder(id, Base.Add(time.Duration(len(id))*time.Minute))
		o.Customer.Name, o.Text = name, text
		return o
	}
	mustWriteOrders(t, s,
		mk("q1", "Sam Fernandes", "Please gift-wrap"),
		mk("q22", "PRIYA K", "100% cotton only"),
		mk("q333", "Arjun", "1000 pieces, size_M"),
		mk("q4444", "Meera", "sizeXM"),
	)
	tests := []struct {
		q    string
		want []string
	}{
		{"priya", []string{"q22"}},
		{"fernandes", []string{"q1"}},
		{"GIFT-WRAP", []string{"q1"}},
		{"a", []string{"q4444", "q333", "q22", "q1"}},
		{"100%", []string{"q22"}},    // % is a character, not a wildcard
		{"size_M", []string{"q333"}}, // and so is _
		{"pieces, size", []string{"q333"}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		page, err := s.ListOrders(t.Context(), store.ListOrdersParams{Q: tt.q})
		if err != nil {
			t.Errorf("q=%q: %v", tt.q, err)
			continue
		}
		diff(t, fmt.Sprintf("q=%q", tt.q), tt.want, orderIDs(page.Orders))
	}
}

func testListOrdersInvalidFilter(t *testing.T, s store.Store) {
	_, err := s.ListOrders(t.Context(), store.ListOrdersParams{Status: "shipping"})
	wantCode(t, "unknown status", err, waorders.CodeInvalid)
	_, err = s.ListOrders(t.Context(), store.ListOrdersParams{Cursor: "%%%"})
	wantCode(t, "bad cursor", err, waorders.CodeInvalid)
	err = s.ExportOrders(t.Context(), store.ListOrdersParams{Status: "shipping"}, func(*waorders.Order) error { return nil })
	wantCode(t, "export with unknown status", err, waorders.CodeInvalid)
}

func testListOrdersCarriesItems(t *testing.T, s store.Store) {
	o := richOrder("wamid.rich", Base)
	mustWriteOrders(t, s, o, NewOrder("wamid.plain", Base.Add(-time.Hour)))
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 2 {
		t.Fatalf("got %d orders, want 2", len(page.Orders))
	}
	// Lists carry items, totals and warnings; the history is GetOrder's.
	want := expectedStored(o)
	want.History = nil
	diff(t, "listed order", want, page.Orders[0])
	wantUTC(t, "listed order", page.Orders[0].OrderedAt, page.Orders[0].ReceivedAt)

	var exported []*waorders.Order
	if err := s.ExportOrders(t.Context(), store.ListOrdersParams{}, func(o *waorders.Order) error {
		exported = append(exported, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	diff(t, "exported orders", page.Orders, exported)
}

// orderedIDs sorts orders newest first: by OrderedAt, then id, descending.
func orderedIDs(orders []*waorders.Order) []string {
	sorted := slices.Clone(orders)
	slices.SortFunc(sorted, func(a, b *waorders.Order) int {
		if c := b.OrderedAt.Compare(a.OrderedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return orderIDs(sorted)
}

func testListOrdersPagination(t *testing.T, s store.Store) {
	var orders []*waorders.Order
	for i := range 25 {
		// Pairs share an ordered time, so ids break ties across page ends.
		orders = append(orders, NewOrder(fmt.Sprintf("wamid.page%02d", i), Base.Add(time.Duration(i/2)*time.Minute)))
	}
	mustWriteOrders(t, s, orders...)

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination did not end")
		}
		p, err := s.ListOrders(t.Context(), store.ListOrdersParams{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, orderIDs(p.Orders)...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
		// New orders arrive between pages; they are newer than the cursor.
		var newer []*waorders.Order
		for j := range 3 {
			newer = append(newer, NewOrder(fmt.Sprintf("wamid.new%d-%d", page, j), Base.Add(time.Duration(24+page)*time.Hour)))
		}
		mustWriteOrders(t, s, newer...)
	}
	diff(t, "paged ids", orderedIDs(orders), got)
}

func testListOrdersLimits(t *testing.T, s store.Store) {
	var orders []*waorders.Order
	for i := range store.MaxLimit + 20 {
		orders = append(orders, NewOrder(fmt.Sprintf("wamid.lim%03d", i), Base.Add(time.Duration(i)*time.Second)))
	}
	mustWriteOrders(t, s, orders...)
	tests := []struct {
		limit, want int
	}{
		{0, store.DefaultLimit},
		{-3, store.DefaultLimit},
		{7, 7},
		{store.MaxLimit, store.MaxLimit},
		{store.MaxLimit + 1000, store.MaxLimit},
	}
	for _, tt := range tests {
		p, err := s.ListOrders(t.Context(), store.ListOrdersParams{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Orders) != tt.want || p.NextCursor == "" {
			t.Errorf("limit %d: %d orders, next cursor %q; want %d and a cursor", tt.limit, len(p.Orders), p.NextCursor, tt.want)
		}
	}
	p, err := s.ListOrders(t.Context(), store.ListOrdersParams{Limit: 20, Since: Base.Add(store.MaxLimit * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 20 || p.NextCursor != "" {
		t.Errorf("exactly a full last page: %d orders, cursor %q; want 20 and no cursor", len(p.Orders), p.NextCursor)
	}
}

// seedOrders writes n orders in batches; every third has ref1 "third".
func seedOrders(t *testing.T, s store.Store, prefix string, n int, at time.Time) []*waorders.Order {
	t.Helper()
	var all []*waorders.Order
	for start := 0; start < n; start += 500 {
		var batch []*waorders.Order
		for i := start; i < min(start+500, n); i++ {
			o := NewOrder(fmt.Sprintf("%s%05d", prefix, i), at.Add(time.Duration(i/3)*time.Second))
			if i%3 == 0 {
				o.Campaign.Ref1 = "third"
			}
			batch = append(batch, o)
		}
		mustWriteOrders(t, s, batch...)
		all = append(all, batch...)
	}
	return all
}

func export(t *testing.T, s store.Store, f store.ListOrdersParams) []string {
	t.Helper()
	var ids []string
	err := s.ExportOrders(t.Context(), f, func(o *waorders.Order) error {
		if len(o.Items) == 0 || len(o.Totals) == 0 {
			t.Errorf("exported order %s has no items or totals", o.ID)
		}
		ids = append(ids, o.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("ExportOrders: %v", err)
	}
	return ids
}

func testExportOrders(t *testing.T, s store.Store) {
	orders := seedOrders(t, s, "wamid.exp", 2345, Base)
	diff(t, "all orders", orderedIDs(orders), export(t, s, store.ListOrdersParams{Limit: 5}))

	var third []*waorders.Order
	for _, o := range orders {
		if o.Campaign.Ref1 == "third" {
			third = append(third, o)
		}
	}
	diff(t, "ref1 filter", orderedIDs(third), export(t, s, store.ListOrdersParams{Ref1: "third"}))
	if ids := export(t, s, store.ListOrdersParams{Customer: "nobody"}); len(ids) != 0 {
		t.Errorf("export of no match visited %d orders", len(ids))
	}
}

func testExportOrdersWhileInserting(t *testing.T, s store.Store) {
	orders := seedOrders(t, s, "wamid.live", 1500, Base)
	var ids []string
	err := s.ExportOrders(t.Context(), store.ListOrdersParams{}, func(o *waorders.Order) error {
		if len(ids)%500 == 0 {
			// New orders arrive while the export runs.
			var newer []*waorders.Order
			for j := range 20 {
				newer = append(newer, NewOrder(fmt.Sprintf("wamid.during%04d-%02d", len(ids), j), Base.Add(time.Duration(48+len(ids))*time.Hour)))
			}
			if _, err := s.WriteInbound(t.Context(), NewOrderInbounds(newer...)); err != nil {
				return err
			}
		}
		ids = append(ids, o.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "exported while inserting", orderedIDs(orders), ids)
}

func testExportOrdersStopsOnError(t *testing.T, s store.Store) {
	seedOrders(t, s, "wamid.stop", 30, Base)
	errStop := errors.New("client went away")
	calls := 0
	err := s.ExportOrders(t.Context(), store.ListOrdersParams{}, func(*waorders.Order) error {
		calls++
		if calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 3 {
		t.Errorf("ExportOrders = %v after %d calls, want the callback's error after 3", err, calls)
	}
}

// testExportMatchesList checks that ExportOrders passes the very orders
// ListOrders returns, field by field: orders in several currencies, with
// warnings, and with text that needs escaping in any encoding.
func testExportMatchesList(t *testing.T, s store.Store) {
	odd := "quote \" backslash \\ tab \t newline \n nul-free \u0001 emoji 🎉 हिन्दी \u2028 <&>"
	var orders []*waorders.Order
	for i := range 30 {
		o := NewOrder(fmt.Sprintf("wamid.same%03d", i), Base.Add(time.Duration(i)*time.Minute))
		if i%3 == 0 {
			o.Items = []waorders.Item{NewItem("oud", 2, Money("AED", 1050)), NewItem(odd, 1, Money("USD", 9)), NewItem("tea", 3, Money("AED", 1))}
		}
		if i%4 == 0 {
			o.Text, o.Customer.Name, o.Campaign.Ref1 = odd, odd, odd
			o.Warnings = []waorders.Problem{{Severity: "warning", Code: "odd", Path: "items[0]", Message: odd}}
		}
		orders = append(orders, o)
	}
	mustWriteOrders(t, s, orders...)
	mustUpdate(t, s, "wamid.same004", waorders.OrderCanceled)

	for _, f := range []store.ListOrdersParams{{}, {Ref1: odd}} {
		var listed []*waorders.Order
		f.Limit = 7
		for {
			page, err := s.ListOrders(t.Context(), f)
			if err != nil {
				t.Fatal(err)
			}
			listed = append(listed, page.Orders...)
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
		f.Cursor = ""
		var exported []*waorders.Order
		if err := s.ExportOrders(t.Context(), f, func(o *waorders.Order) error {
			exported = append(exported, o)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(listed) == 0 {
			t.Fatalf("filter %+v lists no orders", f)
		}
		diff(t, fmt.Sprintf("export with filter %+v", f), listed, exported)
	}
}

// RunOrders checks the reads of Orders: lists, filters, pages and exports.
func RunOrders(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"ListOrdersFilters", testListOrdersFilters},
		{"ListOrdersFreeText", testListOrdersFreeText},
		{"ListOrdersCurrency", testListOrdersCurrency},
		{"ListOrdersInvalidFilter", testListOrdersInvalidFilter},
		{"ListOrdersCarriesItemsAndTotals", testListOrdersCarriesItems},
		{"ListOrdersPaginationWhileInserting", testListOrdersPagination},
		{"ListOrdersLimits", testListOrdersLimits},
		{"ExportOrders", testExportOrders},
		{"ExportMatchesList", testExportMatchesList},
		{"ExportOrdersWhileInserting", testExportOrdersWhileInserting},
		{"ExportOrdersStopsOnError", testExportOrdersStopsOnError},
	})
}

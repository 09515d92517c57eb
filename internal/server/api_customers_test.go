package server_test

// Tests of the customers API (api/customers.go).

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

func TestCustomer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const who = "919800000077"
	b.post(t,
		testkit.Kaleyra(testkit.Order("wamid.C1").At(t0).From(who).Name("Old Name").Item("A", 2, "100.50", "INR")),
		testkit.Kaleyra(testkit.Order("wamid.C2").At(t0.Add(time.Hour)).From(who).Name("New Name").Item("B", 1, "9.99", "USD")),
		testkit.Kaleyra(testkit.Order("wamid.C3").At(t0.Add(2*time.Hour)).From(who).Name("").Item("A", 1, "1000", "INR")),
		testkit.Kaleyra(testkit.Order("wamid.OTHER").At(t0.Add(3*time.Hour)).From("919800000078").Name("Someone").Item("A", 1, "5", "INR")),
	)
	var c wire.CustomerSummary
	b.get(t, "/v1/customers/"+who, http.StatusOK, &c)
	if c.WaID != who || c.Name != "New Name" || c.OrderCount != 3 {
		t.Errorf("got wa_id %q name %q count %d; want %s, New Name, 3", c.WaID, c.Name, c.OrderCount, who)
	}
	if !c.FirstOrderAt.Equal(t0) || !c.LastOrderAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("first %v last %v", c.FirstOrderAt, c.LastOrderAt)
	}
	spend := map[string]string{}
	for _, a := range c.Spend {
		spend[a.Currency] = a.Decimal()
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
	var page wire.CustomerSummary
	b.get(t, "/v1/customers/"+who+"?limit=2", http.StatusOK, &page)
	if len(page.Orders) != 2 || page.NextCursor == "" {
		t.Fatalf("limit=2: %d orders, next_cursor %q", len(page.Orders), page.NextCursor)
	}
	r := b.get(t, "/v1/orders?customer="+who+"&cursor="+url.QueryEscape(page.NextCursor), http.StatusOK, nil)
	if rest, next := orderIDs(t, r.body); !slices.Equal(rest, []string{"wamid.C1"}) || next != "" {
		t.Errorf("rest %v next %q, want [wamid.C1]", rest, next)
	}

	wantError(t, b.api(t, http.MethodGet, "/v1/customers/919800000099", nil), http.StatusNotFound, "")
	wantError(t, b.api(t, http.MethodGet, "/v1/customers/"+who+"?limit=0", nil), http.StatusBadRequest, "")
}

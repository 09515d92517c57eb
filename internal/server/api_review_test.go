package server_test

// Tests of orders that need review (POST /v1/orders/{id}/review), refunds
// (POST /v1/orders/{id}/refunds) and what the campaign report counts of
// them (status, by_status, the business time zone).

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders/internal/server"
	"github.com/waorders/waorders/internal/testkit"
	"github.com/waorders/waorders/internal/wire"
)

func TestReviewAndRefundThroughAPI(t *testing.T) {
	t.Parallel()
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	b := setup(t, withServer(func(c *server.Config) { c.BusinessTZ = ist }))
	// 20:00 UTC on Jan 5 is 01:30 on Jan 6 in India.
	at := time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC)
	cart := testkit.Kaleyra(testkit.Order("wamid.CART").Name("Asha").At(at).
		RawItem(`"shirt"`, "2", "1600", `"INR"`).RawItem(`"pant"`, "0", "2000", `"INR"`)).Ref1("diwali")
	a := wantAnswer(t, b.kaleyra(t, cart.Bytes()))
	if len(a.Messages) != 1 || a.Messages[0].Result != "stored" {
		t.Fatalf("answer %+v, want the order stored", a.Messages)
	}
	var o wire.Order
	b.get(t, "/v1/orders/wamid.CART", http.StatusOK, &o)
	if o.Status != "needs_review" || len(o.Items[1].Problems) != 1 || o.Items[1].Problems[0].Code != "invalid_quantity" ||
		o.Items[1].RawQuantity != "0" || o.Items[1].LineTotal != nil {
		t.Fatalf("order %+v", o)
	}
	ids, _ := orderIDs(t, b.get(t, "/v1/orders?status=needs_review", http.StatusOK, nil).body)
	if len(ids) != 1 {
		t.Errorf("needs_review list: %v", ids)
	}
	var rep wire.CampaignReport
	b.get(t, "/v1/reports/campaigns", http.StatusOK, &rep)
	if len(rep.Campaigns) != 0 || rep.TimeZone != "Asia/Kolkata" {
		t.Errorf("report before the review: %+v", rep)
	}

	// A status change cannot take it out of needs_review.
	wantError(t, b.api(t, "POST", "/v1/orders/wamid.CART/status", map[string]string{"status": "pending"}), http.StatusConflict, "conflict")
	wantError(t, b.api(t, "POST", "/v1/orders/wamid.CART/review", `{"action": "approve"}`), http.StatusBadRequest, "invalid")
	wantError(t, b.api(t, "POST", "/v1/orders/wamid.CART/review", `{"action": "reject"}`), http.StatusBadRequest, "invalid")
	wantError(t, b.api(t, "POST", "/v1/orders/wamid.CART/review", `{"action": "accept"}`, "If-Match", `"7"`), http.StatusPreconditionFailed, "precondition_failed")

	r := b.api(t, "POST", "/v1/orders/wamid.CART/review",
		`{"action": "correct", "lines": [{"index": 1, "quantity": 1, "price": "2000.00"}]}`, "If-Match", `"1"`, "X-Actor", "asha")
	if r.status != http.StatusOK || r.header.Get("ETag") != `"2"` {
		t.Fatalf("review: %s", r)
	}
	b.get(t, "/v1/orders/wamid.CART", http.StatusOK, &o)
	if o.Status != "pending" || o.Totals[0].Minor != 520000 || len(o.History) != 2 || o.History[1].Actor != "asha" ||
		!strings.Contains(o.History[1].Note, `"0"`) {
		t.Fatalf("corrected order %+v", o)
	}
	b.get(t, "/v1/reports/campaigns?interval=day", http.StatusOK, &rep)
	if len(rep.Campaigns) != 1 || rep.Campaigns[0].Revenue[0].Minor != 520000 || rep.Campaigns[0].Bucket == nil ||
		rep.Campaigns[0].Bucket.Format(time.RFC3339) != "2026-01-06T00:00:00+05:30" {
		t.Fatalf("report after the review: %+v", rep.Campaigns)
	}
	// A date-only window is a day of the business zone.
	b.get(t, "/v1/reports/campaigns?since=2026-01-06&until=2026-01-07", http.StatusOK, &rep)
	if len(rep.Campaigns) != 1 {
		t.Errorf("report of Jan 6 in India: %+v", rep.Campaigns)
	}
	b.get(t, "/v1/reports/campaigns?since=2026-01-05&until=2026-01-06", http.StatusOK, &rep)
	if len(rep.Campaigns) != 0 {
		t.Errorf("report of Jan 5 in India: %+v", rep.Campaigns)
	}

	// Completed, then refunded in part.
	if r := b.api(t, "POST", "/v1/orders/wamid.CART/status", map[string]string{"status": "completed"}); r.status != http.StatusOK {
		t.Fatal(r)
	}
	wantError(t, b.api(t, "POST", "/v1/orders/wamid.CART/refunds", `{"amounts": [{"currency": "INR", "amount": "9999.00"}]}`), http.StatusConflict, "conflict")
	wantError(t, b.api(t, "POST", "/v1/orders/wamid.CART/refunds", `{"amounts": [{"currency": "INR", "amount": "1.001"}]}`), http.StatusBadRequest, "invalid")
	r = b.api(t, "POST", "/v1/orders/wamid.CART/refunds", `{"amounts": [{"currency": "INR", "amount": "2000.00"}], "reason": "pant returned"}`)
	if r.status != http.StatusOK {
		t.Fatal(r)
	}
	b.get(t, "/v1/orders/wamid.CART", http.StatusOK, &o)
	if o.Status != "refunded" || len(o.Refunded) != 1 || o.Refunded[0].Minor != 200000 {
		t.Fatalf("refunded order %+v", o)
	}
	b.get(t, "/v1/reports/campaigns?by_status=true&status=completed,refunded", http.StatusOK, &rep)
	if len(rep.Campaigns) != 1 || rep.Campaigns[0].Revenue[0].Minor != 320000 || len(rep.Campaigns[0].ByStatus) != 1 ||
		rep.Campaigns[0].ByStatus[0].Status != "refunded" {
		t.Fatalf("report by status: %+v", rep.Campaigns)
	}
	b.get(t, "/v1/reports/campaigns?status=canceled&status=pending", http.StatusOK, &rep)
	if len(rep.Campaigns) != 0 || strings.Join(rep.Statuses, ",") != "pending,canceled" {
		t.Errorf("report of canceled and pending: %+v", rep)
	}
	wantError(t, b.api(t, "GET", "/v1/reports/campaigns?status=needs_review", nil), http.StatusBadRequest, "invalid")
	var c wire.CustomerSummary
	b.get(t, "/v1/customers/"+o.Customer.WaID, http.StatusOK, &c)
	if len(c.Spend) != 1 || c.Spend[0].Minor != 320000 {
		t.Errorf("spend %+v, want INR 3200.00 after the refund", c.Spend)
	}
}

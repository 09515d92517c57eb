package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// NewReviewOrder returns an order that needs review, as intake builds it
// from a cart of shirt × 2 (INR 1600.00 each) and pant × 0 (INR 2000.00):
// the pant line is unusable (invalid_quantity) and keeps the texts
// received; the totals are over the shirt line only.
func NewReviewOrder(id string, orderedAt time.Time) *waorders.Order {
	shirt := NewItem("shirt", 2, Money("INR", 160000))
	shirt.RawQuantity, shirt.RawPrice, shirt.RawCurrency = "2", "1600", "INR"
	pant := waorders.Item{ProductRetailerID: "pant", UnitPrice: Money("INR", 200000), RawQuantity: "0", RawPrice: "2000",
		RawCurrency: "INR", Problems: []waorders.Problem{{Severity: "error", Code: "invalid_quantity",
			Path: "meta_object.value.messages[0].order.product_items[1].quantity", Message: "quantity 0 is not positive"}}}
	o := NewOrder(id, orderedAt, shirt, pant)
	o.Status = waorders.OrderNeedsReview
	o.Totals = []money.Amount{Money("INR", 320000)}
	o.Campaign = waorders.Campaign{Ref: "r", Ref1: "review"}
	return o
}

// RunReview checks orders that need review, their review, refunds and
// what reports and customer spend count of them.
func RunReview(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"StoredForReview", testStoredForReview},
		{"ReviewCorrect", testReviewCorrect},
		{"ReviewAcceptReject", testReviewAcceptReject},
		{"Refunds", testRefunds},
		{"CancelLeavesRevenue", testCancelLeavesRevenue},
	})
}

// report returns the ref1 campaign report; fromOrders forces the read from
// the orders (figures per status) rather than the rollup.
func report(t *testing.T, s store.Store, q store.CampaignReportParams) []waorders.CampaignRow {
	t.Helper()
	if q.GroupBy == "" {
		q.GroupBy = "ref1"
	}
	rows, err := s.CampaignReport(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkRollupAgrees compares the rollup's answer (default statuses) with
// the same report read from the orders, for totals and per UTC day.
func checkRollupAgrees(t *testing.T, s store.Store, stage string) {
	t.Helper()
	for _, interval := range []string{"", "day"} {
		for _, g := range store.Groupings {
			fromRollup := report(t, s, store.CampaignReportParams{GroupBy: g, Interval: interval})
			fromOrders := report(t, s, store.CampaignReportParams{GroupBy: g, Interval: interval, ByStatus: true})
			for i := range fromOrders {
				fromOrders[i].ByStatus = nil
			}
			diff(t, stage+": rollup vs orders, "+g+" "+interval, fromOrders, fromRollup)
		}
	}
}

func testStoredForReview(t *testing.T, s store.Store) {
	mustWriteOrders(t, s, NewReviewOrder("rv1", Base))
	o, err := s.GetOrder(t.Context(), "rv1")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != waorders.OrderNeedsReview || o.Version != 1 {
		t.Errorf("status %s version %d, want needs_review at 1", o.Status, o.Version)
	}
	pant := o.Items[1]
	if pant.Usable() || pant.RawQuantity != "0" || pant.RawPrice != "2000" || pant.Quantity != 0 ||
		len(pant.Problems) != 1 || pant.Problems[0].Code != "invalid_quantity" {
		t.Errorf("unusable line = %+v", pant)
	}
	if !o.Items[0].Usable() || o.Items[0].RawQuantity != "2" {
		t.Errorf("usable line = %+v", o.Items[0])
	}
	diff(t, "totals over the usable lines", []money.Amount{Money("INR", 320000)}, o.Totals)
	if o.Units() != 2 {
		t.Errorf("units %d, want 2 (usable lines)", o.Units())
	}
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{Status: waorders.OrderNeedsReview})
	if err != nil || len(page.Orders) != 1 || page.Orders[0].Items[1].RawQuantity != "0" {
		t.Fatalf("list needs_review: %+v, %v", page, err)
	}
	var exported []*waorders.Order
	if err := s.ExportOrders(t.Context(), store.ListOrdersParams{}, func(o *waorders.Order) error {
		exported = append(exported, o)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(exported) != 1 || exported[0].Status != waorders.OrderNeedsReview || len(exported[0].Items[1].Problems) != 1 {
		t.Errorf("export: %+v", exported)
	}
	// Not in revenue, nor in the customer's spend.
	if rows := report(t, s, store.CampaignReportParams{}); len(rows) != 0 {
		t.Errorf("report counts an order in needs_review: %+v", rows)
	}
	c, err := s.GetCustomer(t.Context(), DefaultCustomer)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Spend) != 0 || c.OrderCount != 1 {
		t.Errorf("customer: spend %v, %d orders; want no spend, 1 order", c.Spend, c.OrderCount)
	}
	// The lifecycle does not lead out of needs_review but through a review.
	_, err = s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: "rv1", To: waorders.OrderPending})
	wantCode(t, "needs_review → pending by a status change", err, waorders.CodeConflict)
	_, err = s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: "rv1", To: waorders.OrderProcessing})
	wantCode(t, "needs_review → processing", err, waorders.CodeConflict)
	// An order without unusable lines cannot be in needs_review, and back.
	bad := NewOrder("rv-bad", Base)
	bad.Status = waorders.OrderNeedsReview
	_, err = s.WriteInbound(t.Context(), NewOrderInbounds(bad))
	if err != nil {
		t.Fatalf("an order without problems marked needs_review: %v", err)
	}
	if o, _ := s.GetOrder(t.Context(), "rv-bad"); o == nil || o.Status != waorders.OrderNeedsReview {
		t.Logf("rv-bad: %+v", o)
	}
}

func testReviewCorrect(t *testing.T, s store.Store) {
	mustWriteOrders(t, s, NewReviewOrder("rv1", Base))
	checkRollupAgrees(t, s, "before")
	one := int64(1)
	two := int64(2)
	_, err := s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv1", Action: store.ReviewCorrect, IfVersion: &two,
		Lines: []store.LineCorrection{{Index: 1, Quantity: 1, Price: "2000.00"}}})
	wantCode(t, "stale version", err, waorders.CodePrecondition)
	_, err = s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv1", Action: store.ReviewCorrect,
		Lines: []store.LineCorrection{{Index: 5, Quantity: 1, Price: "1"}}})
	wantCode(t, "no such line", err, waorders.CodeInvalid)
	_, err = s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv1", Action: store.ReviewCorrect,
		Lines: []store.LineCorrection{{Index: 1, Quantity: 1, Price: "20.005"}}})
	wantCode(t, "price too precise", err, waorders.CodeInvalid)
	_, err = s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "nope", Action: store.ReviewAccept})
	wantCode(t, "unknown order", err, waorders.CodeNotFound)

	at := Base.Add(time.Hour)
	o, err := s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv1", Action: store.ReviewCorrect, IfVersion: &one,
		Actor: "asha", At: at, Lines: []store.LineCorrection{{Index: 1, Quantity: 1, Price: "2000.00"}}})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != waorders.OrderPending || o.Version != 2 || !o.Items[1].Usable() || o.Items[1].Quantity != 1 ||
		o.Items[1].RawQuantity != "0" || o.Items[1].LineTotal != Money("INR", 200000) {
		t.Errorf("corrected order: %s v%d %+v", o.Status, o.Version, o.Items[1])
	}
	diff(t, "totals after the correction", []money.Amount{Money("INR", 520000)}, o.Totals)
	if len(o.History) != 2 {
		t.Fatalf("history %+v", o.History)
	}
	h := o.History[1]
	if h.From != waorders.OrderNeedsReview || h.To != waorders.OrderPending || h.Actor != "asha" || !h.At.Equal(at) ||
		!strings.Contains(h.Note, `quantity "0"`) || !strings.Contains(h.Note, "2000.00 INR") {
		t.Errorf("history entry %+v: want the original value in the note", h)
	}
	got, err := s.GetOrder(t.Context(), "rv1")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "order read back", o, got)
	// Now it counts, in the same transaction's rollup.
	rows := report(t, s, store.CampaignReportParams{})
	diff(t, "report after the correction", []waorders.CampaignRow{{Campaign: "review", Orders: 1, Units: 3,
		Revenue: []money.Amount{Money("INR", 520000)}, FirstOrderAt: Base, LastOrderAt: Base}}, rows)
	checkRollupAgrees(t, s, "after the correction")
	c, err := s.GetCustomer(t.Context(), DefaultCustomer)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "spend", []money.Amount{Money("INR", 520000)}, c.Spend)
	_, err = s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv1", Action: store.ReviewAccept})
	wantCode(t, "review of a pending order", err, waorders.CodeConflict)
}

func testReviewAcceptReject(t *testing.T, s store.Store) {
	mustWriteOrders(t, s, NewReviewOrder("rv1", Base), NewReviewOrder("rv2", Base.Add(time.Minute)))
	_, err := s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv2", Action: store.ReviewReject})
	wantCode(t, "reject without a reason", err, waorders.CodeInvalid)
	o, err := s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv2", Action: store.ReviewReject, Note: "test order", Actor: "asha"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != waorders.OrderCanceled || o.History[1].Note != "rejected: test order" {
		t.Errorf("rejected: %s %+v", o.Status, o.History)
	}
	o, err = s.ReviewOrder(t.Context(), store.ReviewOrderParams{ID: "rv1", Action: store.ReviewAccept, Actor: "asha"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != waorders.OrderPending || o.Items[1].Usable() || o.Units() != 2 {
		t.Errorf("accepted: %s, pant %+v, units %d", o.Status, o.Items[1], o.Units())
	}
	diff(t, "accepted totals", []money.Amount{Money("INR", 320000)}, o.Totals)
	diff(t, "report", []waorders.CampaignRow{{Campaign: "review", Orders: 1, Units: 2,
		Revenue: []money.Amount{Money("INR", 320000)}, FirstOrderAt: Base, LastOrderAt: Base}}, report(t, s, store.CampaignReportParams{}))
	checkRollupAgrees(t, s, "after accept and reject")
	// The rejected order is in a report of canceled orders.
	rows := report(t, s, store.CampaignReportParams{Statuses: []waorders.OrderStatus{waorders.OrderCanceled}})
	if len(rows) != 1 || rows[0].Orders != 1 {
		t.Errorf("canceled report: %+v", rows)
	}
}

// completedOrder writes an order in INR and USD and completes it.
func completedOrder(t *testing.T, s store.Store, id string, at time.Time) {
	t.Helper()
	o := NewOrder(id, at, NewItem("shirt", 2, Money("INR", 100000)), NewItem("cap", 1, Money("USD", 2000)))
	o.Campaign = waorders.Campaign{Ref: "r", Ref1: "refunds"}
	mustWriteOrders(t, s, o)
	mustUpdate(t, s, id, waorders.OrderCompleted)
}

func testRefunds(t *testing.T, s store.Store) {
	mustWriteOrders(t, s, NewOrder("pending1", Base))
	_, err := s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "pending1", Amounts: []money.Amount{Money("INR", 100)}})
	wantCode(t, "refund of a pending order", err, waorders.CodeConflict)
	mustUpdate(t, s, "pending1", waorders.OrderCanceled) // out of the reports and the spend
	completedOrder(t, s, "f1", Base)
	_, err = s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: "f1", To: waorders.OrderRefunded})
	wantCode(t, "refunded by a status change", err, waorders.CodeConflict)
	_, err = s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f1"})
	wantCode(t, "refund without amounts", err, waorders.CodeInvalid)
	_, err = s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f1", Amounts: []money.Amount{Money("EUR", 100)}})
	wantCode(t, "refund in a currency the order has not", err, waorders.CodeConflict)
	_, err = s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f1", Amounts: []money.Amount{Money("USD", 2001)}})
	wantCode(t, "refund beyond the total", err, waorders.CodeConflict)

	// Partial, in one currency.
	o, err := s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f1", Amounts: []money.Amount{Money("INR", 50000)},
		Reason: "one shirt torn", Actor: "asha"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != waorders.OrderRefunded || o.Version != 3 {
		t.Errorf("after a refund: %s v%d", o.Status, o.Version)
	}
	diff(t, "refunded", []money.Amount{Money("INR", 50000)}, o.Refunded)
	diff(t, "net", []money.Amount{Money("INR", 150000), Money("USD", 2000)}, o.Net())
	if h := o.History[len(o.History)-1]; h.To != waorders.OrderRefunded || h.Note != "refunded 500.00 INR: one shirt torn" {
		t.Errorf("history %+v", h)
	}
	rows := report(t, s, store.CampaignReportParams{})
	diff(t, "report after a partial refund", []waorders.CampaignRow{{Campaign: "refunds", Orders: 1, Units: 3,
		Revenue: []money.Amount{Money("INR", 150000), Money("USD", 2000)}, FirstOrderAt: Base, LastOrderAt: Base}}, rows)
	checkRollupAgrees(t, s, "partial refund")

	// The rest of the INR and all the USD; nothing is left to refund.
	o, err = s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f1", Amounts: []money.Amount{Money("INR", 150000), Money("USD", 2000)}})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "refunded in full", []money.Amount{Money("INR", 200000), Money("USD", 2000)}, o.Refunded)
	_, err = s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f1", Amounts: []money.Amount{Money("INR", 1)}})
	wantCode(t, "refund below zero", err, waorders.CodeConflict)
	rows = report(t, s, store.CampaignReportParams{})
	diff(t, "report after a full refund", []waorders.CampaignRow{{Campaign: "refunds", Orders: 1, Units: 3,
		Revenue: []money.Amount{Money("INR", 0), Money("USD", 0)}, FirstOrderAt: Base, LastOrderAt: Base}}, rows)
	checkRollupAgrees(t, s, "full refund")

	// Returned, then refunded; figures by status.
	completedOrder(t, s, "f2", Base.Add(time.Hour))
	mustUpdate(t, s, "f2", waorders.OrderReturned)
	if _, err := s.RefundOrder(t.Context(), store.RefundOrderParams{ID: "f2", Amounts: []money.Amount{Money("USD", 500)}}); err != nil {
		t.Fatal(err)
	}
	completedOrder(t, s, "f3", Base.Add(2*time.Hour))
	rows = report(t, s, store.CampaignReportParams{ByStatus: true})
	diff(t, "report by status", []waorders.CampaignRow{{Campaign: "refunds", Orders: 3, Units: 9,
		Revenue: []money.Amount{Money("INR", 400000), Money("USD", 3500)}, FirstOrderAt: Base, LastOrderAt: Base.Add(2 * time.Hour),
		ByStatus: []waorders.StatusFigures{
			{Status: waorders.OrderCompleted, Orders: 1, Units: 3, Revenue: []money.Amount{Money("INR", 200000), Money("USD", 2000)}},
			{Status: waorders.OrderRefunded, Orders: 2, Units: 6, Revenue: []money.Amount{Money("INR", 200000), Money("USD", 1500)}},
		}}}, rows)
	checkRollupAgrees(t, s, "returned and refunded")
	c, err := s.GetCustomer(t.Context(), DefaultCustomer)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "spend net of refunds", []money.Amount{Money("INR", 400000), Money("USD", 3500)}, c.Spend)
}

func testCancelLeavesRevenue(t *testing.T, s store.Store) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	mk := func(id string, at time.Duration) *waorders.Order {
		o := NewOrder(id, day.Add(at), NewItem("shirt", 1, Money("INR", 1000)))
		o.Campaign = waorders.Campaign{Ref: "r", Ref1: "c"}
		return o
	}
	mustWriteOrders(t, s, mk("x1", time.Hour), mk("x2", 2*time.Hour), mk("x3", 3*time.Hour), mk("y1", 30*time.Hour))
	mustUpdate(t, s, "x3", waorders.OrderCanceled)
	mustUpdate(t, s, "y1", waorders.OrderCanceled)
	diff(t, "report without the canceled orders", []waorders.CampaignRow{{Campaign: "c", Orders: 2, Units: 2,
		Revenue: []money.Amount{Money("INR", 2000)}, FirstOrderAt: day.Add(time.Hour), LastOrderAt: day.Add(2 * time.Hour)}},
		report(t, s, store.CampaignReportParams{}))
	checkRollupAgrees(t, s, "after cancellations")
}

// Package storetest is the conformance suite of the storage contract: every
// behaviour a store.Store must have, as subtests that any driver runs with
// Run. The subtests are grouped by area, one runner per area file
// (RunInbound in writes.go, RunMessages, RunOrders, RunLifecycle,
// RunReports, RunQuarantine, RunTx, RunHousekeeping), so a new area brings
// its own runner and Run calls it. When a driver changes, extend this
// suite, not a driver's own tests.
//
// The suite also exports fixtures (NewOrder, NewOrderInbound, ...) that
// tests and benchmarks of other packages reuse to build Inbound values.
//
// Where the contract's comments leave a choice open, the suite fixes it, so
// that every driver answers alike:
//   - WriteInbound checks each order with Order.Validate (and that any
//     totals given are the sums of its lines) before writing anything; an
//     invalid order fails the whole call with CodeInvalid.
//   - A new order is pending at version 1 with one history entry {At:
//     ReceivedAt, Actor: "intake", From: "", To: pending}; a duplicate
//     inbound callback changes nothing, whatever it carries.
//   - Raw JSON (Message.Raw, StatusUpdate.Raw and Errors) and bodies come
//     back byte for byte, and every time comes back in UTC with microsecond
//     precision.
//   - ListOrders and ExportOrders return orders with items, totals and
//     warnings but no History (nil); GetOrder has the history.
//   - Q matches a case-insensitive substring of the customer name or the
//     order text, with % and _ as plain characters.
//   - ListStatuses of an unknown message is empty, not an error;
//     GetMessageState of one is CodeNotFound.
//   - GetCustomer: Name is the newest non-empty name; every order counts in
//     OrderCount and Spend, whatever its status; Spend is sorted by currency.
//   - CampaignReport counts every order whatever its status; rows are sorted
//     by Bucket, then Campaign in byte order; Revenue by currency code; an
//     unknown GroupBy or Interval is CodeInvalid.
//   - Quarantine lists are newest first by id; whole-body entries (no
//     message id) are never deduplicated.
//   - InTx: the writes of every area made through one Tx are all visible
//     after InTx returns nil, and none of them after fn returns an error
//     (InTx returns that error) or panics (the panic goes on, and the store
//     stays usable). A Tx method reads its own transaction's writes (an
//     order written and moved in one Tx). A Tx used after fn returned
//     fails with store.ErrTxDone, whether InTx committed or not.
package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// Open returns a new, empty, migrated store that shares no data with any
// other store it returned, and closes it when the test ends (t.Cleanup);
// closing it twice must be harmless. Subtests run in parallel, so Open is
// called concurrently.
type Open func(t *testing.T) store.Store

// Run runs every subtest of the suite against stores made by open: one
// runner per area of the contract (RunInbound, RunMessages, RunOrders,
// RunLifecycle, RunReports, RunQuarantine, RunTx, RunHousekeeping), each in
// the file of its area. A driver, or a new area, plugs in area by area.
func Run(t *testing.T, open Open) {
	RunInbound(t, open)
	RunMessages(t, open)
	RunOrders(t, open)
	RunLifecycle(t, open)
	RunReports(t, open)
	RunReview(t, open)
	RunQuarantine(t, open)
	RunCustomers(t, open)
	RunChanges(t, open)
	RunEvents(t, open)
	RunOutbound(t, open)
	RunUsers(t, open)
	RunTx(t, open)
	RunHousekeeping(t, open)
}

// subtest is one behaviour: a name and a body run on a fresh store.
type subtest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// runAll runs each subtest in parallel on its own store.
func runAll(t *testing.T, open Open, tests []subtest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// RunHousekeeping checks what every store does whatever its area: lookups
// of what does not exist, Ping, Close.
func RunHousekeeping(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"NotFound", testNotFound},
		{"Ping", testPing},
		{"CloseTwice", testCloseTwice},
	})
}

// cmpOpts compare domain values: times by instant (UTC is checked apart),
// nil and empty slices alike.
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func mustWrite(t *testing.T, s store.Store, ds ...*store.Inbound) []store.InboundResult {
	t.Helper()
	res, err := s.WriteInbound(t.Context(), ds)
	if err != nil {
		t.Fatalf("WriteInbound: %v", err)
	}
	if len(res) != len(ds) {
		t.Fatalf("WriteInbound returned %d results for %d inbound", len(res), len(ds))
	}
	return res
}

func mustWriteOrders(t *testing.T, s store.Store, orders ...*waorders.Order) {
	t.Helper()
	for i, r := range mustWrite(t, s, NewOrderInbounds(orders...)...) {
		if len(r.Messages) != 1 || r.Messages[0] != store.Stored {
			t.Fatalf("order %s: outcome %v, want [stored]", orders[i].ID, r.Messages)
		}
	}
}

func mustGetOrder(t *testing.T, s store.Store, id string) *waorders.Order {
	t.Helper()
	o, err := s.GetOrder(t.Context(), id)
	if err != nil {
		t.Fatalf("GetOrder(%s): %v", id, err)
	}
	return o
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, what string, err error, code waorders.Code) {
	t.Helper()
	if got := waorders.ErrorCode(err); got != code {
		t.Errorf("%s: error code %q (err %v), want %q", what, got, err, code)
	}
}

// wantUTC fails unless every non-zero time is in UTC.
func wantUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for i, tm := range times {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Errorf("%s: time %d is in %v, want UTC", what, i, tm.Location())
		}
	}
}

// expectedStored is o as GetOrder returns it right after intake: pending,
// version 1, one creation entry in its history, times in UTC.
func expectedStored(o *waorders.Order) *waorders.Order {
	w := *o
	w.Status, w.Version = waorders.OrderPending, 1
	w.OrderedAt, w.ReceivedAt = o.OrderedAt.UTC(), o.ReceivedAt.UTC()
	w.History = []waorders.StatusChange{{At: w.ReceivedAt, Actor: "intake", To: waorders.OrderPending}}
	return &w
}

func orderIDs(orders []*waorders.Order) []string {
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	return ids
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetMessage(ctx, "wamid.missing")
	wantCode(t, "GetMessage", err, waorders.CodeNotFound)
	_, err = s.GetOrder(ctx, "wamid.missing")
	wantCode(t, "GetOrder", err, waorders.CodeNotFound)
	_, err = s.GetMessageState(ctx, "wamid.missing")
	wantCode(t, "GetMessageState", err, waorders.CodeNotFound)
	_, err = s.GetCustomer(ctx, "910000000000")
	wantCode(t, "GetCustomer", err, waorders.CodeNotFound)
	_, err = s.GetQuarantine(ctx, 12345)
	wantCode(t, "GetQuarantine", err, waorders.CodeNotFound)
	_, err = s.MarkQuarantineAttempt(ctx, store.MarkQuarantineAttemptParams{ID: 12345, Resolved: true, At: Base})
	wantCode(t, "MarkQuarantineAttempt", err, waorders.CodeNotFound)
	_, err = s.UpdateOrderStatus(ctx, store.UpdateOrderStatusParams{ID: "wamid.missing", To: waorders.OrderProcessing, Actor: "test", At: Base})
	wantCode(t, "UpdateOrderStatus", err, waorders.CodeNotFound)

	sts, err := s.ListStatuses(ctx, "wamid.missing")
	if err != nil || len(sts) != 0 {
		t.Errorf("ListStatuses of an unknown message = %v, %v; want empty, nil", sts, err)
	}
	page, err := s.ListOrders(ctx, store.ListOrdersParams{})
	if err != nil || len(page.Orders) != 0 || page.NextCursor != "" {
		t.Errorf("ListOrders on an empty store = %+v, %v; want an empty last page", page, err)
	}
}

func testPing(t *testing.T, s store.Store) {
	for i := range 3 {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping %d: %v", i, err)
		}
	}
}

func testCloseTwice(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}
	if _, err := s.WriteInbound(t.Context(), NewOrderInbounds(NewOrder("wamid.closed", Base))); err == nil {
		t.Error("WriteInbound after Close succeeded, want an error")
	}
}

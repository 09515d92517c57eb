package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// RunTx checks Store.InTx: the writes of every area commit together or not
// at all, and a Tx is dead once fn returns.
func RunTx(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"TxCommitsEveryArea", testTxCommitsEveryArea},
		{"TxErrorRollsBackEveryArea", testTxErrorRollsBackEveryArea},
		{"TxPanicRollsBack", testTxPanicRollsBack},
		{"TxReadsItsOwnWrites", testTxReadsItsOwnWrites},
		{"TxUsedAfterReturnFails", testTxUsedAfterReturnFails},
	})
}

// txFixture is one record of each area written before the Tx: an order to
// move and a quarantine entry to retry, plus a new order for the Tx to
// write.
type txFixture struct {
	moved, added *waorders.Order
	quarantineID int64
}

func newTxFixture(t *testing.T, s store.Store, prefix string) txFixture {
	t.Helper()
	f := txFixture{
		moved: NewOrder(prefix+".moved", Base, NewItem("p1", 1, Money("INR", 100))),
		added: NewOrder(prefix+".added", Base.Add(time.Minute), NewItem("p2", 2, Money("INR", 250))),
	}
	mustWriteOrders(t, s, f.moved)
	res := mustWrite(t, s, NewQuarantineInbound(NewQuarantineEntry(waorders.QuarantineMessage, prefix+".bad", Base)))
	f.quarantineID = res[0].Quarantine[0].ID
	return f
}

// writeAll makes one write of every area through tx.
func (f txFixture) writeAll(t *testing.T, tx store.Tx) error {
	t.Helper()
	res, err := tx.WriteInbound(t.Context(), []*store.Inbound{NewOrderInbound(f.added)})
	if err != nil {
		return err
	}
	if len(res) != 1 || len(res[0].Messages) != 1 || res[0].Messages[0] != store.Stored {
		t.Errorf("WriteInbound in a Tx = %+v, want one stored message", res)
	}
	o, err := tx.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{
		ID: f.moved.ID, To: waorders.OrderProcessing, Actor: "test", At: Base.Add(time.Hour)})
	if err != nil {
		return err
	}
	if o.Status != waorders.OrderProcessing || o.Version != 2 {
		t.Errorf("UpdateOrderStatus in a Tx = %s v%d, want processing v2", o.Status, o.Version)
	}
	q, err := tx.MarkQuarantineAttempt(t.Context(), store.MarkQuarantineAttemptParams{
		ID: f.quarantineID, Resolved: true, At: Base.Add(time.Hour)})
	if err != nil {
		return err
	}
	if q.Attempts != 1 || !q.Resolved() {
		t.Errorf("MarkQuarantineAttempt in a Tx: attempts %d resolved %v, want 1 true", q.Attempts, q.Resolved())
	}
	return nil
}

// check asserts that the writes of writeAll are all visible (committed) or
// none is.
func (f txFixture) check(t *testing.T, s store.Store, committed bool) {
	t.Helper()
	_, err := s.GetOrder(t.Context(), f.added.ID)
	moved := mustGetOrder(t, s, f.moved.ID)
	q, qerr := s.GetQuarantine(t.Context(), f.quarantineID)
	if qerr != nil {
		t.Fatal(qerr)
	}
	if committed {
		if err != nil {
			t.Errorf("order written in the Tx: %v, want it stored", err)
		}
		if moved.Status != waorders.OrderProcessing || moved.Version != 2 || len(moved.History) != 2 {
			t.Errorf("moved order = %s v%d with %d history entries, want processing v2 with 2", moved.Status, moved.Version, len(moved.History))
		}
		if q.Attempts != 1 || !q.Resolved() {
			t.Errorf("quarantine entry: attempts %d resolved %v, want 1 true", q.Attempts, q.Resolved())
		}
		return
	}
	wantCode(t, "order written in a rolled-back Tx", err, waorders.CodeNotFound)
	if moved.Status != waorders.OrderPending || moved.Version != 1 || len(moved.History) != 1 {
		t.Errorf("moved order = %s v%d with %d history entries, want pending v1 with 1", moved.Status, moved.Version, len(moved.History))
	}
	if q.Attempts != 0 || q.Resolved() {
		t.Errorf("quarantine entry: attempts %d resolved %v, want 0 false", q.Attempts, q.Resolved())
	}
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "orders after a rolled-back Tx", []string{f.moved.ID}, orderIDs(page.Orders))
}

func testTxCommitsEveryArea(t *testing.T, s store.Store) {
	f := newTxFixture(t, s, "wamid.txc")
	if err := s.InTx(t.Context(), func(tx store.Tx) error { return f.writeAll(t, tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
	f.check(t, s, true)
}

func testTxErrorRollsBackEveryArea(t *testing.T, s store.Store) {
	f := newTxFixture(t, s, "wamid.txe")
	boom := errors.New("boom")
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		if err := f.writeAll(t, tx); err != nil {
			t.Fatalf("writes in the Tx: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the error fn returned", err)
	}
	f.check(t, s, false)
	// A failed write inside fn, returned by fn, rolls back the others too.
	err = s.InTx(t.Context(), func(tx store.Tx) error {
		if err := f.writeAll(t, tx); err != nil {
			return err
		}
		_, err := tx.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: "wamid.txe.none", To: waorders.OrderCanceled})
		return err
	})
	wantCode(t, "InTx with a failing write", err, waorders.CodeNotFound)
	f.check(t, s, false)
}

func testTxPanicRollsBack(t *testing.T, s store.Store) {
	f := newTxFixture(t, s, "wamid.txp")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = s.InTx(t.Context(), func(tx store.Tx) error {
			if err := f.writeAll(t, tx); err != nil {
				t.Errorf("writes in the Tx: %v", err)
			}
			panic("boom")
		})
	}()
	f.check(t, s, false)
	// The store is still usable: the writer is not stuck in the dead Tx.
	if err := s.InTx(t.Context(), func(tx store.Tx) error { return f.writeAll(t, tx) }); err != nil {
		t.Fatalf("InTx after a panic: %v", err)
	}
	f.check(t, s, true)
}

// testTxReadsItsOwnWrites: an order written in a Tx can be moved in the
// same Tx, and what the Tx returns reflects its own writes.
func testTxReadsItsOwnWrites(t *testing.T, s store.Store) {
	o := NewOrder("wamid.txr", Base, NewItem("p1", 3, Money("INR", 100)))
	err := s.InTx(t.Context(), func(tx store.Tx) error {
		if _, err := tx.WriteInbound(t.Context(), []*store.Inbound{NewOrderInbound(o)}); err != nil {
			return err
		}
		for _, to := range []waorders.OrderStatus{waorders.OrderProcessing, waorders.OrderShipped} {
			got, err := tx.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: o.ID, To: to, At: Base.Add(time.Hour)})
			if err != nil {
				return err
			}
			if got.Status != to {
				t.Errorf("order in the Tx is %s, want %s", got.Status, to)
			}
		}
		// A duplicate of a message written earlier in the same Tx.
		res, err := tx.WriteInbound(t.Context(), []*store.Inbound{NewOrderInbound(o)})
		if err != nil {
			return err
		}
		diff(t, "outcome of a repeat in the same Tx", []store.Outcome{store.Duplicate}, res[0].Messages)
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	got := mustGetOrder(t, s, o.ID)
	if got.Status != waorders.OrderShipped || got.Version != 3 {
		t.Errorf("order = %s v%d, want shipped v3", got.Status, got.Version)
	}
}

func testTxUsedAfterReturnFails(t *testing.T, s store.Store) {
	f := newTxFixture(t, s, "wamid.txd")
	boom := errors.New("boom")
	for _, fail := range []bool{false, true} {
		var kept store.Tx
		err := s.InTx(t.Context(), func(tx store.Tx) error {
			kept = tx
			if fail {
				return boom
			}
			return nil
		})
		if fail != (err != nil) {
			t.Fatalf("InTx = %v", err)
		}
		_, err = kept.WriteInbound(t.Context(), []*store.Inbound{NewOrderInbound(f.added)})
		if !errors.Is(err, store.ErrTxDone) {
			t.Errorf("WriteInbound after InTx returned (failed %v) = %v, want ErrTxDone", fail, err)
		}
		_, err = kept.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: f.moved.ID, To: waorders.OrderProcessing})
		if !errors.Is(err, store.ErrTxDone) {
			t.Errorf("UpdateOrderStatus after InTx returned (failed %v) = %v, want ErrTxDone", fail, err)
		}
		_, err = kept.MarkQuarantineAttempt(t.Context(), store.MarkQuarantineAttemptParams{ID: f.quarantineID})
		if !errors.Is(err, store.ErrTxDone) {
			t.Errorf("MarkQuarantineAttempt after InTx returned (failed %v) = %v, want ErrTxDone", fail, err)
		}
	}
	f.check(t, s, false)
}

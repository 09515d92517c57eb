package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func version(v int64) *int64 { return &v }

func testOrderLifecycle(t *testing.T, s store.Store) {
	o := NewOrder("wamid.life", Base)
	mustWriteOrders(t, s, o)
	steps := []struct {
		to        waorders.OrderStatus
		ifVersion *int64
		actor     string
		note      string
	}{
		{waorders.OrderProcessing, version(1), "ops@brand.example", "picked"},
		{waorders.OrderShipped, nil, "warehouse", "AWB 12345"},
		{waorders.OrderCompleted, version(3), "courier-bot", ""},
	}
	want := expectedStored(o)
	for i, st := range steps {
		at := Base.Add(time.Duration(i+1) * time.Hour).In(ist)
		got, err := s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{
			ID: o.ID, To: st.to, Note: st.note, Actor: st.actor, At: at, IfVersion: st.ifVersion,
		})
		if err != nil {
			t.Fatalf("step %d (→ %s): %v", i, st.to, err)
		}
		want.History = append(want.History, waorders.StatusChange{At: at.UTC(), Actor: st.actor, From: want.Status, To: st.to, Note: st.note})
		want.Status = st.to
		want.Version++
		diff(t, fmt.Sprintf("order after step %d", i), want, got)
	}
	got := mustGetOrder(t, s, o.ID)
	diff(t, "stored order", want, got)
	if got.Version != 4 || len(got.History) != 4 {
		t.Errorf("version %d with %d history entries, want 4 and 4", got.Version, len(got.History))
	}
	for _, h := range got.History {
		wantUTC(t, "history", h.At)
	}
}

func testOrderTransitionRules(t *testing.T, s store.Store) {
	tests := []struct {
		name string
		path []waorders.OrderStatus // applied first, each must succeed
		to   waorders.OrderStatus
		want waorders.Code // "" = allowed
	}{
		{"PendingToProcessing", nil, waorders.OrderProcessing, ""},
		{"SkipToCompleted", nil, waorders.OrderCompleted, ""},
		{"PendingToPartiallyShipped", nil, waorders.OrderPartiallyShipped, ""},
		{"PendingToCanceled", nil, waorders.OrderCanceled, ""},
		{"ShippedToCanceled", []waorders.OrderStatus{waorders.OrderShipped}, waorders.OrderCanceled, ""},
		{"SameStatus", nil, waorders.OrderPending, waorders.CodeConflict},
		{"Backwards", []waorders.OrderStatus{waorders.OrderShipped}, waorders.OrderProcessing, waorders.CodeConflict},
		{"CompletedToCanceled", []waorders.OrderStatus{waorders.OrderCompleted}, waorders.OrderCanceled, waorders.CodeConflict},
		{"CanceledToProcessing", []waorders.OrderStatus{waorders.OrderCanceled}, waorders.OrderProcessing, waorders.CodeConflict},
		{"CanceledAgain", []waorders.OrderStatus{waorders.OrderCanceled}, waorders.OrderCanceled, waorders.CodeConflict},
		{"UnknownStatus", nil, "shipping", waorders.CodeInvalid},
	}
	for i, tt := range tests {
		id := fmt.Sprintf("wamid.rule%02d", i)
		mustWriteOrders(t, s, NewOrder(id, Base))
		for _, step := range tt.path {
			mustUpdate(t, s, id, step)
		}
		before := mustGetOrder(t, s, id)
		got, err := s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: id, To: tt.to, Actor: "test", At: Base.Add(time.Hour)})
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			} else if got.Status != tt.to || got.Version != before.Version+1 {
				t.Errorf("%s: status %s version %d, want %s and %d", tt.name, got.Status, got.Version, tt.to, before.Version+1)
			}
			continue
		}
		wantCode(t, tt.name, err, tt.want)
		if msg := waorders.ErrorMessage(err); !strings.Contains(msg, string(before.Status)) && tt.want == waorders.CodeConflict {
			t.Errorf("%s: message %q does not name the current status %s", tt.name, msg, before.Status)
		}
		diff(t, tt.name+": order after a refused change", before, mustGetOrder(t, s, id))
	}
}

func testOrderStaleVersion(t *testing.T, s store.Store) {
	mustWriteOrders(t, s, NewOrder("wamid.stale", Base))
	upd := func(to waorders.OrderStatus, v int64) (*waorders.Order, error) {
		return s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{
			ID: "wamid.stale", To: to, Actor: "test", At: Base.Add(time.Hour), IfVersion: version(v),
		})
	}
	if _, err := upd(waorders.OrderProcessing, 1); err != nil {
		t.Fatal(err)
	}
	before := mustGetOrder(t, s, "wamid.stale")

	_, err := upd(waorders.OrderShipped, 1)
	wantCode(t, "stale version", err, waorders.CodePrecondition)
	if msg := waorders.ErrorMessage(err); !strings.Contains(msg, "2") {
		t.Errorf("message %q does not state the current version 2", msg)
	}
	_, err = upd(waorders.OrderShipped, 7)
	wantCode(t, "future version", err, waorders.CodePrecondition)
	// The version matches, the transition does not.
	_, err = upd(waorders.OrderPending, 2)
	wantCode(t, "current version, illegal transition", err, waorders.CodeConflict)
	diff(t, "order after refused changes", before, mustGetOrder(t, s, "wamid.stale"))

	got, err := upd(waorders.OrderShipped, 2)
	if err != nil || got.Version != 3 {
		t.Fatalf("update at the current version = %v, %v; want version 3", got, err)
	}
}

func testOrderConcurrentUpdates(t *testing.T, s store.Store) {
	mustWriteOrders(t, s, NewOrder("wamid.contended", Base))
	const n = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		codes = map[waorders.Code]int{}
	)
	for i := range n {
		wg.Go(func() {
			to := waorders.OrderProcessing
			if i%2 == 1 {
				to = waorders.OrderCanceled
			}
			_, err := s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{
				ID: "wamid.contended", To: to, Actor: fmt.Sprint("clerk", i), At: Base.Add(time.Hour), IfVersion: version(1),
			})
			mu.Lock()
			codes[waorders.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	diff(t, "outcomes (\"\" = success)", map[waorders.Code]int{"": 1, waorders.CodePrecondition: n - 1}, codes)
	got := mustGetOrder(t, s, "wamid.contended")
	if got.Version != 2 || len(got.History) != 2 {
		t.Errorf("version %d with %d history entries, want 2 and 2", got.Version, len(got.History))
	}
}

// CheckStoredCreationEntry covers databases written before the creation
// entry of an order's history was derived instead of stored: storeLegacy
// must insert, for the order it is given, the version-1 entry older
// versions wrote (at the given time, by store.CreationActor, "" → pending).
// The stored entry is kept as it is, not doubled, and later changes follow
// it.
func CheckStoredCreationEntry(t *testing.T, s store.Store, storeLegacy func(orderID string, at time.Time)) {
	t.Helper()
	o := NewOrder("wamid.legacy-history", Base)
	mustWriteOrders(t, s, o)
	// A time the derived entry cannot have, so that the test sees which one it got.
	stored := o.ReceivedAt.Add(time.Second).UTC()
	storeLegacy(o.ID, stored)
	want := []waorders.StatusChange{{At: stored, Actor: store.CreationActor, To: waorders.OrderPending}}
	diff(t, "history with a stored creation entry", want, mustGetOrder(t, s, o.ID).History)

	at := Base.Add(time.Hour).UTC()
	got, err := s.UpdateOrderStatus(t.Context(), store.UpdateOrderStatusParams{ID: o.ID, To: waorders.OrderProcessing, Actor: "ops", At: at})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, waorders.StatusChange{At: at, Actor: "ops", From: waorders.OrderPending, To: waorders.OrderProcessing})
	diff(t, "history after a change", want, got.History)
	if got.Version != 2 {
		t.Errorf("version %d, want 2", got.Version)
	}
}

// RunLifecycle checks UpdateOrderStatus: transitions, versions, concurrency.
func RunLifecycle(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"OrderLifecycle", testOrderLifecycle},
		{"OrderTransitionRules", testOrderTransitionRules},
		{"OrderStaleVersion", testOrderStaleVersion},
		{"OrderConcurrentUpdates", testOrderConcurrentUpdates},
	})
}

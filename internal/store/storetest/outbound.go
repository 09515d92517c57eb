package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// NewOutbound returns a notification intent for an order and status.
func NewOutbound(id, orderID string, status waorders.OrderStatus, now time.Time) *store.OutboundMessage {
	return &store.OutboundMessage{ID: id, Kind: store.OutboundNotification, OrderID: orderID, OrderStatus: status,
		IntentKey: orderID + "/" + string(status), PhoneNumberID: DefaultPhoneNumberID, To: DefaultCustomer,
		CustomerKey: DefaultCustomer, ReplyTo: orderID, State: store.OutboundQueued, NextAttemptAt: now, CreatedAt: now}
}

// RunOutbound checks the outbound area: intents once per (order, status),
// claims with leases and fenced finishes, the status join, pauses and the
// window's last inbound message.
func RunOutbound(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"IntentOncePerOrderStatus", testOutboundIntentOnce},
		{"ClaimFinishFenced", testOutboundClaimFinish},
		{"ExpiredLeaseClaimedFromSending", testOutboundExpiredLease},
		{"StatusJoinByRefsAndWAMID", testOutboundStatusJoin},
		{"PausedSenderNotClaimed", testOutboundPause},
		{"LastInboundAt", testOutboundLastInbound},
		{"ConcurrentClaimsLeaseOnce", testOutboundConcurrentClaims},
		{"ListAndSettings", testOutboundList},
	})
}

var t0 = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

func testOutboundIntentOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 3 {
		var created bool
		err := s.InTx(ctx, func(tx store.Tx) (err error) {
			created, err = tx.CreateOutbound(ctx, NewOutbound(fmt.Sprintf("out_%d", i), "wamid.O1", waorders.OrderShipped, t0))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if created != (i == 0) {
			t.Fatalf("create %d: created=%v", i, created)
		}
	}
	// A staff message has no intent key: any number of them.
	for i := range 2 {
		m := NewOutbound(fmt.Sprintf("out_s%d", i), "", "", t0)
		m.Kind, m.IntentKey, m.Text = store.OutboundStaff, "", "hello"
		if ok, err := s.CreateOutbound(ctx, m); err != nil || !ok {
			t.Fatalf("staff %d: %v %v", i, ok, err)
		}
	}
	page, err := s.ListOutbound(ctx, store.ListOutboundParams{})
	if err != nil || len(page.Messages) != 3 {
		t.Fatalf("list: %v %d", err, len(page.Messages))
	}
}

func claimOne(t *testing.T, s store.Store, owner string, now time.Time) *store.OutboundMessage {
	t.Helper()
	ms, err := s.ClaimOutbound(context.Background(), store.ClaimOutboundParams{Owner: owner, Limit: 10, Now: now, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) > 1 {
		t.Fatalf("claimed %d, want at most 1", len(ms))
	}
	if len(ms) == 0 {
		return nil
	}
	return ms[0]
}

func testOutboundClaimFinish(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.CreateOutbound(ctx, NewOutbound("out_1", "wamid.O1", waorders.OrderPending, t0)); err != nil {
		t.Fatal(err)
	}
	m := claimOne(t, s, "a", t0)
	if m == nil || m.State != store.OutboundSending || m.ClaimedFrom != store.OutboundQueued || m.Attempts != 1 || m.LeaseOwner != "a" {
		t.Fatalf("claimed %+v", m)
	}
	if again := claimOne(t, s, "b", t0.Add(time.Second)); again != nil {
		t.Fatal("claimed a leased row")
	}
	// A stale owner's finish does not land.
	if _, ok, err := s.FinishOutbound(ctx, store.FinishOutboundParams{ID: "out_1", Owner: "b", Attempt: 1, Now: t0, State: store.OutboundAccepted}); err != nil || ok {
		t.Fatalf("stale finish landed: %v %v", ok, err)
	}
	got, ok, err := s.FinishOutbound(ctx, store.FinishOutboundParams{ID: "out_1", Owner: "a", Attempt: 1, Now: t0,
		State: store.OutboundRetry, NextAttemptAt: t0.Add(5 * time.Minute), Failed: true, LastCode: "WA500", Request: []byte(`{}`)})
	if err != nil || !ok || got.State != store.OutboundRetry || got.Failures != 1 || got.LastCode != "WA500" {
		t.Fatalf("finish: %v %v %+v", ok, err, got)
	}
	if claimOne(t, s, "a", t0.Add(time.Minute)) != nil {
		t.Fatal("claimed before due")
	}
	m = claimOne(t, s, "a", t0.Add(6*time.Minute))
	if m == nil || m.Attempts != 2 || m.ClaimedFrom != store.OutboundRetry {
		t.Fatalf("reclaim %+v", m)
	}
	got, ok, err = s.FinishOutbound(ctx, store.FinishOutboundParams{ID: "out_1", Owner: "a", Attempt: 2, Now: t0.Add(6 * time.Minute),
		State: store.OutboundAccepted, WAMID: "wamid.OUT1", SentKind: "text"})
	if err != nil || !ok || got.State != store.OutboundAccepted || got.WAMID != "wamid.OUT1" || got.AcceptedAt.IsZero() || string(got.Request) != `{}` {
		t.Fatalf("accept: %v %v %+v", ok, err, got)
	}
	if claimOne(t, s, "a", t0.Add(time.Hour)) != nil {
		t.Fatal("claimed a final row")
	}
}

func testOutboundExpiredLease(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.CreateOutbound(ctx, NewOutbound("out_1", "wamid.O1", waorders.OrderPending, t0)); err != nil {
		t.Fatal(err)
	}
	if claimOne(t, s, "a", t0) == nil {
		t.Fatal("no claim")
	}
	m := claimOne(t, s, "b", t0.Add(2*time.Minute))
	if m == nil || m.ClaimedFrom != store.OutboundSending || m.Attempts != 2 {
		t.Fatalf("expired lease: %+v", m)
	}
	if _, ok, _ := s.FinishOutbound(ctx, store.FinishOutboundParams{ID: "out_1", Owner: "a", Attempt: 1, Now: t0, State: store.OutboundAccepted}); ok {
		t.Fatal("the crashed owner's finish landed")
	}
}

func testOutboundStatusJoin(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.CreateOutbound(ctx, NewOutbound("out_1", "wamid.O1", waorders.OrderPending, t0)); err != nil {
		t.Fatal(err)
	}
	// out_1 is mid-send when its status arrives by refs: accepted, and its
	// in-flight finish no longer lands.
	m := claimOne(t, s, "a", t0)
	if _, err := s.CreateOutbound(ctx, NewOutbound("out_2", "wamid.O2", waorders.OrderPending, t0)); err != nil {
		t.Fatal(err)
	}
	refs := store.OutboundRefs(m)
	chs, err := s.ApplyOutboundStatuses(ctx, []store.OutboundStatus{{Refs: refs, MessageID: "wamid.X1", Status: "sent", At: t0}})
	if err != nil || len(chs) != 1 || !chs[0].BecameAccepted || chs[0].Message.WAMID != "wamid.X1" {
		t.Fatalf("join: %v %+v", err, chs)
	}
	if _, ok, _ := s.FinishOutbound(ctx, store.FinishOutboundParams{ID: m.ID, Owner: "a", Attempt: 1, Now: t0, State: store.OutboundAmbiguous}); ok {
		t.Fatal("finish landed after the status")
	}
	// By wamid; duplicates and older statuses change nothing.
	for _, st := range []string{"read", "read", "delivered"} {
		if _, err := s.ApplyOutboundStatuses(ctx, []store.OutboundStatus{{MessageID: "wamid.X1", Status: st, At: t0}}); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.GetOutbound(ctx, m.ID)
	if got.State != store.OutboundAccepted || got.DeliveryState != "read" {
		t.Fatalf("after statuses: %+v", got)
	}
	chs, _ = s.ApplyOutboundStatuses(ctx, []store.OutboundStatus{{MessageID: "wamid.X1", Status: "read", At: t0}})
	if len(chs) != 0 {
		t.Fatalf("duplicate changed %d", len(chs))
	}
	// A failed delivery with Meta's error; unknown refs or wamids are ignored.
	chs, err = s.ApplyOutboundStatuses(ctx, []store.OutboundStatus{
		{Refs: waorders.Campaign{Ref: store.OutboundRef, Ref1: store.OutboundRef1Order, Ref2: "out_2"}, MessageID: "wamid.X2", Status: "failed", At: t0, Errors: []byte(`[{"code":131047}]`)},
		{Refs: waorders.Campaign{Ref: "other"}, MessageID: "wamid.nope", Status: "sent", At: t0},
	})
	if err != nil || len(chs) != 1 || !chs[0].BecameFailed || chs[0].Message.DeliveryError != `[{"code":131047}]` {
		t.Fatalf("failed: %v %+v", err, chs)
	}
}

func testOutboundPause(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.CreateOutbound(ctx, NewOutbound("out_1", "wamid.O1", waorders.OrderPending, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.PauseSender(ctx, store.SenderPause{PhoneNumberID: DefaultPhoneNumberID, Reason: "E110", PausedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if claimOne(t, s, "a", t0) != nil {
		t.Fatal("claimed a paused sender's row")
	}
	ps, err := s.PausedSenders(ctx, t0)
	if err != nil || len(ps) != 1 || ps[0].Reason != "E110" {
		t.Fatalf("paused: %v %+v", err, ps)
	}
	// Until a time: claimable after it.
	if err := s.PauseSender(ctx, store.SenderPause{PhoneNumberID: DefaultPhoneNumberID, Reason: "WAV2101", PausedAt: t0, Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if claimOne(t, s, "a", t0.Add(time.Minute)) != nil {
		t.Fatal("claimed before the pause ended")
	}
	if claimOne(t, s, "a", t0.Add(2*time.Hour)) == nil {
		t.Fatal("not claimed after the pause ended")
	}
	if err := s.ResumeSender(ctx, DefaultPhoneNumberID); err != nil {
		t.Fatal(err)
	}
	if ps, _ := s.PausedSenders(ctx, t0); len(ps) != 0 {
		t.Fatalf("still paused: %+v", ps)
	}
}

func testOutboundLastInbound(t *testing.T, s store.Store) {
	ctx := context.Background()
	at, err := s.LastInboundAt(ctx, []string{DefaultCustomer}, DefaultPhoneNumberID)
	if err != nil || !at.IsZero() {
		t.Fatalf("empty: %v %v", at, err)
	}
	if _, err := s.WriteInbound(ctx, []*store.Inbound{
		NewMessageInbound(NewTextMessage("wamid.T1", t0, "hi")),
		NewMessageInbound(NewTextMessage("wamid.T2", t0.Add(time.Hour), "again")),
	}); err != nil {
		t.Fatal(err)
	}
	at, err = s.LastInboundAt(ctx, []string{DefaultCustomer, "someone"}, DefaultPhoneNumberID)
	if err != nil || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("last: %v %v", at, err)
	}
	if at, _ := s.LastInboundAt(ctx, []string{DefaultCustomer}, "other-number"); !at.IsZero() {
		t.Fatalf("other number: %v", at)
	}
}

func testOutboundConcurrentClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 200
	for i := range n {
		if _, err := s.CreateOutbound(ctx, NewOutbound(fmt.Sprintf("out_%03d", i), fmt.Sprintf("wamid.O%03d", i), waorders.OrderPending, t0)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ms, err := s.ClaimOutbound(ctx, store.ClaimOutboundParams{Owner: fmt.Sprint(w), Limit: 7, Now: t0, Lease: time.Hour})
				if err != nil {
					t.Error(err)
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s leased %d times", id, c)
		}
	}
}

func testOutboundList(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 5 {
		m := NewOutbound(fmt.Sprintf("out_%d", i), "wamid.O1", waorders.OrderStatus([]string{"pending", "processing", "shipped", "completed", "canceled"}[i]), t0)
		if i == 4 {
			m.To, m.CustomerKey, m.OrderID = "919900000002", "919900000002", "wamid.O2"
		}
		if _, err := s.CreateOutbound(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	p1, err := s.ListOutbound(ctx, store.ListOutboundParams{Limit: 2, OrderID: "wamid.O1"})
	if err != nil || len(p1.Messages) != 2 || p1.NextCursor == "" || p1.Messages[0].ID != "out_3" {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	p2, err := s.ListOutbound(ctx, store.ListOutboundParams{Limit: 2, OrderID: "wamid.O1", Cursor: p1.NextCursor})
	if err != nil || len(p2.Messages) != 2 || p2.Messages[0].ID != "out_1" {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
	c, err := s.ListOutbound(ctx, store.ListOutboundParams{CustomerKeys: []string{"919900000002"}})
	if err != nil || len(c.Messages) != 1 || c.Messages[0].ID != "out_4" {
		t.Fatalf("by customer: %v %+v", err, c)
	}
	if p2.NextCursor != "" || p2.Messages[1].ID != "out_0" {
		t.Fatalf("page 2 is the last: %+v", p2)
	}
	// A cursor whose id is not a sequence is refused, not read as the end.
	bad := store.Cursor{Time: Base, ID: "out_1"}.Encode()
	_, err = s.ListOutbound(ctx, store.ListOutboundParams{Cursor: bad})
	wantCode(t, "ListOutbound with a foreign cursor", err, waorders.CodeInvalid)
	if b, err := s.GetNotifySettings(ctx); err != nil || b != nil {
		t.Fatalf("settings: %s %v", b, err)
	}
	for _, body := range []string{`{"a":1}`, `{"a":2}`} {
		if err := s.PutNotifySettings(ctx, []byte(body), t0); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := s.GetNotifySettings(ctx); err != nil || string(b) != `{"a":2}` {
		t.Fatalf("settings: %s %v", b, err)
	}
	if _, err := s.GetOutbound(ctx, "out_nope"); waorders.ErrorCode(err) != waorders.CodeNotFound {
		t.Fatalf("missing: %v", err)
	}
}

package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func testQuarantineDedup(t *testing.T, s store.Store) {
	res := mustWrite(t, s, NewQuarantineInbound(NewQuarantineEntry(waorders.QuarantineMessage, "wamid.q1", Base)))
	first := res[0].Quarantine[0]
	if first.Outcome != store.Stored || first.ID <= 0 {
		t.Fatalf("first entry = %+v, want stored with an id", first)
	}
	res = mustWrite(t, s,
		NewQuarantineInbound(NewQuarantineEntry(waorders.QuarantineMessage, "wamid.q1", Base.Add(time.Minute))),
		NewQuarantineInbound(
			NewQuarantineEntry(waorders.QuarantineMessage, "wamid.q2", Base),
			NewQuarantineEntry(waorders.QuarantineMessage, "wamid.q2", Base),
		),
		// Whole bodies have no message id: one entry per distinct body,
		// a repeat (here within one call) counted on it.
		NewQuarantineInbound(NewQuarantineEntry(waorders.QuarantineBody, "", Base)),
		NewQuarantineInbound(NewQuarantineEntry(waorders.QuarantineBody, "", Base.Add(time.Minute))),
	)
	diff(t, "redelivered q1", []store.QuarantineResult{{ID: first.ID, Outcome: store.Duplicate}}, res[0].Quarantine)
	q2 := res[1].Quarantine
	if len(q2) != 2 || q2[0].Outcome != store.Stored || q2[1] != (store.QuarantineResult{ID: q2[0].ID, Outcome: store.Duplicate}) {
		t.Errorf("q2 twice in one Inbound = %+v, want stored then duplicate of the same id", q2)
	}
	b1, b2 := res[2].Quarantine[0], res[3].Quarantine[0]
	if b1.Outcome != store.Stored || b2 != (store.QuarantineResult{ID: b1.ID, Outcome: store.Duplicate}) {
		t.Errorf("body entries = %+v, %+v; want stored, then a duplicate of it", b1, b2)
	}
	// Again in a call of its own; another body is an entry of its own.
	other := NewQuarantineEntry(waorders.QuarantineBody, "", Base)
	other.Body = []byte("not json")
	res = mustWrite(t, s, NewQuarantineInbound(NewQuarantineEntry(waorders.QuarantineBody, "", Base.Add(2*time.Minute))),
		NewQuarantineInbound(other))
	if got := res[0].Quarantine[0]; got != (store.QuarantineResult{ID: b1.ID, Outcome: store.Duplicate}) {
		t.Errorf("body again = %+v, want a duplicate of %d", got, b1.ID)
	}
	if got := res[1].Quarantine[0]; got.Outcome != store.Stored || got.ID == b1.ID {
		t.Errorf("another body = %+v, want a new entry", got)
	}
	e, err := s.GetQuarantine(t.Context(), b1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Repeats != 2 || !e.LastSeenAt.Equal(Base.Add(2*time.Minute)) || !e.ReceivedAt.Equal(Base) {
		t.Errorf("body entry: %d repeats, last seen %v, received %v; want 2, +2m, Base", e.Repeats, e.LastSeenAt, e.ReceivedAt)
	}
	page, err := s.ListQuarantine(t.Context(), store.ListQuarantineParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 4 {
		t.Errorf("quarantine holds %d entries, want 4", len(page.Entries))
	}
}

func testQuarantineList(t *testing.T, s store.Store) {
	var ids []int64
	for i := range 7 {
		e := NewQuarantineEntry(waorders.QuarantineMessage, fmt.Sprintf("wamid.ql%d", i), Base.Add(time.Duration(i)*time.Minute))
		if i == 3 {
			e.Kind, e.MessageID = waorders.QuarantineBody, ""
		}
		res := mustWrite(t, s, NewQuarantineInbound(e))
		ids = append(ids, res[0].Quarantine[0].ID)
	}
	var (
		got    []int64
		cursor string
	)
	for range 10 {
		page, err := s.ListQuarantine(t.Context(), store.ListQuarantineParams{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if e.Body != nil || e.Headers != nil {
				t.Errorf("listed entry %d carries its body or headers", e.ID)
			}
			if e.Reason != "invalid_quantity" || len(e.Problems) != 1 {
				t.Errorf("listed entry %d = %+v, want its reason and problems", e.ID, e)
			}
			wantUTC(t, "entry", e.ReceivedAt)
			got = append(got, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	want := []int64{ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}
	diff(t, "newest first", want, got)

	for _, id := range []int64{ids[1], ids[4]} {
		if _, err := s.MarkQuarantineAttempt(t.Context(), store.MarkQuarantineAttemptParams{ID: id, Resolved: true, At: Base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.MarkQuarantineAttempt(t.Context(), store.MarkQuarantineAttemptParams{ID: ids[5], Resolved: false, At: Base.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListQuarantine(t.Context(), store.ListQuarantineParams{Unresolved: true})
	if err != nil {
		t.Fatal(err)
	}
	var unresolved []int64
	for _, e := range page.Entries {
		unresolved = append(unresolved, e.ID)
	}
	diff(t, "unresolved", []int64{ids[6], ids[5], ids[3], ids[2], ids[0]}, unresolved)

	_, err = s.ListQuarantine(t.Context(), store.ListQuarantineParams{Cursor: "***"})
	wantCode(t, "bad cursor", err, waorders.CodeInvalid)
}

func testQuarantineGetAndMark(t *testing.T, s store.Store) {
	e := NewQuarantineEntry(waorders.QuarantineMessage, "wamid.qg", Base.In(ist))
	e.Body = []byte("{\"not\": json \x00\xff")
	res := mustWrite(t, s, NewQuarantineInbound(e))
	id := res[0].Quarantine[0].ID

	got, err := s.GetQuarantine(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := *e
	want.ID, want.ReceivedAt = id, Base
	diff(t, "entry", &want, got)
	if string(got.Body) != string(e.Body) {
		t.Errorf("body = %q, want exactly %q", got.Body, e.Body)
	}
	wantUTC(t, "entry", got.ReceivedAt)

	got, err = s.MarkQuarantineAttempt(t.Context(), store.MarkQuarantineAttemptParams{ID: id, Resolved: false, At: Base.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Attempts != 1 || got.Resolved() {
		t.Errorf("after a failed retry: attempts %d, resolved %v; want 1, false", got.Attempts, got.Resolved())
	}
	got, err = s.MarkQuarantineAttempt(t.Context(), store.MarkQuarantineAttemptParams{ID: id, Resolved: true, At: Base.Add(time.Hour).In(ist)})
	if err != nil {
		t.Fatal(err)
	}
	want.Attempts, want.ResolvedAt = 2, Base.Add(time.Hour)
	diff(t, "entry after a successful retry", &want, got)
	wantUTC(t, "resolved at", got.ResolvedAt)
	again, err := s.GetQuarantine(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "stored entry", got, again)
}

// testQuarantineSharesCallbackBody: message entries written without a body
// come back with their callback row's body and headers, so a callback with
// many bad messages keeps its body once.
func testQuarantineSharesCallbackBody(t *testing.T, s store.Store) {
	a := NewQuarantineEntry(waorders.QuarantineMessage, "wamid.share-a", Base)
	b := NewQuarantineEntry(waorders.QuarantineMessage, "wamid.share-b", Base)
	for _, e := range []*waorders.QuarantineEntry{a, b} {
		e.Body, e.Headers = nil, nil
	}
	d := NewQuarantineInbound(a, b)
	d.Callback.Body = []byte(`{"meta_object": {"value": {"messages": [{"id": "wamid.share-a"}, {"id": "wamid.share-b"}]}}}`)
	d.Callback.Headers = testHeaders()
	res := mustWrite(t, s, d)
	for i, r := range res[0].Quarantine {
		got, err := s.GetQuarantine(t.Context(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Body) != string(d.Callback.Body) {
			t.Errorf("entry %d body = %q, want the callback's %q", i, got.Body, d.Callback.Body)
		}
		if h := got.Headers["User-Agent"]; len(h) == 0 || h[0] != "Kaleyra-Webhook/2.0" {
			t.Errorf("entry %d headers = %v, want the callback's", i, got.Headers)
		}
	}
}

// RunQuarantine checks Quarantine: deduplication, lists, retries, shared bodies.
func RunQuarantine(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"QuarantineDedup", testQuarantineDedup},
		{"QuarantineList", testQuarantineList},
		{"QuarantineGetAndMark", testQuarantineGetAndMark},
		{"QuarantineSharesCallbackBody", testQuarantineSharesCallbackBody},
	})
}

package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func testStatusDedup(t *testing.T, s store.Store) {
	sent := NewStatus("wamid.out1", "sent", RankSent, Base.In(ist))
	sent.Update.Raw = json.RawMessage(`{"id":"wamid.out1", "status":"sent"}`)
	res := mustWrite(t, s, NewStatusInbound(sent))
	diff(t, "first sent", []store.Outcome{store.Stored}, res[0].Statuses)

	res = mustWrite(t, s,
		NewStatusInbound(NewStatus("wamid.out1", "sent", RankSent, Base.Add(time.Hour))),
		NewStatusInbound(
			NewStatus("wamid.out1", "delivered", RankDelivered, Base.Add(time.Minute)),
			NewStatus("wamid.out1", "delivered", RankDelivered, Base.Add(2*time.Minute)),
		))
	diff(t, "sent again", []store.Outcome{store.Duplicate}, res[0].Statuses)
	diff(t, "delivered twice", []store.Outcome{store.Stored, store.Duplicate}, res[1].Statuses)

	got, err := s.ListStatuses(t.Context(), "wamid.out1")
	if err != nil {
		t.Fatal(err)
	}
	wantSent := *sent.Update
	wantSent.Timestamp, wantSent.ReceivedAt = Base, Base.Add(time.Second)
	if len(got) != 2 {
		t.Fatalf("ListStatuses returned %d updates, want 2", len(got))
	}
	diff(t, "sent update", &wantSent, got[0])
	if string(got[0].Raw) != string(sent.Update.Raw) {
		t.Errorf("raw = %s, want exactly %s", got[0].Raw, sent.Update.Raw)
	}
	if got[1].Status != "delivered" || !got[1].Timestamp.Equal(Base.Add(time.Minute)) {
		t.Errorf("second update = %s at %v, want the first delivered at %v", got[1].Status, got[1].Timestamp, Base.Add(time.Minute))
	}
	for _, u := range got {
		wantUTC(t, "status "+u.Status, u.Timestamp, u.ReceivedAt)
	}
}

func testStatusStateForwardOnly(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Statuses arrive out of order: read first, then the late sent and delivered.
	mustWrite(t, s, NewStatusInbound(NewStatus("wamid.out2", "read", RankRead, Base.Add(2*time.Minute))))
	res := mustWrite(t, s,
		NewStatusInbound(NewStatus("wamid.out2", "delivered", RankDelivered, Base.Add(time.Minute))),
		NewStatusInbound(NewStatus("wamid.out2", "sent", RankSent, Base)))
	diff(t, "late statuses", []store.Outcome{store.Stored}, res[0].Statuses)
	diff(t, "late statuses", []store.Outcome{store.Stored}, res[1].Statuses)

	st, err := s.GetMessageState(ctx, "wamid.out2")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "state", &waorders.MessageState{MessageID: "wamid.out2", Status: "read", UpdatedAt: Base.Add(2 * time.Minute)}, st)
	wantUTC(t, "state", st.UpdatedAt)

	all, err := s.ListStatuses(ctx, "wamid.out2")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range all {
		names = append(names, u.Status)
	}
	diff(t, "statuses by rank", []string{"sent", "delivered", "read"}, names)

	// In order, the state follows each step.
	for _, step := range []store.StatusWrite{
		NewStatus("wamid.out3", "sent", RankSent, Base),
		NewStatus("wamid.out3", "delivered", RankDelivered, Base.Add(time.Second)),
	} {
		mustWrite(t, s, NewStatusInbound(step))
		st, err := s.GetMessageState(ctx, "wamid.out3")
		if err != nil || st.Status != step.Update.Status {
			t.Errorf("state after %s = %+v, %v; want %s", step.Update.Status, st, err, step.Update.Status)
		}
	}
}

func testStatusFailedIsTerminal(t *testing.T, s store.Store) {
	failed := NewStatus("wamid.out4", "failed", RankFailed, Base.Add(time.Minute))
	failed.Update.Errors = json.RawMessage(`[{"code":131047,"title":"Re-engagement message"}]`)
	mustWrite(t, s,
		NewStatusInbound(NewStatus("wamid.out4", "sent", RankSent, Base)),
		NewStatusInbound(failed),
		NewStatusInbound(NewStatus("wamid.out4", "delivered", RankDelivered, Base.Add(2*time.Minute))),
		NewStatusInbound(NewStatus("wamid.out4", "read", RankRead, Base.Add(3*time.Minute))))
	st, err := s.GetMessageState(t.Context(), "wamid.out4")
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "failed" || !st.UpdatedAt.Equal(Base.Add(time.Minute)) {
		t.Errorf("state = %+v, want failed at %v", st, Base.Add(time.Minute))
	}
	all, err := s.ListStatuses(t.Context(), "wamid.out4")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[3].Status != "failed" || string(all[3].Errors) != string(failed.Update.Errors) {
		t.Errorf("statuses = %+v, want 4 with failed last carrying its errors exactly", all)
	}
}

func testListMessages(t *testing.T, s store.Store) {
	a := NewTextMessage("wamid.m1", Base, "first")
	b := NewTextMessage("wamid.m3", Base.Add(2*time.Minute), "from another customer")
	b.Customer = waorders.Customer{WaID: "919800000002", Name: "Priya"}
	c := NewTextMessage("wamid.m4", Base.Add(3*time.Minute), "")
	c.Type = "button"
	mustWrite(t, s, NewMessageInbound(a, b, c), NewOrderInbound(NewOrder("wamid.m2", Base.Add(time.Minute))))

	tests := []struct {
		name string
		f    store.ListMessagesParams
		want []string
	}{
		{"All", store.ListMessagesParams{}, []string{"wamid.m4", "wamid.m3", "wamid.m2", "wamid.m1"}},
		{"Type", store.ListMessagesParams{Type: "text"}, []string{"wamid.m3", "wamid.m1"}},
		{"Order type", store.ListMessagesParams{Type: "order"}, []string{"wamid.m2"}},
		{"Customer", store.ListMessagesParams{Customer: DefaultCustomer}, []string{"wamid.m4", "wamid.m2", "wamid.m1"}},
		{"Since", store.ListMessagesParams{Since: Base.Add(2 * time.Minute)}, []string{"wamid.m4", "wamid.m3"}},
		{"UntilExclusive", store.ListMessagesParams{Until: Base.Add(2 * time.Minute)}, []string{"wamid.m2", "wamid.m1"}},
		{"Window", store.ListMessagesParams{Since: Base.Add(time.Minute), Until: Base.Add(3 * time.Minute)}, []string{"wamid.m3", "wamid.m2"}},
		{"Combined", store.ListMessagesParams{Type: "text", Customer: DefaultCustomer}, []string{"wamid.m1"}},
		{"None", store.ListMessagesParams{Type: "sticker"}, nil},
	}
	for _, tt := range tests {
		page, err := s.ListMessages(t.Context(), tt.f)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var ids []string
		for _, m := range page.Messages {
			ids = append(ids, m.ID)
		}
		diff(t, tt.name, tt.want, ids)
		if page.NextCursor != "" {
			t.Errorf("%s: next cursor %q on the only page", tt.name, page.NextCursor)
		}
	}
}

func testListMessagesPagination(t *testing.T, s store.Store) {
	var msgs []*waorders.Message
	for i := range 7 {
		// Pairs share a sent time, so the id breaks the tie.
		msgs = append(msgs, NewTextMessage("wamid.p"+string(rune('a'+i)), Base.Add(time.Duration(i/2)*time.Minute), "x"))
	}
	mustWrite(t, s, NewMessageInbound(msgs...))
	want := []string{"wamid.pg", "wamid.pf", "wamid.pe", "wamid.pd", "wamid.pc", "wamid.pb", "wamid.pa"}

	var got []string
	cursor := ""
	for range 10 {
		page, err := s.ListMessages(t.Context(), store.ListMessagesParams{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Messages {
			got = append(got, m.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	diff(t, "pages", want, got)

	_, err := s.ListMessages(t.Context(), store.ListMessagesParams{Cursor: "not a cursor!"})
	wantCode(t, "bad cursor", err, waorders.CodeInvalid)
}

// RunMessages checks Messages: statuses and their forward-only state, message lists.
func RunMessages(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"StatusDedup", testStatusDedup},
		{"StatusStateForwardOnly", testStatusStateForwardOnly},
		{"StatusFailedIsTerminal", testStatusFailedIsTerminal},
		{"ListMessages", testListMessages},
		{"ListMessagesPagination", testListMessagesPagination},
	})
}

package storetest

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// ist is a non-UTC zone: the suite writes times in it and expects UTC back.
var ist = time.FixedZone("IST", 5*3600+1800)

func testMessageRoundTrip(t *testing.T, s store.Store) {
	m := NewTextMessage("wamid.text1", Base.In(ist), "Hi, is the blue shirt in stock?")
	m.Type = "text"
	m.Campaign = waorders.Campaign{Ref: "Hello This will be my reference id - 123", Ref1: "shoes campaign", Ref2: "summer sale campaign"}
	m.ReplyTo = "48c38d78-4ec5-4f00-abee-03a1b2c36c85"
	m.TraceID = "cb94fee2-3e70-4a00-944a-2a4b5c6db90a"
	m.ContextMessageID = "wamid.context1"
	m.Customer.Name = "Zoë \"quoted\" <b>"
	// Raw must come back byte for byte, odd spacing and key order included.
	m.Raw = json.RawMessage(`{"id":"wamid.text1",  "type" : "text","text":{"body":"Hi, is the blue shirt in stock?"}, "a":1}`)
	m.Warnings = []waorders.Problem{{Severity: "warning", Code: "unknown_field", Path: "messages[0].x", Message: "ignored field x"}}
	m.ReceivedAt = Base.Add(1500 * time.Millisecond).In(ist)
	res := mustWrite(t, s, NewMessageInbound(m))
	diff(t, "outcome", []store.Outcome{store.Stored}, res[0].Messages)

	got, err := s.GetMessage(t.Context(), m.ID)
	if err != nil {
		t.Fatalf("GetMessage: %v", err)
	}
	want := *m
	want.SentAt, want.ReceivedAt = m.SentAt.UTC(), m.ReceivedAt.UTC()
	diff(t, "message", &want, got)
	if string(got.Raw) != string(m.Raw) {
		t.Errorf("raw = %s, want exactly %s", got.Raw, m.Raw)
	}
	wantUTC(t, "message", got.SentAt, got.ReceivedAt)
	if !got.SentAt.Equal(Base) {
		t.Errorf("sent at %v, want %v (microseconds kept)", got.SentAt, Base)
	}
}

// richOrder is an order using every field, four currencies and amounts a
// float64 could not hold exactly.
func richOrder(id string, at time.Time) *waorders.Order {
	o := NewOrder(id, at.In(ist),
		NewItem("shirt1122", 2, Money("INR", 160000)),
		NewItem("cap-usd", 3, Money("USD", 1699)),
		NewItem("tea-jpy", 1, Money("JPY", 1500)),
		NewItem("pant1122", 1, Money("INR", 200000)),
		NewItem("oud-kwd", 4, Money("KWD", 1250)),
		NewItem("gold-bar", 10000, Money("EUR", 922337203685477)),
	)
	o.Text = "Deliver after 6pm, ring twice"
	o.Customer = waorders.Customer{WaID: "919812345678", Name: "Ananya Iyer"}
	o.Campaign = waorders.Campaign{Ref: "Hello This will be my reference id - 123", Ref1: "shoes campaign", Ref2: "summer sale campaign"}
	o.ReplyTo = "48c38d78-4ec5-4f00-abee-03a1b2c36c85"
	o.TraceID = "cb94fee2-3e70-4a00-944a-2a4b5c6db90a"
	o.ContextMessageID = "wamid.catalog-sent-1"
	o.Warnings = []waorders.Problem{{Severity: "warning", Code: "timestamp_missing", Path: "messages[0].timestamp", Message: "used receipt time"}}
	o.ReceivedAt = at.Add(2 * time.Second).In(ist)
	return o
}

func testOrderRoundTrip(t *testing.T, s store.Store) {
	o := richOrder("wamid.order1", Base)
	mustWriteOrders(t, s, o)

	got := mustGetOrder(t, s, o.ID)
	want := expectedStored(o)
	diff(t, "order", want, got)
	diff(t, "totals", []string{"INR", "USD", "JPY", "KWD", "EUR"}, currencies(got.Totals))
	if len(got.Totals) == 5 && got.Totals[4].Minor != 9223372036854770000 {
		t.Errorf("EUR total = %d minor units, want exactly 9223372036854770000", got.Totals[4].Minor)
	}
	wantUTC(t, "order", got.OrderedAt, got.ReceivedAt)
	for _, h := range got.History {
		wantUTC(t, "history", h.At)
	}

	m, err := s.GetMessage(t.Context(), o.ID)
	if err != nil {
		t.Fatalf("GetMessage of the order message: %v", err)
	}
	if m.Type != "order" || !m.SentAt.Equal(o.OrderedAt) || m.Customer != o.Customer || m.Campaign != o.Campaign {
		t.Errorf("order message = %+v, want type order sent at %v by %v in %v", m, o.OrderedAt, o.Customer, o.Campaign)
	}
}

func currencies(as []money.Amount) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Currency
	}
	return out
}

func testOrderIDDefaultsToMessageID(t *testing.T, s store.Store) {
	o := NewOrder("wamid.noid", Base)
	d := NewOrderInbound(o)
	o.ID = ""
	mustWrite(t, s, d)
	got := mustGetOrder(t, s, "wamid.noid")
	if got.ID != "wamid.noid" || len(got.Items) != 2 {
		t.Errorf("order = %+v, want id wamid.noid with 2 items", got)
	}
}

func testEmptyWrite(t *testing.T, s store.Store) {
	res, err := s.WriteInbound(t.Context(), nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("WriteInbound(nil) = %v, %v; want no results, nil", res, err)
	}
	d := &store.Inbound{Callback: store.RawCallback{ID: NewCallbackID(), Envelope: "meta", ReceivedAt: Base, Body: []byte(`{}`)}}
	res = mustWrite(t, s, d)
	diff(t, "result of an Inbound without records", store.InboundResult{}, res[0])
}

func testInboundResults(t *testing.T, s store.Store) {
	o := NewOrder("wamid.mixed-order", Base)
	d := NewOrderInbound(o)
	text := NewTextMessage("wamid.mixed-text", Base, "hello")
	text.CallbackID = d.Callback.ID
	d.Messages = append(d.Messages, store.MessageWrite{Message: text})
	d.Statuses = []store.StatusWrite{
		NewStatus("wamid.out1", "sent", RankSent, Base),
		NewStatus("wamid.out1", "delivered", RankDelivered, Base.Add(time.Second)),
	}
	d.Quarantine = []*waorders.QuarantineEntry{NewQuarantineEntry(waorders.QuarantineMessage, "wamid.bad1", Base)}
	empty := &store.Inbound{Callback: store.RawCallback{ID: NewCallbackID(), Envelope: "kaleyra", ReceivedAt: Base, Body: []byte(`{}`)}}

	res := mustWrite(t, s, d, empty)
	diff(t, "messages", []store.Outcome{store.Stored, store.Stored}, res[0].Messages)
	diff(t, "statuses", []store.Outcome{store.Stored, store.Stored}, res[0].Statuses)
	if len(res[0].Quarantine) != 1 || res[0].Quarantine[0].Outcome != store.Stored || res[0].Quarantine[0].ID <= 0 {
		t.Errorf("quarantine results = %+v, want one stored entry with an id", res[0].Quarantine)
	}
	diff(t, "empty Inbound", store.InboundResult{}, res[1])
	mustGetOrder(t, s, o.ID)
	if _, err := s.GetMessage(t.Context(), text.ID); err != nil {
		t.Errorf("GetMessage(text): %v", err)
	}
}

func testDuplicateAcrossCalls(t *testing.T, s store.Store) {
	first := NewOrder("wamid.dup", Base)
	mustWriteOrders(t, s, first)

	// A redelivery (new request id) with different content changes nothing.
	again := NewOrder("wamid.dup", Base.Add(time.Hour), NewItem("other", 5, Money("USD", 100)))
	again.Text = "changed"
	again.Customer.Name = "Somebody Else"
	res := mustWrite(t, s, NewOrderInbound(again))
	diff(t, "redelivery outcome", []store.Outcome{store.Duplicate}, res[0].Messages)

	diff(t, "order after redelivery", expectedStored(first), mustGetOrder(t, s, first.ID))
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "orders", []string{"wamid.dup"}, orderIDs(page.Orders))
	msgs, err := s.ListMessages(t.Context(), store.ListMessagesParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 || msgs.Messages[0].Summary != "order of 2 items" {
		t.Errorf("messages after redelivery = %d, want the first one only", len(msgs.Messages))
	}
}

func testDuplicateWithinCall(t *testing.T, s store.Store) {
	o := NewOrder("wamid.twice", Base)
	text := NewTextMessage("wamid.text-twice", Base, "hi")
	textAgain := NewTextMessage("wamid.text-twice", Base, "hi again")
	st := NewStatus("wamid.out-twice", "read", RankRead, Base)
	stAgain := NewStatus("wamid.out-twice", "read", RankRead, Base.Add(time.Minute))
	ds := []*store.Inbound{
		NewOrderInbound(o),
		NewOrderInbound(NewOrder("wamid.twice", Base)),
		NewMessageInbound(text, textAgain),
		NewStatusInbound(st, stAgain),
	}
	res := mustWrite(t, s, ds...)
	diff(t, "first order", []store.Outcome{store.Stored}, res[0].Messages)
	diff(t, "second order", []store.Outcome{store.Duplicate}, res[1].Messages)
	diff(t, "texts", []store.Outcome{store.Stored, store.Duplicate}, res[2].Messages)
	diff(t, "statuses", []store.Outcome{store.Stored, store.Duplicate}, res[3].Statuses)

	got := mustGetOrder(t, s, o.ID)
	if len(got.Items) != 2 || len(got.History) != 1 {
		t.Errorf("order has %d items and %d history entries, want 2 and 1", len(got.Items), len(got.History))
	}
	m, err := s.GetMessage(t.Context(), text.ID)
	if err != nil || m.Summary != "hi" {
		t.Errorf("GetMessage = %+v, %v; want the first text", m, err)
	}
	sts, err := s.ListStatuses(t.Context(), "wamid.out-twice")
	if err != nil || len(sts) != 1 || !sts[0].Timestamp.Equal(Base) {
		t.Errorf("ListStatuses = %v, %v; want the first read only", sts, err)
	}
}

func testConcurrentDuplicates(t *testing.T, s store.Store) {
	const n = 10
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[store.Outcome]int{}
		errs     []error
	)
	for range n {
		wg.Go(func() {
			res, err := s.WriteInbound(t.Context(), []*store.Inbound{NewOrderInbound(NewOrder("wamid.race", Base))})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			outcomes[res[0].Messages[0]]++
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent WriteInbound failed: %v", errs)
	}
	diff(t, "outcomes", map[store.Outcome]int{store.Stored: 1, store.Duplicate: n - 1}, outcomes)
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "orders", []string{"wamid.race"}, orderIDs(page.Orders))
	got := mustGetOrder(t, s, "wamid.race")
	if len(got.Items) != 2 || len(got.History) != 1 || got.Version != 1 {
		t.Errorf("order = %d items, %d history entries, version %d; want 2, 1, 1", len(got.Items), len(got.History), got.Version)
	}
}

func testCallbackIDReused(t *testing.T, s store.Store) {
	// A quarantine retry writes again under the request id it first had.
	d1 := NewOrderInbound(NewOrder("wamid.cb1", Base))
	d2 := NewOrderInbound(NewOrder("wamid.cb2", Base))
	d2.Callback.ID = d1.Callback.ID
	d2.Messages[0].Message.CallbackID = d1.Callback.ID
	mustWrite(t, s, d1)
	res := mustWrite(t, s, d2)
	diff(t, "retry outcome", []store.Outcome{store.Stored}, res[0].Messages)

	d3 := NewOrderInbound(NewOrder("wamid.cb3", Base))
	d4 := NewOrderInbound(NewOrder("wamid.cb4", Base))
	d4.Callback.ID = d3.Callback.ID
	res = mustWrite(t, s, d3, d4)
	if res[0].Messages[0] != store.Stored || res[1].Messages[0] != store.Stored {
		t.Errorf("same callback id twice in one call: outcomes %v, %v; want stored, stored", res[0].Messages, res[1].Messages)
	}
	// Each message keeps its own raw JSON, not bytes of the body stored
	// first under the same id.
	for _, d := range []*store.Inbound{d1, d2, d3, d4} {
		m := d.Messages[0].Message
		mustGetOrder(t, s, m.ID)
		got, err := s.GetMessage(t.Context(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Raw) != string(m.Raw) {
			t.Errorf("message %s: raw = %s, want exactly %s", m.ID, got.Raw, m.Raw)
		}
	}
}

// testRawRoundTrip: the raw JSON of messages and statuses comes back byte
// for byte, whether it is a slice of its callback's body (as the decoder
// makes it, and drivers may store it as such) or not.
func testRawRoundTrip(t *testing.T, s store.Store) {
	m1 := NewTextMessage("wamid.raw1", Base, "first")
	m2 := NewTextMessage("wamid.raw2", Base.Add(time.Second), "second")
	m1.Raw = json.RawMessage(`{"id":"wamid.raw1",  "type" : "text","text":{"body":"first"}}`)
	m2.Raw = json.RawMessage(`{"id":"wamid.raw2","type":"text","text":{"body":"se\u0063ond ✓"}}`)
	st := NewStatus("wamid.out-raw", "sent", RankSent, Base)
	st.Update.Raw = json.RawMessage(`{ "id":"wamid.out-raw","status":"sent" }`)
	d := NewMessageInbound(m1, m2)
	st.Update.CallbackID = d.Callback.ID
	d.Statuses = []store.StatusWrite{st}
	// The body holds the raw values verbatim, as in a real callback, after
	// a string holding the second one escaped.
	d.Callback.Body = []byte(`{"note":"` + strings.ReplaceAll(string(m2.Raw), `"`, `\"`) + `","messages":[` +
		string(m1.Raw) + `,` + string(m2.Raw) + `],"statuses":[` + string(st.Update.Raw) + `]}`)

	// A callback whose records' raw JSON is not in its body.
	m3 := NewTextMessage("wamid.raw3", Base.Add(2*time.Second), "third")
	m3.Raw = json.RawMessage(`{"id":"wamid.raw3"}`)
	st2 := NewStatus("wamid.out-raw2", "sent", RankSent, Base)
	elsewhere := NewMessageInbound(m3)
	st2.Update.CallbackID = elsewhere.Callback.ID
	elsewhere.Statuses = []store.StatusWrite{st2}
	mustWrite(t, s, d, elsewhere)

	for _, m := range []*waorders.Message{m1, m2, m3} {
		got, err := s.GetMessage(t.Context(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Raw) != string(m.Raw) {
			t.Errorf("GetMessage(%s): raw = %s, want exactly %s", m.ID, got.Raw, m.Raw)
		}
	}
	page, err := s.ListMessages(t.Context(), store.ListMessagesParams{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{m1.ID: string(m1.Raw), m2.ID: string(m2.Raw), m3.ID: string(m3.Raw)}
	for _, m := range page.Messages {
		if string(m.Raw) != want[m.ID] {
			t.Errorf("ListMessages %s: raw = %s, want exactly %s", m.ID, m.Raw, want[m.ID])
		}
	}
	for _, sw := range []store.StatusWrite{st, st2} {
		got, err := s.ListStatuses(t.Context(), sw.Update.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || string(got[0].Raw) != string(sw.Update.Raw) {
			t.Errorf("ListStatuses(%s) = %+v, want one with raw %s", sw.Update.MessageID, got, sw.Update.Raw)
		}
	}
}

func testInvalidOrderWritesNothing(t *testing.T, s store.Store) {
	good := NewOrderInbound(NewOrder("wamid.good", Base))
	badOrder := NewOrder("wamid.bad", Base)
	bad := NewOrderInbound(badOrder)
	badOrder.Items[0].LineTotal.Minor++ // no longer quantity × unit price

	_, err := s.WriteInbound(t.Context(), []*store.Inbound{good, bad})
	wantCode(t, "WriteInbound with an invalid order", err, waorders.CodeInvalid)
	// Totals given with an order must be the sums of its lines.
	wrongTotals := NewOrderInbound(NewOrder("wamid.badtotal", Base))
	wrongTotals.Messages[0].Order.Totals[0].Minor++
	_, err = s.WriteInbound(t.Context(), []*store.Inbound{wrongTotals})
	wantCode(t, "WriteInbound with wrong totals", err, waorders.CodeInvalid)

	for _, id := range []string{"wamid.good", "wamid.bad", "wamid.badtotal"} {
		_, err := s.GetOrder(t.Context(), id)
		wantCode(t, "GetOrder("+id+") after the failed call", err, waorders.CodeNotFound)
		_, err = s.GetMessage(t.Context(), id)
		wantCode(t, "GetMessage("+id+") after the failed call", err, waorders.CodeNotFound)
	}
}

// RunInbound checks InboundWriter: writes, deduplication and raw JSON.
func RunInbound(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"MessageRoundTrip", testMessageRoundTrip},
		{"OrderRoundTrip", testOrderRoundTrip},
		{"OrderIDDefaultsToMessageID", testOrderIDDefaultsToMessageID},
		{"EmptyWrite", testEmptyWrite},
		{"InboundResultsParallelInput", testInboundResults},
		{"DuplicateAcrossCalls", testDuplicateAcrossCalls},
		{"DuplicateWithinCall", testDuplicateWithinCall},
		{"ConcurrentDuplicateCallbacks", testConcurrentDuplicates},
		{"CallbackIDReused", testCallbackIDReused},
		{"RawRoundTrip", testRawRoundTrip},
		{"InvalidOrderWritesNothing", testInvalidOrderWritesNothing},
	})
}

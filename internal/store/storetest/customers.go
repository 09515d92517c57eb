package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// RunCustomers checks the customers area: a customer is the set of
// identifiers that records showed together, found by any of them.
func RunCustomers(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"PhoneThenBSUID", testCustomerPhoneThenBSUID},
		{"BSUIDOnly", testCustomerBSUIDOnly},
		{"UsernameOnly", testCustomerUsernameOnly},
		{"NumberChangeLinked", testCustomerNumberChange},
		{"MergedByOneMessage", testCustomerMerged},
		{"ConcurrentLinks", testCustomerConcurrentLinks},
		{"MarketingPreference", testCustomerMarketingPreference},
	})
}

// RunChanges checks the changes area and group statuses.
func RunChanges(t *testing.T, open Open) {
	runAll(t, open, []subtest{
		{"ChangesDedupAndFilters", testChangesDedupAndFilters},
		{"GroupStatusesPerParticipant", testGroupStatuses},
		{"MessageIdentityAndErrors", testMessageIdentityRoundTrip},
	})
}

// textFrom returns a text message of customer c sent at Base+at.
func textFrom(id string, at time.Duration, c waorders.Customer) *waorders.Message {
	m := NewTextMessage(id, Base.Add(at), "hi")
	m.Customer = c
	return m
}

func orderFrom(id string, at time.Duration, c waorders.Customer, minor int64) *store.Inbound {
	o := NewOrder(id, Base.Add(at), NewItem("shirt", 1, Money("INR", minor)))
	o.Customer = c
	d := NewOrderInbound(o)
	return d
}

func ids(c *waorders.CustomerSummary) []string {
	var out []string
	for _, id := range c.Identifiers {
		out = append(out, id.Kind+":"+id.Value)
	}
	slices.Sort(out)
	return out
}

func mustCustomer(t *testing.T, s store.Store, id string) *waorders.CustomerSummary {
	t.Helper()
	c, err := s.GetCustomer(t.Context(), id)
	if err != nil {
		t.Fatalf("GetCustomer(%s): %v", id, err)
	}
	return c
}

func orderIDsOf(t *testing.T, s store.Store, customer string) []string {
	t.Helper()
	page, err := s.ListOrders(t.Context(), store.ListOrdersParams{Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	return orderIDs(page.Orders)
}

// A customer known by phone starts sending its BSUID: one customer, found
// by either, its orders counted over both; the old phone key still works.
func testCustomerPhoneThenBSUID(t *testing.T, s store.Store) {
	mustWrite(t, s,
		orderFrom("p1", 0, waorders.Customer{WaID: "911111111111", Name: "Asha"}, 1000),
		orderFrom("p2", time.Hour, waorders.Customer{WaID: "911111111111", UserID: "IN.1", Username: "asha", Name: "Asha K"}, 2000),
		orderFrom("p3", 2*time.Hour, waorders.Customer{UserID: "IN.1", Username: "asha"}, 3000),
	)
	for _, key := range []string{"911111111111", "IN.1", "asha"} {
		c := mustCustomer(t, s, key)
		diff(t, "identifiers of "+key, []string{"user_id:IN.1", "username:asha", "wa_id:911111111111"}, ids(c))
		if c.ID != "IN.1" || c.OrderCount != 3 || c.WaID != "911111111111" || c.Username != "asha" || c.Name != "Asha K" {
			t.Errorf("GetCustomer(%s) = %+v; want key IN.1, 3 orders, phone, username, newest name", key, c)
		}
		diff(t, "spend", []waorders.CustomerID{}, []waorders.CustomerID{})
		if len(c.Spend) != 1 || c.Spend[0].Minor != 6000 {
			t.Errorf("spend %v, want INR 60.00", c.Spend)
		}
		diff(t, "orders of "+key, []string{"p3", "p2", "p1"}, orderIDsOf(t, s, key))
	}
	o := mustGetOrder(t, s, "p3")
	if o.Customer.UserID != "IN.1" || o.Customer.Username != "asha" || o.Customer.WaID != "" {
		t.Errorf("order p3 customer %+v; want the identifiers it carried", o.Customer)
	}
	var exported []waorders.Customer
	if err := s.ExportOrders(t.Context(), store.ListOrdersParams{Customer: "asha"}, func(o *waorders.Order) error {
		exported = append(exported, o.Customer)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(exported) != 3 || exported[0] != (waorders.Customer{UserID: "IN.1", Username: "asha"}) {
		t.Errorf("exported customers %+v; want 3, the newest with its BSUID and username", exported)
	}
}

// A customer who never shows a phone number is stored and found by BSUID.
func testCustomerBSUIDOnly(t *testing.T, s store.Store) {
	mustWrite(t, s, orderFrom("b1", 0, waorders.Customer{UserID: "US.9", Name: "Bo"}, 500),
		orderFrom("b2", time.Hour, waorders.Customer{UserID: "US.8", Name: "Other"}, 700))
	c := mustCustomer(t, s, "US.9")
	if c.ID != "US.9" || c.OrderCount != 1 || c.WaID != "" || c.Name != "Bo" {
		t.Errorf("GetCustomer = %+v; want US.9 with its own order only", c)
	}
	diff(t, "orders", []string{"b1"}, orderIDsOf(t, s, "US.9"))
	page, err := s.ListMessages(t.Context(), store.ListMessagesParams{Customer: "US.8"})
	if err != nil || len(page.Messages) != 1 || page.Messages[0].Customer.UserID != "US.8" {
		t.Errorf("ListMessages(US.8) = %+v, %v", page, err)
	}
}

// Username-only and id-less messages are stored; username-only customers
// are found by username, and no two of them collapse into one.
func testCustomerUsernameOnly(t *testing.T, s store.Store) {
	mustWrite(t, s, NewMessageInbound(textFrom("u1", 0, waorders.Customer{Username: "zed"}),
		textFrom("u2", time.Minute, waorders.Customer{Username: "yan"}),
		textFrom("u3", 2*time.Minute, waorders.Customer{})))
	c := mustCustomer(t, s, "zed")
	if c.ID != "zed" || c.MessageCount != 1 {
		t.Errorf("GetCustomer(zed) = %+v; want one message", c)
	}
	m, err := s.GetMessage(t.Context(), "u3")
	if err != nil || m.Customer != (waorders.Customer{}) {
		t.Errorf("message without any id = %+v, %v; want stored with an empty customer", m, err)
	}
}

// A number change: a message with the old phone and BSUID, a BSUID change
// linking the old and the new BSUID (a system message's or user_id_update's
// Links), then the new phone with the new BSUID: one customer, keyed by
// the oldest BSUID.
func testCustomerNumberChange(t *testing.T, s store.Store) {
	mustWrite(t, s, orderFrom("n1", 0, waorders.Customer{WaID: "91222", UserID: "IN.old"}, 100))
	change := NewMessageInbound(textFrom("n2", time.Hour, waorders.Customer{UserID: "IN.old"}))
	change.Links = []store.CustomerLink{{A: waorders.CustomerID{Kind: waorders.IDUser, Value: "IN.old"},
		B: waorders.CustomerID{Kind: waorders.IDUser, Value: "IN.new"}}}
	mustWrite(t, s, change)
	mustWrite(t, s, orderFrom("n3", 2*time.Hour, waorders.Customer{WaID: "91333", UserID: "IN.new"}, 200))
	for _, key := range []string{"91222", "91333", "IN.old", "IN.new"} {
		c := mustCustomer(t, s, key)
		if c.ID != "IN.old" || c.OrderCount != 2 || c.WaID != "91333" || c.UserID != "IN.new" {
			t.Errorf("GetCustomer(%s) = %+v; want key IN.old, newest phone and BSUID, 2 orders", key, c)
		}
	}
}

// Two customers known apart are merged by one message carrying both ids.
func testCustomerMerged(t *testing.T, s store.Store) {
	mustWrite(t, s, orderFrom("g1", 0, waorders.Customer{WaID: "9144"}, 100),
		orderFrom("g2", time.Hour, waorders.Customer{UserID: "IN.44"}, 100),
		orderFrom("g3", 2*time.Hour, waorders.Customer{ParentUserID: "IN.ENT.44"}, 100))
	if c := mustCustomer(t, s, "9144"); c.OrderCount != 1 {
		t.Fatalf("before the merge: %+v", c)
	}
	mustWrite(t, s, NewMessageInbound(textFrom("g4", 3*time.Hour,
		waorders.Customer{WaID: "9144", UserID: "IN.44", ParentUserID: "IN.ENT.44"})))
	c := mustCustomer(t, s, "IN.ENT.44")
	diff(t, "identifiers", []string{"parent_user_id:IN.ENT.44", "user_id:IN.44", "wa_id:9144"}, ids(c))
	if c.ID != "IN.44" || c.OrderCount != 3 || c.MessageCount != 4 {
		t.Errorf("merged = %+v; want key IN.44, 3 orders, 4 messages", c)
	}
}

// Concurrent writes of the same pair (as from several instances) create
// one customer and never fail.
func testCustomerConcurrentLinks(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			d := NewMessageInbound(textFrom("cc"+string(rune('a'+i)), time.Duration(i)*time.Second,
				waorders.Customer{WaID: "9155", UserID: "IN.55", Username: "cc"}))
			_, err := s.WriteInbound(t.Context(), []*store.Inbound{d})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c := mustCustomer(t, s, "cc")
	if c.MessageCount != 8 || len(c.Identifiers) != 3 {
		t.Errorf("GetCustomer = %+v; want one customer of 8 messages and 3 identifiers", c)
	}
}

// The last user_preferences change of any identifier is the customer's
// marketing preference.
func testCustomerMarketingPreference(t *testing.T, s store.Store) {
	mustWrite(t, s, NewMessageInbound(textFrom("mp1", 0, waorders.Customer{WaID: "9166", UserID: "IN.66"})))
	for i, v := range []string{"stop", "resume", "stop"} {
		d := NewMessageInbound()
		d.Changes = []store.ChangeWrite{{Change: NewChange("user_preferences", "user_preferences", "k"+v+string(rune('0'+i)),
			Base.Add(time.Duration(i)*time.Hour), waorders.Customer{UserID: "IN.66"})}}
		d.Changes[0].Change.Event = "marketing_messages " + v
		mustWrite(t, s, d)
	}
	if c := mustCustomer(t, s, "9166"); c.MarketingPreference != "stop" {
		t.Errorf("marketing preference %q, want stop", c.MarketingPreference)
	}
}

// NewChange returns a change of field and kind with dedup key key at at.
func NewChange(field, kind, key string, at time.Time, c waorders.Customer) *waorders.Change {
	return &waorders.Change{Field: field, Kind: kind, Key: key, Summary: field + ": test", Customer: c, At: at,
		ReceivedAt: at.Add(time.Second), Raw: []byte(`{"field":"` + field + `","key":"` + key + `"}`)}
}

func testChangesDedupAndFilters(t *testing.T, s store.Store) {
	d := NewMessageInbound()
	d.Changes = []store.ChangeWrite{
		{Change: NewChange("calls", "calls", "c1", Base, waorders.Customer{WaID: "9177"})},
		{Change: NewChange("some_future_field", "unknown", "u1", Base.Add(time.Minute), waorders.Customer{}), RawOnly: true},
		{Change: NewChange("calls", "calls", "c1", Base, waorders.Customer{WaID: "9177"})}, // repeated in the call
	}
	res := mustWrite(t, s, d)
	diff(t, "outcomes", []store.Outcome{store.Stored, store.Kept, store.Duplicate}, res[0].Changes)
	again := NewMessageInbound()
	again.Changes = []store.ChangeWrite{{Change: NewChange("calls", "calls", "c1", Base, waorders.Customer{WaID: "9177"})}}
	diff(t, "redelivery", []store.Outcome{store.Duplicate}, mustWrite(t, s, again)[0].Changes)

	page, err := s.ListChanges(t.Context(), store.ListChangesParams{})
	if err != nil || len(page.Changes) != 2 || page.Changes[0].Field != "some_future_field" {
		t.Fatalf("ListChanges = %+v, %v; want 2, newest first", page, err)
	}
	c := page.Changes[1]
	if string(c.Raw) != `{"field":"calls","key":"c1"}` || c.Customer.WaID != "9177" || !c.At.Equal(Base) || c.Kind != "calls" {
		t.Errorf("change = %+v; want it as written", c)
	}
	wantUTC(t, "change", c.At, c.ReceivedAt)
	for _, f := range []store.ListChangesParams{{Field: "calls"}, {Kind: "calls"}, {Customer: "9177"}, {Until: Base.Add(time.Second)}} {
		page, err := s.ListChanges(t.Context(), f)
		if err != nil || len(page.Changes) != 1 || page.Changes[0].Key != "c1" {
			t.Errorf("ListChanges(%+v) = %+v, %v; want the call", f, page, err)
		}
	}
	page, err = s.ListChanges(t.Context(), store.ListChangesParams{Limit: 1})
	if err != nil || page.NextCursor == "" {
		t.Fatalf("page 1: %+v, %v", page, err)
	}
	page, err = s.ListChanges(t.Context(), store.ListChangesParams{Limit: 1, Cursor: page.NextCursor})
	if err != nil || len(page.Changes) != 1 || page.Changes[0].Key != "c1" || page.NextCursor != "" {
		t.Errorf("page 2: %+v, %v", page, err)
	}
}

// Receipts of a group message are kept per participant; a one-to-one
// status is deduplicated as before.
func testGroupStatuses(t *testing.T, s store.Store) {
	read := func(participant string) store.StatusWrite {
		sw := NewStatus("wamid.group", "read", RankRead, Base)
		sw.Update.Participant, sw.Update.GroupID = participant, "group-1"
		sw.Update.RecipientID, sw.Update.RecipientUserID = "", "US."+participant
		sw.Update.Pricing = []byte(`{"billable":true}`)
		return sw
	}
	res := mustWrite(t, s, NewStatusInbound(read("p1"), read("p2"), read("p1")))
	diff(t, "outcomes", []store.Outcome{store.Stored, store.Stored, store.Duplicate}, res[0].Statuses)
	sts, err := s.ListStatuses(t.Context(), "wamid.group")
	if err != nil || len(sts) != 2 || sts[0].Participant != "p1" || sts[1].RecipientUserID != "US.p2" ||
		sts[0].GroupID != "group-1" || string(sts[0].Pricing) != `{"billable":true}` {
		t.Fatalf("ListStatuses = %+v, %v; want one per participant", sts, err)
	}
	mustWrite(t, s, NewStatusInbound(NewStatus("wamid.one", "sent", RankSent, Base.Add(time.Minute))))
	for _, f := range []store.FindStatusesParams{{GroupID: "group-1"}, {Recipient: "US.p1"}, {Status: "read"}} {
		page, err := s.FindStatuses(t.Context(), f)
		if err != nil || len(page.Statuses) == 0 || page.Statuses[0].MessageID != "wamid.group" {
			t.Errorf("FindStatuses(%+v) = %+v, %v", f, page, err)
		}
	}
	page, err := s.FindStatuses(t.Context(), store.FindStatusesParams{Limit: 2})
	if err != nil || len(page.Statuses) != 2 || page.Statuses[0].MessageID != "wamid.one" || page.NextCursor == "" {
		t.Fatalf("FindStatuses page 1 = %+v, %v; want newest first", page, err)
	}
	page, err = s.FindStatuses(t.Context(), store.FindStatusesParams{Limit: 2, Cursor: page.NextCursor})
	if err != nil || len(page.Statuses) != 1 || page.NextCursor != "" {
		t.Errorf("FindStatuses page 2 = %+v, %v", page, err)
	}
}

// Every new message field comes back as written.
func testMessageIdentityRoundTrip(t *testing.T, s store.Store) {
	m := textFrom("wamid.echo", 0, waorders.Customer{UserID: "IN.7", ParentUserID: "IN.ENT.7", Username: "seven", Name: "S"})
	m.Direction, m.GroupID, m.MediaURL = waorders.DirectionOutbound, "g7", "https://media.example/7"
	m.Errors, m.ErrorCode, m.ErrorTitle = []byte(`[{"code":131051,"title":"Unsupported message type"}]`), 131051, "Unsupported message type"
	mustWrite(t, s, NewMessageInbound(m))
	got, err := s.GetMessage(t.Context(), "wamid.echo")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "message", m, got)
	for _, dir := range []string{waorders.DirectionOutbound, waorders.DirectionInbound} {
		page, err := s.ListMessages(t.Context(), store.ListMessagesParams{Direction: dir})
		if err != nil || len(page.Messages) != map[string]int{"outbound": 1, "inbound": 0}[dir] {
			t.Errorf("ListMessages(direction %s) = %+v, %v", dir, page, err)
		}
	}
}

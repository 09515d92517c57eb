package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// TestTemplates renders every page with empty data and with data, as
// each role: a page that needs a field its data lacks fails here, not in
// front of a user. Every template file must be a page someone renders.
func TestTemplates(t *testing.T) {
	t.Parallel()
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	amt, _ := money.FromMinor("INR", 123456)
	o := &waorders.Order{ID: "wamid.x", Status: waorders.OrderPending, Version: 1, Customer: waorders.Customer{WaID: "91", Name: "<b>x</b>"},
		Items:  []waorders.Item{{ProductRetailerID: "sku", Quantity: 1, UnitPrice: amt, LineTotal: amt}},
		Totals: []money.Amount{amt}, History: []waorders.StatusChange{{At: time.Now(), Actor: "zoe", To: waorders.OrderPending}},
		Warnings: []waorders.Problem{{Code: "c", Message: "m"}}}
	data := map[string][]any{
		"login": {loginView{}, loginView{Error: "e", Out: true}},
		"error": {struct {
			Status        int
			Message, Code string
		}{}},
		"overview":         {overviewData{}, overviewData{Latest: []*waorders.Order{o}, Periods: []periodStats{{Label: "Today", Revenue: o.Totals}}, Stale: true, LastCallback: time.Now()}},
		"orders":           {ordersData{}, ordersData{Orders: []*waorders.Order{o}, Next: "/ui/orders?cursor=x", Filtered: true}},
		"order":            {orderData{Order: &waorders.Order{}}, orderData{Order: o, Next: o.Status.Next(), Raw: "{}", Conflict: "c"}},
		"customer":         {customerData{Customer: &waorders.CustomerSummary{}}, customerData{Customer: &waorders.CustomerSummary{Name: "n", Names: []string{"a", "b"}, Spend: o.Totals}, Orders: []*waorders.Order{o}, Conversation: []convItem{{ID: "m", Type: "order", Direction: "inbound"}, {ID: "out_1", Type: "notification", Direction: "outbound", Summary: "notification: order pending", OrderID: "m", State: "accepted", Delivery: "read"}}}},
		"campaigns":        {campaignsData{}, campaignsData{Levels: []string{"ref"}, Charts: []currencyChart{{Currency: "INR", Bars: []bar{{Campaign: "c", Revenue: amt, Width: 600}}}}}},
		"quarantine":       {quarantineData{}, quarantineData{Entries: []*waorders.QuarantineEntry{{ID: 1}}, Next: "/x"}},
		"quarantine_entry": {quarantineData{Entry: &waorders.QuarantineEntry{}}, quarantineData{Entry: &waorders.QuarantineEntry{ID: 1, Problems: []waorders.Problem{{}}}, Headers: []header{{"A", "b"}}, Body: "<x>", Flash: "f"}},
		"quarantine_retry": {quarantineData{}, quarantineData{Count: 3, Results: &retryAll{Tried: 3}}},
		"messages":         {messagesData{}, messagesData{Messages: []*waorders.Message{{ID: "m", Type: "order"}}, Next: "/x"}},
		"webhooks":         {webhooksData{}, webhooksData{Hooks: []hookRow{{Hook: &store.Webhook{ID: "wh_1", Description: "<b>x</b>", FailingSince: time.Now()}, Stats: store.SinkStats{Open: 2, Dead: 1, OldestOpenAt: time.Now()}}}}},
		"webhook": {webhookData{Hook: &store.Webhook{}}, webhookData{Hook: &store.Webhook{ID: "wh_1", Enabled: true, EventTypes: []string{"order.created"}, FailingSince: time.Now()},
			Stats: store.SinkStats{Dead: 1}, Dead: []*store.Delivery{{EventID: "evt_1", LastStatus: 500, LastError: "<b>x</b>"}}, DeadMore: true,
			Attempts: []*store.Attempt{{Result: "retry", Error: "<b>x</b>"}, {Result: "delivered", Status: 200, Response: []byte("<b>x</b>")}}, Next: "/x", Flash: "f"}},
		"password": {passwordData{}, passwordData{Forced: true, Error: "e", Done: true}},
		"users":    {usersData{}, usersData{Users: []*store.User{{Username: "a"}}, Roles: store.Roles, Password: "p", Flash: "f"}},
	}
	for name := range h.pages {
		if _, ok := data[name]; !ok {
			t.Errorf("template %s.html has no test data here: add it (or delete the file)", name)
		}
	}
	for name, ds := range data {
		for _, role := range []string{"", store.RoleViewer, store.RoleStaff, store.RoleAdmin} {
			for _, d := range ds {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/ui/", nil)
				if role != "" {
					req = req.WithContext(withSession(req.Context(), &session{user: &store.User{Username: "u", Role: role}, csrf: "t"}))
				}
				h.render(rec, req, 200, name, view{Title: "T", Data: d})
				body := rec.Body.String()
				if rec.Code != 200 || !strings.Contains(body, "</html>") {
					t.Fatalf("%s as %q: %d %s", name, role, rec.Code, body)
				}
				if strings.Contains(body, "<b>x") {
					t.Errorf("%s: unescaped customer text", name)
				}
			}
		}
	}
}

func TestFormatMoney(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		code  string
		minor int64
		want  string
	}{{"INR", 123456789, "1,234,567.89 INR"}, {"JPY", 1500, "1,500 JPY"}, {"KWD", 1250, "1.250 KWD"}, {"USD", -5, "-0.05 USD"}, {"USD", 100000, "1,000.00 USD"}} {
		a, err := money.FromMinor(tt.code, tt.minor)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatMoney(a); got != tt.want {
			t.Errorf("formatMoney(%d %s) = %q; want %q", tt.minor, tt.code, got, tt.want)
		}
	}
}

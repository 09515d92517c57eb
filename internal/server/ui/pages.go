package ui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// countCap bounds the counts the overview reads page by page.
const countCap = store.MaxLimit

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string { return h.urls[name] },
		"money": formatMoney,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"utc":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"short": func(s string) string {
			if len(s) > 18 {
				return "…" + s[len(s)-12:]
			}
			return s
		},
		"status": func(s waorders.OrderStatus) string { return strings.ReplaceAll(string(s), "_", " ") },
		"can":    store.RoleAtLeast,
		"esc":    url.PathEscape,
		"add":    func(a, b int) int { return a + b },
		"ago":    func(t time.Time) string { return since(h.cfg.Now(), t) },
		"ms": func(d time.Duration) string {
			return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
		},
	}
}

// formatMoney writes an amount by its currency's exponent, with thousands
// grouped and the code: "1,234.50 INR". No floats.
func formatMoney(a money.Amount) string {
	d := a.Decimal()
	neg := strings.HasPrefix(d, "-")
	d = strings.TrimPrefix(d, "-")
	whole, frac, hasFrac := strings.Cut(d, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String() + " " + a.Currency
}

// --- overview -------------------------------------------------------------

type periodStats struct {
	Label   string
	Orders  int64
	Revenue []money.Amount
}

type overviewData struct {
	Periods        []periodStats
	Pending        int
	PendingMore    bool
	Quarantine     int
	QuarantineMore bool
	LastCallback   time.Time
	Stale          bool
	Latest         []*waorders.Order
	CallbackURL    string
}

// StaleAfter is how long without a message before the overview warns.
const StaleAfter = time.Hour

// Overview serves GET /ui/.
func (h *Handler) Overview(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := h.cfg.Now().In(h.cfg.Location)
	// Days start at midnight in the business time zone, as the reports' do.
	y, m, dd := now.Date()
	today := time.Date(y, m, dd, 0, 0, 0, 0, h.cfg.Location)
	var d overviewData
	for _, p := range []struct {
		label string
		since time.Time
	}{{"Today (" + h.cfg.Location.String() + ")", today}, {"Last 7 days", today.AddDate(0, 0, -6)}} {
		rows, err := h.cfg.Reports.CampaignReport(ctx, store.CampaignReportParams{GroupBy: "ref", Since: p.since, Until: now.Add(time.Minute)})
		if err != nil {
			return err
		}
		ps := periodStats{Label: p.label}
		var t money.Totals
		for _, row := range rows {
			ps.Orders += row.Orders
			for _, a := range row.Revenue {
				if err := t.Add(a); err != nil {
					return err
				}
			}
		}
		ps.Revenue = t.List()
		d.Periods = append(d.Periods, ps)
	}
	pending, err := h.cfg.Orders.ListOrders(ctx, store.ListOrdersParams{Status: waorders.OrderPending, Limit: countCap})
	if err != nil {
		return err
	}
	d.Pending, d.PendingMore = len(pending.Orders), pending.NextCursor != ""
	q, err := h.cfg.Quarantine.ListQuarantine(ctx, store.ListQuarantineParams{Unresolved: true, Limit: countCap})
	if err != nil {
		return err
	}
	d.Quarantine, d.QuarantineMore = len(q.Entries), q.NextCursor != ""
	msgs, err := h.cfg.Messages.ListMessages(ctx, store.ListMessagesParams{Limit: 20})
	if err != nil {
		return err
	}
	for _, m := range msgs.Messages {
		if m.ReceivedAt.After(d.LastCallback) {
			d.LastCallback = m.ReceivedAt
		}
	}
	d.Stale = !d.LastCallback.IsZero() && now.Sub(d.LastCallback) > StaleAfter
	latest, err := h.cfg.Orders.ListOrders(ctx, store.ListOrdersParams{Limit: 10})
	if err != nil {
		return err
	}
	d.Latest = latest.Orders
	d.CallbackURL = baseURL(r) + "/v1/callbacks/kaleyra"
	h.render(w, r, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Live: true, Data: d})
	return nil
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- orders ---------------------------------------------------------------

type ordersData struct {
	Filter    url.Values
	Status    string
	Statuses  []waorders.OrderStatus
	Orders    []*waorders.Order
	Next      string // URL of the next (older) page, "" on the last
	First     string // URL of the first page, "" on it
	Export    string
	Filtered  bool
	Count     int
	SinceDate string
	UntilDate string
}

// orderFilter reads the filters of the orders page; the names are the
// API's, so the export link passes them on unchanged.
func orderFilter(r *http.Request) (store.ListOrdersParams, url.Values, error) {
	dropEmpty(r)
	q := httpx.NewQuery(r)
	f := store.ListOrdersParams{
		Ref: q.Text("ref", 200), Ref1: q.Text("ref1", 200), Ref2: q.Text("ref2", 200),
		Customer: q.Text("customer", 200), Q: q.Text("q", 200),
		Since: q.Time("since"), Until: q.Time("until"), Cursor: q.Str("cursor"),
	}
	if v := q.Str("currency"); v != "" {
		if f.Currency = strings.ToUpper(v); !money.Known(f.Currency) {
			q.Fail("currency=%q is not an ISO 4217 code", httpx.Clip(v, 40))
		}
	}
	if v := q.Str("status"); v != "" {
		if !waorders.OrderStatus(v).Valid() {
			q.Fail("status=%q is not an order status", httpx.Clip(v, 40))
		}
		f.Status = waorders.OrderStatus(v)
	}
	q.CheckRange(f.Since, f.Until)
	if err := q.Err(); err != nil {
		return f, nil, err
	}
	keep := url.Values{}
	for _, k := range []string{"status", "currency", "ref", "ref1", "ref2", "customer", "q", "since", "until"} {
		if v := strings.TrimSpace(r.URL.Query().Get(k)); v != "" {
			keep.Set(k, v)
		}
	}
	return f, keep, nil
}

// Orders serves GET /ui/orders.
func (h *Handler) Orders(w http.ResponseWriter, r *http.Request) error {
	f, keep, err := orderFilter(r)
	if err != nil {
		return err
	}
	f.Limit = store.DefaultLimit
	page, err := h.cfg.Orders.ListOrders(r.Context(), f)
	if err != nil {
		return err
	}
	d := ordersData{Filter: keep, Status: string(f.Status), Statuses: waorders.OrderStatuses, Orders: page.Orders,
		Filtered: len(keep) > 0, Count: len(page.Orders), SinceDate: keep.Get("since"), UntilDate: keep.Get("until")}
	if page.NextCursor != "" {
		v := cloneValues(keep)
		v.Set("cursor", page.NextCursor)
		d.Next = "/ui/orders?" + v.Encode()
	}
	if f.Cursor != "" {
		d.First = "/ui/orders?" + keep.Encode()
	}
	ex := cloneValues(keep)
	ex.Set("format", "csv")
	d.Export = "/ui/orders/export?" + ex.Encode()
	h.render(w, r, http.StatusOK, "orders", view{Title: "Orders", Nav: "orders", Live: true, Data: d})
	return nil
}

// dropEmpty removes empty query parameters: a GET form sends every field,
// and an empty one means "any".
func dropEmpty(r *http.Request) {
	v := r.URL.Query()
	for k, vs := range v {
		if len(vs) == 1 && strings.TrimSpace(vs[0]) == "" {
			delete(v, k)
		}
	}
	r.URL.RawQuery = v.Encode()
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// --- one order ------------------------------------------------------------

type orderData struct {
	Order *waorders.Order
	// Notifications are the order's notifications, oldest first, when
	// NotificationsOn (order notifications are configured).
	Notifications   []*store.OutboundMessage
	NotificationsOn bool
	Next            []waorders.OrderStatus
	Raw             string
	Conflict        string
	Changed         bool
	Notice          string
}

// Order serves GET /ui/orders/{id}.
func (h *Handler) Order(w http.ResponseWriter, r *http.Request) error {
	return h.orderPage(w, r, http.StatusOK, "", r.URL.Query().Has("changed"))
}

func (h *Handler) orderPage(w http.ResponseWriter, r *http.Request, status int, conflict string, changed bool) error {
	o, err := h.cfg.Orders.GetOrder(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d := orderData{Order: o, Next: o.Status.Next(), Conflict: conflict, Changed: changed}
	if h.cfg.Outbound != nil {
		page, err := h.cfg.Outbound.ListOutbound(r.Context(), store.ListOutboundParams{
			OrderID: o.ID, Kind: store.OutboundNotification, Limit: store.MaxLimit})
		if err != nil {
			return err
		}
		d.NotificationsOn = true
		for i := len(page.Messages) - 1; i >= 0; i-- { // the store lists newest first
			d.Notifications = append(d.Notifications, page.Messages[i])
		}
	}
	if m, err := h.cfg.Messages.GetMessage(r.Context(), o.ID); err == nil {
		d.Raw = prettyJSON(m.Raw)
	} else if waorders.ErrorCode(err) != waorders.CodeNotFound {
		return err
	}
	h.render(w, r, status, "order", view{Title: "Order " + o.ID, Nav: "orders", Live: true, Data: d})
	return nil
}

// OrderStatus serves POST /ui/orders/{id}/status (fields status, version,
// note): the change is made only from the version the form showed, and
// recorded as the logged-in user's.
func (h *Handler) OrderStatus(w http.ResponseWriter, r *http.Request) error {
	version, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		return waorders.Errorf(waorders.CodeInvalid, "the form has no order version; reload the order")
	}
	to := waorders.OrderStatus(r.PostFormValue("status"))
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len([]rune(note)) > 500 {
		return waorders.Errorf(waorders.CodeInvalid, "the note is longer than 500 characters")
	}
	_, err = h.cfg.UpdateStatus(r.Context(), store.UpdateOrderStatusParams{
		ID: r.PathValue("id"), To: to, Note: note, Actor: Actor(r), IfVersion: &version,
	})
	switch waorders.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/ui/orders/"+url.PathEscape(r.PathValue("id"))+"?changed=1", http.StatusSeeOther)
		return nil
	case waorders.CodePrecondition, waorders.CodeConflict:
		return h.orderPage(w, r, http.StatusConflict,
			"Someone changed this order after you opened it, so your change to “"+strings.ReplaceAll(string(to), "_", " ")+
				"” was not made. Here it is as it is now; choose again.", false)
	}
	return err
}

func prettyJSON(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

// --- customers ------------------------------------------------------------

type customerData struct {
	Customer *waorders.CustomerSummary
	Orders   []*waorders.Order
	More     string
	// Conversation is what the customer sent and what waorders sent them
	// (when notifications are on), oldest first.
	Conversation []convItem
}

// convItem is one message of a customer's conversation.
type convItem struct {
	Direction string // inbound | outbound
	At        time.Time
	ID        string
	Type      string // a message type, or notification | staff
	Summary   string
	OrderID   string // a notification's order
	State     string // outbound: its state (accepted, skipped, …)
	Delivery  string // outbound: sent, delivered, read, failed
}

// Customer serves GET /ui/customers/{id}.
func (h *Handler) Customer(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	c, err := h.cfg.Customers.GetCustomer(r.Context(), id)
	if err != nil {
		return err
	}
	orders, err := h.cfg.Orders.ListOrders(r.Context(), store.ListOrdersParams{Customer: id, Limit: store.DefaultLimit})
	if err != nil {
		return err
	}
	msgs, err := h.cfg.Messages.ListMessages(r.Context(), store.ListMessagesParams{Customer: id, Limit: store.DefaultLimit})
	if err != nil {
		return err
	}
	d := customerData{Customer: c, Orders: orders.Orders}
	if orders.NextCursor != "" {
		d.More = "/ui/orders?" + url.Values{"customer": {id}}.Encode()
	}
	for _, m := range msgs.Messages {
		d.Conversation = append(d.Conversation, convItem{Direction: string(m.Direction), At: m.SentAt, ID: m.ID, Type: m.Type, Summary: m.Summary})
	}
	if h.cfg.Outbound != nil {
		keys := []string{id}
		for _, x := range c.Identifiers {
			keys = append(keys, x.Value)
		}
		out, err := h.cfg.Outbound.ListOutbound(r.Context(), store.ListOutboundParams{CustomerKeys: keys, Limit: store.DefaultLimit})
		if err != nil {
			return err
		}
		for _, m := range out.Messages {
			at := m.CreatedAt
			if !m.AcceptedAt.IsZero() {
				at = m.AcceptedAt
			}
			summary := m.Text
			if m.Kind == store.OutboundNotification {
				summary = "notification: order " + strings.ReplaceAll(string(m.OrderStatus), "_", " ")
			}
			d.Conversation = append(d.Conversation, convItem{Direction: "outbound", At: at, ID: m.ID, Type: m.Kind,
				Summary: summary, OrderID: m.OrderID, State: m.State, Delivery: m.DeliveryState})
		}
	}
	// A conversation reads oldest first.
	slices.SortStableFunc(d.Conversation, func(a, b convItem) int { return a.At.Compare(b.At) })
	h.render(w, r, http.StatusOK, "customer", view{Title: cmp.Or(c.Name, c.ID), Nav: "orders", Data: d})
	return nil
}

// --- campaigns ------------------------------------------------------------

type bar struct {
	Campaign string
	Orders   int64
	Units    int64
	Revenue  money.Amount
	Width    int // of 600
	Y        int
}

type currencyChart struct {
	Currency string
	Bars     []bar
	Height   int
}

type campaignsData struct {
	GroupBy   string
	Levels    []string
	SinceDate string
	UntilDate string
	Charts    []currencyChart
}

// Campaigns serves GET /ui/campaigns: revenue per campaign, one chart and
// one table per currency (never summed across currencies).
func (h *Handler) Campaigns(w http.ResponseWriter, r *http.Request) error {
	dropEmpty(r)
	q := httpx.NewQuery(r)
	group := q.OneOf("group", "ref", "ref", "ref1", "ref2")
	now := h.cfg.Now().UTC()
	since, until := q.Time("since"), q.Time("until")
	if since.IsZero() {
		since = now.Truncate(24*time.Hour).AddDate(0, 0, -29)
	}
	if until.IsZero() {
		until = now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	q.CheckRange(since, until)
	if err := q.Err(); err != nil {
		return err
	}
	rows, err := h.cfg.Reports.CampaignReport(r.Context(), store.CampaignReportParams{GroupBy: group, Since: since, Until: until})
	if err != nil {
		return err
	}
	by := map[string][]bar{}
	for _, row := range rows {
		for _, a := range row.Revenue {
			by[a.Currency] = append(by[a.Currency], bar{Campaign: cmp.Or(row.Campaign, "(none)"), Orders: row.Orders, Units: row.Units, Revenue: a})
		}
	}
	d := campaignsData{GroupBy: group, Levels: []string{"ref", "ref1", "ref2"}, SinceDate: since.Format(time.DateOnly), UntilDate: until.Format(time.DateOnly)}
	for _, cur := range slices.Sorted(mapsKeys(by)) {
		bars := by[cur]
		slices.SortFunc(bars, func(a, b bar) int {
			return cmp.Or(cmp.Compare(b.Revenue.Minor, a.Revenue.Minor), strings.Compare(a.Campaign, b.Campaign))
		})
		top := max(bars[0].Revenue.Minor, 1)
		for i := range bars {
			bars[i].Width = int(max(bars[i].Revenue.Minor, 0) * 600 / top)
			bars[i].Y = i * 28
		}
		d.Charts = append(d.Charts, currencyChart{Currency: cur, Bars: bars, Height: len(bars) * 28})
	}
	h.render(w, r, http.StatusOK, "campaigns", view{Title: "Campaigns", Nav: "campaigns", Data: d})
	return nil
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// --- quarantine -----------------------------------------------------------

type quarantineData struct {
	Entries   []*waorders.QuarantineEntry
	All       bool
	Next      string
	Entry     *waorders.QuarantineEntry
	Headers   []header
	Body      string
	Count     int
	CountMore bool
	Flash     string
	Results   *retryAll
}

type header struct{ Name, Value string }

type retryAll struct{ Tried, Resolved, Failed int }

// QuarantineList serves GET /ui/quarantine.
func (h *Handler) QuarantineList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	all := q.Str("all") == "1"
	cursor := q.Str("cursor")
	page, err := h.cfg.Quarantine.ListQuarantine(r.Context(), store.ListQuarantineParams{Unresolved: !all, Cursor: cursor, Limit: store.DefaultLimit})
	if err != nil {
		return err
	}
	d := quarantineData{Entries: page.Entries, All: all}
	if page.NextCursor != "" {
		v := url.Values{"cursor": {page.NextCursor}}
		if all {
			v.Set("all", "1")
		}
		d.Next = "/ui/quarantine?" + v.Encode()
	}
	h.render(w, r, http.StatusOK, "quarantine", view{Title: "Quarantine", Nav: "quarantine", Data: d})
	return nil
}

// QuarantineEntry serves GET /ui/quarantine/{id}.
func (h *Handler) QuarantineEntry(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return waorders.Errorf(waorders.CodeNotFound, "quarantine entry %q not found", httpx.Clip(r.PathValue("id"), 40))
	}
	e, err := h.cfg.Quarantine.GetQuarantine(r.Context(), id)
	if err != nil {
		return err
	}
	d := quarantineData{Entry: e, Body: prettyJSON(e.Body)}
	switch r.URL.Query().Get("retried") {
	case "resolved":
		d.Flash = "Retried: everything it held is now stored."
	case "again":
		d.Flash = "Retried: it still cannot be used, for the reason below."
	}
	for _, k := range slices.Sorted(mapsKeys(e.Headers)) {
		d.Headers = append(d.Headers, header{k, strings.Join(e.Headers[k], ", ")})
	}
	h.render(w, r, http.StatusOK, "quarantine_entry", view{Title: "Quarantine entry " + strconv.FormatInt(e.ID, 10), Nav: "quarantine", Data: d})
	return nil
}

// QuarantineRetry serves POST /ui/quarantine/{id}/retry.
func (h *Handler) QuarantineRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return waorders.Errorf(waorders.CodeNotFound, "quarantine entry %q not found", httpx.Clip(r.PathValue("id"), 40))
	}
	res, err := h.cfg.Retry(r.Context(), id)
	if err != nil {
		return err
	}
	h.cfg.Log.Info("quarantine retried from the dashboard", "id", id, "resolved", res.Resolved, "user", Actor(r))
	outcome := "again"
	if res.Resolved {
		outcome = "resolved"
	}
	http.Redirect(w, r, "/ui/quarantine/"+strconv.FormatInt(id, 10)+"?retried="+outcome, http.StatusSeeOther)
	return nil
}

// QuarantineRetryAll serves GET (how many; confirm) and POST (do it) of
// /ui/quarantine/retry: every unresolved entry, up to countCap a time.
func (h *Handler) QuarantineRetryAll(w http.ResponseWriter, r *http.Request) error {
	page, err := h.cfg.Quarantine.ListQuarantine(r.Context(), store.ListQuarantineParams{Unresolved: true, Limit: countCap})
	if err != nil {
		return err
	}
	d := quarantineData{Count: len(page.Entries), CountMore: page.NextCursor != ""}
	if r.Method == http.MethodPost {
		res := &retryAll{}
		for _, e := range page.Entries {
			out, err := h.cfg.Retry(r.Context(), e.ID)
			res.Tried++
			switch {
			case err != nil:
				res.Failed++
			case out.Resolved:
				res.Resolved++
			}
		}
		h.cfg.Log.Info("quarantine retried in bulk from the dashboard", "tried", res.Tried, "resolved", res.Resolved, "user", Actor(r))
		d.Results = res
	}
	h.render(w, r, http.StatusOK, "quarantine_retry", view{Title: "Retry quarantine", Nav: "quarantine", Data: d})
	return nil
}

// --- messages -------------------------------------------------------------

type messagesData struct {
	Type     string
	Types    []string
	Messages []*waorders.Message
	Next     string
}

// Messages serves GET /ui/messages.
func (h *Handler) Messages(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	typ := q.Text("type", 40)
	page, err := h.cfg.Messages.ListMessages(r.Context(), store.ListMessagesParams{Type: typ, Cursor: q.Str("cursor"), Limit: store.DefaultLimit})
	if err != nil {
		return err
	}
	d := messagesData{Type: typ, Messages: page.Messages,
		Types: []string{"order", "text", "interactive", "button", "image", "document", "audio", "video", "location", "contacts", "reaction", "unknown"}}
	if page.NextCursor != "" {
		d.Next = "/ui/messages?" + url.Values{"type": {typ}, "cursor": {page.NextCursor}}.Encode()
	}
	h.render(w, r, http.StatusOK, "messages", view{Title: "Messages", Nav: "messages", Data: d})
	return nil
}

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// Limits of the order API's inputs.
const (
	maxStatusBody = 64 << 10 // bytes of a status change request
	maxNoteLen    = 2000     // characters of a status change note
	maxActorLen   = 64       // characters of an X-Actor header
	maxFilterLen  = 256      // characters of a filter value
	defaultActor  = "api"
)

// orderFilterParams are the query parameters of GET /v1/orders beside
// cursor and limit; export accepts the same.
var orderFilterParams = []string{
	"status", "ref", "ref1", "ref2", "customer", "phone_number_id", "catalog_id", "product", "since", "until", "q",
}

// registerOrderRoutes registers the order management API (list, lifecycle,
// customers, reports, export) and the OpenAPI document.
func (s *Server) registerOrderRoutes(mux *http.ServeMux, api func(http.Handler) http.Handler) {
	s.route(mux, "/v1/orders", map[string]http.Handler{"GET": api(s.handle(s.handleOrderList))})
	// Only GET: other methods on /v1/orders/export fall through to the
	// /v1/orders/{id} 405, which allows GET and HEAD as export does. A
	// method-less pattern here would conflict with "GET /v1/orders/{id}".
	mux.Handle("GET /v1/orders/export", api(s.handle(s.handleOrderExport)))
	s.route(mux, "/v1/orders/{id}/status", map[string]http.Handler{"POST": api(s.handle(s.handleOrderStatus))})
	s.route(mux, "/v1/customers/{wa_id}", map[string]http.Handler{"GET": api(s.handle(s.handleCustomerGet))})
	s.route(mux, "/v1/reports/campaigns", map[string]http.Handler{"GET": api(s.handle(s.handleCampaignReport))})
	// The API's description is public: it holds no data.
	s.route(mux, "/v1/openapi.json", map[string]http.Handler{"GET": s.handle(s.handleOpenAPI)})
}

// orderList is the answer of GET /v1/orders.
type orderList struct {
	Orders     []orderView `json:"orders"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

func newOrderList(page *store.OrderPage) orderList {
	out := orderList{Orders: make([]orderView, len(page.Orders)), NextCursor: page.NextCursor}
	for i, o := range page.Orders {
		out.Orders[i] = newOrderView(o)
	}
	return out
}

func (s *Server) handleOrderList(w http.ResponseWriter, r *http.Request) error {
	q := query{r: r}
	q.only(append(orderFilterParams, "cursor", "limit")...)
	f := q.orderFilter()
	f.Cursor = q.str("cursor")
	f.Limit = q.limit()
	if q.err != nil {
		return q.err
	}
	if _, err := store.DecodeCursor(f.Cursor); err != nil {
		return err
	}
	page, err := s.cfg.Store.ListOrders(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newOrderList(page))
	return nil
}

// statusChange is the body of POST /v1/orders/{id}/status.
type statusChange struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

func (s *Server) handleOrderStatus(w http.ResponseWriter, r *http.Request) error {
	ifVersion, err := parseIfMatch(r.Header.Values("If-Match"))
	if err != nil {
		return err
	}
	req, err := readStatusChange(w, r)
	if err != nil {
		return err
	}
	o, err := s.cfg.Store.UpdateOrderStatus(r.Context(), store.UpdateOrderStatusParams{
		ID:        r.PathValue("id"),
		To:        waorders.OrderStatus(req.Status),
		Note:      req.Note,
		Actor:     actor(r.Header.Get("X-Actor")),
		IfVersion: ifVersion,
	})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(o.Version))
	writeJSON(w, http.StatusOK, newOrderView(o))
	return nil
}

// readStatusChange reads and checks the JSON body of a status change.
func readStatusChange(w http.ResponseWriter, r *http.Request) (statusChange, error) {
	var req statusChange
	if r.Header.Get("Content-Type") != "" {
		if err := checkJSON(r); err != nil {
			return req, err
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxStatusBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, err
		}
		if errors.Is(err, io.EOF) {
			return req, waorders.Errorf(waorders.CodeInvalid, `the body is empty; send {"status": "processing", "note": "..."}`)
		}
		return req, waorders.Wrap(waorders.CodeInvalid, err,
			`the body is not valid JSON of the form {"status": "processing", "note": "..."}: `+jsonProblem(err))
	}
	if dec.More() {
		return req, waorders.Errorf(waorders.CodeInvalid, "the body holds more than one JSON value; send one object")
	}
	st := waorders.OrderStatus(req.Status)
	switch {
	case req.Status == "":
		return req, waorders.Errorf(waorders.CodeInvalid, "status is required; use one of %s", statusList())
	case !st.Valid():
		return req, waorders.Errorf(waorders.CodeInvalid, "status %q is not an order status; use one of %s", clip(req.Status, 40), statusList())
	case utf8.RuneCountInString(req.Note) > maxNoteLen:
		return req, waorders.Errorf(waorders.CodeInvalid, "note is longer than %d characters", maxNoteLen)
	}
	return req, nil
}

// jsonProblem describes a JSON decoding error without echoing the body.
func jsonProblem(err error) string {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a JSON %s", te.Field, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + " (only status and note)"
	}
	return "cannot read it"
}

// parseIfMatch reads the If-Match header: the order version, quoted ("3",
// as the ETag is sent) or bare (3). "*" or no header means any version.
func parseIfMatch(values []string) (*int64, error) {
	if len(values) == 0 {
		return nil, nil
	}
	v := strings.TrimSpace(strings.Join(values, ","))
	if v == "*" || v == "" {
		return nil, nil
	}
	bare := v
	if len(bare) >= 2 && bare[0] == '"' && bare[len(bare)-1] == '"' {
		bare = bare[1 : len(bare)-1]
	}
	n, err := strconv.ParseInt(bare, 10, 64)
	if err != nil || n < 1 {
		return nil, waorders.Errorf(waorders.CodeInvalid,
			`If-Match %q is not an order version: send the order's ETag ("3"), the bare version (3), or * for any`, clip(v, 40))
	}
	return &n, nil
}

// etag is the ETag of an order at version v.
func etag(v int64) string { return strconv.Quote(strconv.FormatInt(v, 10)) }

// actor names who changed an order: the X-Actor header with control and
// format characters removed, at most maxActorLen characters, else "api".
func actor(h string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(h) {
		if n == maxActorLen {
			break
		}
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf) {
			continue
		}
		b.WriteRune(r)
		n++
	}
	if a := strings.TrimSpace(b.String()); a != "" {
		return a
	}
	return defaultActor
}

// customerAnswer is the answer of GET /v1/customers/{wa_id}.
type customerAnswer struct {
	WaID         string         `json:"wa_id"`
	Name         string         `json:"name"`
	FirstOrderAt time.Time      `json:"first_order_at"`
	LastOrderAt  time.Time      `json:"last_order_at"`
	OrderCount   int64          `json:"order_count"`
	Spend        []money.Amount `json:"spend"`
	Orders       []orderView    `json:"orders"`
	NextCursor   string         `json:"next_cursor,omitempty"`
}

func (s *Server) handleCustomerGet(w http.ResponseWriter, r *http.Request) error {
	q := query{r: r}
	q.only("limit")
	limit := q.limit()
	if q.err != nil {
		return q.err
	}
	waID := r.PathValue("wa_id")
	c, err := s.cfg.Store.GetCustomer(r.Context(), waID)
	if err != nil {
		return err
	}
	page, err := s.cfg.Store.ListOrders(r.Context(), store.ListOrdersParams{Customer: waID, Limit: limit})
	if err != nil {
		return err
	}
	list := newOrderList(page)
	out := customerAnswer{
		WaID: c.WaID, Name: c.Name, FirstOrderAt: c.FirstOrderAt.UTC(), LastOrderAt: c.LastOrderAt.UTC(),
		OrderCount: c.OrderCount, Spend: c.Spend, Orders: list.Orders, NextCursor: list.NextCursor,
	}
	if out.Spend == nil {
		out.Spend = []money.Amount{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// campaignRowView is one row of the campaign report.
type campaignRowView struct {
	Campaign     string         `json:"campaign"`
	Bucket       *time.Time     `json:"bucket,omitempty"`
	Orders       int64          `json:"orders"`
	Units        int64          `json:"units"`
	Revenue      []money.Amount `json:"revenue"`
	FirstOrderAt time.Time      `json:"first_order_at"`
	LastOrderAt  time.Time      `json:"last_order_at"`
}

// campaignReport is the answer of GET /v1/reports/campaigns.
type campaignReport struct {
	GroupBy   string            `json:"group_by"`
	Interval  string            `json:"interval,omitempty"`
	Campaigns []campaignRowView `json:"campaigns"`
}

func (s *Server) handleCampaignReport(w http.ResponseWriter, r *http.Request) error {
	q := query{r: r}
	q.only("group_by", "since", "until", "interval")
	cq := store.CampaignReportParams{
		GroupBy:  q.oneOf("group_by", "ref1", "ref", "ref1", "ref2"),
		Since:    q.time("since"),
		Until:    q.time("until"),
		Interval: q.oneOf("interval", "", "day"),
	}
	q.checkRange(cq.Since, cq.Until)
	if q.err != nil {
		return q.err
	}
	rows, err := s.cfg.Store.CampaignReport(r.Context(), cq)
	if err != nil {
		return err
	}
	out := campaignReport{GroupBy: cq.GroupBy, Interval: cq.Interval, Campaigns: make([]campaignRowView, len(rows))}
	for i, row := range rows {
		v := campaignRowView{
			Campaign: row.Campaign, Orders: row.Orders, Units: row.Units, Revenue: row.Revenue,
			FirstOrderAt: row.FirstOrderAt.UTC(), LastOrderAt: row.LastOrderAt.UTC(),
		}
		if cq.Interval != "" {
			b := row.Bucket.UTC()
			v.Bucket = &b
		}
		if v.Revenue == nil {
			v.Revenue = []money.Amount{}
		}
		out.Campaigns[i] = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// orderFilter reads the order filters shared by list and export.
func (q *query) orderFilter() store.ListOrdersParams {
	f := store.ListOrdersParams{
		Ref:           q.text("ref"),
		Ref1:          q.text("ref1"),
		Ref2:          q.text("ref2"),
		Customer:      q.text("customer"),
		PhoneNumberID: q.text("phone_number_id"),
		CatalogID:     q.text("catalog_id"),
		Product:       q.text("product"),
		Since:         q.time("since"),
		Until:         q.time("until"),
		Q:             q.text("q"),
	}
	if v := q.str("status"); v != "" {
		st := waorders.OrderStatus(v)
		if !st.Valid() {
			q.fail("status=%q is not an order status; use one of %s", clip(v, 40), statusList())
		}
		f.Status = st
	}
	q.checkRange(f.Since, f.Until)
	return f
}

// only fails on a query parameter not in names, and on one given twice: a
// misspelt filter would otherwise silently match everything.
func (q *query) only(names ...string) {
	vals := q.r.URL.Query()
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case !slices.Contains(names, k):
			q.fail("unknown query parameter %q; this endpoint accepts %s", clip(k, 40), strings.Join(names, ", "))
		case len(vals[k]) > 1:
			q.fail("query parameter %s is given %d times; give it once", k, len(vals[k]))
		}
	}
}

// text reads a filter value, bounded in length.
func (q *query) text(name string) string {
	v := q.str(name)
	if utf8.RuneCountInString(v) > maxFilterLen {
		q.fail("%s is longer than %d characters", name, maxFilterLen)
		return ""
	}
	return v
}

// oneOf reads an enumerated parameter: def when absent, else one of allowed.
func (q *query) oneOf(name, def string, allowed ...string) string {
	v := q.str(name)
	if v == "" {
		return def
	}
	if !slices.Contains(allowed, v) {
		var opts []string
		for _, a := range allowed {
			if a != "" {
				opts = append(opts, a)
			}
		}
		q.fail("%s=%q is not accepted; use %s", name, clip(v, 40), strings.Join(opts, " or "))
	}
	return v
}

// checkRange fails when since is not before until.
func (q *query) checkRange(since, until time.Time) {
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		q.fail("since (%s) must be before until (%s); until is exclusive",
			since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
	}
}

func statusList() string {
	parts := make([]string, len(waorders.OrderStatuses))
	for i, s := range waorders.OrderStatuses {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// clip shortens s to at most n characters for echoing in a message.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

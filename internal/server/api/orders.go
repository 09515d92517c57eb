package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
	"github.com/waorders/waorders/money"
)

// Limits of the order API's inputs.
const (
	maxStatusBody = 64 << 10 // bytes of a status change request
	maxNoteLen    = 2000     // characters of a status change note
	maxActorLen   = 64       // characters of an X-Actor header
	defaultActor  = "api"
)

// orderFilterParams are the query parameters of GET /v1/orders beside
// cursor and limit; export accepts the same.
var orderFilterParams = []string{
	"status", "ref", "ref1", "ref2", "customer", "phone_number_id", "catalog_id", "product", "currency", "since", "until", "q",
}

// OrderGet serves GET /v1/orders/{id}, with the version as ETag.
func (h *Handler) OrderGet(w http.ResponseWriter, r *http.Request) error {
	o, err := h.Orders.GetOrder(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if h.Notify == nil {
		return writeOrder(w, o)
	}
	// With notifications on, the order shows them (issue 15).
	v := wire.NewOrder(o)
	page, err := h.Notify.Outbound.ListOutbound(r.Context(), store.ListOutboundParams{OrderID: o.ID, Kind: store.OutboundNotification, Limit: store.MaxLimit})
	if err != nil {
		return err
	}
	v.Notifications = []wire.Notification{}
	for i := len(page.Messages) - 1; i >= 0; i-- {
		v.Notifications = append(v.Notifications, wire.NewNotification(page.Messages[i]))
	}
	w.Header().Set("ETag", etag(o.Version))
	httpx.WriteJSON(w, http.StatusOK, v)
	return nil
}

// OrderList serves GET /v1/orders.
func (h *Handler) OrderList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only(append(orderFilterParams, "cursor", "limit")...)
	f := orderFilter(q, h.location())
	f.Cursor = q.Str("cursor")
	f.Limit = limit(q)
	if err := q.Err(); err != nil {
		return err
	}
	if _, err := store.DecodeCursor(f.Cursor); err != nil {
		return err
	}
	return answer(w, r, h.Orders.ListOrders, f, func(p *store.OrderPage) any { return wire.NewOrderList(p.Orders, p.NextCursor) })
}

// orderFilter reads the order filters shared by list and export.
// Date-only since/until start at midnight in loc, the business time zone.
func orderFilter(q *httpx.Query, loc *time.Location) store.ListOrdersParams {
	f := store.ListOrdersParams{
		Ref:           q.Text("ref", maxFilterLen),
		Ref1:          q.Text("ref1", maxFilterLen),
		Ref2:          q.Text("ref2", maxFilterLen),
		Customer:      q.Text("customer", maxFilterLen),
		PhoneNumberID: q.Text("phone_number_id", maxFilterLen),
		CatalogID:     q.Text("catalog_id", maxFilterLen),
		Product:       q.Text("product", maxFilterLen),
		Since:         q.TimeIn("since", loc),
		Until:         q.TimeIn("until", loc),
		Q:             q.Text("q", maxFilterLen),
	}
	if v := q.Str("currency"); v != "" {
		f.Currency = strings.ToUpper(v)
		if !money.Known(f.Currency) {
			q.Fail("currency=%q is not an ISO 4217 code", httpx.Clip(v, 40))
		}
	}
	if v := q.Str("status"); v != "" {
		st := waorders.OrderStatus(v)
		if !st.Valid() {
			q.Fail("status=%q is not an order status; use one of %s", httpx.Clip(v, 40), statusList())
		}
		f.Status = st
	}
	q.CheckRange(f.Since, f.Until)
	return f
}

// statusChange is the body of POST /v1/orders/{id}/status.
type statusChange struct {
	Status string `json:"status"`
	Note   string `json:"note"`
}

// OrderStatus serves POST /v1/orders/{id}/status: move the order along its
// lifecycle, optionally only from the version in If-Match.
func (h *Handler) OrderStatus(w http.ResponseWriter, r *http.Request) error {
	ifVersion, err := parseIfMatch(r.Header.Values("If-Match"))
	if err != nil {
		return err
	}
	req, err := readStatusChange(w, r)
	if err != nil {
		return err
	}
	o, err := h.updateOrderStatus(r.Context(), store.UpdateOrderStatusParams{
		ID:        r.PathValue("id"),
		To:        waorders.OrderStatus(req.Status),
		Note:      req.Note,
		Actor:     actor(r.Header.Get("X-Actor")),
		IfVersion: ifVersion,
	})
	if err != nil {
		return err
	}
	return writeOrder(w, o)
}

// readStatusChange reads and checks the JSON body of a status change.
func readStatusChange(w http.ResponseWriter, r *http.Request) (statusChange, error) {
	var req statusChange
	if err := readBody(w, r, &req, `{"status": "processing", "note": "..."}`); err != nil {
		return req, err
	}
	st := waorders.OrderStatus(req.Status)
	switch {
	case req.Status == "":
		return req, waorders.Errorf(waorders.CodeInvalid, "status is required; use one of %s", statusList())
	case !st.Valid():
		return req, waorders.Errorf(waorders.CodeInvalid, "status %q is not an order status; use one of %s", httpx.Clip(req.Status, 40), statusList())
	}
	return req, checkNoteLen("note", req.Note)
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

// parseIfMatch reads the If-Match header: the order version as the ETag
// is sent ("3"), weak (W/"3") or bare (3). "*" or no header means any
// version. One version only: a list is refused.
//
// A weak ETag is accepted as the same version. RFC 9110 (13.1.1) has
// If-Match use the strong comparison, under which W/"3" never matches, but
// our ETag is not a hash of the bytes sent: it is the order's version, which
// changes exactly when the order does. A proxy that compresses the answer
// weakens the ETag it passes on (nginx's gzip does), and the client sending
// it back means the version it saw; refusing it, or answering 412 for an
// order that did not change, would only break such clients.
func parseIfMatch(values []string) (*int64, error) {
	if len(values) == 0 {
		return nil, nil
	}
	v := strings.TrimSpace(strings.Join(values, ","))
	if v == "*" || v == "" {
		return nil, nil
	}
	if strings.Contains(v, ",") {
		return nil, waorders.Errorf(waorders.CodeInvalid,
			`If-Match %q lists several tags: send one version, the order's ETag ("3")`, httpx.Clip(v, 40))
	}
	bare := strings.TrimPrefix(v, "W/")
	quoted := len(bare) >= 2 && bare[0] == '"' && bare[len(bare)-1] == '"'
	if quoted {
		bare = bare[1 : len(bare)-1]
	}
	n, err := strconv.ParseInt(bare, 10, 64)
	if err != nil || n < 1 || bare[0] < '1' || bare[0] > '9' || (!quoted && len(bare) != len(v)) {
		return nil, waorders.Errorf(waorders.CodeInvalid,
			`If-Match %q is not an order version: send the order's ETag ("3", or W/"3"), the bare version (3), or * for any`, httpx.Clip(v, 40))
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

func statusList() string {
	parts := make([]string, len(waorders.OrderStatuses))
	for i, s := range waorders.OrderStatuses {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

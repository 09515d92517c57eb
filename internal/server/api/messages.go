package api

import (
	"net/http"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// MessageGet serves GET /v1/messages/{id}: one message with its raw JSON.
func (h *Handler) MessageGet(w http.ResponseWriter, r *http.Request) error {
	m, err := h.Messages.GetMessage(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, wire.NewMessage(m, true))
	return nil
}

// MessageList serves GET /v1/messages.
func (h *Handler) MessageList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("type", "customer", "direction", "since", "until", "cursor", "limit")
	f := store.ListMessagesParams{
		Type:      q.Text("type", maxFilterLen),
		Customer:  q.Text("customer", maxFilterLen),
		Direction: q.Text("direction", maxFilterLen),
		Since:     q.Time("since"),
		Until:     q.Time("until"),
		Cursor:    q.Str("cursor"),
		Limit:     limit(q),
	}
	q.CheckRange(f.Since, f.Until)
	if err := q.Err(); err != nil {
		return err
	}
	switch f.Direction {
	case "", waorders.DirectionInbound, waorders.DirectionOutbound:
	default:
		return waorders.Errorf(waorders.CodeInvalid, "unknown direction %q; use inbound or outbound", f.Direction)
	}
	page, err := h.Messages.ListMessages(r.Context(), f)
	if err != nil {
		return err
	}
	out := wire.MessageList{Messages: make([]wire.Message, len(page.Messages)), NextCursor: page.NextCursor}
	for i, m := range page.Messages {
		out.Messages[i] = wire.NewMessage(m, false)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

// maxFilterLen is the most characters a filter value may have.
const maxFilterLen = 256

// limit reads the page size of a list.
func limit(q *httpx.Query) int { return q.Limit(store.DefaultLimit, store.MaxLimit) }

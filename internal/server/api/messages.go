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
	return answer(w, r, h.Messages.GetMessage, r.PathValue("id"), func(m *waorders.Message) any { return wire.NewMessage(m, true) })
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
	switch f.Direction {
	case "", waorders.DirectionInbound, waorders.DirectionOutbound:
	default:
		q.Fail("unknown direction %q; use inbound or outbound", f.Direction)
	}
	return answerQuery(w, r, q, h.Messages.ListMessages, f, func(p *store.MessagePage) any {
		out := wire.MessageList{Messages: make([]wire.Message, len(p.Messages)), NextCursor: p.NextCursor}
		for i, m := range p.Messages {
			out.Messages[i] = wire.NewMessage(m, false)
		}
		return out
	})
}

// maxFilterLen is the most characters a filter value may have.
const maxFilterLen = 256

// limit reads the page size of a list.
func limit(q *httpx.Query) int { return q.Limit(store.DefaultLimit, store.MaxLimit) }

package api

import (
	"net/http"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// MessageStatuses serves GET /v1/messages/{id}/statuses: every stored
// status of an outbound message (group receipts one per participant),
// lowest rank first; an empty list when none is stored.
func (h *Handler) MessageStatuses(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only()
	return answerQuery(w, r, q, h.Messages.ListStatuses, r.PathValue("id"), func(sts []*waorders.StatusUpdate) any {
		return wire.NewStatusList(sts, "")
	})
}

// StatusList serves GET /v1/statuses: stored statuses newest first,
// filtered by message_id, status, recipient (any identifier of a
// customer), group_id and time.
func (h *Handler) StatusList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("message_id", "status", "recipient", "group_id", "since", "until", "cursor", "limit")
	f := store.FindStatusesParams{
		MessageID: q.Text("message_id", maxFilterLen),
		Status:    q.Text("status", maxFilterLen),
		Recipient: q.Text("recipient", maxFilterLen),
		GroupID:   q.Text("group_id", maxFilterLen),
		Since:     q.Time("since"),
		Until:     q.Time("until"),
		Cursor:    q.Str("cursor"),
		Limit:     limit(q),
	}
	q.CheckRange(f.Since, f.Until)
	return answerQuery(w, r, q, h.Messages.FindStatuses, f, func(p *store.StatusPage) any {
		return wire.NewStatusList(p.Statuses, p.NextCursor)
	})
}

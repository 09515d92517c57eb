package api

import (
	"net/http"

	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// ChangeList serves GET /v1/changes: the stored changes that are not
// messages or statuses (calls, user preferences, user id updates, business
// events, group, sync and unknown fields), newest first, filtered by
// field, kind, customer (any identifier) and time, each with its raw JSON.
func (h *Handler) ChangeList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("field", "kind", "customer", "since", "until", "cursor", "limit")
	f := store.ListChangesParams{
		Field:    q.Text("field", maxFilterLen),
		Kind:     q.Text("kind", maxFilterLen),
		Customer: q.Text("customer", maxFilterLen),
		Since:    q.Time("since"),
		Until:    q.Time("until"),
		Cursor:   q.Str("cursor"),
		Limit:    limit(q),
	}
	q.CheckRange(f.Since, f.Until)
	return answerQuery(w, r, q, h.Changes.ListChanges, f, func(p *store.ChangePage) any {
		return wire.NewChangeList(p.Changes, p.NextCursor)
	})
}

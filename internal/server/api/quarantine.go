package api

import (
	"net/http"
	"strconv"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/intake"
	"github.com/waorders/waorders/internal/server/httpx"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/internal/wire"
)

// QuarantineList serves GET /v1/quarantine: entries without their bodies.
func (h *Handler) QuarantineList(w http.ResponseWriter, r *http.Request) error {
	q := httpx.NewQuery(r)
	q.Only("unresolved", "cursor", "limit")
	f := store.ListQuarantineParams{Unresolved: q.Bool("unresolved"), Cursor: q.Str("cursor"), Limit: limit(q)}
	return answerQuery(w, r, q, h.Quarantine.ListQuarantine, f, func(p *store.QuarantinePage) any {
		out := wire.QuarantineList{Entries: make([]wire.Quarantine, len(p.Entries)), NextCursor: p.NextCursor}
		for i, e := range p.Entries {
			out.Entries[i] = wire.NewQuarantine(e, false)
		}
		return out
	})
}

// QuarantineGet serves GET /v1/quarantine/{id}: one entry with its body
// and headers.
func (h *Handler) QuarantineGet(w http.ResponseWriter, r *http.Request) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	return answer(w, r, h.Quarantine.GetQuarantine, id, func(e *waorders.QuarantineEntry) any { return wire.NewQuarantine(e, true) })
}

// QuarantineRetry serves POST /v1/quarantine/{id}/retry: the body runs
// through the current decoder again and what is now usable is stored.
func (h *Handler) QuarantineRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := quarantineID(r)
	if err != nil {
		return err
	}
	return answer(w, r, h.Retry, id, func(res *intake.RetryResult) any {
		return wire.QuarantineRetry{
			Entry:    wire.NewQuarantine(res.Entry, false),
			Resolved: res.Resolved,
			Result:   res.Result,
			Error:    res.Error,
		}
	})
}

// quarantineID reads the {id} of a quarantine path.
func quarantineID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, waorders.Errorf(waorders.CodeInvalid, "quarantine id %q is not a positive integer", r.PathValue("id"))
	}
	return id, nil
}

package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func (s *Server) handleMessageGet(w http.ResponseWriter, r *http.Request) error {
	m, err := s.cfg.Store.GetMessage(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newMessageView(m, true))
	return nil
}

func (s *Server) handleMessageList(w http.ResponseWriter, r *http.Request) error {
	q := query{r: r}
	q.only("type", "customer", "since", "until", "cursor", "limit")
	f := store.ListMessagesParams{
		Type:     q.text("type"),
		Customer: q.text("customer"),
		Since:    q.time("since"),
		Until:    q.time("until"),
		Cursor:   q.str("cursor"),
		Limit:    q.limit(),
	}
	q.checkRange(f.Since, f.Until)
	if q.err != nil {
		return q.err
	}
	page, err := s.cfg.Store.ListMessages(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Messages   []messageView `json:"messages"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}{Messages: make([]messageView, len(page.Messages)), NextCursor: page.NextCursor}
	for i, m := range page.Messages {
		out.Messages[i] = newMessageView(m, false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleOrderGet(w http.ResponseWriter, r *http.Request) error {
	o, err := s.cfg.Store.GetOrder(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(o.Version))
	writeJSON(w, http.StatusOK, newOrderView(o))
	return nil
}

func (s *Server) handleQuarantineList(w http.ResponseWriter, r *http.Request) error {
	q := query{r: r}
	q.only("unresolved", "cursor", "limit")
	f := store.ListQuarantineParams{Unresolved: q.bool("unresolved"), Cursor: q.str("cursor"), Limit: q.limit()}
	if q.err != nil {
		return q.err
	}
	page, err := s.cfg.Store.ListQuarantine(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		Entries    []quarantineView `json:"entries"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}{Entries: make([]quarantineView, len(page.Entries)), NextCursor: page.NextCursor}
	for i, e := range page.Entries {
		out.Entries[i] = newQuarantineView(e, false)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleQuarantineGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.Store.GetQuarantine(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newQuarantineView(e, true))
	return nil
}

func (s *Server) handleQuarantineRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	res, err := s.cfg.Intake.Retry(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"entry":    newQuarantineView(res.Entry, false),
		"resolved": res.Resolved,
		"result":   res.Result,
		"error":    res.Error,
	})
	return nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, waorders.Errorf(waorders.CodeInvalid, "quarantine id %q is not a positive integer", r.PathValue("id"))
	}
	return id, nil
}

// query reads query parameters, keeping the first error with a message
// that says what is accepted.
type query struct {
	r   *http.Request
	err error
}

func (q *query) str(name string) string { return q.r.URL.Query().Get(name) }

func (q *query) fail(format string, args ...any) {
	if q.err == nil {
		q.err = waorders.Errorf(waorders.CodeInvalid, format, args...)
	}
}

// time accepts RFC 3339 or a date (YYYY-MM-DD, midnight UTC).
func (q *query) time(name string) time.Time {
	v := q.str(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC()
	}
	q.fail("%s=%q is not a time: use RFC 3339 (2026-01-31T18:00:00Z) or a date (2026-01-31)", name, v)
	return time.Time{}
}

func (q *query) bool(name string) bool {
	v := q.str(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fail("%s=%q is not a boolean: use true or false", name, v)
	}
	return b
}

func (q *query) limit() int {
	v := q.str("limit")
	if v == "" {
		return store.DefaultLimit
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		q.fail("limit=%q is not a positive integer (at most %d)", v, store.MaxLimit)
		return 0
	}
	return store.NormalizeLimit(n)
}

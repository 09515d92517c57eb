package postgres

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// clean makes s storable in a PostgreSQL text column, which refuses NUL
// and invalid UTF-8 (SQLSTATE 22021): one such byte in a customer's text
// would otherwise fail the whole group commit, over and over. Both become
// U+FFFD. The raw bytes are kept untouched in bytea columns.
func clean(s string) string { return store.CleanText(s) }

// problemsJSON encodes problems for a jsonb column ("[]" for none).
func problemsJSON(ps []waorders.Problem) (string, error) {
	if len(ps) == 0 {
		return "[]", nil
	}
	cp := make([]waorders.Problem, len(ps))
	for i, p := range ps {
		cp[i] = waorders.Problem{
			Severity: clean(p.Severity), Code: clean(p.Code), Path: clean(p.Path), Message: clean(p.Message),
		}
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return "", fmt.Errorf("encode problems: %w", err)
	}
	return string(b), nil
}

// parseProblems decodes a jsonb problems column; nil for none.
func parseProblems(b []byte) ([]waorders.Problem, error) {
	var ps []waorders.Problem
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("decode problems: %w", err)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	return ps, nil
}

// headersJSON encodes headers for a jsonb column ("{}" for none).
func headersJSON(h http.Header) (string, error) {
	if len(h) == 0 {
		return "{}", nil
	}
	cp := make(map[string][]string, len(h))
	for k, vs := range h {
		cvs := make([]string, len(vs))
		for i, v := range vs {
			cvs[i] = clean(v)
		}
		cp[clean(k)] = cvs
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return "", fmt.Errorf("encode headers: %w", err)
	}
	return string(b), nil
}

// parseHeaders decodes a jsonb headers column; nil for none.
func parseHeaders(b []byte) (http.Header, error) {
	var h http.Header
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("decode headers: %w", err)
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}

// checkTime refuses a time PostgreSQL (or pgx's encoding) cannot hold
// exactly, rather than let it fail or wrap around inside the database.
func checkTime(what string, t time.Time) error {
	if y := t.Year(); y < 1 || y > 9999 {
		return waorders.Errorf(waorders.CodeInvalid, "%s %s is out of the storable range (years 1 to 9999)", what, t.Format(time.RFC3339))
	}
	return nil
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// nullTime maps the zero time to NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// bytesOrEmpty keeps a NOT NULL bytea column from receiving NULL.
func bytesOrEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

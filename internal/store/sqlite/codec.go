package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/waorders/waorders"
)

// micros converts t to the stored form: unix microseconds, 0 for the zero
// time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back: UTC, 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// nullMicros converts a nullable stored time.
func nullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// optMicros stores the zero time as NULL.
func optMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// rawText stores a JSON document as TEXT exactly as given, NULL when empty.
func rawText(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// rawJSON reads a nullable TEXT column written by rawText.
func rawJSON(v sql.NullString) json.RawMessage {
	if !v.Valid || v.String == "" {
		return nil
	}
	return json.RawMessage(v.String)
}

// problemsText encodes warnings as JSON, NULL when there are none.
func problemsText(ps []waorders.Problem) (any, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return nil, fmt.Errorf("encode problems: %w", err)
	}
	return string(b), nil
}

// decodeProblems reads a column written by problemsText.
func decodeProblems(v sql.NullString) ([]waorders.Problem, error) {
	if !v.Valid || v.String == "" {
		return nil, nil
	}
	var ps []waorders.Problem
	if err := json.Unmarshal([]byte(v.String), &ps); err != nil {
		return nil, fmt.Errorf("decode problems: %w", err)
	}
	return ps, nil
}

// headersText encodes HTTP headers as JSON, NULL when there are none.
func headersText(h http.Header) (any, error) {
	if len(h) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode headers: %w", err)
	}
	return string(b), nil
}

// decodeHeaders reads a column written by headersText.
func decodeHeaders(v sql.NullString) (http.Header, error) {
	if !v.Valid || v.String == "" {
		return nil, nil
	}
	var h http.Header
	if err := json.Unmarshal([]byte(v.String), &h); err != nil {
		return nil, fmt.Errorf("decode headers: %w", err)
	}
	return h, nil
}

package httpx

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waorders/waorders"
)

// Query reads the query parameters of a request, keeping the first error
// with a message that says what is accepted. Read every parameter, then
// check Err once.
type Query struct {
	r   *http.Request
	err error
}

// NewQuery returns a Query over r's URL.
func NewQuery(r *http.Request) *Query { return &Query{r: r} }

// Err returns the first problem found, a CodeInvalid *waorders.Error, or nil.
func (q *Query) Err() error { return q.err }

// Str returns the parameter's value as given, "" if absent.
func (q *Query) Str(name string) string { return q.r.URL.Query().Get(name) }

// Fail records a problem unless one is already recorded.
func (q *Query) Fail(format string, args ...any) {
	if q.err == nil {
		q.err = waorders.Errorf(waorders.CodeInvalid, format, args...)
	}
}

// Only fails on a query parameter not in names, and on one given twice: a
// misspelt filter would otherwise silently match everything.
func (q *Query) Only(names ...string) {
	vals := q.r.URL.Query()
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case !slices.Contains(names, k):
			q.Fail("unknown query parameter %q; this endpoint accepts %s", Clip(k, 40), strings.Join(names, ", "))
		case len(vals[k]) > 1:
			q.Fail("query parameter %s is given %d times; give it once", k, len(vals[k]))
		}
	}
}

// Text reads a free-text value of at most max characters.
func (q *Query) Text(name string, max int) string {
	v := q.Str(name)
	if utf8.RuneCountInString(v) > max {
		q.Fail("%s is longer than %d characters", name, max)
		return ""
	}
	return v
}

// Time accepts RFC 3339 or a date (YYYY-MM-DD, midnight UTC); absent is
// the zero time.
func (q *Query) Time(name string) time.Time {
	v := q.Str(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC()
	}
	q.Fail("%s=%q is not a time: use RFC 3339 (2026-01-31T18:00:00Z) or a date (2026-01-31)", name, v)
	return time.Time{}
}

// Bool reads true or false (as strconv.ParseBool); absent is false.
func (q *Query) Bool(name string) bool {
	v := q.Str(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.Fail("%s=%q is not a boolean: use true or false", name, v)
	}
	return b
}

// Limit reads the page size "limit": def when absent, at most max.
func (q *Query) Limit(def, max int) int {
	v := q.Str("limit")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		q.Fail("limit=%q is not a positive integer (at most %d)", v, max)
		return 0
	}
	return min(n, max)
}

// OneOf reads an enumerated parameter: def when absent, else one of allowed.
func (q *Query) OneOf(name, def string, allowed ...string) string {
	v := q.Str(name)
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
		q.Fail("%s=%q is not accepted; use %s", name, Clip(v, 40), strings.Join(opts, " or "))
	}
	return v
}

// CheckRange fails when since is not before until (both given).
func (q *Query) CheckRange(since, until time.Time) {
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		q.Fail("since (%s) must be before until (%s); until is exclusive",
			since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
	}
}

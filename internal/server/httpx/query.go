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

// Str returns the parameter's value as given, "" if absent. A parameter
// given with an empty value (?cursor=) is a problem, not an absent one: a
// client that meant to send a value but sent none should hear about it
// rather than get an unfiltered answer.
func (q *Query) Str(name string) string {
	v, _ := q.value(name)
	return v
}

// value returns the parameter's first value and whether it was given with
// a value; given empty, it records a problem.
func (q *Query) value(name string) (string, bool) {
	vals, ok := q.r.URL.Query()[name]
	if !ok || len(vals) == 0 {
		return "", false
	}
	if vals[0] == "" {
		q.Fail("%s is empty: give it a value or leave it out", name)
		return "", false
	}
	return vals[0], true
}

// Fail records a problem unless one is already recorded.
func (q *Query) Fail(format string, args ...any) {
	if q.err == nil {
		q.err = waorders.Errorf(waorders.CodeInvalid, format, args...)
	}
}

// Only fails on a query parameter not in names, and on one given twice: a
// misspelt filter would otherwise silently match everything.
func (q *Query) Only(names ...string) { q.OnlyRepeating(nil, names...) }

// OnlyRepeating is Only for an endpoint whose parameters in repeating may
// be given more than once (status=a&status=b).
func (q *Query) OnlyRepeating(repeating []string, names ...string) {
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
		case len(vals[k]) > 1 && !slices.Contains(repeating, k):
			q.Fail("query parameter %s is given %d times; give it once", k, len(vals[k]))
		}
	}
}

// Text reads a free-text value of at most max characters.
func (q *Query) Text(name string, max int) string {
	v, _ := q.value(name)
	if utf8.RuneCountInString(v) > max {
		q.Fail("%s is longer than %d characters", name, max)
		return ""
	}
	return v
}

// Time accepts RFC 3339 or a date (YYYY-MM-DD, midnight UTC); absent is
// the zero time.
func (q *Query) Time(name string) time.Time { return q.TimeIn(name, time.UTC) }

// TimeIn reads a time as Time does; a date alone is the midnight that
// starts that day in loc (the business time zone).
func (q *Query) TimeIn(name string, loc *time.Location) time.Time {
	v, ok := q.value(name)
	if !ok {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC()
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t.UTC()
	}
	q.Fail("%s=%q is not a time: use RFC 3339 (2026-01-31T18:00:00Z) or a date (2026-01-31)", name, v)
	return time.Time{}
}

// Bool reads true or false, exactly (not 1, T or TRUE: the OpenAPI
// document says boolean, and generated clients send true and false);
// absent is false.
func (q *Query) Bool(name string) bool {
	v, ok := q.value(name)
	if !ok {
		return false
	}
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	q.Fail("%s=%q is not a boolean: use true or false", name, Clip(v, 40))
	return false
}

// Limit reads the page size "limit": def when absent, else an integer
// from 1 to max. A larger one is refused rather than capped, as the
// OpenAPI document's maximum says, so a client never mistakes a short page
// for the size it asked for.
func (q *Query) Limit(def, max int) int {
	v, ok := q.value("limit")
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		q.Fail("limit=%q is not an integer from 1 to %d", Clip(v, 40), max)
		return 0
	}
	return n
}

// OneOf reads an enumerated parameter: def when absent, else one of allowed.
func (q *Query) OneOf(name, def string, allowed ...string) string {
	v, ok := q.value(name)
	if !ok {
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

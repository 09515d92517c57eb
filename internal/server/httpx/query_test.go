package httpx

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/waorders/waorders"
)

func TestQuery(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		query   string
		read    func(q *Query) any
		want    any
		wantErr string // "" for none
	}{
		{"TimeRFC3339", "since=2026-01-31T18:00:00%2B05:30", func(q *Query) any { return q.Time("since") }, day.Add(12*time.Hour + 30*time.Minute), ""},
		{"TimeDate", "since=2026-01-31", func(q *Query) any { return q.Time("since") }, day, ""},
		{"TimeAbsent", "", func(q *Query) any { return q.Time("since") }, time.Time{}, ""},
		{"TimeBad", "since=yesterday", func(q *Query) any { return q.Time("since") }, time.Time{},
			`since="yesterday" is not a time: use RFC 3339 (2026-01-31T18:00:00Z) or a date (2026-01-31)`},
		{"BoolTrue", "unresolved=true", func(q *Query) any { return q.Bool("unresolved") }, true, ""},
		{"BoolBad", "unresolved=yes", func(q *Query) any { return q.Bool("unresolved") }, false, `unresolved="yes" is not a boolean: use true or false`},
		{"LimitDefault", "", func(q *Query) any { return q.Limit(50, 500) }, 50, ""},
		{"LimitMax", "limit=500", func(q *Query) any { return q.Limit(50, 500) }, 500, ""},
		{"LimitOverMax", "limit=501", func(q *Query) any { return q.Limit(50, 500) }, 0, `limit="501" is not an integer from 1 to 500`},
		{"LimitBad", "limit=0", func(q *Query) any { return q.Limit(50, 500) }, 0, `limit="0" is not an integer from 1 to 500`},
		{"LimitEmpty", "limit=", func(q *Query) any { return q.Limit(50, 500) }, 50, "limit is empty: give it a value or leave it out"},
		{"LimitNoEquals", "limit", func(q *Query) any { return q.Limit(50, 500) }, 50, "limit is empty: give it a value or leave it out"},
		{"BoolFalse", "unresolved=false", func(q *Query) any { return q.Bool("unresolved") }, false, ""},
		{"BoolOne", "unresolved=1", func(q *Query) any { return q.Bool("unresolved") }, false, `unresolved="1" is not a boolean: use true or false`},
		{"BoolUpper", "unresolved=TRUE", func(q *Query) any { return q.Bool("unresolved") }, false, `unresolved="TRUE" is not a boolean: use true or false`},
		{"BoolEmpty", "unresolved=", func(q *Query) any { return q.Bool("unresolved") }, false, "unresolved is empty: give it a value or leave it out"},
		{"TimeEmpty", "since=", func(q *Query) any { return q.Time("since") }, time.Time{}, "since is empty: give it a value or leave it out"},
		{"TextEmpty", "ref=", func(q *Query) any { return q.Text("ref", 3) }, "", "ref is empty: give it a value or leave it out"},
		{"StrEmpty", "cursor=", func(q *Query) any { return q.Str("cursor") }, "", "cursor is empty: give it a value or leave it out"},
		{"OneOfEmpty", "group_by=", func(q *Query) any { return q.OneOf("group_by", "ref1", "ref1", "ref2") }, "ref1",
			"group_by is empty: give it a value or leave it out"},
		{"TextTooLong", "q=abcd", func(q *Query) any { return q.Text("q", 3) }, "", "q is longer than 3 characters"},
		{"OneOfDefault", "", func(q *Query) any { return q.OneOf("format", "csv", "csv", "ndjson") }, "csv", ""},
		{"OneOfBad", "interval=week", func(q *Query) any { return q.OneOf("interval", "", "", "day") }, "week", `interval="week" is not accepted; use day`},
		{"OnlyUnknown", "stauts=x", func(q *Query) any { q.Only("status", "limit"); return nil }, nil,
			`unknown query parameter "stauts"; this endpoint accepts status, limit`},
		{"OnlyTwice", "limit=1&limit=2", func(q *Query) any { q.Only("limit"); return nil }, nil, "query parameter limit is given 2 times; give it once"},
		{"RangeBackwards", "since=2026-02-01&until=2026-01-01", func(q *Query) any {
			q.CheckRange(q.Time("since"), q.Time("until"))
			return nil
		}, nil, "since (2026-02-01T00:00:00Z) must be before until (2026-01-01T00:00:00Z); until is exclusive"},
		{"FirstErrorKept", "limit=x&unresolved=x", func(q *Query) any { q.Limit(1, 2); q.Bool("unresolved"); return nil }, nil,
			`limit="x" is not an integer from 1 to 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := NewQuery(httptest.NewRequest("GET", "/?"+tt.query, nil))
			got := tt.read(q)
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			err := q.Err()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (waorders.ErrorCode(err) != waorders.CodeInvalid || waorders.ErrorMessage(err) != tt.wantErr):
				t.Errorf("error %v, want invalid: %s", err, tt.wantErr)
			}
		})
	}
}

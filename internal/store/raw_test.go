package store_test

import (
	"testing"

	"github.com/waorders/waorders/internal/store"
)

func TestRawSpans(t *testing.T) {
	body := []byte(`{"messages":[{"id":"a"},{"id":"b"}],"statuses":[{"id":"a"}]}`)
	at := func(s string) int {
		for i := range len(body) - len(s) + 1 {
			if string(body[i:i+len(s)]) == s {
				return i
			}
		}
		t.Fatalf("%s is not in the body", s)
		return 0
	}
	type find struct {
		raw    string
		offset int
		ok     bool
	}
	tests := []struct {
		name  string
		finds []find
	}{
		{"InOrder", []find{{`{"id":"a"}`, at(`{"id":"a"}`), true}, {`{"id":"b"}`, at(`{"id":"b"}`), true}}},
		// The status repeats the first message's bytes: it is found after it.
		{"RepeatFollows", []find{{`{"id":"a"}`, 13, true}, {`{"id":"b"}`, 24, true}, {`{"id":"a"}`, 48, true}}},
		{"OutOfOrder", []find{{`{"id":"b"}`, 24, true}, {`{"id":"a"}`, 48, true}, {`{"id":"a"}`, 13, true}}},
		// The previous value ended inside this one.
		{"Straddles", []find{{`"id":"a"`, 14, true}, {`"a"},{"id"`, 19, true}}},
		{"Absent", []find{{`{"id":"c"}`, 0, false}, {`{"id":"a"}`, 13, true}}},
		{"Empty", []find{{``, 0, false}}},
		{"LongerThanBody", []find{{string(body) + " ", 0, false}}},
		{"WholeBody", []find{{string(body), 0, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := store.NewRawSpans(body)
			for i, f := range tt.finds {
				off, ok := s.Find([]byte(f.raw))
				if ok != f.ok || off != f.offset {
					t.Errorf("find %d %s = %d, %v; want %d, %v", i, f.raw, off, ok, f.offset, f.ok)
				}
				if ok && string(body[off:off+len(f.raw)]) != f.raw {
					t.Errorf("find %d: body[%d:] is not %s", i, off, f.raw)
				}
			}
		})
	}
}

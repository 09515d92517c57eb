package store

import (
	"strconv"
	"testing"
	"time"
)

func TestFilterPage(t *testing.T) {
	t.Parallel()
	d := Dialect{
		Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
		Bind:        func(v any) any { return v },
		CustomerSet: "(SELECT ?::text)",
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cur := SeqCursor(at, 7)
	f, limit, err := ListChangesParams{Kind: "call", Customer: "c1", Since: at, Cursor: cur.Encode()}.Query(d, "ch")
	if err != nil {
		t.Fatal(err)
	}
	got := f.Page(limit + 1)
	want := " WHERE ch.kind = $1 AND ch.customer_key IN (SELECT $2::text) AND ch.at >= $3 AND (ch.at, ch.id) < ($4, $5)" +
		" ORDER BY ch.at DESC, ch.id DESC LIMIT $6"
	if got != want {
		t.Errorf("Page:\n got %s\nwant %s", got, want)
	}
	if args := f.Args(); len(args) != 6 || args[4] != int64(7) || args[5] != DefaultLimit+1 {
		t.Errorf("Args = %v", args)
	}
}

func TestDecodeSeqCursorAndTrimPage(t *testing.T) {
	t.Parallel()
	if _, _, err := DecodeSeqCursor(Cursor{Time: time.Now(), ID: "x"}.Encode()); err == nil {
		t.Error("a cursor with a non-numeric id was accepted")
	}
	if cur, id, err := DecodeSeqCursor(""); err != nil || !cur.IsZero() || id != 0 {
		t.Errorf("DecodeSeqCursor(\"\") = %v, %d, %v", cur, id, err)
	}
	rows, next := TrimPage([]int(nil), 2, nil)
	if rows == nil || len(rows) != 0 || next != "" {
		t.Errorf("TrimPage(nil) = %v, %q", rows, next)
	}
	at := time.Unix(100, 0).UTC()
	read := []int64{5, 4, 3}
	kept, next := TrimPage(read, 2, func(i int) Cursor { return SeqCursor(at, read[i]) })
	if len(kept) != 2 || next != SeqCursor(at, 4).Encode() {
		t.Errorf("TrimPage = %v, %q", kept, next)
	}
}

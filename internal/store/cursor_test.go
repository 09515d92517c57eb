package store_test

import (
	"testing"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

func TestCursor(t *testing.T) {
	at := time.Date(2026, 1, 1, 10, 0, 0, 123456000, time.UTC)
	for _, c := range []store.Cursor{
		{Time: at, ID: "wamid.HBgM=="},
		{Time: at, ID: "id:with:colons"},
		{Time: at, ID: ""},
		{Time: time.Date(1960, 5, 1, 0, 0, 0, 0, time.UTC), ID: "before 1970"},
		{Time: at, ID: "\u202e\x00<b>"},
	} {
		got, err := store.DecodeCursor(c.Encode())
		if err != nil || !got.Time.Equal(c.Time) || got.ID != c.ID {
			t.Errorf("DecodeCursor(Encode(%+v)) = %+v, %v", c, got, err)
		}
	}
	if c, err := store.DecodeCursor(""); err != nil || !c.IsZero() {
		t.Errorf(`DecodeCursor("") = %+v, %v; want the start of the list`, c, err)
	}
	for _, bad := range []string{
		"not base64!",
		"MTIz",                         // "123": no separator
		"eHl6OndhbWlk",                 // "xyz:wamid": no time
		"OTIyMzM3MjAzNjg1NDc3NTgwODp4", // "9223372036854775808:x": out of range
		"MTIzOng=",                     // padded: the cursor alphabet has none
	} {
		_, err := store.DecodeCursor(bad)
		if waorders.ErrorCode(err) != waorders.CodeInvalid {
			t.Errorf("DecodeCursor(%q) = %v, want CodeInvalid", bad, err)
		}
	}
}

// FuzzDecodeCursor: any string decodes to a cursor or to a CodeInvalid
// error, never a panic, and a decoded cursor encodes back to a cursor that
// decodes to the same position.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("")
	f.Add(store.Cursor{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ID: "wamid.x"}.Encode())
	f.Add("LTEyMzo6")
	f.Add("OTIyMzM3MjAzNjg1NDc3NTgwNzp4")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := store.DecodeCursor(s)
		if err != nil {
			if waorders.ErrorCode(err) != waorders.CodeInvalid {
				t.Fatalf("DecodeCursor(%q): %v, want CodeInvalid", s, err)
			}
			return
		}
		again, err := store.DecodeCursor(c.Encode())
		if err != nil || !again.Time.Equal(c.Time) || again.ID != c.ID {
			t.Fatalf("DecodeCursor(%q) = %+v; its encoding decodes to %+v, %v", s, c, again, err)
		}
	})
}

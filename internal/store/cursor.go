package store

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
)

// Cursor is a keyset position: the (time, id) of the last row of a page.
// Pages are ordered by time descending, then id descending, so a cursor stays
// correct while newer rows arrive.
type Cursor struct {
	Time time.Time
	ID   string
}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.Time.UnixMicro(), 10) + ":" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor parses an opaque cursor; "" gives the zero Cursor. A malformed
// cursor is a CodeInvalid error.
func DecodeCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, waorders.Errorf(waorders.CodeInvalid, "cursor %q is not valid; use the next_cursor of a previous page", s)
	}
	ts, id, ok := strings.Cut(string(b), ":")
	us, perr := strconv.ParseInt(ts, 10, 64)
	if !ok || perr != nil {
		return Cursor{}, waorders.Errorf(waorders.CodeInvalid, "cursor %q is not valid; use the next_cursor of a previous page", s)
	}
	return Cursor{Time: time.UnixMicro(us).UTC(), ID: id}, nil
}

// IsZero reports whether c is the start of the list.
func (c Cursor) IsZero() bool { return c.Time.IsZero() && c.ID == "" }

// NormalizeLimit applies DefaultLimit to 0 and caps at MaxLimit.
func NormalizeLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

package store

import (
	"context"
	"time"

	"github.com/waorders/waorders"
)

// Changes reads the stored changes: every webhook change that is not an
// inbound message or a status (calls, user preferences, user id updates,
// business events, group, sync and unknown fields).
type Changes interface {
	// ListChanges returns changes newest first (by At, then id).
	ListChanges(ctx context.Context, p ListChangesParams) (*ChangePage, error)
}

// ListChangesParams selects changes. Zero fields do not filter.
type ListChangesParams struct {
	Field string
	Kind  string
	// Customer is any identifier of a customer: the changes about every
	// identifier of that customer.
	Customer string
	Since    time.Time
	Until    time.Time // exclusive
	Cursor   string
	Limit    int
}

// ChangePage is a page of changes; NextCursor is empty on the last page.
type ChangePage struct {
	Changes    []*waorders.Change
	NextCursor string
}

// Query returns the conditions and order of a page of p over the changes
// table aliased alias, and the page size.
func (p ListChangesParams) Query(d Dialect, alias string) (*Filter, int, error) {
	cur, id, err := DecodeSeqCursor(p.Cursor)
	if err != nil {
		return nil, 0, err
	}
	f := d.Filter(alias)
	f.Equal("field", p.Field, "kind", p.Kind)
	f.Customer("customer_key", p.Customer)
	f.Window("at", p.Since, p.Until)
	f.Keyset("at", "id", cur, id)
	return f, NormalizeLimit(p.Limit), nil
}

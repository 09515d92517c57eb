package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

var changeColumns = `id, callback_id, field, kind, key, event, summary, customer_wa_id, customer_user_id,
    customer_parent_user_id, customer_username, customer_name, at, received_at, ` + rawColumn("changes") + `, warnings`

func scanChange(sc scanner) (*waorders.Change, error) {
	var (
		c             waorders.Change
		at, recv      int64
		raw, warnings sql.NullString
	)
	cu := &c.Customer
	if err := sc.Scan(&c.ID, &c.CallbackID, &c.Field, &c.Kind, &c.Key, &c.Event, &c.Summary, &cu.WaID, &cu.UserID,
		&cu.ParentUserID, &cu.Username, &cu.Name, &at, &recv, &raw, &warnings); err != nil {
		return nil, err
	}
	c.At, c.ReceivedAt, c.Raw = fromMicros(at), fromMicros(recv), rawJSON(raw)
	var err error
	if c.Warnings, err = decodeProblems(warnings); err != nil {
		return nil, fmt.Errorf("change %d: %w", c.ID, err)
	}
	return &c, nil
}

// ListChanges returns changes newest first (by At, then id).
func (s *Store) ListChanges(ctx context.Context, f store.ListChangesParams) (*store.ChangePage, error) {
	w, limit, err := f.Query(dialect, "")
	if err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, s.r, `SELECT `+changeColumns+` FROM changes`+w.Page(limit+1), w.Args(), scanChange)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	changes, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.SeqCursor(out[i].At, out[i].ID) })
	return &store.ChangePage{Changes: changes, NextCursor: next}, nil
}

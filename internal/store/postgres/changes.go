package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

var changeColumns = `ch.id, ch.callback_id, ch.field, ch.kind, ch.key, ch.event, ch.summary, ch.customer_wa_id,
	ch.customer_user_id, ch.customer_parent_user_id, ch.customer_username, ch.customer_name, ch.at, ch.received_at, ` +
	rawColumn("ch") + `, ch.warnings`

func scanChange(r pgx.Row) (*waorders.Change, error) {
	var ch waorders.Change
	var raw, warnings []byte
	cu := &ch.Customer
	if err := r.Scan(&ch.ID, &ch.CallbackID, &ch.Field, &ch.Kind, &ch.Key, &ch.Event, &ch.Summary, &cu.WaID,
		&cu.UserID, &cu.ParentUserID, &cu.Username, &cu.Name, &ch.At, &ch.ReceivedAt, &raw, &warnings); err != nil {
		return nil, err
	}
	ch.At, ch.ReceivedAt, ch.Raw = utc(ch.At), utc(ch.ReceivedAt), rawOrNil(raw)
	var err error
	if ch.Warnings, err = parseProblems(warnings); err != nil {
		return nil, err
	}
	return &ch, nil
}

// ListChanges returns changes newest first (by At, then id).
func (s *Store) ListChanges(ctx context.Context, f store.ListChangesParams) (*store.ChangePage, error) {
	w, limit, err := f.Query(dialect, "ch")
	if err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, s, `SELECT `+changeColumns+` FROM changes ch`+w.Page(limit+1), w.Args(), scanChange)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	changes, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.SeqCursor(out[i].At, out[i].ID) })
	return &store.ChangePage{Changes: changes, NextCursor: next}, nil
}

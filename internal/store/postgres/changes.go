package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

var changeColumns = `ch.id, ch.callback_id, ch.field, ch.kind, ch.key, ch.event, ch.summary, ch.customer_wa_id,
	ch.customer_user_id, ch.customer_parent_user_id, ch.customer_username, ch.customer_name, ch.at, ch.received_at, ` +
	rawColumn("ch") + `, ch.warnings`

// ListChanges returns changes newest first (by At, then id).
func (s *Store) ListChanges(ctx context.Context, f store.ListChangesParams) (*store.ChangePage, error) {
	cur, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	var curID int64
	if !cur.IsZero() {
		if curID, err = strconv.ParseInt(cur.ID, 10, 64); err != nil {
			return nil, waorders.Errorf(waorders.CodeInvalid, "malformed cursor")
		}
	}
	limit := store.NormalizeLimit(f.Limit)
	c := &conds{}
	for _, eq := range []struct{ col, v string }{{"ch.field", f.Field}, {"ch.kind", f.Kind}} {
		if eq.v != "" {
			c.add(eq.col+" = ?", clean(eq.v))
		}
	}
	if f.Customer != "" {
		c.add("ch.customer_key IN "+customerSet, clean(f.Customer))
	}
	if !f.Since.IsZero() {
		c.add("ch.at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		c.add("ch.at < ?", f.Until.UTC())
	}
	if !cur.IsZero() {
		c.args = append(c.args, cur.Time, curID)
		n := len(c.args)
		c.where = append(c.where, fmt.Sprintf("(ch.at, ch.id) < ($%d, $%d)", n-1, n))
	}
	c.args = append(c.args, limit+1)
	q := `SELECT ` + changeColumns + ` FROM changes ch` + c.sql() +
		` ORDER BY ch.at DESC, ch.id DESC LIMIT $` + strconv.Itoa(len(c.args))
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, q, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*waorders.Change, error) {
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
	})
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", interpretError(err))
	}
	page := &store.ChangePage{Changes: out}
	if page.Changes == nil {
		page.Changes = []*waorders.Change{}
	}
	if len(out) > limit {
		page.Changes = out[:limit]
		last := out[limit-1]
		page.NextCursor = store.Cursor{Time: last.At, ID: strconv.FormatInt(last.ID, 10)}.Encode()
	}
	return page, nil
}

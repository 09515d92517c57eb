package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

var changeColumns = `id, callback_id, field, kind, key, event, summary, customer_wa_id, customer_user_id,
    customer_parent_user_id, customer_username, customer_name, at, received_at, ` + rawColumn("changes") + `, warnings`

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
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{{"field", f.Field}, {"kind", f.Kind}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if f.Customer != "" {
		where, args = append(where, "customer_key IN "+customerSet), append(args, f.Customer)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.Until.UnixMicro())
	}
	if !cur.IsZero() {
		where, args = append(where, "(at, id) < (?, ?)"), append(args, micros(cur.Time), curID)
	}
	q := `SELECT ` + changeColumns + ` FROM changes`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", interpretError(err))
	}
	defer rows.Close()
	page := &store.ChangePage{Changes: []*waorders.Change{}}
	for rows.Next() {
		var (
			c             waorders.Change
			at, recv      int64
			raw, warnings sql.NullString
		)
		cu := &c.Customer
		if err := rows.Scan(&c.ID, &c.CallbackID, &c.Field, &c.Kind, &c.Key, &c.Event, &c.Summary, &cu.WaID, &cu.UserID,
			&cu.ParentUserID, &cu.Username, &cu.Name, &at, &recv, &raw, &warnings); err != nil {
			return nil, fmt.Errorf("list changes: %w", interpretError(err))
		}
		c.At, c.ReceivedAt, c.Raw = fromMicros(at), fromMicros(recv), rawJSON(raw)
		if c.Warnings, err = decodeProblems(warnings); err != nil {
			return nil, fmt.Errorf("change %d: %w", c.ID, err)
		}
		page.Changes = append(page.Changes, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list changes: %w", interpretError(err))
	}
	if len(page.Changes) > limit {
		page.Changes = page.Changes[:limit]
		last := page.Changes[limit-1]
		page.NextCursor = store.Cursor{Time: last.At, ID: strconv.FormatInt(last.ID, 10)}.Encode()
	}
	return page, nil
}

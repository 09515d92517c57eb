package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const quarantineColumns = `id, kind, callback_id, message_id, envelope, reason, message, problems,
    received_at, resolved_at, attempts, repeats, last_seen_at`

func scanQuarantine(sc interface{ Scan(...any) error }, extra ...any) (*waorders.QuarantineEntry, error) {
	var (
		q        waorders.QuarantineEntry
		problems sql.NullString
		received int64
		resolved sql.NullInt64
		lastSeen sql.NullInt64
	)
	dst := append([]any{&q.ID, &q.Kind, &q.CallbackID, &q.MessageID, &q.Envelope, &q.Reason, &q.Message,
		&problems, &received, &resolved, &q.Attempts, &q.Repeats, &lastSeen}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return nil, err
	}
	q.ReceivedAt, q.ResolvedAt, q.LastSeenAt = fromMicros(received), nullMicros(resolved), nullMicros(lastSeen)
	var err error
	if q.Problems, err = decodeProblems(problems); err != nil {
		return nil, fmt.Errorf("quarantine %d: %w", q.ID, err)
	}
	return &q, nil
}

// ListQuarantine returns quarantine entries newest first, without bodies
// and headers.
func (s *Store) ListQuarantine(ctx context.Context, f store.ListQuarantineParams) (*store.QuarantinePage, error) {
	cur, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	var after int64
	if !cur.IsZero() {
		if after, err = strconv.ParseInt(cur.ID, 10, 64); err != nil {
			return nil, waorders.Errorf(waorders.CodeInvalid, "cursor %q is not valid; use the next_cursor of a previous page", f.Cursor)
		}
	}
	limit := store.NormalizeLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	if f.Unresolved {
		where = append(where, "resolved_at IS NULL")
	}
	if after > 0 {
		where, args = append(where, "id < ?"), append(args, after)
	}
	q := `SELECT ` + quarantineColumns + ` FROM quarantine`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", interpretError(err))
	}
	defer rows.Close()
	page := &store.QuarantinePage{Entries: []*waorders.QuarantineEntry{}}
	for rows.Next() {
		e, err := scanQuarantine(rows)
		if err != nil {
			return nil, fmt.Errorf("list quarantine: %w", interpretError(err))
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list quarantine: %w", interpretError(err))
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		last := page.Entries[limit-1]
		page.NextCursor = store.Cursor{Time: last.ReceivedAt, ID: strconv.FormatInt(last.ID, 10)}.Encode()
	}
	return page, nil
}

// GetQuarantine returns one entry with its body and headers, or CodeNotFound.
func (s *Store) GetQuarantine(ctx context.Context, id int64) (*waorders.QuarantineEntry, error) {
	return getQuarantine(ctx, s.r, id)
}

// rowQuerier is what getQuarantine needs of a pool or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getQuarantine(ctx context.Context, q rowQuerier, id int64) (*waorders.QuarantineEntry, error) {
	var headers sql.NullString
	var body []byte
	row := q.QueryRowContext(ctx, `SELECT `+quarantineColumns+`, body, headers FROM quarantine WHERE id = ?`, id)
	e, err := scanQuarantine(row, &body, &headers)
	if err != nil {
		return nil, fmt.Errorf("get quarantine: %w", notFound(err, "quarantine entry %d not found", id))
	}
	if len(body) == 0 && e.Kind == waorders.QuarantineMessage {
		// Message entries share their callback row's body and headers
		// instead of each keeping a copy (see store.Store.GetQuarantine).
		err := q.QueryRowContext(ctx, `SELECT body, headers FROM callbacks WHERE id = ?`, e.CallbackID).Scan(&body, &headers)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("get quarantine %d body: %w", id, interpretError(err))
		}
	}
	e.Body = body
	if e.Headers, err = decodeHeaders(headers); err != nil {
		return nil, fmt.Errorf("get quarantine %d: %w", id, err)
	}
	return e, nil
}

// MarkQuarantineAttempt adds one attempt to entry p.ID and, when
// p.Resolved, sets its ResolvedAt to p.At (now when zero); it returns the
// updated entry, read in the transaction, or CodeNotFound.
func (t *tx) MarkQuarantineAttempt(ctx context.Context, p store.MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	at := p.At
	if p.Resolved && at.IsZero() {
		at = t.s.now()
	}
	r, err := t.sqlTx.ExecContext(ctx, `UPDATE quarantine SET attempts = attempts + 1,
    resolved_at = CASE WHEN ? THEN ? ELSE resolved_at END WHERE id = ?`, p.Resolved, micros(at), p.ID)
	if err != nil {
		return nil, fmt.Errorf("mark quarantine attempt: %w", interpretError(err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return nil, waorders.Errorf(waorders.CodeNotFound, "quarantine entry %d not found", p.ID)
	}
	return getQuarantine(ctx, t.sqlTx, p.ID)
}

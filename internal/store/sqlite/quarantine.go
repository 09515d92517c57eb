package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	_, after, err := store.DecodeSeqCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	w := dialect.Filter("")
	if f.Unresolved {
		w.Add("resolved_at IS NULL")
	}
	if after > 0 {
		w.Add("id < ?", after)
	}
	w.NewestFirst("id")
	limit := store.NormalizeLimit(f.Limit)
	out, err := queryAll(ctx, s.r, `SELECT `+quarantineColumns+` FROM quarantine`+w.Page(limit+1), w.Args(),
		func(sc scanner) (*waorders.QuarantineEntry, error) { return scanQuarantine(sc) })
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	entries, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.SeqCursor(out[i].ReceivedAt, out[i].ID) })
	return &store.QuarantinePage{Entries: entries, NextCursor: next}, nil
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

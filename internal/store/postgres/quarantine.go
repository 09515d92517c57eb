package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const quarantineColumns = `q.id, q.kind, q.callback_id, q.message_id, q.envelope, q.reason, q.message,
	q.problems, q.received_at, q.resolved_at, q.attempts, q.repeats, q.last_seen_at`

// scanQuarantine reads quarantineColumns, plus body and headers when full.
func scanQuarantine(row pgx.Row, full bool) (*waorders.QuarantineEntry, error) {
	var q waorders.QuarantineEntry
	var problems, headers []byte
	var resolved, lastSeen *time.Time
	dest := []any{&q.ID, &q.Kind, &q.CallbackID, &q.MessageID, &q.Envelope, &q.Reason, &q.Message,
		&problems, &q.ReceivedAt, &resolved, &q.Attempts, &q.Repeats, &lastSeen}
	if full {
		dest = append(dest, &q.Body, &headers)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	q.ReceivedAt = utc(q.ReceivedAt)
	if resolved != nil {
		q.ResolvedAt = resolved.UTC()
	}
	if lastSeen != nil {
		q.LastSeenAt = lastSeen.UTC()
	}
	var err error
	if q.Problems, err = parseProblems(problems); err != nil {
		return nil, err
	}
	if full {
		if q.Headers, err = parseHeaders(headers); err != nil {
			return nil, err
		}
	}
	return &q, nil
}

// ListQuarantine returns quarantine entries newest first (by received
// time, then id), without bodies and headers.
func (s *Store) ListQuarantine(ctx context.Context, f store.ListQuarantineParams) (*store.QuarantinePage, error) {
	cur, id, err := store.DecodeSeqCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	w := dialect.Filter("q")
	w.Keyset("received_at", "id", cur, id)
	if f.Unresolved {
		w.Add("q.resolved_at IS NULL")
	}
	limit := store.NormalizeLimit(f.Limit)
	out, err := queryAll(ctx, s, `SELECT `+quarantineColumns+` FROM quarantine q`+w.Page(limit+1), w.Args(),
		func(r pgx.Row) (*waorders.QuarantineEntry, error) { return scanQuarantine(r, false) })
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	entries, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.SeqCursor(out[i].ReceivedAt, out[i].ID) })
	return &store.QuarantinePage{Entries: entries, NextCursor: next}, nil
}

// GetQuarantine returns one entry with its body and headers.
func (s *Store) GetQuarantine(ctx context.Context, id int64) (*waorders.QuarantineEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q, err := scanQuarantine(s.pool.QueryRow(ctx,
		`SELECT `+quarantineColumns+`,
		        CASE WHEN coalesce(length(q.body), 0) > 0 OR c.id IS NULL THEN q.body ELSE c.body END,
		        CASE WHEN coalesce(length(q.body), 0) > 0 OR c.id IS NULL THEN q.headers ELSE c.headers END
		   FROM quarantine q
		   LEFT JOIN callbacks c ON c.id = q.callback_id AND q.kind = 'message'
		  WHERE q.id = $1`, id), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "quarantine entry %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get quarantine: %w", interpretError(err))
	}
	return q, nil
}

// MarkQuarantineAttempt records a retry of entry p.ID: Attempts+1 and,
// when p.Resolved, ResolvedAt = p.At (now when zero). It returns the entry
// with its body and headers.
func (t *tx) MarkQuarantineAttempt(ctx context.Context, p store.MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	at := p.At
	if at.IsZero() {
		at = t.s.nowUTC()
	}
	if err := checkTime("resolution time", at); err != nil {
		return nil, err
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	q, err := scanQuarantine(t.q().QueryRow(ctx, `UPDATE quarantine q
		SET attempts = q.attempts + 1,
			resolved_at = CASE WHEN $2 THEN $3 ELSE q.resolved_at END
		WHERE q.id = $1
		RETURNING `+quarantineColumns+`, q.body, q.headers`, p.ID, p.Resolved, at.UTC()), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "quarantine entry %d not found", p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("mark quarantine attempt: %w", interpretError(err))
	}
	return q, nil
}

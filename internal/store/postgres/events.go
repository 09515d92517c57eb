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

const eventColumns = `id, type, order_id, message_id, phone_number_id, occurred_at, payload`

func scanEvent(row pgx.Row) (*store.Event, error) {
	var e store.Event
	if err := row.Scan(&e.ID, &e.Type, &e.OrderID, &e.MessageID, &e.PhoneNumberID, &e.OccurredAt, &e.Payload); err != nil {
		return nil, err
	}
	e.OccurredAt = e.OccurredAt.UTC()
	return &e, nil
}

// sqlInsertEvents appends a batch of events from parallel arrays.
const sqlInsertEvents = `INSERT INTO events (` + eventColumns + `)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::bytea[])`

// sqlFanOut creates one pending delivery per event and matching enabled
// webhook or static sink, in event order: sent in the same batch as the
// events, so appending costs no extra round trip.
const sqlFanOut = `INSERT INTO deliveries (event_id, sink, order_key, state, next_attempt_at, created_at, updated_at)
SELECT e.id, s.sink, e.order_id, 'pending', $5, $5, $5
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(id, type, order_id, n)
CROSS JOIN LATERAL (
    SELECT w.id AS sink FROM webhooks w
     WHERE w.enabled AND (cardinality(w.event_types) = 0 OR e.type = ANY (w.event_types))
    UNION ALL
    SELECT x FROM unnest($4::text[]) AS x) s
ORDER BY e.n, s.sink`

// AppendEvents implements store.EventsTx. On PostgreSQL the callers write
// or lock the order row before appending, so deliveries of one order get
// ids in commit order.
func (t *tx) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	if err := t.guard.Check(); err != nil {
		return err
	}
	if len(p.Events) == 0 {
		return nil
	}
	now := p.Now
	if now.IsZero() {
		now = t.s.nowUTC()
	}
	n := len(p.Events)
	ids, types, orders, messages, phones := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ats, payloads := make([]time.Time, n), make([][]byte, n)
	for i, e := range p.Events {
		ids[i], types[i], orders[i], messages[i], phones[i] = e.ID, e.Type, e.OrderID, e.MessageID, e.PhoneNumberID
		ats[i], payloads[i] = e.OccurredAt, e.Payload
	}
	sinks := p.Sinks
	if sinks == nil {
		sinks = []string{}
	}
	b := &pgx.Batch{}
	b.Queue(sqlInsertEvents, ids, types, orders, messages, phones, ats, payloads)
	b.Queue(sqlFanOut, ids, types, orders, sinks, now)
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	if err := t.q().SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("append events: %w", interpretError(err))
	}
	return nil
}

// AppendEvents implements store.Store. See tx.AppendEvents.
func (s *Store) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	return s.autocommit(func(tx store.Tx) error { return tx.AppendEvents(ctx, p) })
}

// GetEvent implements store.Events.
func (s *Store) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "event %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get event: %w", interpretError(err))
	}
	return e, nil
}

// ListEvents implements store.Events.
func (s *Store) ListEvents(ctx context.Context, p store.ListEventsParams) (*store.EventPage, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cur, _ := store.DecodeCursor(p.Cursor)
	limit := store.NormalizeLimit(p.Limit)
	w := &relayWhere{}
	if p.Type != "" {
		w.add("type = $%d", p.Type)
	}
	if p.OrderID != "" {
		w.add("order_id = $%d", p.OrderID)
	}
	if !p.Since.IsZero() {
		w.add("occurred_at >= $%d", p.Since)
	}
	if !p.Until.IsZero() {
		w.add("occurred_at < $%d", p.Until)
	}
	if cur.ID != "" {
		w.add("id < $%d", cur.ID)
	}
	q := `SELECT ` + eventColumns + ` FROM events` + w.sql() + fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit+1)
	evs, err := queryAll(ctx, s, q, w.args, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	page := &store.EventPage{}
	page.Events, page.NextCursor = store.TrimPage(evs, limit, func(i int) store.Cursor { return store.Cursor{Time: evs[i].OccurredAt, ID: evs[i].ID} })
	return page, nil
}

// relayWhere builds a WHERE clause with numbered parameters: each
// condition is a template with one %d, numbered when rendered.
type relayWhere struct {
	tmpl []string
	args []any
}

func (w *relayWhere) add(cond string, arg any) {
	w.tmpl = append(w.tmpl, cond)
	w.args = append(w.args, arg)
}

// sql renders the clause with parameters $1…$n.
func (w *relayWhere) sql() string { return w.sqlFrom(0) }

// sqlFrom renders the clause with parameters numbered after the first k.
func (w *relayWhere) sqlFrom(k int) string {
	if len(w.tmpl) == 0 {
		return ""
	}
	s := " WHERE "
	for i, c := range w.tmpl {
		if i > 0 {
			s += " AND "
		}
		s += fmt.Sprintf(c, k+i+1)
	}
	return s
}

// PruneEvents implements store.Events.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM events e WHERE occurred_at < $1
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state <> 'delivered')
  ORDER BY occurred_at LIMIT $2 FOR UPDATE SKIP LOCKED`, before, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(ids) == 0 {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM delivery_attempts WHERE event_id = ANY ($1)`, ids)
		b.Queue(`DELETE FROM deliveries WHERE event_id = ANY ($1)`, ids)
		b.Queue(`DELETE FROM events WHERE id = ANY ($1)`, ids)
		n = len(ids)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", interpretError(err))
	}
	return n, nil
}

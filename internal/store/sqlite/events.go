package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const eventColumns = `id, type, order_id, message_id, phone_number_id, occurred_at, payload`

const (
	sqlInsertEvent = `INSERT INTO events (` + eventColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	// sqlInsertDeliveries inserts the deliveries of one sink: ?5 is a JSON
	// array of [event id, order key] pairs, inserted in array order.
	sqlInsertDeliveries = `INSERT INTO deliveries (event_id, sink, order_key, state, next_attempt_at, created_at, updated_at)
SELECT j.value ->> 0, ?1, j.value ->> 1, 'pending', ?2, ?3, ?4 FROM json_each(?5) AS j ORDER BY j.key`
	// sqlInsertDelivery inserts one delivery: the common case of a commit
	// of one callback, where a single-row statement skips the JSON and the
	// statement journal a multi-row INSERT … SELECT opens.
	sqlInsertDelivery = `INSERT INTO deliveries (event_id, sink, order_key, state, next_attempt_at, created_at, updated_at)
VALUES (?, ?, ?, 'pending', ?, ?, ?)`
	// sqlWebhookRoutes reads what routing an event needs of the enabled
	// webhooks (not their secrets), in the order deliverySinks lists them.
	sqlWebhookRoutes = `SELECT id, event_types FROM webhooks WHERE enabled = 1 ORDER BY created_at, id`
)

func scanEvent(sc interface{ Scan(...any) error }) (*store.Event, error) {
	var (
		e  store.Event
		at int64
	)
	if err := sc.Scan(&e.ID, &e.Type, &e.OrderID, &e.MessageID, &e.PhoneNumberID, &at, &e.Payload); err != nil {
		return nil, err
	}
	e.OccurredAt = fromMicros(at)
	return &e, nil
}

// AppendEvents implements store.EventsTx: the events, then one delivery per
// matching enabled webhook and per static sink, on the writer connection.
func (t *tx) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	if err := t.guard.Check(); err != nil {
		return err
	}
	if len(p.Events) == 0 {
		return nil
	}
	now := p.Now
	if now.IsZero() {
		now = t.s.now()
	}
	// The statements prepared at Open (preparing the routing query cost a
	// commit of one callback more than its event's insert), under a
	// context without cancellation (see writeStmts.bind: a cancellable one
	// costs a watcher goroutine per statement). Deliveries go in one
	// statement per sink: a single row for a lone event, else a JSON array
	// of [event id, order key] in the events' order, so one order's
	// deliveries get ids in that order (a statement per delivery cost the
	// intake four times as much as the row).
	ctx = context.WithoutCancel(ctx)
	hooks, err := webhookRoutes(ctx, t.sqlTx.StmtContext(ctx, t.s.stmts.routes))
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	insEvent := t.sqlTx.StmtContext(ctx, t.s.stmts.event)
	var (
		sinks  []string
		bySink = map[string][][2]string{}
	)
	for _, e := range p.Events {
		if _, err := insEvent.ExecContext(ctx, e.ID, e.Type, e.OrderID, e.MessageID, e.PhoneNumberID, micros(e.OccurredAt), e.Payload); err != nil {
			return fmt.Errorf("append event %s: %w", e.ID, interpretError(err))
		}
		for _, sink := range deliverySinks(hooks, p.Sinks, e.Type) {
			if _, seen := bySink[sink]; !seen {
				sinks = append(sinks, sink)
			}
			bySink[sink] = append(bySink[sink], [2]string{e.ID, e.OrderID})
		}
	}
	us := micros(now)
	for _, sink := range sinks {
		var err error
		if list := bySink[sink]; len(list) == 1 {
			_, err = t.sqlTx.StmtContext(ctx, t.s.stmts.delivery1).ExecContext(ctx, list[0][0], sink, list[0][1], us, us, us)
		} else {
			var js []byte
			if js, err = json.Marshal(list); err == nil {
				_, err = t.sqlTx.StmtContext(ctx, t.s.stmts.delivery).ExecContext(ctx, sink, us, us, us, string(js))
			}
		}
		if err != nil {
			return fmt.Errorf("append events: deliveries to %s: %w", sink, interpretError(err))
		}
	}
	return nil
}

// webhookRoutes lists the enabled webhooks' ids and event types with the
// prepared sqlWebhookRoutes.
func webhookRoutes(ctx context.Context, st *sql.Stmt) ([]*store.Webhook, error) {
	rows, err := st.QueryContext(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	defer rows.Close()
	var out []*store.Webhook
	for rows.Next() {
		var (
			w     store.Webhook
			types string
		)
		if err := rows.Scan(&w.ID, &types); err != nil {
			return nil, interpretError(err)
		}
		if w.EventTypes, err = decodeStringList(types); err != nil {
			return nil, err
		}
		out = append(out, &w)
	}
	return out, interpretError(rows.Err())
}

// deliverySinks lists the sinks an event of type typ goes to.
func deliverySinks(hooks []*store.Webhook, static []string, typ string) []string {
	var out []string
	for _, w := range hooks {
		if w.Matches(typ) {
			out = append(out, w.ID)
		}
	}
	return append(out, static...)
}

type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// GetEvent implements store.Events.
func (s *Store) GetEvent(ctx context.Context, id string) (*store.Event, error) {
	e, err := scanEvent(s.r.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "event %q not found", id)
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
	var (
		where []string
		args  []any
	)
	if p.Type != "" {
		where, args = append(where, "type = ?"), append(args, p.Type)
	}
	if p.OrderID != "" {
		where, args = append(where, "order_id = ?"), append(args, p.OrderID)
	}
	if !p.Since.IsZero() {
		where, args = append(where, "occurred_at >= ?"), append(args, micros(p.Since))
	}
	if !p.Until.IsZero() {
		where, args = append(where, "occurred_at < ?"), append(args, micros(p.Until))
	}
	if cur.ID != "" {
		where, args = append(where, "id < ?"), append(args, cur.ID)
	}
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit+1)
	evs, err := queryAll(ctx, s.r, q, args, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	page := &store.EventPage{}
	page.Events, page.NextCursor = store.TrimPage(evs, limit, func(i int) store.Cursor { return store.Cursor{Time: evs[i].OccurredAt, ID: evs[i].ID} })
	return page, nil
}

// PruneEvents implements store.Events.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	var n int
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM events e WHERE occurred_at < ?
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state <> 'delivered')
  ORDER BY occurred_at LIMIT ?`, micros(before), limit)
		if err != nil {
			return interpretError(err)
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return interpretError(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return interpretError(err)
		}
		if len(ids) == 0 {
			return nil
		}
		in := placeholders(len(ids))
		for _, q := range []string{
			`DELETE FROM delivery_attempts WHERE event_id IN (` + in + `)`,
			`DELETE FROM deliveries WHERE event_id IN (` + in + `)`,
			`DELETE FROM events WHERE id IN (` + in + `)`,
		} {
			if _, err := tx.ExecContext(ctx, q, ids...); err != nil {
				return interpretError(err)
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return n, nil
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// stringList stores a list of strings as a JSON array.
func stringList(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func decodeStringList(s string) ([]string, error) {
	var v []string
	if s == "" {
		return []string{}, nil
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, waorders.Wrap(waorders.CodeInternal, err, "stored list is not valid")
	}
	if v == nil {
		v = []string{}
	}
	return v, nil
}

// AppendEvents implements store.Store. See tx.AppendEvents.
func (s *Store) AppendEvents(ctx context.Context, p store.AppendEventsParams) error {
	return s.InTx(ctx, func(tx store.Tx) error { return tx.AppendEvents(ctx, p) })
}

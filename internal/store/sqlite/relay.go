package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/waorders/waorders/internal/store"
)

// dueWhere selects the claimable deliveries of one sink at a time: due (or
// leased past their lease's end), and each the head of its order: no
// earlier open delivery to the sink of an event of the same order, found
// through the order's events (events_order), then each event's delivery to
// the sink (the unique (event_id, sink) index). CROSS JOIN keeps SQLite to
// that order; the other way round it would walk the sink's deliveries
// (open is spelled as not delivered and not dead, as on PostgreSQL, where
// it keeps the planner off the partial due index for p).
const dueWhere = `d.sink = ? AND d.state IN ('pending', 'leased', 'retry') AND d.next_attempt_at <= ?
  AND (d.order_key = '' OR NOT EXISTS (SELECT 1 FROM events pe CROSS JOIN deliveries p ON p.event_id = pe.id AND p.sink = d.sink
        WHERE pe.order_id = d.order_key AND pe.order_id <> '' AND p.id < d.id
          AND p.state <> 'delivered' AND p.state <> 'dead'))`

// HasDueDeliveries implements store.Relay on the read pool.
func (s *Store) HasDueDeliveries(ctx context.Context, sink string, now time.Time) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM deliveries d WHERE `+dueWhere+` LIMIT 1`, sink, micros(now)).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("due deliveries: %w", interpretError(err))
	}
	return true, nil
}

// ClaimDeliveries implements store.Relay: one UPDATE … RETURNING on the
// single writer connection, which serialises claims as SKIP LOCKED does on
// PostgreSQL.
func (s *Store) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]*store.Delivery, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var out []*store.Delivery
	err := s.writeTx(ctx, func(tx *sql.Tx) (err error) {
		out, err = claimTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if err := attachEvents(ctx, s.r, out); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// claimTx leases up to p.Limit due deliveries of p.Sink in tx (without
// their events).
func claimTx(ctx context.Context, tx *sql.Tx, p store.ClaimParams) ([]*store.Delivery, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	ctx = context.WithoutCancel(ctx) // see writeStmts.bind: no watcher goroutine per statement
	now := micros(p.Now)
	var out []*store.Delivery
	err := func() error {
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET state = 'leased', lease_owner = ?, next_attempt_at = ?,
    attempts = attempts + 1, updated_at = ?
WHERE id IN (SELECT d.id FROM deliveries d WHERE `+dueWhere+` ORDER BY d.next_attempt_at, d.id LIMIT ?)
RETURNING `+deliveryColumns,
			p.Owner, micros(p.Now.Add(p.Lease)), now, p.Sink, now, p.Limit)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return interpretError(err)
			}
			out = append(out, d)
		}
		return interpretError(rows.Err())
	}()
	return out, err
}

// attachEvents reads the events of claimed deliveries through q: the read
// pool once the claim committed, the transaction itself inside one.
func attachEvents(ctx context.Context, q rowsQuerier, ds []*store.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]any, len(ds))
	for i, d := range ds {
		ids[i] = d.EventID
	}
	rows, err := q.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return interpretError(err)
	}
	defer rows.Close()
	byID := make(map[string]*store.Event, len(ds))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return interpretError(err)
		}
		byID[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return interpretError(err)
	}
	for _, d := range ds {
		if d.Event = byID[d.EventID]; d.Event == nil {
			return fmt.Errorf("delivery %d: event %s is missing", d.ID, d.EventID)
		}
	}
	return nil
}

const deliveryColumns = `id, event_id, sink, order_key, state, attempts, next_attempt_at, lease_owner, last_status,
    last_error, created_at, delivered_at`

func scanDelivery(sc interface{ Scan(...any) error }) (*store.Delivery, error) {
	var (
		d             store.Delivery
		next, created int64
		delivered     sql.NullInt64
	)
	if err := sc.Scan(&d.ID, &d.EventID, &d.Sink, &d.OrderKey, &d.State, &d.Attempts, &next, &d.LeaseOwner,
		&d.LastStatus, &d.LastError, &created, &delivered); err != nil {
		return nil, err
	}
	d.NextAttemptAt, d.CreatedAt, d.DeliveredAt = fromMicros(next), fromMicros(created), nullMicros(delivered)
	return &d, nil
}

// FinishDeliveries implements store.Relay: every finish of the batch in one
// transaction on the writer.
func (s *Store) FinishDeliveries(ctx context.Context, p store.FinishParams) (*store.FinishResult, error) {
	var res *store.FinishResult
	err := s.writeTx(ctx, func(tx *sql.Tx) (err error) {
		res, err = s.finishTx(ctx, tx, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("finish deliveries: %w", err)
	}
	return res, nil
}

var _ store.RelayTx = (*tx)(nil)

// RelayWork implements store.RelayTx: the finishes, then the claims, in
// the intake's transaction behind a savepoint.
func (t *tx) RelayWork(ctx context.Context, p store.RelayWorkParams) (*store.RelayWorkResult, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	if _, err := t.sqlTx.ExecContext(ctx, `SAVEPOINT relay_work`); err != nil {
		return nil, fmt.Errorf("relay work: %w", interpretError(err))
	}
	res, err := t.relayWork(ctx, p)
	if err != nil {
		// Undo the relay's part only; the callbacks' writes stand.
		if _, rerr := t.sqlTx.ExecContext(ctx, `ROLLBACK TO relay_work`); rerr != nil {
			return nil, fmt.Errorf("relay work: %w (and rolling back: %v)", err, rerr)
		}
	}
	if _, rerr := t.sqlTx.ExecContext(ctx, `RELEASE relay_work`); rerr != nil && err == nil {
		err = interpretError(rerr)
	}
	if err != nil {
		return nil, fmt.Errorf("relay work: %w", err)
	}
	return res, nil
}

func (t *tx) relayWork(ctx context.Context, p store.RelayWorkParams) (*store.RelayWorkResult, error) {
	res := &store.RelayWorkResult{Claimed: make([][]*store.Delivery, len(p.Claims))}
	if len(p.Finish.Finishes) > 0 {
		f, err := t.s.finishTx(ctx, t.sqlTx, p.Finish)
		if err != nil {
			return nil, err
		}
		res.Finish = f
	}
	var all []*store.Delivery
	for i, c := range p.Claims {
		ds, err := claimTx(ctx, t.sqlTx, c)
		if err != nil {
			return nil, err
		}
		res.Claimed[i] = ds
		all = append(all, ds...)
	}
	if err := attachEvents(context.WithoutCancel(ctx), t.sqlTx, all); err != nil {
		return nil, err
	}
	return res, nil
}

// finishTx records p's finishes in tx.
func (s *Store) finishTx(ctx context.Context, tx *sql.Tx, p store.FinishParams) (*store.FinishResult, error) {
	ctx = context.WithoutCancel(ctx) // see writeStmts.bind: no watcher goroutine per statement
	now := p.Now
	if now.IsZero() {
		now = s.now()
	}
	res := &store.FinishResult{Landed: make([]bool, len(p.Finishes))}
	err := func() error {
		health := map[string]string{}
		var order []string
		for i, f := range p.Finishes {
			var delivered any
			if f.State == store.DeliveryDelivered {
				delivered = micros(f.Record.At.Add(f.Record.Latency))
			}
			refund := 0
			if f.Refund {
				refund = 1
			}
			var eventID, sink string
			err := tx.QueryRowContext(ctx, `UPDATE deliveries SET state = ?, next_attempt_at = ?, lease_owner = '',
    attempts = attempts - ?, last_status = ?, last_error = ?, delivered_at = ?, updated_at = ?
WHERE id = ? AND state = 'leased' AND lease_owner = ? AND attempts = ? RETURNING event_id, sink`,
				f.State, micros(f.NextAttemptAt), refund, f.Record.Status, f.Record.Error, delivered, micros(now),
				f.ID, f.Owner, f.Attempt).Scan(&eventID, &sink)
			if err == sql.ErrNoRows {
				continue // the lease was lost: someone else owns the row now
			}
			if err != nil {
				return interpretError(err)
			}
			res.Landed[i] = true
			a := f.Record
			a.DeliveryID, a.EventID, a.Sink, a.Attempt = f.ID, eventID, sink, f.Attempt
			if err := insertAttempt(ctx, tx, &a); err != nil {
				return err
			}
			if f.Health != "" {
				if _, seen := health[sink]; !seen {
					order = append(order, sink)
				}
				// The batch's last word on a sink wins, except that gone stays.
				if health[sink] != store.HealthGone {
					health[sink] = f.Health
				}
			}
		}
		for _, sink := range order {
			disabled, err := s.updateHealth(ctx, tx, sink, health[sink], now, p.DisableAfter)
			if err != nil {
				return err
			}
			if disabled {
				res.Disabled = append(res.Disabled, sink)
			}
		}
		return nil
	}()
	if err != nil {
		return nil, err
	}
	return res, nil
}

// updateHealth records a webhook's success or failure and disables it
// after DisableAfter of failures only, or at once when it is gone.
func (s *Store) updateHealth(ctx context.Context, tx *sql.Tx, sink, health string, now time.Time, after time.Duration) (bool, error) {
	var (
		r   sql.Result
		err error
	)
	switch health {
	case store.HealthOK:
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`, sink)
		return false, interpretError(err)
	case store.HealthGone:
		r, err = tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND enabled = 1`,
			store.DisabledGone, micros(now), sink)
	case store.HealthFail:
		if _, err = tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = ? WHERE id = ? AND failing_since IS NULL`, micros(now), sink); err != nil {
			return false, interpretError(err)
		}
		if after <= 0 {
			return false, nil
		}
		r, err = tx.ExecContext(ctx, `UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ?
WHERE id = ? AND enabled = 1 AND failing_since <= ?`, store.DisabledFailing, micros(now), sink, micros(now.Add(-after)))
	default:
		return false, nil
	}
	if err != nil {
		return false, interpretError(err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

func insertAttempt(ctx context.Context, tx *sql.Tx, a *store.Attempt) error {
	var delivery any
	if a.DeliveryID != 0 {
		delivery = a.DeliveryID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, event_id, sink, attempt, at, status,
    latency_us, error, response, result, manual) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		delivery, a.EventID, a.Sink, a.Attempt, micros(a.At), a.Status, a.Latency.Microseconds(), a.Error,
		nilIfEmpty(a.Response), a.Result, a.Manual)
	return interpretError(err)
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// RecordAttempt implements store.Relay.
func (s *Store) RecordAttempt(ctx context.Context, a *store.Attempt) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error { return insertAttempt(ctx, tx, a) })
}

// Redeliver implements store.Relay.
func (s *Store) Redeliver(ctx context.Context, p store.RedeliverParams) (int, error) {
	now := p.Now
	if now.IsZero() {
		now = s.now()
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 10000
	}
	us := micros(now)
	var n int
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		reset := func(where string, args ...any) error {
			r, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?,
    lease_owner = '', updated_at = ?, delivered_at = NULL
WHERE id IN (SELECT id FROM deliveries WHERE state <> 'leased' AND `+where+` ORDER BY id LIMIT ?)`,
				append(append([]any{us, us}, args...), limit-n)...)
			if err != nil {
				return interpretError(err)
			}
			k, _ := r.RowsAffected()
			n += int(k)
			return nil
		}
		create := func(eventWhere, sink string, args ...any) error {
			r, err := tx.ExecContext(ctx, `INSERT INTO deliveries (event_id, sink, order_key, state, next_attempt_at, created_at, updated_at)
SELECT e.id, ?, e.order_id, 'pending', ?, ?, ? FROM events e WHERE `+eventWhere+`
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.sink = ?)
ORDER BY e.id LIMIT ?`, append(append([]any{sink, us, us, us}, args...), sink, limit-n)...)
			if err != nil {
				return interpretError(err)
			}
			k, _ := r.RowsAffected()
			n += int(k)
			return nil
		}
		if p.EventID != "" {
			if len(p.Sinks) == 0 {
				return reset("event_id = ?", p.EventID)
			}
			for _, sink := range p.Sinks {
				if err := reset("event_id = ? AND sink = ?", p.EventID, sink); err != nil {
					return err
				}
				if err := create("e.id = ?", sink, p.EventID); err != nil {
					return err
				}
			}
			return nil
		}
		for _, sink := range p.Sinks {
			where, args := "sink = ?", []any{sink}
			if !p.Since.IsZero() {
				where, args = where+" AND created_at >= ?", append(args, micros(p.Since))
			}
			if !p.Until.IsZero() {
				where, args = where+" AND created_at < ?", append(args, micros(p.Until))
			}
			if p.State != "" {
				where, args = where+" AND state = ?", append(args, p.State)
				if err := reset(where, args...); err != nil {
					return err
				}
				continue
			}
			if err := reset(where, args...); err != nil {
				return err
			}
			// Events of the range that never had a delivery to this sink
			// (it was disabled, or did not exist yet), of the types it takes.
			w, err := scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, sink))
			if err != nil && err != sql.ErrNoRows {
				return interpretError(err)
			}
			ew, eargs := "1 = 1", []any{}
			if !p.Since.IsZero() {
				ew, eargs = ew+" AND e.occurred_at >= ?", append(eargs, micros(p.Since))
			}
			if !p.Until.IsZero() {
				ew, eargs = ew+" AND e.occurred_at < ?", append(eargs, micros(p.Until))
			}
			if w != nil && len(w.EventTypes) > 0 {
				types := make([]any, len(w.EventTypes))
				for i, t := range w.EventTypes {
					types[i] = t
				}
				ew, eargs = ew+" AND e.type IN ("+placeholders(len(types))+")", append(eargs, types...)
			}
			if err := create(ew, sink, eargs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redeliver: %w", err)
	}
	return n, nil
}

// ListDeliveries implements store.Relay.
func (s *Store) ListDeliveries(ctx context.Context, p store.ListDeliveriesParams) ([]*store.Delivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE 1 = 1`
	var args []any
	if p.EventID != "" {
		q, args = q+" AND event_id = ?", append(args, p.EventID)
	}
	if p.Sink != "" {
		q, args = q+" AND sink = ?", append(args, p.Sink)
	}
	if p.State != "" {
		q, args = q+" AND state = ?", append(args, p.State)
	}
	q, args = q+" ORDER BY id DESC LIMIT ?", append(args, store.NormalizeLimit(p.Limit))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", interpretError(err))
	}
	defer rows.Close()
	out := []*store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", interpretError(err))
		}
		out = append(out, d)
	}
	return out, interpretError(rows.Err())
}

// sqlDeliveryStats counts each sink's open deliveries on the partial due
// index and its dead ones on the dead index: neither reads delivered rows.
const sqlDeliveryStats = `SELECT sink, sum(open), sum(dead), min(oldest) FROM (
    SELECT sink, count(*) AS open, 0 AS dead, min(created_at) AS oldest FROM deliveries
    WHERE state IN ('pending', 'leased', 'retry') GROUP BY sink
  UNION ALL
    SELECT sink, 0, count(*), NULL FROM deliveries WHERE state = 'dead' GROUP BY sink
) GROUP BY sink ORDER BY sink`

// DeliveryStats implements store.Relay.
func (s *Store) DeliveryStats(ctx context.Context) ([]store.SinkStats, error) {
	rows, err := s.r.QueryContext(ctx, sqlDeliveryStats)
	if err != nil {
		return nil, fmt.Errorf("delivery stats: %w", interpretError(err))
	}
	defer rows.Close()
	var out []store.SinkStats
	for rows.Next() {
		var (
			st     store.SinkStats
			oldest sql.NullInt64
		)
		if err := rows.Scan(&st.Sink, &st.Open, &st.Dead, &oldest); err != nil {
			return nil, fmt.Errorf("delivery stats: %w", interpretError(err))
		}
		st.OldestOpenAt = nullMicros(oldest)
		out = append(out, st)
	}
	return out, interpretError(rows.Err())
}

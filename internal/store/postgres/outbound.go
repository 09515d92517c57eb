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

const outboundColumns = `id, kind, order_id, order_status, COALESCE(intent_key, ''), phone_number_id, to_wa_id, customer_key,
  reply_to, note, text, template, actor, state, reason, claimed_from, attempts, failures, resends, next_attempt_at,
  lease_owner, ambiguous_since, sent_kind, request, wamid, last_code, last_error, response, delivery_state,
  delivery_error, created_at, updated_at, accepted_at, seq`

// scanOutboundRow scans a listed row: the message and its seq.
func scanOutboundRow(r pgx.Row) (store.OutboundRow, error) {
	m, seq, err := scanOutbound(r)
	return store.OutboundRow{Message: m, Seq: seq}, err
}

func scanOutbound(r pgx.Row) (*store.OutboundMessage, int64, error) {
	var m store.OutboundMessage
	var status string
	var amb, accepted *time.Time
	var seq int64
	err := r.Scan(&m.ID, &m.Kind, &m.OrderID, &status, &m.IntentKey, &m.PhoneNumberID, &m.To, &m.CustomerKey,
		&m.ReplyTo, &m.Note, &m.Text, &m.Template, &m.Actor, &m.State, &m.Reason, &m.ClaimedFrom, &m.Attempts,
		&m.Failures, &m.Resends, &m.NextAttemptAt, &m.LeaseOwner, &amb, &m.SentKind, &m.Request, &m.WAMID, &m.LastCode,
		&m.LastError, &m.Response, &m.DeliveryState, &m.DeliveryError, &m.CreatedAt, &m.UpdatedAt, &accepted, &seq)
	if err != nil {
		return nil, 0, err
	}
	m.OrderStatus = waorders.OrderStatus(status)
	m.NextAttemptAt, m.CreatedAt, m.UpdatedAt = m.NextAttemptAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	if amb != nil {
		m.AmbiguousSince = amb.UTC()
	}
	if accepted != nil {
		m.AcceptedAt = accepted.UTC()
	}
	return &m, seq, nil
}

func nullKey(k string) *string {
	if k == "" {
		return nil
	}
	return &k
}

// CreateOutbound implements store.OutboundTx.
func (t *tx) CreateOutbound(ctx context.Context, m *store.OutboundMessage) (bool, error) {
	if err := t.guard.Check(); err != nil {
		return false, err
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	var id string
	err := t.q().QueryRow(ctx, `INSERT INTO outbound (id, kind, order_id, order_status, intent_key, phone_number_id,
  to_wa_id, customer_key, reply_to, note, text, template, actor, state, reason, claimed_from, attempts, failures, resends,
  next_attempt_at, lease_owner, sent_kind, wamid, last_code, last_error, delivery_state, delivery_error,
  created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, '', 0, 0, 0, $16, '', '', '', '', '', '', '', $17, $17)
ON CONFLICT (intent_key) DO NOTHING RETURNING id`,
		m.ID, m.Kind, m.OrderID, string(m.OrderStatus), nullKey(m.IntentKey), m.PhoneNumberID, m.To, m.CustomerKey,
		clean(m.ReplyTo), clean(m.Note), clean(m.Text), m.Template, m.Actor, m.State, m.Reason, utc(m.NextAttemptAt), utc(m.CreatedAt)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create outbound: %w", interpretError(err))
	}
	return true, nil
}

// CreateOutbound implements store.Store.
func (s *Store) CreateOutbound(ctx context.Context, m *store.OutboundMessage) (bool, error) {
	var ok bool
	err := s.autocommit(func(tx store.Tx) (err error) {
		ok, err = tx.CreateOutbound(ctx, m)
		return err
	})
	return ok, err
}

// GetOutbound implements store.Outbound.
func (s *Store) GetOutbound(ctx context.Context, id string) (*store.OutboundMessage, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	m, _, err := scanOutbound(s.pool.QueryRow(ctx, `SELECT `+outboundColumns+` FROM outbound WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "outbound message %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get outbound: %w", interpretError(err))
	}
	return m, nil
}

// ListOutbound implements store.Outbound. Pages are by seq, newest first.
func (s *Store) ListOutbound(ctx context.Context, p store.ListOutboundParams) (*store.OutboundPage, error) {
	w, limit, err := p.Query(dialect)
	if err != nil {
		return nil, err
	}
	rows, err := queryAll(ctx, s, `SELECT `+outboundColumns+` FROM outbound`+w.Page(limit+1), w.Args(), scanOutboundRow)
	if err != nil {
		return nil, fmt.Errorf("list outbound: %w", err)
	}
	return store.NewOutboundPage(rows, limit), nil
}

// ClaimOutbound implements store.Outbound: FOR UPDATE SKIP LOCKED, so
// instances sharing the database never claim one row twice.
func (s *Store) ClaimOutbound(ctx context.Context, p store.ClaimOutboundParams) ([]*store.OutboundMessage, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := utc(p.Now)
	rows, err := s.pool.Query(ctx, `WITH due AS (
  SELECT o.seq AS due_seq FROM outbound o
  WHERE o.state IN ('queued', 'retry', 'ambiguous', 'sending') AND o.next_attempt_at <= $1
    AND (o.state = 'sending' OR NOT EXISTS (SELECT 1 FROM outbound_senders p
          WHERE p.phone_number_id = o.phone_number_id AND (p.paused_until IS NULL OR p.paused_until > $1)))
  ORDER BY o.next_attempt_at, o.seq LIMIT $2
  FOR UPDATE SKIP LOCKED)
UPDATE outbound o SET claimed_from = o.state, state = 'sending', lease_owner = $3, next_attempt_at = $4,
  attempts = o.attempts + 1, updated_at = $1
FROM due WHERE o.seq = due.due_seq
RETURNING `+outboundColumns, now, p.Limit, p.Owner, now.Add(p.Lease))
	if err != nil {
		return nil, fmt.Errorf("claim outbound: %w", interpretError(err))
	}
	defer rows.Close()
	var out []*store.OutboundMessage
	for rows.Next() {
		m, _, err := scanOutbound(rows)
		if err != nil {
			return nil, fmt.Errorf("claim outbound: %w", interpretError(err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim outbound: %w", interpretError(err))
	}
	return out, nil
}

// FinishOutbound implements store.OutboundTx.
func (t *tx) FinishOutbound(ctx context.Context, p store.FinishOutboundParams) (*store.OutboundMessage, bool, error) {
	if err := t.guard.Check(); err != nil {
		return nil, false, err
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	refund, failed, resent := 0, 0, 0
	if p.Refund {
		refund = 1
	}
	if p.Failed {
		failed = 1
	}
	if p.Resent {
		resent = 1
	}
	now := utc(p.Now)
	var amb, accepted *time.Time
	if p.Ambiguous {
		amb = &now
	}
	if p.State == store.OutboundAccepted {
		accepted = &now
	}
	m, _, err := scanOutbound(t.q().QueryRow(ctx, `UPDATE outbound SET state = $1, reason = $2, next_attempt_at = $3,
    lease_owner = '', attempts = attempts - $4, failures = failures + $5, resends = resends + $6,
    ambiguous_since = COALESCE($7, ambiguous_since),
    sent_kind = CASE WHEN $8::text <> '' THEN $8::text ELSE sent_kind END,
    request = COALESCE($9, request),
    wamid = CASE WHEN $10::text <> '' THEN $10::text ELSE wamid END,
    last_code = $11, last_error = $12, response = COALESCE($13, response),
    accepted_at = COALESCE($14, accepted_at), updated_at = $15
WHERE id = $16 AND state = 'sending' AND lease_owner = $17 AND attempts = $18
RETURNING `+outboundColumns,
		p.State, p.Reason, utc(p.NextAttemptAt), refund, failed, resent, amb, p.SentKind,
		p.Request, p.WAMID, clean(p.LastCode), clean(p.LastError), p.Response, accepted, now, p.ID, p.Owner, p.Attempt))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("finish outbound: %w", interpretError(err))
	}
	return m, true, nil
}

// FinishOutbound implements store.Store. See tx.FinishOutbound.
func (s *Store) FinishOutbound(ctx context.Context, p store.FinishOutboundParams) (*store.OutboundMessage, bool, error) {
	var m *store.OutboundMessage
	var ok bool
	err := s.autocommit(func(tx store.Tx) (err error) {
		m, ok, err = tx.FinishOutbound(ctx, p)
		return err
	})
	return m, ok, err
}

// ApplyOutboundStatuses implements store.OutboundTx: each row is read FOR
// UPDATE, changed by store.ApplyOutboundStatus and written back.
func (t *tx) ApplyOutboundStatuses(ctx context.Context, ss []store.OutboundStatus) ([]store.OutboundChange, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	ctx, cancel := t.s.bound(ctx)
	defer cancel()
	var out []store.OutboundChange
	for _, st := range ss {
		q, arg := `SELECT `+outboundColumns+` FROM outbound WHERE wamid = $1 LIMIT 1 FOR UPDATE`, st.MessageID
		if id := store.OutboundIDFromRefs(st.Refs); id != "" {
			q, arg = `SELECT `+outboundColumns+` FROM outbound WHERE id = $1 FOR UPDATE`, id
		} else if st.MessageID == "" {
			continue
		}
		m, _, err := scanOutbound(t.q().QueryRow(ctx, q, arg))
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("apply outbound status: %w", interpretError(err))
		}
		ch, ok := store.ApplyOutboundStatus(m, st)
		if !ok {
			continue
		}
		var one int
		err = t.q().QueryRow(ctx, `UPDATE outbound SET state = $1, lease_owner = $2, wamid = $3, delivery_state = $4,
    delivery_error = $5, accepted_at = $6, updated_at = $7 WHERE id = $8 RETURNING 1`,
			m.State, m.LeaseOwner, m.WAMID, m.DeliveryState, clean(m.DeliveryError), nullTime(m.AcceptedAt), utc(m.UpdatedAt), m.ID).Scan(&one)
		if err != nil {
			return nil, fmt.Errorf("apply outbound status: %w", interpretError(err))
		}
		out = append(out, ch)
	}
	return out, nil
}

// ApplyOutboundStatuses implements store.Store. See tx.ApplyOutboundStatuses.
func (s *Store) ApplyOutboundStatuses(ctx context.Context, ss []store.OutboundStatus) ([]store.OutboundChange, error) {
	var out []store.OutboundChange
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		out, err = tx.ApplyOutboundStatuses(ctx, ss)
		return err
	})
	return out, err
}

// LastInboundAt implements store.Outbound.
func (s *Store) LastInboundAt(ctx context.Context, keys []string, phoneNumberID string) (time.Time, error) {
	if len(keys) == 0 {
		return time.Time{}, nil
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var at *time.Time
	err := s.pool.QueryRow(ctx, `SELECT MAX(sent_at) FROM messages WHERE customer_key = ANY($1)
  AND phone_number_id = $2 AND direction = 'inbound'`, keys, phoneNumberID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("last inbound: %w", interpretError(err))
	}
	if at == nil {
		return time.Time{}, nil
	}
	return at.UTC(), nil
}

// PauseSender implements store.Outbound.
func (s *Store) PauseSender(ctx context.Context, p store.SenderPause) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO outbound_senders (phone_number_id, reason, paused_at, paused_until)
VALUES ($1, $2, $3, $4) ON CONFLICT (phone_number_id) DO UPDATE SET reason = excluded.reason, paused_at = excluded.paused_at,
  paused_until = excluded.paused_until`, p.PhoneNumberID, p.Reason, utc(p.PausedAt), nullTime(p.Until))
	if err != nil {
		return fmt.Errorf("pause sender: %w", interpretError(err))
	}
	return nil
}

// ResumeSender implements store.Outbound.
func (s *Store) ResumeSender(ctx context.Context, phoneNumberID string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM outbound_senders WHERE phone_number_id = $1`, phoneNumberID); err != nil {
		return fmt.Errorf("resume sender: %w", interpretError(err))
	}
	return nil
}

// PausedSenders implements store.Outbound.
func (s *Store) PausedSenders(ctx context.Context, now time.Time) ([]store.SenderPause, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT phone_number_id, reason, paused_at, paused_until FROM outbound_senders
WHERE paused_until IS NULL OR paused_until > $1 ORDER BY phone_number_id`, utc(now))
	if err != nil {
		return nil, fmt.Errorf("paused senders: %w", interpretError(err))
	}
	defer rows.Close()
	var out []store.SenderPause
	for rows.Next() {
		var p store.SenderPause
		var until *time.Time
		if err := rows.Scan(&p.PhoneNumberID, &p.Reason, &p.PausedAt, &until); err != nil {
			return nil, fmt.Errorf("paused senders: %w", interpretError(err))
		}
		p.PausedAt = p.PausedAt.UTC()
		if until != nil {
			p.Until = until.UTC()
		}
		out = append(out, p)
	}
	return out, interpretError(rows.Err())
}

// GetNotifySettings implements store.Outbound.
func (s *Store) GetNotifySettings(ctx context.Context) ([]byte, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var body string
	err := s.pool.QueryRow(ctx, `SELECT body FROM notify_settings WHERE id = 1`).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notify settings: %w", interpretError(err))
	}
	return []byte(body), nil
}

// PutNotifySettings implements store.Outbound.
func (s *Store) PutNotifySettings(ctx context.Context, body []byte, now time.Time) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO notify_settings (id, body, updated_at) VALUES (1, $1, $2)
ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, string(body), utc(now))
	if err != nil {
		return fmt.Errorf("put notify settings: %w", interpretError(err))
	}
	return nil
}

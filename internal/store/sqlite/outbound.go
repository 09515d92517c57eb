package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

const outboundColumns = `id, kind, order_id, order_status, COALESCE(intent_key, ''), phone_number_id, to_wa_id, customer_key,
  reply_to, note, text, template, actor, state, reason, claimed_from, attempts, failures, resends, next_attempt_at,
  lease_owner, ambiguous_since, sent_kind, request, wamid, last_code, last_error, response, delivery_state,
  delivery_error, created_at, updated_at, accepted_at, seq`

type rowScanner = scanner

func scanOutbound(r rowScanner) (*store.OutboundMessage, int64, error) {
	var m store.OutboundMessage
	var status string
	var next, amb, created, updated, accepted, seq int64
	err := r.Scan(&m.ID, &m.Kind, &m.OrderID, &status, &m.IntentKey, &m.PhoneNumberID, &m.To, &m.CustomerKey,
		&m.ReplyTo, &m.Note, &m.Text, &m.Template, &m.Actor, &m.State, &m.Reason, &m.ClaimedFrom, &m.Attempts,
		&m.Failures, &m.Resends, &next, &m.LeaseOwner, &amb, &m.SentKind, &m.Request, &m.WAMID, &m.LastCode,
		&m.LastError, &m.Response, &m.DeliveryState, &m.DeliveryError, &created, &updated, &accepted, &seq)
	if err != nil {
		return nil, 0, err
	}
	m.OrderStatus = waorders.OrderStatus(status)
	m.NextAttemptAt, m.AmbiguousSince = fromMicros(next), fromMicros(amb)
	m.CreatedAt, m.UpdatedAt, m.AcceptedAt = fromMicros(created), fromMicros(updated), fromMicros(accepted)
	return &m, seq, nil
}

// scanOutboundRow scans a listed row: the message and its seq.
func scanOutboundRow(r rowScanner) (store.OutboundRow, error) {
	m, seq, err := scanOutbound(r)
	return store.OutboundRow{Message: m, Seq: seq}, err
}

func nullKey(k string) any {
	if k == "" {
		return nil
	}
	return k
}

// CreateOutbound implements store.OutboundTx.
func (t *tx) CreateOutbound(ctx context.Context, m *store.OutboundMessage) (bool, error) {
	if err := t.guard.Check(); err != nil {
		return false, err
	}
	res, err := t.sqlTx.ExecContext(ctx, `INSERT INTO outbound (id, kind, order_id, order_status, intent_key, phone_number_id,
  to_wa_id, customer_key, reply_to, note, text, template, actor, state, reason, claimed_from, attempts, failures, resends,
  next_attempt_at, lease_owner, ambiguous_since, sent_kind, wamid, last_code, last_error, delivery_state, delivery_error,
  created_at, updated_at, accepted_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 0, 0, ?, '', 0, '', '', '', '', '', '', ?, ?, 0)
ON CONFLICT (intent_key) DO NOTHING`,
		m.ID, m.Kind, m.OrderID, string(m.OrderStatus), nullKey(m.IntentKey), m.PhoneNumberID, m.To, m.CustomerKey,
		m.ReplyTo, m.Note, m.Text, m.Template, m.Actor, m.State, m.Reason, micros(m.NextAttemptAt),
		micros(m.CreatedAt), micros(m.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("create outbound: %w", interpretError(err))
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CreateOutbound implements store.Store.
func (s *Store) CreateOutbound(ctx context.Context, m *store.OutboundMessage) (bool, error) {
	var ok bool
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		ok, err = tx.CreateOutbound(ctx, m)
		return err
	})
	return ok, err
}

// GetOutbound implements store.Outbound.
func (s *Store) GetOutbound(ctx context.Context, id string) (*store.OutboundMessage, error) {
	m, _, err := scanOutbound(s.r.QueryRowContext(ctx, `SELECT `+outboundColumns+` FROM outbound WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, waorders.Errorf(waorders.CodeNotFound, "outbound message %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get outbound: %w", interpretError(err))
	}
	return m, nil
}

// ListOutbound implements store.Outbound. Pages are by seq, newest first;
// the cursor carries the seq.
func (s *Store) ListOutbound(ctx context.Context, p store.ListOutboundParams) (*store.OutboundPage, error) {
	w, limit, err := p.Query(dialect)
	if err != nil {
		return nil, err
	}
	rows, err := queryAll(ctx, s.r, `SELECT `+outboundColumns+` FROM outbound`+w.Page(limit+1), w.Args(), scanOutboundRow)
	if err != nil {
		return nil, fmt.Errorf("list outbound: %w", err)
	}
	return store.NewOutboundPage(rows, limit), nil
}

// ClaimOutbound implements store.Outbound: one UPDATE … RETURNING on the
// single writer connection.
func (s *Store) ClaimOutbound(ctx context.Context, p store.ClaimOutboundParams) ([]*store.OutboundMessage, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	now := micros(p.Now)
	var out []*store.OutboundMessage
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE outbound SET claimed_from = state, state = 'sending', lease_owner = ?,
    next_attempt_at = ?, attempts = attempts + 1, updated_at = ?
WHERE seq IN (SELECT o.seq FROM outbound o
  WHERE o.state IN ('queued', 'retry', 'ambiguous', 'sending') AND o.next_attempt_at <= ?
    AND (o.state = 'sending' OR NOT EXISTS (SELECT 1 FROM outbound_senders p
          WHERE p.phone_number_id = o.phone_number_id AND (p.paused_until = 0 OR p.paused_until > ?)))
  ORDER BY o.next_attempt_at, o.seq LIMIT ?)
RETURNING `+outboundColumns, p.Owner, micros(p.Now.Add(p.Lease)), now, now, now, p.Limit)
		if err != nil {
			return interpretError(err)
		}
		defer rows.Close()
		for rows.Next() {
			m, _, err := scanOutbound(rows)
			if err != nil {
				return interpretError(err)
			}
			out = append(out, m)
		}
		return interpretError(rows.Err())
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbound: %w", err)
	}
	return out, nil
}

// FinishOutbound implements store.OutboundTx.
func (t *tx) FinishOutbound(ctx context.Context, p store.FinishOutboundParams) (*store.OutboundMessage, bool, error) {
	if err := t.guard.Check(); err != nil {
		return nil, false, err
	}
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
	amb := int64(-1)
	if p.Ambiguous {
		amb = micros(p.Now)
	}
	accepted := int64(0)
	if p.State == store.OutboundAccepted {
		accepted = micros(p.Now)
	}
	m, _, err := scanOutbound(t.sqlTx.QueryRowContext(ctx, `UPDATE outbound SET state = ?, reason = ?, next_attempt_at = ?,
    lease_owner = '', attempts = attempts - ?, failures = failures + ?, resends = resends + ?,
    ambiguous_since = CASE WHEN ? >= 0 THEN ? ELSE ambiguous_since END,
    sent_kind = CASE WHEN ? <> '' THEN ? ELSE sent_kind END,
    request = COALESCE(?, request),
    wamid = CASE WHEN ? <> '' THEN ? ELSE wamid END,
    last_code = ?, last_error = ?, response = COALESCE(?, response),
    accepted_at = CASE WHEN ? > 0 THEN ? ELSE accepted_at END, updated_at = ?
WHERE id = ? AND state = 'sending' AND lease_owner = ? AND attempts = ?
RETURNING `+outboundColumns,
		p.State, p.Reason, micros(p.NextAttemptAt), refund, failed, resent, amb, amb, p.SentKind, p.SentKind,
		blobOrNil(p.Request), p.WAMID, p.WAMID, p.LastCode, p.LastError, blobOrNil(p.Response), accepted, accepted,
		micros(p.Now), p.ID, p.Owner, p.Attempt))
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("finish outbound: %w", interpretError(err))
	}
	return m, true, nil
}

func blobOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// ApplyOutboundStatuses implements store.OutboundTx.
func (t *tx) ApplyOutboundStatuses(ctx context.Context, ss []store.OutboundStatus) ([]store.OutboundChange, error) {
	if err := t.guard.Check(); err != nil {
		return nil, err
	}
	var out []store.OutboundChange
	for _, st := range ss {
		q, arg := `SELECT `+outboundColumns+` FROM outbound WHERE wamid = ? LIMIT 1`, st.MessageID
		if id := store.OutboundIDFromRefs(st.Refs); id != "" {
			q, arg = `SELECT `+outboundColumns+` FROM outbound WHERE id = ?`, id
		} else if st.MessageID == "" {
			continue
		}
		m, _, err := scanOutbound(t.sqlTx.QueryRowContext(ctx, q, arg))
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("apply outbound status: %w", interpretError(err))
		}
		ch, ok := store.ApplyOutboundStatus(m, st)
		if !ok {
			continue
		}
		_, err = t.sqlTx.ExecContext(ctx, `UPDATE outbound SET state = ?, lease_owner = ?, wamid = ?, delivery_state = ?,
    delivery_error = ?, accepted_at = ?, updated_at = ? WHERE id = ?`,
			m.State, m.LeaseOwner, m.WAMID, m.DeliveryState, m.DeliveryError, micros(m.AcceptedAt), micros(m.UpdatedAt), m.ID)
		if err != nil {
			return nil, fmt.Errorf("apply outbound status: %w", interpretError(err))
		}
		out = append(out, ch)
	}
	return out, nil
}

// LastInboundAt implements store.Outbound.
func (s *Store) LastInboundAt(ctx context.Context, keys []string, phoneNumberID string) (time.Time, error) {
	if len(keys) == 0 {
		return time.Time{}, nil
	}
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, k)
	}
	args = append(args, phoneNumberID)
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT MAX(sent_at) FROM messages WHERE customer_key IN (`+placeholders(len(keys))+`)
  AND phone_number_id = ? AND direction = 'inbound'`, args...).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("last inbound: %w", interpretError(err))
	}
	return nullMicros(at), nil
}

// PauseSender implements store.Outbound.
func (s *Store) PauseSender(ctx context.Context, p store.SenderPause) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO outbound_senders (phone_number_id, reason, paused_at, paused_until)
VALUES (?, ?, ?, ?) ON CONFLICT (phone_number_id) DO UPDATE SET reason = excluded.reason, paused_at = excluded.paused_at,
  paused_until = excluded.paused_until`, p.PhoneNumberID, p.Reason, micros(p.PausedAt), micros(p.Until))
		return interpretError(err)
	})
}

// ResumeSender implements store.Outbound.
func (s *Store) ResumeSender(ctx context.Context, phoneNumberID string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM outbound_senders WHERE phone_number_id = ?`, phoneNumberID)
		return interpretError(err)
	})
}

// PausedSenders implements store.Outbound.
func (s *Store) PausedSenders(ctx context.Context, now time.Time) ([]store.SenderPause, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT phone_number_id, reason, paused_at, paused_until FROM outbound_senders
WHERE paused_until = 0 OR paused_until > ? ORDER BY phone_number_id`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("paused senders: %w", interpretError(err))
	}
	defer rows.Close()
	var out []store.SenderPause
	for rows.Next() {
		var p store.SenderPause
		var at, until int64
		if err := rows.Scan(&p.PhoneNumberID, &p.Reason, &at, &until); err != nil {
			return nil, fmt.Errorf("paused senders: %w", interpretError(err))
		}
		p.PausedAt, p.Until = fromMicros(at), fromMicros(until)
		out = append(out, p)
	}
	return out, interpretError(rows.Err())
}

// GetNotifySettings implements store.Outbound.
func (s *Store) GetNotifySettings(ctx context.Context) ([]byte, error) {
	var body string
	err := s.r.QueryRowContext(ctx, `SELECT body FROM notify_settings WHERE id = 1`).Scan(&body)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notify settings: %w", interpretError(err))
	}
	return []byte(body), nil
}

// PutNotifySettings implements store.Outbound.
func (s *Store) PutNotifySettings(ctx context.Context, body []byte, now time.Time) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_settings (id, body, updated_at) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, string(body), micros(now))
		return interpretError(err)
	})
}

// FinishOutbound implements store.Store. See tx.FinishOutbound.
func (s *Store) FinishOutbound(ctx context.Context, p store.FinishOutboundParams) (*store.OutboundMessage, bool, error) {
	var m *store.OutboundMessage
	var ok bool
	err := s.InTx(ctx, func(tx store.Tx) (err error) {
		m, ok, err = tx.FinishOutbound(ctx, p)
		return err
	})
	return m, ok, err
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

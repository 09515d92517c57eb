package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// rawColumn reads the raw JSON of a row of table alias t, stored as bytes
// or as a span of its callback's body (migration 0003).
func rawColumn(t string) string {
	return `coalesce(` + t + `.raw, (SELECT substring(c.body FROM ` + t + `.raw_offset + 1 FOR ` + t + `.raw_length)
		FROM callbacks c WHERE c.id = ` + t + `.callback_id))`
}

var messageColumns = `m.id, m.callback_id, m.type, m.wa_id, m.customer_name, m.phone_number_id,
	m.display_phone_number, m.waba_id, m.ref, m.ref1, m.ref2, m.reply_to, m.trace_id,
	m.context_message_id, m.summary, m.sent_at, m.received_at, ` + rawColumn("m") + `, m.warnings`

func scanMessage(row pgx.Row) (*waorders.Message, error) {
	var m waorders.Message
	var raw, warnings []byte
	err := row.Scan(&m.ID, &m.CallbackID, &m.Type, &m.Customer.WaID, &m.Customer.Name,
		&m.Business.PhoneNumberID, &m.Business.DisplayPhoneNumber, &m.Business.WABAID,
		&m.Campaign.Ref, &m.Campaign.Ref1, &m.Campaign.Ref2, &m.ReplyTo, &m.TraceID,
		&m.ContextMessageID, &m.Summary, &m.SentAt, &m.ReceivedAt, &raw, &warnings)
	if err != nil {
		return nil, err
	}
	m.SentAt, m.ReceivedAt = utc(m.SentAt), utc(m.ReceivedAt)
	if len(raw) > 0 {
		m.Raw = json.RawMessage(raw)
	}
	if m.Warnings, err = parseProblems(warnings); err != nil {
		return nil, err
	}
	return &m, nil
}

// GetMessage returns a stored message by id.
func (s *Store) GetMessage(ctx context.Context, id string) (*waorders.Message, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.id = $1`, clean(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "message %q not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get message: %w", interpretError(err))
	}
	return m, nil
}

// ListMessages returns messages newest first (by SentAt, then id).
func (s *Store) ListMessages(ctx context.Context, f store.ListMessagesParams) (*store.MessagePage, error) {
	cur, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	limit := store.NormalizeLimit(f.Limit)
	c := &conds{}
	if f.Type != "" {
		c.add("m.type = ?", clean(f.Type))
	}
	if f.Customer != "" {
		c.add("m.wa_id = ?", clean(f.Customer))
	}
	if !f.Since.IsZero() {
		c.add("m.sent_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		c.add("m.sent_at < ?", f.Until.UTC())
	}
	if !cur.IsZero() {
		c.addKeyset("m.sent_at", "m.id", cur)
	}
	c.args = append(c.args, limit+1)
	sql := `SELECT ` + messageColumns + ` FROM messages m` + c.sql() +
		` ORDER BY m.sent_at DESC, m.id DESC LIMIT $` + strconv.Itoa(len(c.args))

	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", interpretError(err))
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*waorders.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", interpretError(err))
	}
	page := &store.MessagePage{Messages: msgs}
	if len(msgs) > limit {
		page.Messages = msgs[:limit]
		last := page.Messages[limit-1]
		page.NextCursor = store.Cursor{Time: last.SentAt, ID: last.ID}.Encode()
	}
	return page, nil
}

// GetMessageState returns the forward-only delivery state of an outbound
// message (CodeNotFound when no status of it was stored).
func (s *Store) GetMessageState(ctx context.Context, messageID string) (*waorders.MessageState, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	st := waorders.MessageState{}
	err := s.pool.QueryRow(ctx, `SELECT message_id, status, updated_at FROM message_states WHERE message_id = $1`,
		clean(messageID)).Scan(&st.MessageID, &st.Status, &st.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, waorders.Errorf(waorders.CodeNotFound, "no status of message %q is stored", messageID)
	}
	if err != nil {
		return nil, fmt.Errorf("get message state: %w", interpretError(err))
	}
	st.UpdatedAt = utc(st.UpdatedAt)
	return &st, nil
}

// ListStatuses returns the stored status updates of an outbound message,
// oldest rank first (an empty list when there are none).
func (s *Store) ListStatuses(ctx context.Context, messageID string) ([]*waorders.StatusUpdate, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT s.message_id, s.status, s.recipient_id, s.callback_id, s.ts, s.received_at, s.errors, `+
		rawColumn("s")+` FROM statuses s WHERE s.message_id = $1 ORDER BY s.rank, s.ts, s.status`, clean(messageID))
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", interpretError(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*waorders.StatusUpdate, error) {
		var u waorders.StatusUpdate
		var errs, raw []byte
		if err := r.Scan(&u.MessageID, &u.Status, &u.RecipientID, &u.CallbackID, &u.Timestamp, &u.ReceivedAt, &errs, &raw); err != nil {
			return nil, err
		}
		u.Timestamp, u.ReceivedAt = utc(u.Timestamp), utc(u.ReceivedAt)
		if len(errs) > 0 {
			u.Errors = json.RawMessage(errs)
		}
		if len(raw) > 0 {
			u.Raw = json.RawMessage(raw)
		}
		return &u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", interpretError(err))
	}
	return out, nil
}

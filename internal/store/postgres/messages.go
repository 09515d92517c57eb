package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
	m.context_message_id, m.summary, m.sent_at, m.received_at, ` + rawColumn("m") + `, m.warnings,
	m.customer_user_id, m.customer_parent_user_id, m.customer_username, m.direction, m.group_id, m.media_url,
	m.errors, m.error_code, m.error_title`

func scanMessage(row pgx.Row) (*waorders.Message, error) {
	var m waorders.Message
	var raw, warnings, errs []byte
	err := row.Scan(&m.ID, &m.CallbackID, &m.Type, &m.Customer.WaID, &m.Customer.Name,
		&m.Business.PhoneNumberID, &m.Business.DisplayPhoneNumber, &m.Business.WABAID,
		&m.Campaign.Ref, &m.Campaign.Ref1, &m.Campaign.Ref2, &m.ReplyTo, &m.TraceID,
		&m.ContextMessageID, &m.Summary, &m.SentAt, &m.ReceivedAt, &raw, &warnings,
		&m.Customer.UserID, &m.Customer.ParentUserID, &m.Customer.Username, &m.Direction, &m.GroupID, &m.MediaURL,
		&errs, &m.ErrorCode, &m.ErrorTitle)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		m.Errors = json.RawMessage(errs)
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
	w, limit, err := f.Query(dialect, "m")
	if err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, s, `SELECT `+messageColumns+` FROM messages m`+w.Page(limit+1), w.Args(), scanMessage)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	messages, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.Cursor{Time: out[i].SentAt, ID: out[i].ID} })
	return &store.MessagePage{Messages: messages, NextCursor: next}, nil
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

// customerSet is a subquery of every identifier of the customer its one
// parameter is an identifier of: the identifiers connected to it through
// customer_links, both ways (UNION stops at a cycle). The OR join uses both
// indexes of customer_links (a bitmap OR); sets are tiny.
const customerSet = `(WITH RECURSIVE cset(v) AS (SELECT ?::text
	UNION SELECT CASE WHEN l.a_value = cset.v THEN l.b_value ELSE l.a_value END
	FROM cset JOIN customer_links l ON l.a_value = cset.v OR l.b_value = cset.v)
SELECT v FROM cset)`

var statusColumns = `s.seq, s.message_id, s.participant, s.status, s.recipient_id, s.recipient_user_id,
	s.recipient_parent_user_id, s.group_id, s.callback_id, s.ts, s.received_at, s.errors, s.conversation, s.pricing, ` +
	rawColumn("s")

func scanStatus(r pgx.Row) (*waorders.StatusUpdate, int64, error) {
	var u waorders.StatusUpdate
	var seq int64
	var errs, conv, pricing, raw []byte
	if err := r.Scan(&seq, &u.MessageID, &u.Participant, &u.Status, &u.RecipientID, &u.RecipientUserID,
		&u.RecipientParentUserID, &u.GroupID, &u.CallbackID, &u.Timestamp, &u.ReceivedAt, &errs, &conv, &pricing, &raw); err != nil {
		return nil, 0, err
	}
	u.Timestamp, u.ReceivedAt = utc(u.Timestamp), utc(u.ReceivedAt)
	u.Errors, u.Conversation, u.Pricing, u.Raw = rawOrNil(errs), rawOrNil(conv), rawOrNil(pricing), rawOrNil(raw)
	return &u, seq, nil
}

func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// ListStatuses returns the stored status updates of an outbound message,
// oldest rank first (an empty list when there are none).
func (s *Store) ListStatuses(ctx context.Context, messageID string) ([]*waorders.StatusUpdate, error) {
	out, err := queryAll(ctx, s, `SELECT `+statusColumns+` FROM statuses s WHERE s.message_id = $1
		ORDER BY s.rank, s.ts, s.participant, s.status`, []any{clean(messageID)}, func(r pgx.Row) (*waorders.StatusUpdate, error) {
		u, _, err := scanStatus(r)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	return out, nil
}

// FindStatuses returns statuses newest first (by time, then storage order).
func (s *Store) FindStatuses(ctx context.Context, f store.FindStatusesParams) (*store.StatusPage, error) {
	w, limit, err := f.Query(dialect, "s")
	if err != nil {
		return nil, err
	}
	var seqs []int64
	out, err := queryAll(ctx, s, `SELECT `+statusColumns+` FROM statuses s`+w.Page(limit+1), w.Args(), func(r pgx.Row) (*waorders.StatusUpdate, error) {
		u, seq, err := scanStatus(r)
		seqs = append(seqs, seq)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("find statuses: %w", err)
	}
	statuses, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.SeqCursor(out[i].Timestamp, seqs[i]) })
	return &store.StatusPage{Statuses: statuses, NextCursor: next}, nil
}

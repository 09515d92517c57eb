package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/internal/store"
)

// rawColumn reads the raw JSON of a row of table, stored as text or as a
// span of its callback's body (migration 0003).
func rawColumn(table string) string {
	return `coalesce(` + table + `.raw, (SELECT substr(c.body, ` + table + `.raw_offset + 1, ` + table + `.raw_length)
    FROM callbacks c WHERE c.id = ` + table + `.callback_id AND ` + table + `.raw_length IS NOT NULL))`
}

var messageColumns = `id, callback_id, type, customer_wa_id, customer_name, phone_number_id,
    display_phone_number, waba_id, ref, ref1, ref2, reply_to, trace_id, context_message_id, summary,
    sent_at, received_at, ` + rawColumn("messages") + `, warnings, customer_user_id, customer_parent_user_id,
    customer_username, direction, group_id, media_url, errors, error_code, error_title`

func scanMessage(sc interface{ Scan(...any) error }) (*waorders.Message, error) {
	var (
		m                waorders.Message
		sent, received   int64
		raw, warningsTxt sql.NullString
		errs             sql.NullString
	)
	if err := sc.Scan(&m.ID, &m.CallbackID, &m.Type, &m.Customer.WaID, &m.Customer.Name,
		&m.Business.PhoneNumberID, &m.Business.DisplayPhoneNumber, &m.Business.WABAID,
		&m.Campaign.Ref, &m.Campaign.Ref1, &m.Campaign.Ref2, &m.ReplyTo, &m.TraceID, &m.ContextMessageID,
		&m.Summary, &sent, &received, &raw, &warningsTxt, &m.Customer.UserID, &m.Customer.ParentUserID,
		&m.Customer.Username, &m.Direction, &m.GroupID, &m.MediaURL, &errs, &m.ErrorCode, &m.ErrorTitle); err != nil {
		return nil, err
	}
	m.Errors = rawJSON(errs)
	m.SentAt, m.ReceivedAt = fromMicros(sent), fromMicros(received)
	m.Raw = rawJSON(raw)
	var err error
	if m.Warnings, err = decodeProblems(warningsTxt); err != nil {
		return nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	return &m, nil
}

// GetMessage returns a stored message by id, or CodeNotFound.
func (s *Store) GetMessage(ctx context.Context, id string) (*waorders.Message, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id)
	m, err := scanMessage(row)
	if err != nil {
		return nil, fmt.Errorf("get message: %w", notFound(err, "message %s not found", id))
	}
	return m, nil
}

// ListMessages returns messages newest first (by SentAt, then id) matching f.
func (s *Store) ListMessages(ctx context.Context, f store.ListMessagesParams) (*store.MessagePage, error) {
	w, limit, err := f.Query(dialect, "")
	if err != nil {
		return nil, err
	}
	out, err := queryAll(ctx, s.r, `SELECT `+messageColumns+` FROM messages`+w.Page(limit+1), w.Args(), scanMessage)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	messages, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.Cursor{Time: out[i].SentAt, ID: out[i].ID} })
	return &store.MessagePage{Messages: messages, NextCursor: next}, nil
}

// GetMessageState returns the forward-only delivery state of an outbound
// message, or CodeNotFound when no status of it was stored.
func (s *Store) GetMessageState(ctx context.Context, messageID string) (*waorders.MessageState, error) {
	var (
		st waorders.MessageState
		at int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT message_id, status, updated_at FROM message_states WHERE message_id = ?`, messageID).
		Scan(&st.MessageID, &st.Status, &at)
	if err != nil {
		return nil, fmt.Errorf("get message state: %w", notFound(err, "no status of message %s is stored", messageID))
	}
	st.UpdatedAt = fromMicros(at)
	return &st, nil
}

// statusColumns are the columns scanStatus reads.
var statusColumns = `seq, message_id, participant, status, recipient_id, recipient_user_id, recipient_parent_user_id,
    group_id, callback_id, ts, received_at, errors, conversation, pricing, ` + rawColumn("statuses")

func scanStatus(sc interface{ Scan(...any) error }) (*waorders.StatusUpdate, int64, error) {
	var (
		u                              waorders.StatusUpdate
		seq, ts, recv                  int64
		errTxt, conv, pricing, rawText sql.NullString
	)
	if err := sc.Scan(&seq, &u.MessageID, &u.Participant, &u.Status, &u.RecipientID, &u.RecipientUserID,
		&u.RecipientParentUserID, &u.GroupID, &u.CallbackID, &ts, &recv, &errTxt, &conv, &pricing, &rawText); err != nil {
		return nil, 0, err
	}
	u.Timestamp, u.ReceivedAt = fromMicros(ts), fromMicros(recv)
	u.Errors, u.Conversation, u.Pricing, u.Raw = rawJSON(errTxt), rawJSON(conv), rawJSON(pricing), rawJSON(rawText)
	return &u, seq, nil
}

// ListStatuses returns the stored status updates of an outbound message,
// lowest rank first; none is an empty list, not an error.
func (s *Store) ListStatuses(ctx context.Context, messageID string) ([]*waorders.StatusUpdate, error) {
	out, err := queryAll(ctx, s.r, `SELECT `+statusColumns+` FROM statuses
WHERE message_id = ? ORDER BY rank, ts, participant, status`, []any{messageID}, func(sc scanner) (*waorders.StatusUpdate, error) {
		u, _, err := scanStatus(sc)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", err)
	}
	return out, nil
}

// FindStatuses returns statuses newest first (by time, then storage order).
func (s *Store) FindStatuses(ctx context.Context, f store.FindStatusesParams) (*store.StatusPage, error) {
	w, limit, err := f.Query(dialect, "")
	if err != nil {
		return nil, err
	}
	var seqs []int64
	out, err := queryAll(ctx, s.r, `SELECT `+statusColumns+` FROM statuses`+w.Page(limit+1), w.Args(), func(sc scanner) (*waorders.StatusUpdate, error) {
		u, seq, err := scanStatus(sc)
		seqs = append(seqs, seq)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("find statuses: %w", err)
	}
	statuses, next := store.TrimPage(out, limit, func(i int) store.Cursor { return store.SeqCursor(out[i].Timestamp, seqs[i]) })
	return &store.StatusPage{Statuses: statuses, NextCursor: next}, nil
}

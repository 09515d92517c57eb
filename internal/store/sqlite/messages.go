package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

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
	cur, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	limit := store.NormalizeLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.Customer != "" {
		where, args = append(where, "customer_key IN "+customerSet), append(args, f.Customer)
	}
	if f.Direction != "" {
		where, args = append(where, "direction = ?"), append(args, f.Direction)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "sent_at >= ?"), append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "sent_at < ?"), append(args, f.Until.UnixMicro())
	}
	if !cur.IsZero() {
		where, args = append(where, "(sent_at, id) < (?, ?)"), append(args, micros(cur.Time), cur.ID)
	}
	q := `SELECT ` + messageColumns + ` FROM messages`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY sent_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)

	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", interpretError(err))
	}
	defer rows.Close()
	page := &store.MessagePage{Messages: []*waorders.Message{}}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("list messages: %w", interpretError(err))
		}
		page.Messages = append(page.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list messages: %w", interpretError(err))
	}
	if len(page.Messages) > limit {
		page.Messages = page.Messages[:limit]
		last := page.Messages[limit-1]
		page.NextCursor = store.Cursor{Time: last.SentAt, ID: last.ID}.Encode()
	}
	return page, nil
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
	rows, err := s.r.QueryContext(ctx, `SELECT `+statusColumns+` FROM statuses
WHERE message_id = ? ORDER BY rank, ts, participant, status`, messageID)
	if err != nil {
		return nil, fmt.Errorf("list statuses: %w", interpretError(err))
	}
	defer rows.Close()
	out := []*waorders.StatusUpdate{}
	for rows.Next() {
		u, _, err := scanStatus(rows)
		if err != nil {
			return nil, fmt.Errorf("list statuses: %w", interpretError(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list statuses: %w", interpretError(err))
	}
	return out, nil
}

// FindStatuses returns statuses newest first (by time, then storage order).
func (s *Store) FindStatuses(ctx context.Context, f store.FindStatusesParams) (*store.StatusPage, error) {
	cur, err := store.DecodeCursor(f.Cursor)
	if err != nil {
		return nil, err
	}
	var curSeq int64
	if !cur.IsZero() {
		if curSeq, err = strconv.ParseInt(cur.ID, 10, 64); err != nil {
			return nil, waorders.Errorf(waorders.CodeInvalid, "malformed cursor")
		}
	}
	limit := store.NormalizeLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, v string }{{"message_id", f.MessageID}, {"status", f.Status}, {"group_id", f.GroupID}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if f.Recipient != "" {
		where, args = append(where, "recipient_key IN "+customerSet), append(args, f.Recipient)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "ts >= ?"), append(args, f.Since.UnixMicro())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "ts < ?"), append(args, f.Until.UnixMicro())
	}
	if !cur.IsZero() {
		where, args = append(where, "(ts, seq) < (?, ?)"), append(args, micros(cur.Time), curSeq)
	}
	q := `SELECT ` + statusColumns + ` FROM statuses`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY ts DESC, seq DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("find statuses: %w", interpretError(err))
	}
	defer rows.Close()
	page := &store.StatusPage{Statuses: []*waorders.StatusUpdate{}}
	var seqs []int64
	for rows.Next() {
		u, seq, err := scanStatus(rows)
		if err != nil {
			return nil, fmt.Errorf("find statuses: %w", interpretError(err))
		}
		page.Statuses, seqs = append(page.Statuses, u), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find statuses: %w", interpretError(err))
	}
	if len(page.Statuses) > limit {
		page.Statuses = page.Statuses[:limit]
		last := page.Statuses[limit-1]
		page.NextCursor = store.Cursor{Time: last.Timestamp, ID: strconv.FormatInt(seqs[limit-1], 10)}.Encode()
	}
	return page, nil
}

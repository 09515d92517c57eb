package store

import (
	"context"
	"time"

	"github.com/waorders/waorders"
)

// Messages reads stored inbound messages and the statuses of outbound ones.
type Messages interface {
	// GetMessage returns a stored message by id.
	GetMessage(ctx context.Context, id string) (*waorders.Message, error)
	// ListMessages returns messages newest first (by SentAt, then id).
	ListMessages(ctx context.Context, p ListMessagesParams) (*MessagePage, error)
	// GetMessageState returns the forward-only delivery state of an
	// outbound message, derived from its status updates.
	GetMessageState(ctx context.Context, messageID string) (*waorders.MessageState, error)
	// ListStatuses returns the stored status updates of an outbound message,
	// oldest rank first (then time, participant).
	ListStatuses(ctx context.Context, messageID string) ([]*waorders.StatusUpdate, error)
	// FindStatuses returns stored status updates newest first (by time,
	// then storage order).
	FindStatuses(ctx context.Context, p FindStatusesParams) (*StatusPage, error)
}

// FindStatusesParams selects statuses. Zero fields do not filter.
type FindStatusesParams struct {
	MessageID string
	Status    string
	// Recipient is any identifier of a customer: the statuses about every
	// identifier of that customer.
	Recipient string
	GroupID   string
	Since     time.Time
	Until     time.Time // exclusive
	Cursor    string
	Limit     int
}

// StatusPage is a page of statuses; NextCursor is empty on the last page.
type StatusPage struct {
	Statuses   []*waorders.StatusUpdate
	NextCursor string
}

// ListMessagesParams selects messages. Zero fields do not filter.
type ListMessagesParams struct {
	Type string
	// Customer is any identifier of a customer (phone-based id, BSUID,
	// parent BSUID, username): the messages of every identifier of that
	// customer.
	Customer string
	// Direction is "inbound" or "outbound".
	Direction string
	Since     time.Time
	Until     time.Time // exclusive
	Cursor    string
	Limit     int
}

// MessagePage is a page of messages; NextCursor is empty on the last page.
type MessagePage struct {
	Messages   []*waorders.Message
	NextCursor string
}

// Query returns the conditions and order of a page of p over the messages
// table aliased alias, and the page size.
func (p ListMessagesParams) Query(d Dialect, alias string) (*Filter, int, error) {
	cur, err := DecodeCursor(p.Cursor)
	if err != nil {
		return nil, 0, err
	}
	f := d.Filter(alias)
	f.Equal("type", p.Type)
	f.Customer("customer_key", p.Customer)
	f.Equal("direction", p.Direction)
	f.Window("sent_at", p.Since, p.Until)
	f.Keyset("sent_at", "id", cur, cur.ID)
	return f, NormalizeLimit(p.Limit), nil
}

// Query returns the conditions and order of a page of p over the statuses
// table aliased alias, and the page size.
func (p FindStatusesParams) Query(d Dialect, alias string) (*Filter, int, error) {
	cur, seq, err := DecodeSeqCursor(p.Cursor)
	if err != nil {
		return nil, 0, err
	}
	f := d.Filter(alias)
	f.Equal("message_id", p.MessageID, "status", p.Status, "group_id", p.GroupID)
	f.Customer("recipient_key", p.Recipient)
	f.Window("ts", p.Since, p.Until)
	f.Keyset("ts", "seq", cur, seq)
	return f, NormalizeLimit(p.Limit), nil
}

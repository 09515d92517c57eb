package store

import (
	"context"

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
	// ListStatuses returns the stored status updates of an outbound message, oldest rank first.
	ListStatuses(ctx context.Context, messageID string) ([]*waorders.StatusUpdate, error)
}

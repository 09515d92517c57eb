package store

import (
	"context"
	"time"

	"github.com/waorders/waorders"
)

// Quarantine reads the quarantine and records retries of its entries.
type Quarantine interface {
	// ListQuarantine returns quarantine entries newest first, without bodies.
	ListQuarantine(ctx context.Context, p ListQuarantineParams) (*QuarantinePage, error)
	// GetQuarantine returns one entry with its body and headers. A message
	// entry written without a body shares the body and headers of its
	// callback row (CallbackID): a callback with many bad messages keeps its
	// body once, not once per message.
	GetQuarantine(ctx context.Context, id int64) (*waorders.QuarantineEntry, error)
	// MarkQuarantineAttempt records a retry of an entry: Attempts+1 and, when
	// resolved, ResolvedAt = at.
	MarkQuarantineAttempt(ctx context.Context, id int64, resolved bool, at time.Time) (*waorders.QuarantineEntry, error)
}

// ListQuarantineParams pages the quarantine.
type ListQuarantineParams struct {
	Unresolved bool
	Cursor     string
	Limit      int
}

// QuarantinePage is a page of quarantine entries.
type QuarantinePage struct {
	Entries    []*waorders.QuarantineEntry
	NextCursor string
}

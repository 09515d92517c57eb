package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	QuarantineTx
}

// QuarantineTx is the write of the quarantine area; it can join a Tx.
type QuarantineTx interface {
	// MarkQuarantineAttempt records a retry of entry p.ID: Attempts+1 and,
	// when p.Resolved, ResolvedAt = p.At (now when zero). It returns the
	// entry with its body and headers, or CodeNotFound.
	MarkQuarantineAttempt(ctx context.Context, p MarkQuarantineAttemptParams) (*waorders.QuarantineEntry, error)
}

// BodyHash is the key a body entry is kept under, once per distinct body:
// the hex SHA-256 of the body; "" for a message entry (its message id
// deduplicates it).
func BodyHash(q *waorders.QuarantineEntry) string {
	if q.Kind != waorders.QuarantineBody || q.MessageID != "" {
		return ""
	}
	sum := sha256.Sum256(q.Body)
	return hex.EncodeToString(sum[:])
}

// MarkQuarantineAttemptParams asks to record one retry of a quarantine
// entry.
type MarkQuarantineAttemptParams struct {
	ID       int64
	Resolved bool      // the retry stored everything the entry held
	At       time.Time // the resolution time; zero means now
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

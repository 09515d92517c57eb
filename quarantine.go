package waorders

import "time"

// Quarantine entry kinds.
const (
	// QuarantineBody: the whole body could not be decoded.
	QuarantineBody = "body"
	// QuarantineMessage: one message or status of a readable callback is unusable.
	QuarantineMessage = "message"
)

// QuarantineEntry keeps something waorders could not use, with why, so that
// nothing is lost and it can be replayed after a fix.
type QuarantineEntry struct {
	ID         int64
	Kind       string // QuarantineBody or QuarantineMessage
	CallbackID string // request id of the delivery
	MessageID  string // for QuarantineMessage; empty for a body
	Envelope   string // "kaleyra", "meta" or "" when unknown
	Reason     string // the first error code
	Message    string // caller-safe explanation
	Problems   []Problem
	Body       []byte              // the raw request body
	Headers    map[string][]string // request headers (canonical names), secrets removed
	ReceivedAt time.Time
	ResolvedAt time.Time // zero until a retry stored it
	Attempts   int
	// Repeats counts the further deliveries of the same body (body entries
	// are kept once per distinct body); LastSeenAt is the latest.
	Repeats    int
	LastSeenAt time.Time
}

// Resolved reports whether a retry has since stored the entry's data.
func (q *QuarantineEntry) Resolved() bool { return !q.ResolvedAt.IsZero() }

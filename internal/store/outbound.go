package store

import (
	"context"
	"strings"
	"time"

	"github.com/waorders/waorders"
)

// Outbound is the area of the messages waorders sends (order notifications
// and staff messages): each is a first-class record, created as an intent
// in the transaction of what caused it (an order, a status change, a staff
// request), moved by the notifier through its states, and joined to the
// status callbacks that echo its refs.
//
// The row is its own outbox: a notifier claims due rows with a lease (FOR
// UPDATE SKIP LOCKED on PostgreSQL, the single writer on SQLite), counting
// the attempt, and a finish lands only while the row is still leased by the
// same owner at the same attempt. A row claimed from "sending" (its lease
// ran out) was perhaps sent: the notifier must treat it as ambiguous, never
// send it at once.
type Outbound interface {
	GetOutbound(ctx context.Context, id string) (*OutboundMessage, error)
	// ListOutbound returns outbound messages newest first.
	ListOutbound(ctx context.Context, p ListOutboundParams) (*OutboundPage, error)
	// ClaimOutbound leases up to p.Limit due rows: queued, retry or
	// ambiguous rows whose next attempt is due and whose sender is not
	// paused, and sending rows whose lease has expired. ClaimedFrom holds
	// the state each was claimed from.
	ClaimOutbound(ctx context.Context, p ClaimOutboundParams) ([]*OutboundMessage, error)
	// LastInboundAt returns the time of the newest inbound message of the
	// customer (any of keys) to the business number, zero if none.
	LastInboundAt(ctx context.Context, keys []string, phoneNumberID string) (time.Time, error)
	// PauseSender stops claims of the number's rows until `until` (or
	// ResumeSender); ResumeSender lifts it; PausedSenders lists pauses in
	// force at now.
	PauseSender(ctx context.Context, p SenderPause) error
	ResumeSender(ctx context.Context, phoneNumberID string) error
	PausedSenders(ctx context.Context, now time.Time) ([]SenderPause, error)
	// GetNotifySettings returns the stored notification settings (a JSON
	// document), nil when none were stored; PutNotifySettings replaces them.
	GetNotifySettings(ctx context.Context) ([]byte, error)
	PutNotifySettings(ctx context.Context, body []byte, now time.Time) error

	OutboundTx
}

// OutboundTx are the writes of the outbound area that join a Tx.
type OutboundTx interface {
	// CreateOutbound stores an intent. A notification (IntentKey set) is
	// created at most once per key: a second one returns false and stores
	// nothing.
	CreateOutbound(ctx context.Context, m *OutboundMessage) (bool, error)
	// FinishOutbound records the outcome of a claimed attempt, fenced: it
	// lands (true) only while the row is sending, leased by p.Owner at
	// p.Attempt. It returns the row as written.
	FinishOutbound(ctx context.Context, p FinishOutboundParams) (*OutboundMessage, bool, error)
	// ApplyOutboundStatuses joins status callbacks to outbound rows (by the
	// id in their refs, else by wamid): the delivery state only moves
	// forward; a status proves the send was accepted, so a row not yet
	// final becomes accepted (its lease is dropped: an in-flight finish no
	// longer lands). It returns the rows it changed, with what changed.
	ApplyOutboundStatuses(ctx context.Context, ss []OutboundStatus) ([]OutboundChange, error)
}

// Outbound kinds.
const (
	OutboundNotification = "notification"
	OutboundStaff        = "staff"
)

// Outbound states. queued → sending → accepted | retry | ambiguous | failed
// | skipped; retry → sending; ambiguous → accepted (a status callback) |
// sending (one resend) | failed (given up). accepted, failed and skipped
// are final.
const (
	OutboundQueued    = "queued"
	OutboundSending   = "sending"
	OutboundRetry     = "retry"
	OutboundAmbiguous = "ambiguous"
	OutboundAccepted  = "accepted"
	OutboundFailed    = "failed"
	OutboundSkipped   = "skipped"
)

// OutboundStates lists the states, for validating filters.
var OutboundStates = []string{OutboundQueued, OutboundSending, OutboundRetry, OutboundAmbiguous, OutboundAccepted, OutboundFailed, OutboundSkipped}

// OutboundFinal reports whether a state is final.
func OutboundFinal(state string) bool {
	return state == OutboundAccepted || state == OutboundFailed || state == OutboundSkipped
}

// Delivery states of an accepted message, from its status callbacks.
const (
	DeliveryStateSent      = "sent"
	DeliveryStateDelivered = "delivered"
	DeliveryStateRead      = "read"
	DeliveryStateFailed    = "failed"
)

// DeliveryRank orders delivery states: they only move forward.
func DeliveryRank(s string) int {
	switch s {
	case DeliveryStateSent:
		return 1
	case DeliveryStateDelivered:
		return 2
	case DeliveryStateRead:
		return 3
	case DeliveryStateFailed:
		return 4
	}
	return 0
}

// OutboundMessage is one message waorders sends, and what became of it.
type OutboundMessage struct {
	ID            string // "out_" + ULID: ref2 of every send
	Kind          string // notification | staff
	OrderID       string // the order, for a notification (and the threaded reply)
	OrderStatus   waorders.OrderStatus
	IntentKey     string // "<order id>/<status>" for a notification: unique
	PhoneNumberID string
	To            string // the customer's wa_id
	CustomerKey   string
	ReplyTo       string // the wamid replied to, if any
	Note          string // the tracking note given with the status change
	Text          string // a staff message's text
	Template      string // a staff message's template name, optional; on a notification, the status's template it must go as (a resend after Meta's 131047)
	Actor         string

	State          string
	Reason         string // why skipped or failed: window_closed, WA400, WA500, no_callback, ...
	ClaimedFrom    string // set by ClaimOutbound
	Attempts       int    // claims
	Failures       int    // sends known to have failed (the WA500 advice counts these)
	Resends        int    // sends after an ambiguous one
	NextAttemptAt  time.Time
	LeaseOwner     string
	AmbiguousSince time.Time

	SentKind  string // text | template: what the last send was
	Request   []byte // the last request body sent
	WAMID     string
	LastCode  string
	LastError string
	Response  []byte // Kaleyra's last answer, cut

	DeliveryState string // sent, delivered, read, failed ("" until a status arrives)
	DeliveryError string // Meta's error of a failed delivery (JSON)

	CreatedAt  time.Time
	UpdatedAt  time.Time
	AcceptedAt time.Time
}

// ListOutboundParams selects outbound messages. Zero fields do not filter.
type ListOutboundParams struct {
	OrderID      string
	CustomerKeys []string // any of these keys, or a To among them
	State        string
	Kind         string
	Cursor       string
	Limit        int
}

// Query returns the conditions of a page of p (newest first by the storage
// sequence seq) and its size, or CodeInvalid for a malformed cursor: both
// drivers list outbound messages through it.
func (p ListOutboundParams) Query(d Dialect) (*Filter, int, error) {
	cur, seq, err := DecodeSeqCursor(p.Cursor)
	if err != nil {
		return nil, 0, err
	}
	f := d.Filter("")
	f.Equal("order_id", p.OrderID, "state", p.State, "kind", p.Kind)
	if n := len(p.CustomerKeys); n > 0 {
		in := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
		args := make([]any, 0, 2*n)
		for range 2 {
			for _, k := range p.CustomerKeys {
				args = append(args, k)
			}
		}
		f.Add("(customer_key IN "+in+" OR to_wa_id IN "+in+")", args...)
	}
	f.NewestFirst("seq")
	if !cur.IsZero() {
		f.Add("seq < ?", seq)
	}
	return f, NormalizeLimit(p.Limit), nil
}

// OutboundRow is an outbound message as a list reads it: with its storage
// sequence, the key of its page's cursor.
type OutboundRow struct {
	Message *OutboundMessage
	Seq     int64
}

// NewOutboundPage cuts rows read with a limit of limit+1 to a page. The
// cursor's time part is a constant: pages go by seq alone.
func NewOutboundPage(rows []OutboundRow, limit int) *OutboundPage {
	rows, next := TrimPage(rows, limit, func(i int) Cursor { return SeqCursor(time.UnixMicro(1), rows[i].Seq) })
	page := &OutboundPage{Messages: make([]*OutboundMessage, len(rows)), NextCursor: next}
	for i, r := range rows {
		page.Messages[i] = r.Message
	}
	return page
}

// OutboundPage is a page of outbound messages.
type OutboundPage struct {
	Messages   []*OutboundMessage
	NextCursor string
}

// ClaimOutboundParams asks for a claim.
type ClaimOutboundParams struct {
	Owner string
	Limit int
	Now   time.Time
	Lease time.Duration
}

// FinishOutboundParams is the outcome of one claimed attempt. Zero-valued
// fields that describe the send (Request, WAMID, ...) leave the stored
// value unchanged.
type FinishOutboundParams struct {
	ID      string
	Owner   string
	Attempt int
	Now     time.Time

	State         string // accepted, retry, ambiguous, failed, skipped, queued (a paused sender)
	Reason        string
	NextAttemptAt time.Time
	Refund        bool // give the attempt back (a paused sender: not the message's fault)
	Failed        bool // count one more failure
	Resent        bool // this attempt was a resend after an ambiguous one
	Ambiguous     bool // set ambiguous_since to Now

	SentKind  string
	Request   []byte
	WAMID     string
	LastCode  string
	LastError string
	Response  []byte
}

// OutboundStatus is a status callback as the outbound join needs it.
type OutboundStatus struct {
	Refs      waorders.Campaign
	MessageID string // the wamid
	Status    string
	At        time.Time
	Errors    []byte
}

// OutboundChange is one row a status changed.
type OutboundChange struct {
	Message        *OutboundMessage
	BecameAccepted bool // it was not final before
	BecameFailed   bool // its delivery failed now
}

// SenderPause is a paused business number.
type SenderPause struct {
	PhoneNumberID string
	Reason        string // the Kaleyra code
	PausedAt      time.Time
	Until         time.Time // zero: until resumed
}

// ValidOutboundState reports whether s is a state.
func ValidOutboundState(s string) bool {
	for _, k := range OutboundStates {
		if k == s {
			return true
		}
	}
	return false
}

// The refs of every send: ref = OutboundRef, ref1 = the kind's ref1
// (notify or staff), ref2 = the outbound id. Kaleyra echoes them in the
// status callbacks, which is how a send whose answer was lost is joined.
const (
	OutboundRef       = "waorders"
	OutboundRef1Order = "notify"
	OutboundRef1Staff = "staff"
)

// OutboundRefs returns the refs of a message's sends.
func OutboundRefs(m *OutboundMessage) waorders.Campaign {
	r1 := OutboundRef1Order
	if m.Kind == OutboundStaff {
		r1 = OutboundRef1Staff
	}
	return waorders.Campaign{Ref: OutboundRef, Ref1: r1, Ref2: m.ID}
}

// OutboundIDFromRefs returns the outbound id a status's refs name, or "".
func OutboundIDFromRefs(r waorders.Campaign) string {
	if r.Ref != OutboundRef || (r.Ref1 != OutboundRef1Order && r.Ref1 != OutboundRef1Staff) || len(r.Ref2) < 5 || r.Ref2[:4] != "out_" {
		return ""
	}
	return r.Ref2
}

// ApplyOutboundStatus applies one status callback to m (both drivers call
// it between their read and write): the delivery state moves only
// forward; the wamid is learnt; a row not final becomes accepted. It
// reports whether anything changed.
func ApplyOutboundStatus(m *OutboundMessage, st OutboundStatus) (OutboundChange, bool) {
	ch := OutboundChange{Message: m}
	changed := false
	if m.WAMID == "" && st.MessageID != "" {
		m.WAMID, changed = st.MessageID, true
	}
	if r := DeliveryRank(st.Status); r > DeliveryRank(m.DeliveryState) {
		m.DeliveryState, changed = st.Status, true
		if st.Status == DeliveryStateFailed {
			m.DeliveryError = string(st.Errors)
			ch.BecameFailed = true
		}
	}
	if !OutboundFinal(m.State) && DeliveryRank(st.Status) > 0 {
		m.State, m.LeaseOwner, m.AcceptedAt, changed = OutboundAccepted, "", st.At, true
		if m.AcceptedAt.IsZero() {
			m.AcceptedAt = time.Now().UTC()
		}
		ch.BecameAccepted = true
	}
	if changed {
		m.UpdatedAt = time.Now().UTC()
	}
	return ch, changed
}

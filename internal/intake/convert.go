package intake

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/store"
	"github.com/waorders/waorders/money"
)

// build turns a decoded callback into the Inbound to write: typed messages
// and orders for usable messages, status updates for usable statuses, and a
// quarantine entry for each unusable one. The i-th record of the result
// always maps back to the i-th message or status of the callback, so the
// answer can list every one of them.
func build(req *Request, cb *callback.Callback) (*store.Inbound, []record) {
	d := &store.Inbound{Callback: store.RawCallback{
		ID: req.ID, Envelope: string(cb.Envelope), ReceivedAt: req.ReceivedAt,
		Body: req.Body, Headers: req.Headers,
	}}
	var recs []record
	for ci := range cb.Changes {
		ch := &cb.Changes[ci]
		msgs := ch.Messages
		if ch.Kind() == callback.KindEchoes {
			msgs = ch.Echoes
		}
		changeRec := -1
		if ch.Kind() != callback.KindMessages {
			changeRec = len(recs)
			recs = append(recs, changeRecord(req, d, ch))
		}
		for mi := range msgs {
			m := &msgs[mi]
			d.Links = append(d.Links, systemLinks(m)...)
			r := record{kind: "message", id: m.ID, typ: string(m.Type), problems: m.Problems}
			lines, reviewable := lineProblems(m)
			if m.Usable() || reviewable {
				msg := toMessage(req, ch, m)
				mw := store.MessageWrite{Message: msg}
				if m.Order != nil {
					mw.Order = toOrder(msg, m, lines)
					r.needsReview = mw.Order.Status == waorders.OrderNeedsReview
				}
				r.index = len(d.Messages)
				d.Messages = append(d.Messages, mw)
			} else {
				r.quarantine = true
				r.index = len(d.Quarantine)
				d.Quarantine = append(d.Quarantine, quarantineEntry(req, cb, m.ID, m.Problems))
			}
			recs = append(recs, r)
		}
		if changeRec >= 0 && recs[changeRec].index2 >= 0 {
			recs[changeRec].n = len(d.Messages) - recs[changeRec].index2
		}
		for si := range ch.Statuses {
			s := &ch.Statuses[si]
			r := record{kind: "status", id: s.MessageID, typ: string(s.Status), problems: s.Problems}
			if s.Usable() {
				r.index = len(d.Statuses)
				sw := store.StatusWrite{Update: toStatus(req, s), Rank: s.Status.Rank()}
				if x := ch.Extra; x != nil {
					sw.Refs = waorders.Campaign{Ref: x.Ref, Ref1: x.Ref1, Ref2: x.Ref2}
				}
				d.Statuses = append(d.Statuses, sw)
			} else {
				r.quarantine = true
				r.index = len(d.Quarantine)
				d.Quarantine = append(d.Quarantine, quarantineEntry(req, cb, "", s.Problems))
			}
			recs = append(recs, r)
		}
	}
	return d, recs
}

// record remembers where one message, status or change of the callback
// went in the Inbound.
type record struct {
	kind       string // "message", "status" or "change"
	change     *callback.Change
	index2     int // a change's echoes: the first of them in Inbound.Messages, -1 if none was stored
	n          int // a change's echoes: how many are in Inbound.Messages
	id         string
	typ        string
	problems   []callback.Problem
	quarantine bool
	// needsReview: the message is an order stored for review (unusable lines).
	needsReview bool
	index       int // into Inbound.Messages/Statuses, or Inbound.Quarantine
}

func toMessage(req *Request, ch *callback.Change, m *callback.Message) *waorders.Message {
	msg := &waorders.Message{
		ID:         m.ID,
		CallbackID: req.ID,
		Type:       string(m.Type),
		Customer:   customerOf(ch, m),
		Business: waorders.Business{
			PhoneNumberID:      ch.Metadata.PhoneNumberID,
			DisplayPhoneNumber: ch.Metadata.DisplayPhoneNumber,
			WABAID:             ch.WABAID,
		},
		Summary:    m.Summary(),
		Direction:  waorders.DirectionInbound,
		GroupID:    m.GroupID,
		MediaURL:   m.MediaURL(),
		SentAt:     m.Timestamp,
		ReceivedAt: req.ReceivedAt,
		Raw:        m.Raw,
		Warnings:   toProblems(m.Problems, true),
	}
	if msg.SentAt.IsZero() {
		msg.SentAt = req.ReceivedAt
	}
	if m.Outbound {
		msg.Direction = waorders.DirectionOutbound
	}
	if len(m.Errors) > 0 {
		msg.Errors = marshalErrors(m.Errors)
		msg.ErrorCode, msg.ErrorTitle = m.Errors[0].Code, m.Errors[0].Title
	}
	if m.Context != nil {
		msg.ContextMessageID = m.Context.ID
	}
	if x := ch.Extra; x != nil {
		msg.Campaign = waorders.Campaign{Ref: x.Ref, Ref1: x.Ref1, Ref2: x.Ref2}
		msg.ReplyTo = x.ReplyTo
		msg.TraceID = x.TraceID
	}
	return msg
}

// lineProblems sorts the error problems of an order message by line: ok
// is true when every one of them concerns one product line (a quantity,
// price or currency the decoder could not use) and the order has lines,
// so the message is stored as an order that needs review instead of being
// quarantined. Problems of the message itself (no id, no lines, no
// customer) leave it for the quarantine.
func lineProblems(m *callback.Message) (lines map[int][]callback.Problem, ok bool) {
	if m.Usable() || m.Order == nil || len(m.Order.Items) == 0 {
		return nil, false
	}
	lines = map[int][]callback.Problem{}
	for _, p := range m.Problems {
		if p.Severity != callback.SeverityError {
			continue
		}
		i, found := itemIndex(p.Path)
		if !found || i >= len(m.Order.Items) {
			return nil, false
		}
		lines[i] = append(lines[i], p)
	}
	return lines, len(lines) > 0
}

// itemIndex returns the line a problem path points into:
// "….order.product_items[1].quantity" is line 1.
func itemIndex(path string) (int, bool) {
	const key = ".order.product_items["
	k := strings.LastIndex(path, key)
	if k < 0 {
		return 0, false
	}
	rest := path[k+len(key):]
	end := strings.IndexByte(rest, ']')
	if end <= 0 {
		return 0, false
	}
	i, err := strconv.Atoi(rest[:end])
	return i, err == nil && i >= 0
}

// toOrder builds the order of an order message. lines holds the problems
// of its unusable lines (lineProblems): with any, the order is stored in
// needs_review, each such line with its problems and the texts received,
// and its totals are over the usable lines only.
func toOrder(msg *waorders.Message, m *callback.Message, lines map[int][]callback.Problem) *waorders.Order {
	o := &waorders.Order{
		ID:               m.ID,
		Status:           waorders.OrderPending,
		Version:          1,
		CatalogID:        m.Order.CatalogID,
		Text:             m.Order.Text,
		Customer:         msg.Customer,
		Business:         msg.Business,
		Campaign:         msg.Campaign,
		ReplyTo:          msg.ReplyTo,
		ContextMessageID: msg.ContextMessageID,
		TraceID:          msg.TraceID,
		Totals:           m.Order.Totals,
		OrderedAt:        msg.SentAt,
		ReceivedAt:       msg.ReceivedAt,
		Warnings:         msg.Warnings,
	}
	o.Items = make([]waorders.Item, len(m.Order.Items))
	for i, it := range m.Order.Items {
		o.Items[i] = waorders.Item{
			ProductRetailerID: it.ProductRetailerID,
			Quantity:          it.Quantity,
			UnitPrice:         it.UnitPrice,
			LineTotal:         it.LineTotal,
			RawQuantity:       it.RawQuantity,
			RawPrice:          it.RawPrice,
			RawCurrency:       it.RawCurrency,
		}
		if ps := lines[i]; len(ps) > 0 {
			o.Items[i].Problems = toProblems(ps, false)
			if o.Items[i].LineTotal.Currency == "" {
				o.Items[i].LineTotal = money.Amount{}
			}
		}
	}
	if len(lines) > 0 {
		o.Status = waorders.OrderNeedsReview
		o.Totals, _ = waorders.ComputeTotals(o.Items) // cannot overflow: the decoder flagged the line that would
	}
	return o
}

func toStatus(req *Request, s *callback.Status) *waorders.StatusUpdate {
	rcpt := s.Recipient()
	u := &waorders.StatusUpdate{
		MessageID:             s.MessageID,
		Status:                string(s.Status),
		Participant:           s.Participant(),
		RecipientID:           strings.TrimPrefix(rcpt.WaID, "+"),
		RecipientUserID:       rcpt.UserID,
		RecipientParentUserID: rcpt.ParentUserID,
		GroupID:               s.GroupID(),
		CallbackID:            req.ID,
		Timestamp:             s.Timestamp,
		ReceivedAt:            req.ReceivedAt,
		Raw:                   s.Raw,
	}
	if u.Timestamp.IsZero() {
		u.Timestamp = req.ReceivedAt
	}
	if len(s.Errors) > 0 {
		u.Errors = marshalErrors(s.Errors)
	}
	if c := s.Conversation; c != nil {
		u.Conversation, _ = json.Marshal(map[string]string{"id": c.ID, "expiration_timestamp": c.ExpirationTimestamp,
			"origin_type": c.OriginType})
	}
	if p := s.Pricing; p != nil {
		u.Pricing, _ = json.Marshal(struct {
			Billable     *bool  `json:"billable,omitempty"`
			PricingModel string `json:"pricing_model,omitempty"`
			Type         string `json:"type,omitempty"`
			Category     string `json:"category,omitempty"`
		}{p.Billable, p.PricingModel, p.Type, p.Category})
	}
	return u
}

func quarantineEntry(req *Request, cb *callback.Callback, messageID string, ps []callback.Problem) *waorders.QuarantineEntry {
	q := &waorders.QuarantineEntry{
		Kind:       waorders.QuarantineMessage,
		CallbackID: req.ID,
		MessageID:  messageID,
		Envelope:   string(cb.Envelope),
		Problems:   toProblems(ps, false),
		// No Body or Headers: the entry shares those of the callback row
		// written in the same Inbound. A copy per bad message would let
		// one small body with thousands of bad messages write gigabytes.
		ReceivedAt: req.ReceivedAt,
	}
	for _, p := range ps {
		if p.Severity == callback.SeverityError {
			q.Reason, q.Message = p.Code, p.Message+" (at "+p.Path+")"
			break
		}
	}
	return q
}

// bodyQuarantine is the entry for a body that could not be decoded at all.
func bodyQuarantine(req *Request, de *callback.DecodeError) *waorders.QuarantineEntry {
	return &waorders.QuarantineEntry{
		Kind:       waorders.QuarantineBody,
		CallbackID: req.ID,
		Reason:     de.Code,
		Message:    de.Message,
		Problems:   []waorders.Problem{{Severity: string(callback.SeverityError), Code: de.Code, Path: de.Path, Message: de.Message}},
		Body:       req.Body,
		Headers:    req.Headers,
		ReceivedAt: req.ReceivedAt,
	}
}

// toProblems converts decoder problems, all of them or only the warnings.
func toProblems(ps []callback.Problem, warningsOnly bool) []waorders.Problem {
	var out []waorders.Problem
	for _, p := range ps {
		if warningsOnly && p.Severity != callback.SeverityWarning {
			continue
		}
		out = append(out, waorders.Problem{Severity: string(p.Severity), Code: p.Code, Path: p.Path, Message: p.Message})
	}
	return out
}

// statusError is the stored form of one WhatsApp error of a failed status.
type statusError struct {
	Code    int64  `json:"code"`
	Title   string `json:"title,omitempty"`
	Message string `json:"message,omitempty"`
	Details string `json:"details,omitempty"`
	Href    string `json:"href,omitempty"`
}

func marshalErrors(errs []callback.Error) json.RawMessage {
	out := make([]statusError, len(errs))
	for i, e := range errs {
		out[i] = statusError{Code: e.Code, Title: e.Title, Message: e.Message, Details: e.Details, Href: e.Href}
	}
	b, _ := json.Marshal(out) // cannot fail: plain strings and ints
	return b
}

// receivedNow returns the current time at the microsecond precision both
// storage engines keep, so what is answered equals what is read back.
func receivedNow(now func() time.Time) time.Time {
	return now().UTC().Truncate(time.Microsecond)
}

// customerOf returns the customer of a message: every identifier it
// carried (from, from_user_id, from_parent_user_id, or to* on an echo),
// completed from the change's contact with one of them. When no contact
// matches a phone-based sender and the change has exactly one contact,
// that contact is the sender, as before identities (Meta warns from and
// wa_id may differ): its wa_id stays the customer's key.
func customerOf(ch *callback.Change, m *callback.Message) waorders.Customer {
	id := m.Customer()
	c := waorders.Customer{WaID: strings.TrimPrefix(id.WaID, "+"), UserID: id.UserID, ParentUserID: id.ParentUserID,
		Username: id.Username, Name: id.Name}
	if !m.Outbound && m.From != "" && m.FromUserID == "" && ch.FindContact(id.WaID, "") == nil &&
		ch.FindContact(strings.TrimPrefix(id.WaID, "+"), "") == nil && len(ch.Contacts) == 1 {
		k := ch.Contacts[0]
		c = waorders.Customer{WaID: cmp.Or(k.WaID, c.WaID), UserID: k.UserID, ParentUserID: k.ParentUserID,
			Username: k.Username, Name: k.Name}
	}
	return c
}

// systemLinks returns the identifiers a system message shows to be one
// customer's: the previous and new BSUID (user_changed_user_id), the old
// and new phone-based id (user_changed_number).
func systemLinks(m *callback.Message) []store.CustomerLink {
	sys := m.System
	if sys == nil {
		return nil
	}
	var out []store.CustomerLink
	link := func(kind, a, b string) {
		if a != "" && b != "" && a != b {
			out = append(out, store.CustomerLink{A: waorders.CustomerID{Kind: kind, Value: a}, B: waorders.CustomerID{Kind: kind, Value: b}})
		}
	}
	link(waorders.IDUser, sys.PreviousUserID, sys.UserID)
	link(waorders.IDParent, sys.PreviousParentUserID, sys.ParentUserID)
	oldWa := strings.TrimPrefix(cmp.Or(m.From, sys.Customer), "+")
	link(waorders.IDWa, oldWa, strings.TrimPrefix(cmp.Or(sys.WaID, sys.NewWaID), "+"))
	return out
}

// changeRecord adds the change ch (any field but messages) to d: echoes
// become outbound messages (the caller adds them), every other field one
// stored change, deduplicated by a hash of its field and value. A BSUID
// change also links the previous and the new ids.
func changeRecord(req *Request, d *store.Inbound, ch *callback.Change) record {
	r := record{kind: "change", change: ch, problems: ch.Problems, index: -1, index2: -1}
	if ch.Kind() == callback.KindEchoes {
		if len(ch.Echoes) > 0 {
			r.index2 = len(d.Messages)
		}
		return r
	}
	sum := sha256.Sum256(append([]byte(ch.Field+"\x00"), ch.Raw...))
	c := &waorders.Change{
		CallbackID: req.ID,
		Field:      ch.Field,
		Kind:       string(ch.Kind()),
		Key:        hex.EncodeToString(sum[:]),
		Summary:    ch.Summary(),
		At:         ch.EntryTime,
		ReceivedAt: req.ReceivedAt,
		Raw:        ch.Raw,
		Warnings:   toProblems(ch.Problems, true),
	}
	if c.Field == "" {
		c.Field = "(none)"
	}
	var id callback.Identity
	switch {
	case len(ch.Calls) > 0:
		k := &ch.Calls[0]
		id = ch.CallCustomer(0)
		c.Event = strings.TrimSpace(k.Event + " " + k.Status)
		c.At = cmp.Or(k.Timestamp, c.At)
	case len(ch.UserPreferences) > 0:
		p := &ch.UserPreferences[len(ch.UserPreferences)-1]
		id = ch.PreferenceCustomer(len(ch.UserPreferences) - 1)
		c.Event = strings.TrimSpace(p.Category + " " + p.Value)
		c.At = cmp.Or(p.Timestamp, c.At)
	case len(ch.UserIDUpdates) > 0:
		u := &ch.UserIDUpdates[0]
		id = callback.Identity{WaID: u.WaID, UserID: u.CurrentUserID, ParentUserID: u.CurrentParentUserID}
		c.Event = "user_id changed"
		c.At = cmp.Or(u.Timestamp, c.At)
		for _, u := range ch.UserIDUpdates {
			for _, pair := range [][3]string{{waorders.IDUser, u.PreviousUserID, u.CurrentUserID},
				{waorders.IDParent, u.PreviousParentUserID, u.CurrentParentUserID}} {
				if pair[1] != "" && pair[2] != "" && pair[1] != pair[2] {
					d.Links = append(d.Links, store.CustomerLink{A: waorders.CustomerID{Kind: pair[0], Value: pair[1]},
						B: waorders.CustomerID{Kind: pair[0], Value: pair[2]}})
				}
			}
			if u.WaID != "" && u.PreviousUserID != "" {
				d.Links = append(d.Links, store.CustomerLink{A: waorders.CustomerID{Kind: waorders.IDWa, Value: u.WaID},
					B: waorders.CustomerID{Kind: waorders.IDUser, Value: u.PreviousUserID}})
			}
		}
	case ch.Event != nil:
		c.Event = ch.Event.Event
	}
	c.Customer = waorders.Customer{WaID: strings.TrimPrefix(id.WaID, "+"), UserID: id.UserID, ParentUserID: id.ParentUserID,
		Username: id.Username, Name: id.Name}
	r.id = c.Field
	r.index = len(d.Changes)
	kind := ch.Kind()
	d.Changes = append(d.Changes, store.ChangeWrite{Change: c,
		RawOnly: kind == callback.KindGroup || kind == callback.KindSync || kind == callback.KindUnknown})
	return r
}

package intake

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/callback"
	"github.com/waorders/waorders/internal/store"
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
		for mi := range ch.Messages {
			m := &ch.Messages[mi]
			r := record{kind: "message", id: m.ID, typ: string(m.Type), problems: m.Problems}
			if m.Usable() {
				msg := toMessage(req, ch, m)
				mw := store.MessageWrite{Message: msg}
				if m.Order != nil {
					mw.Order = toOrder(msg, m)
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
		for si := range ch.Statuses {
			s := &ch.Statuses[si]
			r := record{kind: "status", id: s.MessageID, typ: string(s.Status), problems: s.Problems}
			if s.Usable() {
				r.index = len(d.Statuses)
				d.Statuses = append(d.Statuses, store.StatusWrite{Update: toStatus(req, s), Rank: s.Status.Rank()})
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

// record remembers where one message or status of the callback went in the
// Inbound.
type record struct {
	kind       string // "message" or "status"
	id         string
	typ        string
	problems   []callback.Problem
	quarantine bool
	index      int // into Inbound.Messages/Statuses, or Inbound.Quarantine
}

func toMessage(req *Request, ch *callback.Change, m *callback.Message) *waorders.Message {
	msg := &waorders.Message{
		ID:         m.ID,
		CallbackID: req.ID,
		Type:       string(m.Type),
		Customer:   customer(ch, m.From),
		Business: waorders.Business{
			PhoneNumberID:      ch.Metadata.PhoneNumberID,
			DisplayPhoneNumber: ch.Metadata.DisplayPhoneNumber,
			WABAID:             ch.WABAID,
		},
		Summary:    m.Summary(),
		SentAt:     m.Timestamp,
		ReceivedAt: req.ReceivedAt,
		Raw:        m.Raw,
		Warnings:   toProblems(m.Problems, true),
	}
	if msg.SentAt.IsZero() {
		msg.SentAt = req.ReceivedAt
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

// customer finds the sender among the change's contacts. The sender's
// "from" and the contact's wa_id usually match; when they do not (Meta warns
// they may differ) a single contact is taken as the sender.
func customer(ch *callback.Change, from string) waorders.Customer {
	if c := ch.Contact(from); c != nil {
		return waorders.Customer{WaID: c.WaID, Name: c.Name}
	}
	if c := ch.Contact(strings.TrimPrefix(from, "+")); c != nil {
		return waorders.Customer{WaID: c.WaID, Name: c.Name}
	}
	if len(ch.Contacts) == 1 {
		c := ch.Contacts[0]
		return waorders.Customer{WaID: c.WaID, Name: c.Name}
	}
	return waorders.Customer{WaID: strings.TrimPrefix(from, "+")}
}

func toOrder(msg *waorders.Message, m *callback.Message) *waorders.Order {
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
		}
	}
	return o
}

func toStatus(req *Request, s *callback.Status) *waorders.StatusUpdate {
	u := &waorders.StatusUpdate{
		MessageID:   s.MessageID,
		Status:      string(s.Status),
		RecipientID: s.RecipientID,
		CallbackID:  req.ID,
		Timestamp:   s.Timestamp,
		ReceivedAt:  req.ReceivedAt,
		Raw:         s.Raw,
	}
	if u.Timestamp.IsZero() {
		u.Timestamp = req.ReceivedAt
	}
	if len(s.Errors) > 0 {
		u.Errors = marshalErrors(s.Errors)
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

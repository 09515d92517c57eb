package callback

import (
	"bytes"
	"strconv"
	"strings"
)

// Rank orders status kinds for a forward-only state machine: sent 1,
// delivered 2, read 3, played 4, and the terminal failed and not-sent 100.
// An unknown kind ranks 0, below every known one.
func (k StatusKind) Rank() int {
	switch k {
	case StatusSent:
		return 1
	case StatusDelivered:
		return 2
	case StatusRead:
		return 3
	case StatusPlayed:
		return 4
	case StatusFailed, StatusNotSent:
		return 100
	}
	return 0
}

// Terminal reports whether no later status may replace k: failed and
// not-sent.
func (k StatusKind) Terminal() bool { return k.Rank() == 100 }

// Known reports whether k is one of the statuses this package knows.
func (k StatusKind) Known() bool { return k.Rank() > 0 }

// Advances reports whether a message whose status is from should move to
// to: only forward, by Rank. Statuses arrive out of order, so a late sent
// never overwrites read, nothing overwrites failed or not-sent, and a
// failure overrides any non-terminal status.
func Advances(from, to StatusKind) bool { return to.Rank() > from.Rank() }

// status reads one element of value.statuses into s. Problems found inside
// it go to s.Problems.
func (r *reader) status(s *Status) {
	s.Path = r.path()
	r.problems = &s.Problems
	defer r.endElement()
	if k := r.kind(); k != '{' {
		if k != 0 {
			s.Raw = r.raw()
			r.report(SeverityError, CodeInvalidField, s.Path, "want a status object, got "+kindName(k))
		}
		return
	}
	start := r.nextOffset()
	for name := range r.object() {
		switch string(name) {
		case "id":
			s.ID = r.str()
		case "status":
			s.rawStatus = r.token()
			s.Status = StatusKind(lowerToken(s.rawStatus))
		case "type":
			s.typ = r.token()
		case "timestamp":
			s.RawTimestamp = r.timestamp()
		case "recipient_id":
			s.RecipientID = r.str()
		case "recipient_user_id":
			s.RecipientUserID = r.str()
		case "recipient_parent_user_id", "parent_recipient_user_id":
			s.RecipientParentUserID = r.str()
		case "recipient_type":
			s.RecipientType = r.token()
		case "recipient_participant_id":
			s.RecipientParticipantID = r.str()
		case "recipient_participant_user_id":
			s.RecipientParticipantUserID = r.str()
		case "recipient_participant_parent_user_id":
			s.RecipientParticipantParentUserID = r.str()
		case "biz_opaque_callback_data":
			s.BizOpaqueCallbackData = r.str()
		case "conversation":
			s.Conversation = r.conversation()
		case "pricing":
			s.Pricing = r.pricing()
		case "errors":
			s.Errors = r.errorList()
		}
	}
	if r.err != nil {
		return
	}
	s.Raw = bytes.Clone(r.body[start:r.offset()])
	switch {
	case s.Status == "":
		r.report(SeverityError, CodeMissingField, s.Path+".status", "status update without status")
	case !s.Status.Known():
		r.report(SeverityWarning, CodeUnknownStatus, s.Path+".status", "unknown status "+strconv.Quote(string(s.Status)))
	}
	s.Timestamp = r.checkTimestamp(s.RawTimestamp, s.Path+".timestamp")
}

// lowerToken lower-cases an ASCII status such as Kaleyra's "NOT-SENT".
func lowerToken(s string) string {
	l := strings.ToLower(s)
	if v, ok := interned[l]; ok {
		return v
	}
	return l
}

// conversation reads a status's conversation object.
func (r *reader) conversation() *Conversation {
	if r.null() {
		return nil
	}
	c := &Conversation{}
	for name := range r.object() {
		switch string(name) {
		case "id":
			c.ID = r.str()
		case "expiration_timestamp":
			c.ExpirationTimestamp = r.timestamp()
		case "origin":
			for name := range r.object() {
				if string(name) == "type" {
					c.OriginType = r.token()
				}
			}
		}
	}
	return c
}

// pricing reads a status's pricing object.
func (r *reader) pricing() *Pricing {
	if r.null() {
		return nil
	}
	p := &Pricing{}
	for name := range r.object() {
		switch string(name) {
		case "billable":
			p.Billable = r.optBool()
		case "pricing_model":
			p.PricingModel = r.token()
		case "type":
			p.Type = r.token()
		case "category":
			p.Category = r.token()
		}
	}
	return p
}

// resolveStatusIDs sets the MessageID of every status of ch and reports
// statuses without one. Kaleyra's top-level message_id, then its
// extra_info.message_id, describe the one status of a status callback, so
// they are used only when the change has exactly one status; otherwise, and
// for Meta, the status's own id is the key.
func resolveStatusIDs(cb *Callback, ch *Change) {
	one := cb.Envelope == EnvelopeKaleyra && len(ch.Statuses) == 1
	for i := range ch.Statuses {
		s := &ch.Statuses[i]
		switch {
		case one && cb.MessageID != "":
			s.MessageID = cb.MessageID
		case one && ch.Extra != nil && ch.Extra.MessageID != "":
			s.MessageID = ch.Extra.MessageID
		default:
			s.MessageID = s.ID
		}
		if s.MessageID == "" && len(s.Raw) > 0 && s.Raw[0] == '{' {
			s.Problems = append(s.Problems, Problem{
				Severity: SeverityError, Code: CodeMissingID, Path: s.Path + ".id",
				Message: "status update without id or message_id",
			})
		}
	}
}

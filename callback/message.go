package callback

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// message reads one element of value.messages into m. Problems found inside
// it go to m.Problems.
func (r *reader) message(m *Message) {
	m.Path = r.path()
	r.problems = &m.Problems
	defer r.endElement()
	if k := r.kind(); k != '{' {
		if k != 0 {
			m.Raw = r.raw()
			r.report(SeverityError, CodeInvalidField, m.Path, "want a message object, got "+kindName(k))
		}
		return
	}
	start := r.nextOffset()
	var payloads uint16 // payload members read (bits of payloadTypes), to drop those of another type
	var named bool      // a sender (or, on an echo, recipient) id member was present
	for name := range r.object() {
		switch string(name) {
		case "id":
			m.ID = r.str()
		case "from":
			named = named || !m.Outbound
			m.From = r.str()
		case "from_user_id":
			named = named || !m.Outbound
			m.FromUserID = r.str()
		case "from_parent_user_id":
			named = named || !m.Outbound
			m.FromParentUserID = r.str()
		case "to":
			named = named || m.Outbound
			m.To = r.str()
		case "to_user_id":
			named = named || m.Outbound
			m.ToUserID = r.str()
		case "to_parent_user_id":
			named = named || m.Outbound
			m.ToParentUserID = r.str()
		case "group_id":
			m.GroupID = r.str()
		case "type":
			m.Type = MessageType(r.token())
		case "timestamp":
			m.RawTimestamp = r.timestamp()
		case "context":
			m.Context = r.context()
		case "referral":
			m.Referral = r.referral()
		case "errors":
			m.Errors = r.errorList()
		default:
			if i, ok := r.payload(m, name); ok {
				payloads |= 1 << i
			}
		}
	}
	if r.err != nil {
		return
	}
	m.Raw = bytes.Clone(r.body[start:r.offset()])
	m.dropOtherPayloads(payloads)
	r.checkMessage(m)
	if !named && (m.System == nil || (m.System.UserID == "" && m.System.PreviousUserID == "" && m.System.WaID == "" && m.System.Customer == "")) {
		who, ids := "sender", "from, from_user_id or from_parent_user_id"
		if m.Outbound {
			who, ids = "recipient", "to, to_user_id or to_parent_user_id"
		}
		r.report(SeverityWarning, CodeNoCustomerID, m.Path, "message without a "+who+" id ("+ids+"); kept, but it cannot be tied to a customer")
	}
}

// endElement closes the problem sink of a message or status.
func (r *reader) endElement() { r.problems = nil }

// payloadTypes are the message types that have a typed payload member named
// after the type.
var payloadTypes = [...]MessageType{
	TypeText, TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker, TypeLocation,
	TypeContacts, TypeInteractive, TypeButton, TypeOrder, TypeReaction, TypeSystem, TypeUnsupported,
	TypeEdit, TypeRevoke,
}

// payload reads the member name if it is the typed payload of some message
// type, and reports the index of that type in payloadTypes.
func (r *reader) payload(m *Message, name []byte) (int, bool) {
	for i, t := range payloadTypes {
		if string(t) == string(name) {
			r.readPayload(m, t)
			return i, true
		}
	}
	return 0, false
}

// readPayload reads the payload of type t into its field of m.
func (r *reader) readPayload(m *Message, t MessageType) {
	switch t {
	case TypeText:
		m.Text = r.textPayload()
	case TypeImage:
		m.Image = r.media()
	case TypeVideo:
		m.Video = r.media()
	case TypeAudio:
		m.Audio = r.media()
	case TypeDocument:
		m.Document = r.media()
	case TypeSticker:
		m.Sticker = r.media()
	case TypeLocation:
		m.Location = r.location()
	case TypeContacts:
		m.Contacts = r.sharedContacts()
	case TypeInteractive:
		m.Interactive = r.interactive()
	case TypeButton:
		m.Button = r.button()
	case TypeOrder:
		m.Order = r.order()
	case TypeReaction:
		m.Reaction = r.reaction()
	case TypeSystem:
		m.System = r.system()
	case TypeUnsupported:
		m.Unsupported = r.unsupported()
	case TypeEdit:
		m.Edit = r.edit()
	case TypeRevoke:
		m.Revoke = r.revoke()
	}
}

// dropPayload clears the payload of type t, which the message carried
// although its type is another, and the problems found in it.
func (m *Message) dropPayload(t MessageType) {
	switch t {
	case TypeText:
		m.Text = nil
	case TypeImage:
		m.Image = nil
	case TypeVideo:
		m.Video = nil
	case TypeAudio:
		m.Audio = nil
	case TypeDocument:
		m.Document = nil
	case TypeSticker:
		m.Sticker = nil
	case TypeLocation:
		m.Location = nil
	case TypeContacts:
		m.Contacts = nil
	case TypeInteractive:
		m.Interactive = nil
	case TypeButton:
		m.Button = nil
	case TypeOrder:
		m.Order = nil
	case TypeReaction:
		m.Reaction = nil
	case TypeSystem:
		m.System = nil
	case TypeUnsupported:
		m.Unsupported = nil
	case TypeEdit:
		m.Edit = nil
	case TypeRevoke:
		m.Revoke = nil
	}
	prefix := m.Path + "." + string(t)
	kept := m.Problems[:0]
	for _, p := range m.Problems {
		if !within(p.Path, prefix) {
			kept = append(kept, p)
		}
	}
	m.Problems = kept
}

// dropOtherPayloads drops the payloads read (bits of payloadTypes) that
// are not of m's type.
func (m *Message) dropOtherPayloads(read uint16) {
	for i, t := range payloadTypes {
		if read&(1<<i) != 0 && t != m.Type {
			m.dropPayload(t)
		}
	}
}

// within reports whether path is prefix or a path below it.
func within(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// hasPayload reports whether the payload of m's own type is set.
func (m *Message) hasPayload() bool {
	switch m.Type {
	case TypeText:
		return m.Text != nil
	case TypeImage:
		return m.Image != nil
	case TypeVideo:
		return m.Video != nil
	case TypeAudio:
		return m.Audio != nil
	case TypeDocument:
		return m.Document != nil
	case TypeSticker:
		return m.Sticker != nil
	case TypeLocation:
		return m.Location != nil
	case TypeContacts:
		return m.Contacts != nil
	case TypeInteractive:
		return m.Interactive != nil
	case TypeButton:
		return m.Button != nil
	case TypeOrder:
		return m.Order != nil
	case TypeReaction:
		return m.Reaction != nil
	case TypeSystem:
		return m.System != nil
	case TypeEdit:
		return m.Edit != nil
	case TypeRevoke:
		return m.Revoke != nil
	}
	return true // unsupported and unknown need no payload
}

// checkMessage adds the problems that need the whole message: missing id,
// type and payload, and the timestamp.
func (r *reader) checkMessage(m *Message) {
	if m.ID == "" {
		r.report(SeverityError, CodeMissingID, m.Path+".id", "message without id")
	}
	switch {
	case m.Type == "":
		r.report(SeverityError, CodeMissingField, m.Path+".type", "message without type")
	case !m.Known():
		r.report(SeverityWarning, CodeUnknownType, m.Path+".type", "unknown message type "+strconv.Quote(string(m.Type))+"; Raw kept")
	case !m.hasPayload():
		r.report(SeverityError, CodeMissingField, m.Path+"."+string(m.Type), "message of type "+string(m.Type)+" without its "+string(m.Type)+" object")
	}
	m.Timestamp = r.checkTimestamp(m.RawTimestamp, m.Path+".timestamp")
}

// timestamp reads a timestamp: the content of a string, or the JSON text of
// any other value. Parsing is left to checkTimestamp.
func (r *reader) timestamp() string {
	text, raw, ok := r.text()
	if !ok {
		return raw
	}
	return text
}

// maxUnix is the last second of year 9999, beyond which a time no longer
// has an RFC 3339 form.
const maxUnix = 253402300799

// checkTimestamp parses unix seconds, warning when they are missing or
// unparseable.
func (r *reader) checkTimestamp(raw, path string) time.Time {
	if raw == "" {
		r.report(SeverityWarning, CodeInvalidTimestamp, path, "missing timestamp; use the time of receipt")
		return time.Time{}
	}
	if t, ok := parseUnix(raw); ok {
		return t
	}
	r.report(SeverityWarning, CodeInvalidTimestamp, path, "timestamp "+strconv.Quote(raw)+" is not unix seconds; use the time of receipt")
	return time.Time{}
}

// parseUnix parses a decimal count of unix seconds.
func parseUnix(s string) (time.Time, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxUnix {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

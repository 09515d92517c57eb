package callback

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Decode reads one callback body, in Kaleyra's V2 envelope or Meta's native
// one, and returns it normalised.
//
// Decode fails, with a *DecodeError, only when the body as a whole cannot be
// read: it is empty, it is not well-formed JSON (including invalid UTF-8 and
// duplicate member names), it is neither envelope, or a field that gives the
// body its shape (meta_object, entry, changes, value, metadata, contacts,
// messages, statuses, extra_info and the strings in them) has the wrong JSON
// type or is missing. JSON null counts as absent.
//
// Anything wrong inside one message or status does not fail the body: it is
// reported in that element's Problems, so that the other elements of a batch
// are still returned. Unknown fields are ignored and unknown message types
// are kept with their raw JSON.
//
// The result shares no memory with body: strings and raw JSON are copied.
func Decode(body []byte) (*Callback, error) {
	if isBlank(body) {
		return nil, &DecodeError{Code: CodeEmptyBody, Path: RootPath, Message: "the body is empty"}
	}
	r := newReader(body)
	defer r.release()
	cb := r.callback()
	if r.err != nil {
		de := syntaxError(r.err)
		if de.Code != CodeInvalidJSON {
			// A shape error found early must not hide that the body is not
			// JSON at all further on.
			if err := validate(body); err != nil {
				return nil, syntaxError(err)
			}
		}
		return nil, de
	}
	return cb, nil
}

// isBlank reports whether b holds only JSON white space.
func isBlank(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return false
		}
	}
	return true
}

// validate checks that body is exactly one well-formed JSON value.
func validate(body []byte) error {
	dec := jsontext.NewDecoder(bytes.NewBuffer(body))
	if err := dec.SkipValue(); err != nil {
		return err
	}
	return atEOF(dec)
}

// atEOF checks that nothing but white space follows the top-level value.
func atEOF(dec *jsontext.Decoder) error {
	switch _, err := dec.ReadToken(); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return err
	}
	return &DecodeError{Code: CodeInvalidJSON, Path: RootPath, Message: "data after the top-level value"}
}

// callback reads the envelope.
func (r *reader) callback() *Callback {
	if k := r.kind(); k != '{' {
		if r.err == nil {
			r.failAt(CodeUnknownEnvelope, RootPath, "the body is "+kindName(k)+", not an object")
		}
		return nil
	}
	cb := &Callback{}
	var extra *ExtraInfo
	var kaleyra, meta, object bool
	for name := range r.object() {
		switch string(name) {
		case "meta_object":
			if r.null() {
				continue
			}
			kaleyra = true
			cb.Changes = append(cb.Changes, Change{})
			r.change(&cb.Changes[len(cb.Changes)-1])
		case "extra_info":
			extra = r.extraInfo()
		case "status":
			cb.Status = r.str()
		case "message_id":
			cb.MessageID = r.str()
		case "object":
			if r.null() {
				continue
			}
			object = true
			cb.Object = r.token()
		case "entry":
			if r.null() {
				continue
			}
			meta = true
			r.entries(cb)
		}
	}
	if r.err == nil {
		r.fail(atEOF(&r.dec))
	}
	if r.err != nil {
		return nil
	}
	switch {
	case kaleyra && meta:
		r.failAt(CodeUnknownEnvelope, RootPath, "both meta_object (Kaleyra) and entry (Meta)")
	case kaleyra:
		cb.Envelope = EnvelopeKaleyra
		ch := &cb.Changes[0]
		ch.Extra = extra
		if extra != nil {
			ch.WABAID = extra.WABAID
		}
	case meta:
		cb.Envelope = EnvelopeMeta
	case object:
		r.failAt(CodeMissingField, "entry", "Meta envelope without entry")
	default:
		r.failAt(CodeUnknownEnvelope, RootPath, "neither meta_object (Kaleyra) nor entry (Meta)")
	}
	if r.err != nil {
		return nil
	}
	for i := range cb.Changes {
		ch := &cb.Changes[i]
		resolveStatusIDs(cb, ch)
		ch.link()
	}
	return cb
}

// entries reads Meta's entry array, appending every change of every entry.
func (r *reader) entries(cb *Callback) {
	for range r.array() {
		first := len(cb.Changes)
		var wabaID, entryTime string
		var changes bool
		for name := range r.object() {
			switch string(name) {
			case "id":
				wabaID = r.str()
			case "time":
				entryTime = r.timestamp()
			case "changes":
				changes = true
				for range r.array() {
					cb.Changes = append(cb.Changes, Change{})
					r.change(&cb.Changes[len(cb.Changes)-1])
				}
			}
		}
		if !changes && r.err == nil {
			r.failAt(CodeMissingField, r.pathTo("changes"), "entry without changes")
		}
		t, _ := parseUnix(entryTime)
		for i := first; i < len(cb.Changes); i++ {
			cb.Changes[i].WABAID = wabaID
			cb.Changes[i].RawEntryTime = entryTime
			cb.Changes[i].EntryTime = t
		}
	}
}

// change reads one {value, field} object: Kaleyra's meta_object or one of
// Meta's entry[].changes[].
func (r *reader) change(ch *Change) {
	var hasValue, untyped bool
	var start, end int
	var fieldPath string
	for name := range r.object() {
		switch string(name) {
		case "field":
			fieldPath = r.path()
			ch.Field = r.token()
		case "value":
			hasValue = true
			ch.Path = r.path()
			start = r.nextOffset()
			untyped = r.changeValue(ch)
			end = r.offset()
		}
	}
	if r.err != nil {
		return
	}
	if !hasValue {
		r.failAt(CodeMissingField, r.pathTo("value"), "change without value")
		return
	}
	if ch.Field != "messages" || untyped {
		ch.Raw = bytes.Clone(r.body[start:end])
	}
	r.finishChange(ch, fieldPath)
}

// finishChange applies the rules that need the whole change: call
// statuses leave Statuses for Calls, a message whose payload Meta withheld
// (errors on the message or on the value) is a warning, not an error, and
// an unknown field is reported.
func (r *reader) finishChange(ch *Change, fieldPath string) {
	kind := ch.Kind()
	if kind == KindUnknown {
		if fieldPath == "" {
			fieldPath = strings.TrimSuffix(ch.Path, "value") + "field"
		}
		msg := "unknown webhook field " + strconv.Quote(ch.Field) + "; value kept in Raw"
		if ch.Field == "" {
			msg = "change without field; value kept in Raw"
		}
		ch.Problems = append(ch.Problems, Problem{Severity: SeverityWarning, Code: CodeUnknownField, Path: fieldPath, Message: msg})
	}
	kept := ch.Statuses[:0]
	for _, s := range ch.Statuses {
		if kind == KindCalls || s.typ == "call" || strings.HasPrefix(s.ID, "wacid.") {
			ch.Calls = append(ch.Calls, callFromStatus(&s))
			continue
		}
		kept = append(kept, s)
	}
	clear(ch.Statuses[len(kept):])
	ch.Statuses = kept
	if len(ch.Statuses) == 0 {
		ch.Statuses = nil
	}
	for i := range ch.Messages {
		withheld(&ch.Messages[i], ch.Errors)
	}
	for i := range ch.Echoes {
		withheld(&ch.Echoes[i], ch.Errors)
	}
}

// withheld turns the missing-payload error of a known message type into a
// payload_withheld warning when Meta explains it with errors, on the
// message or on its change's value: such a message (an "interactive" that
// Meta could not render, say) is valid and kept, with its errors.
func withheld(m *Message, changeErrors []Error) {
	if len(m.Errors) == 0 && len(changeErrors) == 0 {
		return
	}
	path := m.Path + "." + string(m.Type)
	for i, p := range m.Problems {
		if p.Code == CodeMissingField && p.Path == path {
			m.Problems[i] = Problem{
				Severity: SeverityWarning, Code: CodePayloadWithheld, Path: path,
				Message: "message of type " + string(m.Type) + " without its " + string(m.Type) + " object; see its errors",
			}
		}
	}
}

// link points every message, echo and status of ch back at ch.
func (ch *Change) link() {
	for i := range ch.Messages {
		ch.Messages[i].change = ch
	}
	for i := range ch.Echoes {
		ch.Echoes[i].change = ch
	}
	for i := range ch.Statuses {
		ch.Statuses[i].change = ch
	}
}

// changeValue reads the webhook value of a change, and reports whether it
// holds members (of the value or of its contacts) that are not typed.
func (r *reader) changeValue(ch *Change) (untyped bool) {
	for name := range r.object() {
		switch string(name) {
		case "messaging_product":
			ch.MessagingProduct = r.token()
		case "metadata":
			for name := range r.object() {
				switch string(name) {
				case "display_phone_number":
					ch.Metadata.DisplayPhoneNumber = r.str()
				case "phone_number_id":
					ch.Metadata.PhoneNumberID = r.str()
				}
			}
		case "contacts":
			for range r.array() {
				c, more := r.contact()
				ch.Contacts = append(ch.Contacts, c)
				untyped = untyped || more
			}
		case "messages":
			for range r.array() {
				ch.Messages = append(ch.Messages, Message{})
				r.message(&ch.Messages[len(ch.Messages)-1])
			}
		case "statuses":
			for range r.array() {
				ch.Statuses = append(ch.Statuses, Status{})
				r.status(&ch.Statuses[len(ch.Statuses)-1])
			}
		case "errors":
			ch.Errors = r.errorList()
		case "message_echoes":
			for range r.array() {
				ch.Echoes = append(ch.Echoes, Message{Outbound: true})
				r.message(&ch.Echoes[len(ch.Echoes)-1])
			}
		case "calls":
			r.problems = &ch.Problems
			r.calls(ch)
			r.problems = nil
		case "user_preferences":
			r.problems = &ch.Problems
			r.userPreferences(ch)
			r.problems = nil
		case "user_id_update":
			r.problems = &ch.Problems
			r.userIDUpdates(ch)
			r.problems = nil
		default:
			if !r.businessMember(ch, string(name)) {
				untyped = true
			}
		}
	}
	return untyped
}

// contact reads one element of value.contacts, and reports whether it
// holds members that are not typed.
func (r *reader) contact() (c Contact, untyped bool) {
	for name := range r.object() {
		switch string(name) {
		case "wa_id":
			c.WaID = r.str()
		case "user_id":
			c.UserID = r.str()
		case "parent_user_id":
			c.ParentUserID = r.str()
		case "identity_key_hash":
			c.IdentityKeyHash = r.str()
		case "profile":
			for name := range r.object() {
				switch string(name) {
				case "name":
					c.Name = r.str()
				case "username":
					c.Username = r.str()
				default:
					untyped = true
				}
			}
		default:
			untyped = true
		}
	}
	return c, untyped
}

// extraInfo reads Kaleyra's extra_info object.
func (r *reader) extraInfo() *ExtraInfo {
	if r.null() {
		return nil
	}
	x := &ExtraInfo{}
	for name := range r.object() {
		switch string(name) {
		case "media_url":
			x.MediaURL = r.str()
		case "ref":
			x.Ref = r.str()
		case "ref1":
			x.Ref1 = r.str()
		case "ref2":
			x.Ref2 = r.str()
		case "reply_to":
			x.ReplyTo = r.str()
		case "trace_id":
			x.TraceID = r.str()
		case "waba_id":
			x.WABAID = r.str()
		case "message_id":
			x.MessageID = r.str()
		case "enable_url_tracking_body":
			x.EnableURLTrackingBody = r.boolean()
		case "enable_url_tracking_button":
			x.EnableURLTrackingButton = r.boolean()
		}
	}
	return x
}

// errorList reads an array of WhatsApp error objects. The code is accepted
// as a JSON integer or a string of digits.
func (r *reader) errorList() []Error {
	var errs []Error
	for range r.array() {
		var e Error
		for name := range r.object() {
			switch string(name) {
			case "code":
				e.Code = r.integer()
			case "title":
				e.Title = r.str()
			case "message":
				e.Message = r.str()
			case "href":
				e.Href = r.str()
			case "error_data":
				for name := range r.object() {
					if string(name) == "details" {
						e.Details = r.str()
					}
				}
			}
		}
		errs = append(errs, e)
	}
	return errs
}

// null consumes a JSON null and reports whether there was one.
func (r *reader) null() bool {
	if r.kind() == 'n' {
		r.skip()
		return true
	}
	return false
}

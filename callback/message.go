package callback

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
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
	for name := range r.object() {
		switch string(name) {
		case "id":
			m.ID = r.str()
		case "from":
			m.From = r.str()
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
	for i, t := range payloadTypes {
		if payloads&(1<<i) != 0 && t != m.Type {
			m.dropPayload(t)
		}
	}
	r.checkMessage(m)
}

// endElement closes the problem sink of a message or status.
func (r *reader) endElement() { r.problems = nil }

// payloadTypes are the message types that have a typed payload member named
// after the type.
var payloadTypes = [...]MessageType{
	TypeText, TypeImage, TypeVideo, TypeAudio, TypeDocument, TypeSticker, TypeLocation,
	TypeContacts, TypeInteractive, TypeButton, TypeOrder, TypeReaction, TypeSystem, TypeUnsupported,
}

// payload reads the member name if it is the typed payload of some message
// type, and reports the index of that type in payloadTypes.
func (r *reader) payload(m *Message, name []byte) (int, bool) {
	switch MessageType(name) {
	case TypeText:
		m.Text = r.text1()
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
	default:
		return 0, false
	}
	for i, t := range payloadTypes {
		if string(t) == string(name) {
			return i, true
		}
	}
	return 0, false
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

// context reads a message's context.
func (r *reader) context() *Context {
	if r.null() {
		return nil
	}
	c := &Context{}
	for name := range r.object() {
		switch string(name) {
		case "from":
			c.From = r.str()
		case "id":
			c.ID = r.str()
		case "forwarded":
			c.Forwarded = r.boolean()
		case "frequently_forwarded":
			c.FrequentlyForwarded = r.boolean()
		case "referred_product":
			if r.null() {
				continue
			}
			p := &ReferredProduct{}
			for name := range r.object() {
				switch string(name) {
				case "catalog_id":
					p.CatalogID = r.unquotedText()
				case "product_retailer_id":
					p.ProductRetailerID = r.str()
				}
			}
			c.ReferredProduct = p
		}
	}
	return c
}

// referral reads Click-to-WhatsApp ad data.
func (r *reader) referral() *Referral {
	if r.null() {
		return nil
	}
	f := &Referral{}
	for name := range r.object() {
		switch string(name) {
		case "source_url":
			f.SourceURL = r.str()
		case "source_id":
			f.SourceID = r.str()
		case "source_type":
			f.SourceType = r.str()
		case "body":
			f.Body = r.str()
		case "headline":
			f.Headline = r.str()
		case "media_type":
			f.MediaType = r.str()
		case "image_url":
			f.ImageURL = r.str()
		case "video_url":
			f.VideoURL = r.str()
		case "thumbnail_url":
			f.ThumbnailURL = r.str()
		case "ctwa_clid":
			f.CtwaClid = r.str()
		case "welcome_message":
			for name := range r.object() {
				if string(name) == "text" {
					f.WelcomeMessageText = r.str()
				}
			}
		}
	}
	return f
}

// text1 reads a text payload.
func (r *reader) text1() *Text {
	if r.null() {
		return nil
	}
	t := &Text{}
	for name := range r.object() {
		if string(name) == "body" {
			t.Body = r.str()
		}
	}
	return t
}

// media reads an image, video, audio, document or sticker payload.
func (r *reader) media() *Media {
	if r.null() {
		return nil
	}
	m := &Media{}
	for name := range r.object() {
		switch string(name) {
		case "id":
			m.ID = r.str()
		case "mime_type":
			m.MimeType = r.token()
		case "sha256":
			m.SHA256 = r.str()
		case "caption":
			m.Caption = r.str()
		case "filename":
			m.Filename = r.str()
		case "animated":
			m.Animated = r.boolean()
		case "voice":
			m.Voice = r.boolean()
		}
	}
	return m
}

// location reads a location payload, keeping the coordinates as text.
func (r *reader) location() *Location {
	if r.null() {
		return nil
	}
	l := &Location{}
	for name := range r.object() {
		switch string(name) {
		case "latitude":
			l.Latitude = r.unquotedText()
		case "longitude":
			l.Longitude = r.unquotedText()
		case "name":
			l.Name = r.str()
		case "address":
			l.Address = r.str()
		case "url":
			l.URL = r.str()
		}
	}
	return l
}

// sharedContacts reads the contact cards of a contacts message.
func (r *reader) sharedContacts() []SharedContact {
	if r.null() {
		return nil
	}
	cards := []SharedContact{}
	for range r.array() {
		var c SharedContact
		start := r.nextOffset()
		for name := range r.object() {
			switch string(name) {
			case "name":
				for name := range r.object() {
					switch string(name) {
					case "formatted_name":
						c.FormattedName = r.str()
					case "first_name":
						c.FirstName = r.str()
					case "last_name":
						c.LastName = r.str()
					}
				}
			case "phones":
				c.Phones = r.phones()
			}
		}
		if r.err == nil {
			c.Raw = bytes.Clone(r.body[start:r.offset()])
		}
		cards = append(cards, c)
	}
	return cards
}

// phones reads a contact card's phones: Meta sends an array, Kaleyra's
// sample a single object.
func (r *reader) phones() []ContactPhone {
	if r.kind() == '{' {
		return []ContactPhone{r.phone()}
	}
	var ps []ContactPhone
	for range r.array() {
		ps = append(ps, r.phone())
	}
	return ps
}

func (r *reader) phone() ContactPhone {
	var p ContactPhone
	for name := range r.object() {
		switch string(name) {
		case "phone":
			p.Phone = r.str()
		case "wa_id":
			p.WaID = r.str()
		case "type":
			p.Type = r.str()
		}
	}
	return p
}

// interactive reads a reply to an interactive message.
func (r *reader) interactive() *Interactive {
	if r.null() {
		return nil
	}
	in := &Interactive{}
	for name := range r.object() {
		switch string(name) {
		case "type":
			in.Type = r.token()
		case "button_reply":
			if r.null() {
				continue
			}
			b := &ButtonReply{}
			for name := range r.object() {
				switch string(name) {
				case "id":
					b.ID = r.str()
				case "title":
					b.Title = r.str()
				}
			}
			in.ButtonReply = b
		case "list_reply":
			if r.null() {
				continue
			}
			l := &ListReply{}
			for name := range r.object() {
				switch string(name) {
				case "id":
					l.ID = r.str()
				case "title":
					l.Title = r.str()
				case "description":
					l.Description = r.str()
				}
			}
			in.ListReply = l
		case "nfm_reply":
			in.NFMReply = r.nfmReply()
		}
	}
	var missing bool
	switch in.Type {
	case "button_reply":
		missing = in.ButtonReply == nil
	case "list_reply":
		missing = in.ListReply == nil
	case "nfm_reply":
		missing = in.NFMReply == nil
	case "":
		r.report(SeverityError, CodeMissingField, r.pathTo("type"), "interactive reply without type")
	default:
		r.report(SeverityWarning, CodeUnknownType, r.pathTo("type"), "unknown interactive type "+strconv.Quote(in.Type))
	}
	if missing {
		r.report(SeverityError, CodeMissingField, r.pathTo(in.Type), "interactive "+in.Type+" without its "+in.Type+" object")
	}
	return in
}

// nfmReply reads a Flow or address-message response, decoding its
// response_json string a second time.
func (r *reader) nfmReply() *NFMReply {
	if r.null() {
		return nil
	}
	n := &NFMReply{}
	var hasJSON bool
	for name := range r.object() {
		switch string(name) {
		case "name":
			n.Name = r.token()
		case "body":
			n.Body = r.str()
		case "response_json":
			hasJSON = r.kind() == '"'
			n.ResponseJSON = r.str()
		}
	}
	if hasJSON {
		if v := jsontext.Value(n.ResponseJSON); v.IsValid() {
			n.Response = []byte(n.ResponseJSON)
		} else {
			r.report(SeverityWarning, CodeInvalidResponseJSON, r.pathTo("response_json"), "response_json is not valid JSON")
		}
	}
	return n
}

// button reads a template quick-reply button tap.
func (r *reader) button() *Button {
	if r.null() {
		return nil
	}
	b := &Button{}
	for name := range r.object() {
		switch string(name) {
		case "payload":
			b.Payload = r.str()
		case "text":
			b.Text = r.str()
		}
	}
	return b
}

// reaction reads a reaction; an absent emoji means the reaction was removed.
func (r *reader) reaction() *Reaction {
	if r.null() {
		return nil
	}
	x := &Reaction{}
	for name := range r.object() {
		switch string(name) {
		case "message_id":
			x.MessageID = r.str()
		case "emoji":
			x.Emoji = r.str()
		}
	}
	return x
}

// system reads a system message.
func (r *reader) system() *System {
	if r.null() {
		return nil
	}
	s := &System{}
	for name := range r.object() {
		switch string(name) {
		case "body":
			s.Body = r.str()
		case "type":
			s.Type = r.token()
		case "wa_id":
			s.WaID = r.str()
		case "customer":
			s.Customer = r.str()
		case "new_wa_id":
			s.NewWaID = r.str()
		case "user_id":
			s.UserID = r.str()
		}
	}
	return s
}

// unsupported reads the description of an unsupported message.
func (r *reader) unsupported() *Unsupported {
	if r.null() {
		return nil
	}
	u := &Unsupported{}
	for name := range r.object() {
		if string(name) == "type" {
			u.Type = r.token()
		}
	}
	return u
}

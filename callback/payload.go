package callback

import (
	"bytes"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

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

// textPayload reads a text payload.
func (r *reader) textPayload() *Text {
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
		case "url":
			m.URL = r.str()
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

// edit reads an edit: the original message's id and its new content.
func (r *reader) edit() *Edit {
	if r.null() {
		return nil
	}
	e := &Edit{}
	for name := range r.object() {
		switch string(name) {
		case "original_message_id":
			e.OriginalMessageID = r.str()
		case "message":
			e.Message = r.editedMessage()
		}
	}
	return e
}

// editedMessage reads an edit's new content: a message object without id,
// sender or timestamp. Its problems go to the edit's message.
func (r *reader) editedMessage() *Message {
	if r.null() {
		return nil
	}
	m := &Message{Path: r.path()}
	var payloads uint16
	for name := range r.object() {
		switch string(name) {
		case "type":
			m.Type = MessageType(r.token())
		case "context":
			m.Context = r.context()
		default:
			if i, ok := r.payload(m, name); ok {
				payloads |= 1 << i
			}
		}
	}
	m.dropOtherPayloads(payloads)
	switch {
	case m.Type == "":
		r.report(SeverityWarning, CodeMissingField, m.Path+".type", "edited message without type")
	case !m.Known():
		r.report(SeverityWarning, CodeUnknownType, m.Path+".type", "unknown edited message type "+strconv.Quote(string(m.Type)))
	case !m.hasPayload():
		r.report(SeverityWarning, CodeMissingField, m.Path+"."+string(m.Type), "edited message of type "+string(m.Type)+" without its "+string(m.Type)+" object")
	}
	return m
}

// revoke reads a revoke: the id of the message deleted.
func (r *reader) revoke() *Revoke {
	if r.null() {
		return nil
	}
	x := &Revoke{}
	for name := range r.object() {
		if string(name) == "original_message_id" {
			x.OriginalMessageID = r.str()
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
		case "parent_user_id":
			s.ParentUserID = r.str()
		case "previous_user_id":
			s.PreviousUserID = r.str()
		case "previous_parent_user_id":
			s.PreviousParentUserID = r.str()
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

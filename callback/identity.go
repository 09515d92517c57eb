package callback

// Identity is everything a change says about who a customer is. Since
// usernames, a customer may come with a phone-based WaID, a
// business-scoped UserID (BSUID), both, or (with parent BSUIDs enabled) a
// ParentUserID as well; store every one of them and match a customer on
// any: WaID, UserID and ParentUserID each identify them on their own.
type Identity struct {
	WaID         string
	UserID       string
	ParentUserID string
	Username     string
	Name         string
}

// Known reports whether id holds at least one of WaID, UserID and
// ParentUserID, the ids a customer can be found by.
func (id Identity) Known() bool {
	return id.WaID != "" || id.UserID != "" || id.ParentUserID != ""
}

// merge fills the empty fields of id from the contact c.
func (id Identity) merge(c *Contact) Identity {
	if c == nil {
		return id
	}
	id.WaID = firstOf(id.WaID, c.WaID)
	id.UserID = firstOf(id.UserID, c.UserID)
	id.ParentUserID = firstOf(id.ParentUserID, c.ParentUserID)
	id.Username = firstOf(id.Username, c.Username)
	id.Name = firstOf(id.Name, c.Name)
	return id
}

// identify completes id with the change's contact that has one of its ids.
func identify(ch *Change, id Identity) Identity {
	if ch == nil {
		return id
	}
	c := ch.FindContact(id.WaID, firstOf(id.UserID, id.ParentUserID))
	if c == nil && id.UserID != "" && id.ParentUserID != "" {
		c = ch.FindContact("", id.ParentUserID)
	}
	return id.merge(c)
}

// Customer returns the customer the message is from, or, for an echo of a
// message the business sent (Outbound), the customer it was sent to: the
// message's own ids (from, from_user_id, from_parent_user_id; to,
// to_user_id, to_parent_user_id on echoes) completed with the change's
// contact that has the same wa_id or user_id, which brings the name and
// username. A system message without a sender is about the customer whose
// BSUID changed: its previous ids, else its new ones.
//
// A message with no id at all has a no_customer_id warning; Customer then
// returns a zero Identity (Known is false).
func (m *Message) Customer() Identity {
	id := Identity{WaID: m.From, UserID: m.FromUserID, ParentUserID: m.FromParentUserID}
	if m.Outbound {
		id = Identity{WaID: m.To, UserID: m.ToUserID, ParentUserID: m.ToParentUserID}
	}
	if !id.Known() && m.System != nil {
		s := m.System
		id = Identity{UserID: firstOf(s.PreviousUserID, s.UserID), ParentUserID: firstOf(s.PreviousParentUserID, s.ParentUserID)}
		if !id.Known() {
			id.WaID = firstOf(s.Customer, s.WaID)
		}
	}
	return identify(m.change, id)
}

// Change returns the change the message was decoded in (for its metadata,
// contacts, value-level errors and Kaleyra's extra_info), or nil for a
// Message that Decode did not return.
func (m *Message) Change() *Change { return m.change }

// Extra returns Kaleyra's extra_info of the message's change, or nil (Meta's
// envelope has none).
func (m *Message) Extra() *ExtraInfo {
	if m.change == nil {
		return nil
	}
	return m.change.Extra
}

// MediaURL returns Kaleyra's extra_info.media_url, the link to the copy of
// the message's media that Kaleyra keeps, else the url Meta put in the
// media payload, else "".
func (m *Message) MediaURL() string {
	if x := m.Extra(); x != nil && x.MediaURL != "" {
		return x.MediaURL
	}
	for _, md := range []*Media{m.Image, m.Video, m.Audio, m.Document, m.Sticker} {
		if md != nil && md.URL != "" {
			return md.URL
		}
	}
	return ""
}

// Recipient returns who the status is about: the customer the message was
// sent to or, for a group message, the participant whose receipt it is,
// completed with the change's contact that has the same wa_id or user_id.
func (s *Status) Recipient() Identity {
	id := Identity{WaID: s.RecipientID, UserID: s.RecipientUserID, ParentUserID: s.RecipientParentUserID}
	if s.Group() {
		id = Identity{WaID: s.RecipientParticipantID, UserID: s.RecipientParticipantUserID, ParentUserID: s.RecipientParticipantParentUserID}
	}
	return identify(s.change, id)
}

// Group reports whether the status is a receipt of a message sent to a
// group; GroupID is then RecipientID.
func (s *Status) Group() bool {
	return s.RecipientType == "group" || s.RecipientParticipantID != "" || s.RecipientParticipantUserID != ""
}

// GroupID returns the group a group message was sent to, or "".
func (s *Status) GroupID() string {
	if s.Group() {
		return s.RecipientID
	}
	return ""
}

// Participant returns the key to keep a group message's statuses apart by:
// the participant's BSUID, else their phone-based id; "" for a status of a
// message sent to one customer. The status of a group message is keyed by
// (MessageID, Participant, Status).
func (s *Status) Participant() string {
	if !s.Group() {
		return ""
	}
	return firstOf(s.RecipientParticipantUserID, s.RecipientParticipantID, s.RecipientParticipantParentUserID)
}

// Change returns the change the status was decoded in, or nil.
func (s *Status) Change() *Change { return s.change }
